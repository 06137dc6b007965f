"""Synthetic unit tests for the extraction library: decoding, status, dates, metadata."""

from __future__ import annotations

import codecs

import pytest

from extract import EXTRACTOR_VERSION, ArticleResult, DateCandidate, decode_html, extract_article
from extract.dates import choose, to_iso, url_date

pytestmark = pytest.mark.unit

RU = "Москва и Ереван обсудили транзит газа через территорию Грузии. " * 20
BODY = "<p>" + ("Armenia and Russia signed a new agreement on gas transit today. " * 12) + "</p>"


def page(head: str = "", body: str = BODY, lang: str = "en") -> str:
    return f'<html lang="{lang}"><head><title>Gas deal</title>{head}</head><body><article><h1>Gas deal</h1>{body}</article></body></html>'


# --- decoding -------------------------------------------------------------------------------


def test_bom_wins_over_header() -> None:
    data = codecs.BOM_UTF8 + page(body=f"<p>{RU}</p>").encode("utf-8")
    text, enc = decode_html(data, "text/html; charset=windows-1251")
    assert enc == "utf-8" and "Москва" in text


def test_header_charset_used() -> None:
    text, enc = decode_html(page(body=f"<p>{RU}</p>").encode("cp1251"), "text/html; charset=windows-1251")
    assert enc == "windows-1251" and "Ереван" in text


def test_meta_charset_used() -> None:
    html = '<html><head><meta charset="koi8-r"></head><body><p>' + RU + "</p></body></html>"
    text, enc = decode_html(html.encode("koi8-r"))
    assert enc == "koi8-r" and "транзит" in text


def test_wrong_declared_utf8_falls_back_to_detection() -> None:
    text, enc = decode_html(page(body=f"<p>{RU}</p>").encode("cp1251"), "text/html; charset=utf-8")
    assert enc == "windows-1251" and "Москва и Ереван" in text


def test_undeclared_cp1251_is_detected() -> None:
    text, enc = decode_html(("<html><body><p>" + RU + "</p></body></html>").encode("cp1251"))
    assert "Москва и Ереван" in text and enc == "windows-1251"


def test_nul_bytes_stripped() -> None:
    result = extract_article(page().replace("signed", "sig\x00ned").encode("utf-8"))
    assert "\x00" not in result.text and "signed a new agreement" in result.text


# --- status ---------------------------------------------------------------------------------


def test_pdf_bytes_are_not_article() -> None:
    result = extract_article(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    assert result.status == "not_article" and result.text == ""


def test_image_content_type_is_not_article() -> None:
    assert extract_article(b"\x89PNG\r\n\x1a\n\x00\x00").status == "not_article"


@pytest.mark.parametrize("html", ["", b"", "   ", "<html><body></body></html>"])
def test_empty_input(html: str | bytes) -> None:
    assert extract_article(html).status == "empty"


@pytest.mark.parametrize("junk", [b"\xff\xfe\x00garbage\x00" * 50, "<<<>>>" * 100, None, 42])
def test_never_raises(junk: object) -> None:
    result = extract_article(junk)  # type: ignore[arg-type]
    assert isinstance(result, ArticleResult)
    assert result.status in {"ok", "empty", "not_article", "error"}
    if result.status == "error":
        assert result.error


def test_challenge_page_is_not_article() -> None:
    html = "<html><head><title>Just a moment...</title></head><body><p>Checking your browser</p></body></html>"
    assert extract_article(html, "https://example.com/a/1").status == "not_article"


def test_site_front_is_not_article() -> None:
    assert extract_article(page(), "https://news.example.am/eng/").status == "not_article"
    assert extract_article(page(), "https://news.example.am/eng/news/123.html").status == "ok"


def test_unknown_hints_ignored_and_version() -> None:
    result = extract_article(page(), "https://example.com/a", future_hint=1, content_type=None)
    assert result.status == "ok" and result.extractor_version == EXTRACTOR_VERSION
    assert EXTRACTOR_VERSION.startswith("mediawatch-extract ")


# --- dates ----------------------------------------------------------------------------------


def test_to_iso_keeps_offset() -> None:
    assert to_iso("2025-05-12T23:30:00+04:00") == "2025-05-12T23:30:00+04:00"
    assert to_iso("Mon, 12 May 2025 19:30:00 GMT") == "2025-05-12T19:30:00+00:00"
    assert to_iso("12.05.2025") == "2025-05-12"
    assert to_iso("not a date") is None


def test_url_date() -> None:
    assert url_date("https://x.am/am/news/2021/11/05/inflation/3721571") == "2021-11-05"
    assert url_date("https://blog.example.de/2023/10/3-fragen-an") is None


def test_meta_beats_body_date_seed_trap() -> None:
    body = "<p>IN FOCUS, 12 May 2025</p><p>" + ("Yet, from 2018 to today, March 29, 2025, this relationship has unraveled. " * 10) + "</p>"
    head = '<meta property="article:published_time" content="2025-05-12T00:00:00+00:00">'
    result = extract_article(page(head, body), "https://www.transcend.org/tms/2025/05/putin-and-pashinyan/")
    assert result.date is not None and result.date.startswith("2025-05-12")
    assert result.date_source == "meta:article:published_time"
    assert not any(c.value.startswith("2025-03-29") for c in result.date_candidates)


def test_dateline_used_without_metadata() -> None:
    body = "<p>IN FOCUS, 12 May 2025</p><p>" + ("Mentioned later: March 29, 2025 in the text. " * 10) + "</p>"
    result = extract_article(page("", body), "https://example.org/tms/putin-and-pashinyan/")
    assert result.date == "2025-05-12" and result.date_source == "dateline"


def test_rule_order_and_future_guard() -> None:
    cands = [
        DateCandidate("published", "2031-01-01", "json-ld"),  # after first_seen: rejected
        DateCandidate("published", "2024-03-02", "htmldate"),
        DateCandidate("published", "2024-03-01", "feed"),
    ]
    best = choose(cands, "published", first_seen="2024-03-05T10:00:00Z")
    assert best is not None and best.source == "htmldate"


def test_htmldate_today_loses_to_feed() -> None:
    cands = [DateCandidate("published", "2024-03-05", "htmldate"), DateCandidate("published", "2024-03-01", "feed")]
    best = choose(cands, "published", first_seen="2024-03-05T10:00:00Z")
    assert best is not None and best.source == "feed"


def test_utc_rollover_prefers_local_time() -> None:
    cands = [
        DateCandidate("published", "2023-11-09T02:11:03+00:00", "json-ld"),
        DateCandidate("published", "2023-11-08T21:11:03-05:00", "microdata"),
    ]
    best = choose(cands, "published")
    assert best is not None and best.value == "2023-11-08T21:11:03-05:00"


def test_hint_dates_are_candidates() -> None:
    result = extract_article(page(), "https://example.com/a", feed_date="Tue, 02 Jan 2024 10:00:00 +0300",
                             sitemap_lastmod="2024-01-03", last_modified="Wed, 03 Jan 2024 08:00:00 GMT")
    sources = {c.source: c for c in result.date_candidates}
    assert sources["feed"].value == "2024-01-02T10:00:00+03:00"
    assert sources["http-last-modified"].kind == "modified"
    assert result.date == "2024-01-02T10:00:00+03:00" and result.modified == "2024-01-03"


# --- metadata -------------------------------------------------------------------------------


def test_license_from_cc_link() -> None:
    body = BODY + '<footer><a rel="license" href="https://creativecommons.org/licenses/by-nc/4.0/">CC</a></footer>'
    assert extract_article(page(body=body)).license == "CC BY-NC 4.0"


def test_license_from_text_and_absent() -> None:
    assert extract_article(page(body=BODY + "<p>Published under CC BY-SA 4.0.</p>")).license == "CC BY-SA 4.0"
    assert extract_article(page()).license is None


def test_canonical_resolved() -> None:
    head = '<link rel="canonical" href="/news/42">'
    assert extract_article(page(head), "https://example.am/x?utm=1").canonical_url == "https://example.am/news/42"
    assert extract_article(page()).canonical_url is None


def test_lang_from_script_when_declared_wrong() -> None:
    hy = "<p>" + "Հայաստանը և Ռուսաստանը ստորագրել են նոր համաձայնագիր գազի տարանցման վերաբերյալ։ " * 10 + "</p>"
    assert extract_article(page(body=hy, lang="en")).lang == "hy"
    uk = "<p>" + "Україна і Вірменія підписали нову угоду щодо транзиту, її деталі відомі. " * 10 + "</p>"
    assert extract_article(page(body=uk, lang="")).lang == "uk"
    assert extract_article(page(body=f"<p>{RU}</p>", lang="")).lang == "ru"


def test_fingerprint_stable_under_whitespace() -> None:
    a = extract_article(page(body="<p>One two   three.</p>" + BODY))
    b = extract_article(page(body="<p>One\n two three.</p>\n\n" + BODY))
    c = extract_article(page(body="<p>One two four.</p>" + BODY))
    assert a.fingerprint == b.fingerprint != c.fingerprint


def test_index_of_links_is_not_an_article() -> None:
    items = "".join(
        f'<li><a href="/news/2023/09/19/item-{i}">Удар по Степанакерту: сообщение {i} '
        f"о ходе операции в Карабахе</a></li>" for i in range(8))
    html = (f"<html lang='ru'><head><title>Онлайн</title></head><body><main><h1>Онлайн</h1>"
            f"<p>Трансляция завершена.</p><ul>{items}</ul></main></body></html>")
    result = extract_article(html, "https://exile.example/news/2023/09/19/live")
    assert result.status == "not_article"
    assert "links" in (result.reason or "")


# --- date rules added with the labelled dates, month names and lazy htmldate ------------------


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("12. Mai 2025", "2025-05-12"),
        ("Mai 12, 2025", "2025-05-12"),
        ("Samstag, 3. Dezember 2011", "2011-12-03"),
        ("1er juillet 2025", "2025-07-01"),
        ("12 juin 2025", "2025-06-12"),
        ("12 de mayo de 2025", "2025-05-12"),
        ("14 Gennaio 2020", "2020-01-14"),
        ("12 października 2025", "2025-10-12"),
        ("12 мая 2025", "2025-05-12"),
        ("12 травня 2025", "2025-05-12"),
        ("12 հունիսի 2025", "2025-06-12"),
        ("12.05.2025", "2025-05-12"),
        ("05/31/2025", "2025-05-31"),
    ],
)
def test_dateline_month_names_and_formats(text: str, day: str) -> None:
    from extract.dateline import find_date

    assert find_date(f"Politik | {text} | 3 Min.") == day


def test_to_iso_metadata_formats() -> None:
    assert to_iso("11/01/2023 12:43:42", "mdy") == "2023-11-01T12:43:42"  # the page's order decides
    assert to_iso("11/01/2023 12:43:42", "dmy") == "2023-01-11T12:43:42"
    assert to_iso("25/01/2023") == "2023-01-25"  # ...unless the month would be impossible
    assert to_iso("24. Januar 2022") == "2022-01-24"


def test_labelled_publication_date_anywhere_on_page() -> None:
    body = BODY + "<footer><p>Letzte Änderung: 31.10.2023 - 14:49<br>Erschienen am: 01.11.2023</p></footer>"
    result = extract_article(page("", body, "de"), "https://example.de/rezension/123")
    assert result.date == "2023-11-01" and result.date_source == "label"
    assert result.modified == "2023-10-31"


def test_updated_label_is_not_the_dateline() -> None:
    body = "<p>Aktualisiert am 20.05.2025, 10:15 · 12. Mai 2025</p>" + BODY
    result = extract_article(page("", body, "de"), "https://example.de/politik/gas")
    assert result.date == "2025-05-12" and result.date_source == "dateline"


def test_generic_meta_date_loses_to_dateline() -> None:
    head = '<meta name="date" content="2020-04-30T08:00:00">'
    result = extract_article(page(head, "<p>28.04.2020 | NDR</p>" + BODY, "de"), "https://example.de/a-101.html")
    assert result.date == "2020-04-28" and result.date_source == "dateline"
    assert any(c.source == "weak-meta:date" for c in result.date_candidates)


def test_printed_update_day_beats_structured_publication() -> None:
    cands = [
        DateCandidate("published", "2021-11-29T14:13:37+00:00", "json-ld"),
        DateCandidate("modified", "2022-01-12T14:27:30+00:00", "json-ld"),
        DateCandidate("published", "2022-01-12", "dateline"),
    ]
    best = choose(cands, "published")
    assert best is not None and best.source == "dateline"
    # A dateline that is no structured date at all does not beat structured data.
    best = choose([cands[0], DateCandidate("published", "2022-02-01", "dateline")], "published")
    assert best is not None and best.source == "json-ld"


def test_time_element_text_without_datetime() -> None:
    body = BODY + '<p class="meta"><time class="create-date">31.03.2020</time></p>'
    html = f"<html><head><title>x</title></head><body><div>{body}</div></body></html>"
    result = extract_article(html, "https://example.de/corona-big-data")
    assert any(c.source == "time-element" and c.value == "2020-03-31" for c in result.date_candidates)


def test_htmldate_runs_only_when_needed() -> None:
    from extract.dates import needs_guess

    head = '<meta property="article:published_time" content="2025-05-12T09:00:00+04:00">'
    settled = extract_article(page(head), "https://example.am/news/gas")
    assert settled.date == "2025-05-12T09:00:00+04:00"
    assert not any(c.source == "htmldate" for c in settled.date_candidates)  # absent: not run
    meta = DateCandidate("published", "2025-05-12", "meta:article:published_time")
    weak = DateCandidate("published", "2025-05-14", "weak-meta:dc.date")
    assert not needs_guess([meta])
    assert needs_guess([meta, weak])  # structured sources disagree: htmldate settles it
    assert not needs_guess([meta, weak, DateCandidate("published", "2025-05-12", "url")])
    assert needs_guess([DateCandidate("published", "2025-05-12", "time-element")])


def test_paywall_stub_is_a_paywalled_article_with_its_teaser() -> None:
    html = ("<html lang='en'><head><title>Gyumri base deal</title></head><body><article>"
            "<h1>Gyumri base deal</h1><p>Armenia and Russia signed a new protocol on the base "
            "on Monday, officials said.</p><p>The agreement covers the next decade.</p>"
            "<div class='wall'>Subscribe to read the full article. Already a subscriber? "
            "Log in.</div></article></body></html>")
    result = extract_article(html, "https://paper.example/2025/01/gyumri-base-deal")
    assert (result.status, result.access) == ("ok", "paywalled")
    assert "paywall" in (result.reason or "")
    assert result.title == "Gyumri base deal"
    assert "signed a new protocol" in result.text and "Subscribe" not in result.text
    full = html.replace("Subscribe to read the full article. Already a subscriber? Log in.", "")
    opened = extract_article(full, "https://paper.example/2025/01/x")
    assert (opened.status, opened.access, opened.reason) == ("ok", "open", None)
