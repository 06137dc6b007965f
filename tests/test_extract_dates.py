"""The publication-date rule on minimal pages: which evidence wins, and where a dateline may be."""

from __future__ import annotations

import pytest
from lxml.html import document_fromstring

from extract import DateCandidate, extract_article
from extract.dateline import labelled_dates, visible_dateline
from extract.dates import choose, needs_guess

pytestmark = pytest.mark.unit

TEXT = "<p>" + ("Der Gemeinderat hat am Abend über den neuen Haushalt beraten. " * 12) + "</p>"


def _disagreeing(printed: str) -> list[DateCandidate]:
    """Structured sources a day apart (an issue date in UTC, a CMS day), htmldate on the other."""
    return [DateCandidate("published", "2019-10-19T03:00:00+00:00", "json-ld"),
            DateCandidate("modified", "2019-10-18T20:00:25+00:00", "json-ld"),
            DateCandidate("published", "2019-10-18", "meta:datepublished"),
            DateCandidate("published", "2019-10-18T20:00:25+00:00", "weak-meta:date"),
            DateCandidate("published", printed, "dateline"),
            DateCandidate("published", "2019-10-18", "htmldate")]


def test_printed_day_settles_structured_disagreement_before_htmldate() -> None:
    best = choose(_disagreeing("2019-10-19"), "published", "2019-10-20")
    assert best is not None and best.value == "2019-10-19T03:00:00+00:00"


def test_htmldate_is_not_run_where_the_printed_day_settles_it() -> None:
    without_guess = _disagreeing("2019-10-19")[:-1]
    assert not needs_guess(without_guess, "2019-10-20")
    assert needs_guess(_disagreeing("2019-10-25")[:-1], "2019-10-26")


def test_printed_day_that_is_no_structured_day_leaves_it_to_htmldate() -> None:
    best = choose(_disagreeing("2019-10-25"), "published", "2019-10-26")
    assert best is not None and best.value[:10] == "2019-10-18"


def test_printed_day_that_merely_repeats_the_modification_day_does_not_settle_it() -> None:
    # The page prints its update day; the only structured "publication" on that day is the
    # modification stamp written again, so htmldate's pick (the original day) stands.
    cands = [DateCandidate("published", "2017-04-12T18:33:59+02:00", "meta:article:published_time"),
             DateCandidate("modified", "2020-02-19", "meta:datemodified"),
             DateCandidate("published", "2020-02-19", "meta:datepublished"),
             DateCandidate("published", "2020-02-19", "dateline"),
             DateCandidate("published", "2017-04-12", "htmldate")]
    best = choose(cands, "published", "2020-03-01")
    assert best is not None and best.value[:10] == "2017-04-12"


def test_htmldate_on_the_modification_day_yields_to_the_time_element() -> None:
    cands = [DateCandidate("modified", "2020-06-02T11:57:06+02:00", "meta:og:updated_time"),
             DateCandidate("published", "2020-03-31", "time-element"),
             DateCandidate("published", "2020-06-02", "htmldate")]
    best = choose(cands, "published", "2020-07-01")
    assert best is not None and best.source == "time-element"
    alone = choose([cands[0], cands[2]], "published", "2020-07-01")
    assert alone is not None and alone.source == "htmldate"  # nothing better to fall back on


def test_dateline_is_not_read_beside_the_whole_article() -> None:
    # Blog template: the headline block holds no date; what follows the post is comments.
    html = ("<html><body><div class='post'><div class='post-headline'><h1>Virtuelle Wand</h1></div>"
            f"<div class='byline'>von Heiner</div><div class='post-body'>{TEXT}</div></div>"
            "<div class='comments'><p>Erkan 15. Dezember 2015 um 11:21</p></div></body></html>")
    assert visible_dateline(document_fromstring(html)) is None


def test_dateline_above_the_headline_past_a_kicker() -> None:
    html = ("<html><body><article><div class='date'><time>19. November 2021</time></div>"
            "<div class='kicker'><h2>Er sagt: die Pflege ist kein Hotspot</h2></div>"
            "<div class='header'><h1>Caritas-Chef gegen Impfpflicht</h1></div>"
            f"<div class='text'><p>Am 16. November sagte er:</p>{TEXT}</div></article></body></html>")
    assert visible_dateline(document_fromstring(html)) == "2021-11-19"


def test_dateline_beside_an_h2_headline_on_a_page_without_h1() -> None:
    # The title repeats the <h2> (with another dash); the top bar's <time> is the site's "today".
    html = ("<html><head><title>Kolumne: Queer Royal \u2013 Über Dragqueens</title></head><body>"
            "<div class='navtop'><time datetime='2023-11-01T13:56:20+01:00'>1.11.2023</time></div>"
            "<ul class='menu'>" + "<li>Kritiken</li><li>Kolumnen</li><li>Podcasts</li>" * 4 + "</ul>"
            "<div class='page-header'><h2>Kolumne: Queer Royal - Über Dragqueens</h2></div>"
            "<div class='intro'><p>Im Schlepptau</p><p><span>31. Oktober 2023.</span> Drag.</p></div>"
            f"{TEXT}</body></html>")
    assert visible_dateline(document_fromstring(html)) == "2023-10-31"
    assert extract_article(html.encode(), "https://example.org/kolumne").date == "2023-10-31"


def test_an_h2_headline_reads_no_date_from_the_body_below_it() -> None:
    # An <h2> is weaker evidence of a header than an <h1>: a date 100 characters on is body text.
    html = ("<html><head><title>Bericht zur Lage \u2013 worauf wartet die Politik?</title></head>"
            "<body><h2>Bericht zur Lage \u2013 worauf wartet die Politik?</h2><h3>Risikoanalyse</h3>"
            "<p>Nun ist es offiziell, der Reproduktionsfaktor sank schon vor dem Shutdown unter 1, "
            "laut einer Veröffentlichung des Instituts vom 15.4.2020.</p></body></html>")
    assert visible_dateline(document_fromstring(html)) is None
    with_h1 = html.replace("<h2>", "<h1>").replace("</h2>", "</h1>")
    assert visible_dateline(document_fromstring(with_h1)) == "2020-04-15"  # an <h1> reads on


def test_a_short_h2_is_no_headline() -> None:
    html = ("<html><head><title>News | Example</title></head><body><h2>News</h2>"
            "<p>12. März 2021</p></body></html>")
    assert visible_dateline(document_fromstring(html)) is None


@pytest.mark.parametrize(
    ("text", "published"),
    [("Dieser Beitrag wurde am Samstag, 3. Dezember 2011 um 10:15 Uhr veröffentlicht.", "2011-12-03"),
     ("Dieser Beitrag wurde am 3. Dezember 2011 um %H:%M Uhr veröffentlicht und abgelegt.", "2011-12-03"),
     ("Am 3. Dezember 2011 hat der Verein seine Zahlen veröffentlicht.", None)],
)
def test_label_after_the_date_in_verb_final_phrases(text: str, published: str | None) -> None:
    tree = document_fromstring(f"<html><body><p>{text}</p></body></html>")
    assert labelled_dates(tree) == (published, None)


def test_page_rooted_at_a_div_by_junk_before_html_still_shows_its_dates() -> None:
    junk = "<br /><b>Warning</b>: Cannot modify header information in <b>/www/x.php</b><br />"
    html = (f"{junk}<!DOCTYPE html><html lang='de'><head><title>Kein Cyberterrorismus</title></head>"
            f"<body><div class='post'><h2>Kein Cyberterrorismus</h2>{TEXT}<p class='postmetadata'>"
            "Dieser Beitrag wurde am Samstag, 3. Dezember 2011 um 09:12 Uhr veröffentlicht.</p>"
            "</div></body></html>")
    result = extract_article(html, "https://blog.example.de/news/kein-cyberterrorismus/")
    assert result.date == "2011-12-03" and result.date_source == "label"


def test_dateline_skips_a_picture_caption_below_the_headline() -> None:
    html = ("<html><body><article><h1>All paid their own way, minister says</h1>"
            "<div class='article-image'><picture><img src='a.jpg'></picture>"
            "<div class='image-caption'>The minister speaking in Shah Alam on November 19, 2024."
            "</div></div><div class='byline'>By A. Reporter Friday, 22 Nov 2024 4:55 PM MYT</div>"
            f"{TEXT}</article></body></html>")
    assert visible_dateline(document_fromstring(html)) == "2024-11-22"


def test_a_caption_type_style_without_a_picture_is_still_read() -> None:
    html = ("<html><body><article><h1>Plagues of New York</h1>"
            "<p class='type-caption'>Published Nov 8, 2023</p>"
            f"{TEXT}</article></body></html>")
    assert visible_dateline(document_fromstring(html)) == "2023-11-08"


def test_headline_among_several_h1_is_the_longest_the_title_repeats() -> None:
    # The site's and the section's names are <h1> too, and the <title> repeats all three.
    html = ("<html><head><title>Zoll online - Fachmeldungen - Verkündung des Tabaksteuermodernisierungsgesetzes</title></head>"
            "<body><h1>Zoll</h1><nav><p>Stand 17. August 2021</p></nav><h1>Fachmeldungen</h1>"
            "<div><h1>Verkündung des Tabaksteuermodernisierungsgesetzes</h1><p>Datum: 18.10.2021</p></div>"
            f"{TEXT}</body></html>")
    assert visible_dateline(document_fromstring(html)) == "2021-10-18"


@pytest.mark.parametrize(("raw", "iso"), [
    ("2024. 5. 14. 10:00", "2024-05-14T10:00:00"),  # Korean: a space after each dot
    ("입력 2024. 5. 14.", "2024-05-14"),
    ("2024.05.14", "2024-05-14"),
])  # fmt: skip
def test_year_first_dates_with_spaced_dots(raw: str, iso: str) -> None:
    from extract.dateparse import parse_date

    assert parse_date(raw) == iso


@pytest.mark.parametrize(("text", "published", "updated"), [
    ("입력 2024.05.14 10:00 수정 2024.05.15 11:00", "2024-05-14", "2024-05-15"),
    ("公開日：2024年5月14日 更新日：2024年5月15日", "2024-05-14", "2024-05-15"),
    ("2024年5月14日 10時00分 配信", "2024-05-14", None),
    ("Publicerad 14 maj 2024 kl 10.00 Uppdaterad 15 maj 2024", "2024-05-14", "2024-05-15"),
    ("Publisert 9. mai 2024 Oppdatert 10. mai 2024", "2024-05-09", "2024-05-10"),
    ("Yayınlanma: 14.05.2024 10:00 Güncelleme: 15.05.2024 11:00", "2024-05-14", "2024-05-15"),
    ("Bitte Datum eingeben: 14.05.2024", None, None),
    ("동영상 입력하세요 2024.05.14", None, None),  # the verb "enter", not the label
])  # fmt: skip
def test_publication_and_update_labels_in_more_languages(text: str, published: str | None,
                                                        updated: str | None) -> None:
    tree = document_fromstring(f"<html><body><p>{text}</p></body></html>")
    assert labelled_dates(tree) == (published, updated)


def test_embedded_video_upload_date_does_not_date_an_article() -> None:
    ld = ('{"@context":"https://schema.org","@graph":[{"@type":"NewsArticle","headline":"Vote",'
          '"datePublished":"2024-10-15T23:35:43.000+0200"},{"@type":"VideoObject","name":"Clip",'
          '"uploadDate":"2024-01-24T10:07:54Z"}]}')
    html = (f"<html><head><script type='application/ld+json'>{ld}</script></head>"
            f"<body><h1>Vote</h1>{TEXT}</body></html>")
    result = extract_article(html, "https://news.example.no/a/123")
    assert result.date == "2024-10-15T23:35:43+02:00"
    assert not any(c.value.startswith("2024-01-24") for c in result.date_candidates)
    video = ('{"@context":"https://schema.org","@type":"VideoObject","name":"Clip",'
             '"uploadDate":"2020-04-04T20:57:00.000+02:00"}')
    page = (f"<html><head><script type='application/ld+json'>{video}</script></head>"
            f"<body><h1>Clip</h1>{TEXT}</body></html>")
    assert extract_article(page, "https://tv.example.de/v/1").date == "2020-04-04T20:57:00+02:00"


def test_dateline_separates_words_of_adjacent_elements() -> None:
    # Two <time> printed back to back, then a body date: the glued "20231. November" must not
    # hide the dateline and leave the body's date.
    html = ("<html><body><header><h1>Hund vertreibt Einbrecher</h1><div class='meta'>"
            "<time>1. November 2023</time><time>1. November 2023</time></div></header>"
            "<p>Am 31.10.2023, gegen 23:40 Uhr, kam es zu einem Einbruch.</p>"
            f"{TEXT}</body></html>")
    assert visible_dateline(document_fromstring(html)) == "2023-11-01"


def test_label_in_its_own_element_next_to_the_date() -> None:
    html = ("<html><body><div class='byline'><span>Joseph Gamp</span><span>Published</span>"
            "<time>13:23, 4 Aug 2024</time><span>Updated</span><time>20:49, 5 Aug 2024</time>"
            f"</div>{TEXT}</body></html>")
    assert labelled_dates(document_fromstring(html)) == ("2024-08-04", "2024-08-05")
