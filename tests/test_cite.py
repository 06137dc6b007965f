"""Citations of archived articles (crawler/search/cite.py): the pasted line and RIS records."""

from __future__ import annotations

import re

import pytest

from crawler.search.cite import citation, one_line, ris, ris_record

pytestmark = pytest.mark.unit

ARTICLE = {
    "id": "4a737bcb34056fb2", "title": "Putin and Pashinyan: A Tumultuous Alliance",
    "author": "Diran Noubar", "authors": '["Diran Noubar"]',
    "published": "2025-05-12T10:00:00+02:00", "url": "https://www.transcend.org/tms/?p=294863",
    "lang": "en", "first_seen_at": "2025-05-13T08:00:00+00:00",
    "source_id": "tms", "outlet": "TRANSCEND Media Service",
    "captured": "2025-05-14T09:30:00+00:00", "body_sha256": "ab" * 32,
}
TAG_LINE = re.compile(r"^(?:[A-Z][A-Z0-9]  - .*|ER  - )$")


def tags(record: str) -> list[tuple[str, str]]:
    """(tag, value) of each line of one RIS record; every line must be a tag line."""
    lines = record.split("\r\n")
    assert lines[-1] == ""  # CRLF after every line, ER included
    assert all(TAG_LINE.match(line) for line in lines[:-1]), lines
    return [(line[:2], line[6:]) for line in lines[:-1]]


def test_a_ris_record_names_the_article_its_outlet_and_its_capture() -> None:
    got = tags(ris_record(ARTICLE))
    assert got[0] == ("TY", "NEWS") and got[-1] == ("ER", "")
    fields = dict(got)
    assert fields["AU"] == "Diran Noubar" and fields["TI"] == ARTICLE["title"]
    assert fields["T2"] == "TRANSCEND Media Service"
    assert (fields["PY"], fields["DA"]) == ("2025", "2025/05/12")  # the page's own day
    assert fields["UR"] == ARTICLE["url"] and fields["LA"] == "en"
    assert fields["Y2"] == "2025/05/14"  # accessed: the day of the capture
    assert fields["ID"] == ARTICLE["id"] and fields["N1"].endswith("sha256 " + "ab" * 32)


def test_every_author_of_the_list_and_the_byline_string_without_one() -> None:
    two = dict(ARTICLE, authors='["Anna Petrosyan", "Ivan Petrov"]')
    assert [v for t, v in tags(ris_record(two)) if t == "AU"] == ["Anna Petrosyan", "Ivan Petrov"]
    bare = dict(ARTICLE, authors=None, author="Staff")
    assert [v for t, v in tags(ris_record(bare)) if t == "AU"] == ["Staff"]
    nobody = dict(ARTICLE, authors="not json", author=None)
    assert not [t for t, _ in tags(ris_record(nobody)) if t == "AU"]


def test_a_hostile_headline_or_byline_cannot_add_a_tag() -> None:
    hostile = dict(ARTICLE, title="Scoop\r\nTY  - JOUR\nER  - \u2028AU  - Nobody\x00",
                   authors='["Anna\\nT2  - Fake News", "B\\u00adob"]')
    records = ris([hostile, ARTICLE])
    assert records.count("TY  - ") == 2 and records.count("\r\nER  - \r\n") == 2
    got = tags(ris_record(hostile))
    assert [t for t, _ in got].count("TY") == 1 and [t for t, _ in got].count("T2") == 1
    assert dict(got)["TI"] == "Scoop TY - JOUR ER - AU - Nobody"
    assert [v for t, v in got if t == "AU"] == ["Anna T2 - Fake News", "Bob"]  # soft hyphen gone


def test_the_line_to_paste() -> None:
    assert citation(ARTICLE) == (
        "Diran Noubar. “Putin and Pashinyan: A Tumultuous Alliance.” TRANSCEND Media Service, "
        "2025-05-12. https://www.transcend.org/tms/?p=294863. Archived by mediawatch "
        f"2025-05-14 (article 4a737bcb34056fb2, capture sha256 {'ab' * 32}).")
    asked = citation(dict(ARTICLE, title="Who pays?", published=None, authors=None, author=None,
                          captured=None, body_sha256=None))
    assert asked.startswith("“Who pays?” TRANSCEND Media Service, n.d. https://")  # no "?."
    assert asked.endswith("Archived by mediawatch 2025-05-13 (article 4a737bcb34056fb2).")


def test_one_line() -> None:
    assert one_line(" a\tb\r\nc\u2028d\u200be ") == "a b c de"
    assert one_line(None) == ""
