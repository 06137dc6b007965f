"""Framing end to end: mentions at ingest, stories, reframe, the views and pages over HTTP."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import sqlite3
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Crawl, query, run_mediawatch
from helpers.archive import copy_db
from helpers.crawl import load_bench

from crawler.framing.lexicon import LEXICON_PATH, load_lexicon

pytestmark = pytest.mark.e2e


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as resp:
        return resp.read().decode("utf-8")


def get_json(url: str) -> Any:
    return json.loads(get(url))


def test_contract_tables(crawled: Crawl) -> None:
    cols = {t: [r[1] for r in query(crawled.db, f"PRAGMA table_info({t})")]
            for t in ("mentions", "kwic", "story_articles")}
    assert {"article_id", "concept", "variant", "naming", "n"} <= set(cols["mentions"])
    assert {"article_id", "concept", "variant", "left", "hit", "right", "offset"} <= set(cols["kwic"])
    assert {"story_id", "article_id", "role"} <= set(cols["story_articles"])


def test_mentions_and_kwic_are_filled_at_ingest(crawled: Crawl) -> None:
    version = query(crawled.db, "SELECT value FROM framing_settings WHERE key='lexicon_version'")
    assert version == [(load_lexicon().version,)]
    naming = dict(query(crawled.db, """SELECT a.source_id || ':' || m.naming, sum(m.n)
        FROM mentions m JOIN articles a ON a.id = m.article_id WHERE m.concept = 'karabakh'
        GROUP BY 1"""))
    assert naming["armnews:armenian-usage"] > 0 and "armnews:international" not in naming
    assert naming["rusagency:international"] > naming.get("rusagency:armenian-usage", 0)
    # every counted hit is one KWIC line, and each line is a slice of the archived text
    mismatched = query(crawled.db, """SELECT m.article_id FROM
        (SELECT article_id, concept, variant, sum(n) AS n FROM mentions GROUP BY 1, 2, 3) m
        LEFT JOIN (SELECT article_id, concept, variant, count(*) AS n FROM kwic GROUP BY 1, 2, 3) k
        USING (article_id, concept, variant) WHERE k.n IS NOT m.n""")
    assert mismatched == []
    for field, text, offset, hit in query(crawled.db, """SELECT k.field,
            CASE k.field WHEN 'title' THEN a.title ELSE a.text END, k."offset", k.hit
            FROM kwic k JOIN articles a ON a.id = k.article_id"""):
        assert text[offset:offset + len(hit)] == hit, (field, hit)


def test_stories_cover_every_article_with_valid_roles(crawled: Crawl) -> None:
    missing = query(crawled.db, """SELECT id FROM articles WHERE extraction_status = 'ok'
        AND coalesce(text, '') != '' AND id NOT IN (SELECT article_id FROM story_articles)""")
    assert missing == []
    roles = {r[0] for r in query(crawled.db, "SELECT DISTINCT role FROM story_articles")}
    assert roles <= {"original", "republication", "translation", "report"}
    reprint = query(crawled.db, """SELECT sa.role, o.source_id, sa.story_id = so.story_id
        FROM articles a JOIN story_articles sa ON sa.article_id = a.id
        JOIN articles o ON o.id = sa.copy_of JOIN story_articles so ON so.article_id = o.id
        WHERE a.source_id = 'tms' AND a.title LIKE 'Russian Border Guards%'""")
    assert reprint == [("republication", "armnews", 1)]
    # Why it is a copy is recorded with the link (migration 0009): the same text both ways.
    [(basis, mine, theirs, shared, canonical)] = query(crawled.db, """SELECT sa.copy_basis,
        sa.containment, sa.containment_other, sa.shared_shingles, sa.canonical_url
        FROM articles a JOIN story_articles sa ON sa.article_id = a.id
        WHERE a.source_id = 'tms' AND a.title LIKE 'Russian Border Guards%'""")
    assert (basis == "text" and mine > 0.5 and theirs > 0.5 and shared > 50) or \
        (basis == "canonical" and canonical), (basis, mine, theirs, shared, canonical)
    assert query(crawled.db, "SELECT count(*) FROM story_articles WHERE copy_of IS NULL "
                 "AND copy_basis IS NOT NULL") == [(0,)]
    csto = query(crawled.db, """SELECT count(DISTINCT a.source_id) FROM story_articles sa
        JOIN articles a ON a.id = sa.article_id WHERE sa.story_id = (SELECT sa2.story_id
        FROM story_articles sa2 JOIN articles a2 ON a2.id = sa2.article_id
        WHERE a2.title LIKE 'Armenia has frozen its participation in the CSTO%')""")
    assert csto[0][0] >= 3  # en, ru and hy coverage of the same day's news, one story


def test_stories_command_is_idempotent(crawled: Crawl, tmp_path: Path) -> None:
    db = copy_db(crawled.db, tmp_path / "archive.db")
    snapshot = "SELECT story_id, article_id, role, copy_of, score FROM story_articles ORDER BY 2"
    before = query(db, snapshot)
    for _ in range(2):
        done = run_mediawatch("stories", "--db", str(db))
        assert done.returncode == 0, done.stderr
        assert "stories:" in done.stdout
        assert query(db, snapshot) == before


def test_reframe_follows_the_lexicon(crawled: Crawl, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    db = copy_db(crawled.db, tmp_path / "archive.db")
    lexicon = tmp_path / "lexicon.toml"
    lexicon.write_text(LEXICON_PATH.read_text(encoding="utf-8") + """
[[concept]]
id = "capital"
label = "Stepanakert"
namings = { armenian-usage = "Stepanakert" }
  [[concept.variant]]
  id = "stepanakert-en"
  lang = "en"
  naming = "armenian-usage"
  terms = ["Stepanakert"]
  match = ["in Stepanakert"]
  no_match = ["in Khankendi"]
""", encoding="utf-8")
    monkeypatch.setenv("MEDIAWATCH_LEXICON", str(lexicon))
    done = run_mediawatch("reframe", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT value FROM framing_settings WHERE key='lexicon_version'") == [
        (load_lexicon(lexicon).version,)]
    assert query(db, "SELECT sum(n) FROM mentions WHERE concept = 'capital'")[0][0] >= 2
    assert query(db, "SELECT count(*) FROM kwic WHERE concept = 'capital'")[0][0] >= 2
    monkeypatch.delenv("MEDIAWATCH_LEXICON")
    # Any write with the shipped lexicon notices the version change and rebuilds by itself.
    done = run_mediawatch("stories", "--db", str(db))
    assert done.returncode == 0, done.stderr
    assert query(db, "SELECT count(*) FROM mentions WHERE concept = 'capital'") == [(0,)]
    assert query(db, "SELECT value FROM framing_settings WHERE key='lexicon_version'") == [
        (load_lexicon().version,)]


def test_views_have_thin_flags_and_every_number_reaches_its_kwic_lines(site: tuple[Path, str]
                                                                       ) -> None:
    _, base = site
    rows = get_json(f"{base}/archive/naming_share.json?concept=karabakh&_shape=array&_size=max")
    assert rows and all(r["thin"] in (0, 1) for r in rows)
    assert {r["thin"] for r in rows} == {0, 1}  # thin cells are marked, not hidden
    for r in rows:
        page = get(base + r["kwic_url"])
        assert page.count('class="fr-line') == r["mentions"], r
    for view in ("naming_rate", "attention"):
        data = get_json(f"{base}/archive/{view}.json?_shape=array&concept=karabakh")
        assert data and {"thin", "kwic_url"} <= set(data[0])
    share = get(f"{base}/archive/naming_share?concept=karabakh")
    assert ">KWIC lines</a>" in share  # the table view links each row to its lines


def test_canned_queries(site: tuple[Path, str]) -> None:
    _, base = site
    rows = get_json(f"{base}/archive/framing_naming_share.json?concept=karabakh&from=&to="
                    "&_shape=array")
    armnews = [r for r in rows if r["source_id"] == "armnews"]
    assert armnews == [{"source_id": "armnews", "naming": "armenian-usage",
                        "mentions": armnews[0]["mentions"], "share": 1.0}]
    stories = get_json(f"{base}/archive/framing_stories.json?_shape=array")
    assert stories and all(s["n_outlets"] >= 2 for s in stories)


def shares(page: str) -> dict[tuple[str, str], float]:
    """(outlet, naming) -> share, read from the compare page's bar segments."""
    out = {}
    for row in re.finditer(r'class="fr-row[^"]*" data-outlet="([^"]+)"(.*?)</div>\s*<div>',
                           page, re.S):
        for seg in re.finditer(r'data-naming="([^"]+)" data-mentions="\d+" data-share="([\d.]+)"',
                               row.group(2)):
            out[(row.group(1), seg.group(1))] = float(seg.group(2))
    return out


def test_compare_page_shows_different_naming_shares(site: tuple[Path, str]) -> None:
    _, base = site
    page = get(f"{base}/-/framing/compare?concept=karabakh")
    s = shares(page)
    assert s[("armnews", "armenian-usage")] == 1.0
    assert s[("rusagency", "international")] > 0.5
    assert s.get(("rusagency", "armenian-usage"), 0.0) < s[("armnews", "armenian-usage")]
    # outlets by the registry's name, the id in the tooltip (bars, table, rates over time)
    assert '<div title="armnews">Yerevan Dispatch</div>' in page
    assert page.count('<td title="rusagency">Федеральный вестник (fixture)') == 2
    assert 'id="fr-rates"' in page and 'id="fr-outlets"' in page
    period = shares(get(f"{base}/-/framing/compare?concept=karabakh&from=2023-09&to=2023-09"))
    assert ("rusagency", "international") not in period  # its 2020 mentions are outside
    frames = get(f"{base}/-/framing/compare?concept=frames")
    assert 'data-naming="betrayal"' in frames or 'data-naming="alliance"' in frames


def test_the_compare_numbers_download_as_csv_and_json(site: tuple[Path, str]) -> None:
    """What the compare page shows, as data: the same shares, table and months."""
    _, base = site
    for args in ("concept=karabakh", "concept=karabakh&from=2023-09&to=2024-12",
                 "concept=frames"):
        page = get(f"{base}/-/framing/compare?{args}")
        assert f'href="/-/framing/compare.csv?{html.escape(args)}"' in page, args
        rows = list(csv.DictReader(io.StringIO(get(f"{base}/-/framing/compare.csv?{args}"))))
        drawn = shares(page)
        assert rows and {(r["source_id"], r["naming"]): float(r["share"]) for r in rows} == \
            pytest.approx(drawn, abs=1e-3), args
        data = get_json(f"{base}/-/framing/compare.json?{args}")
        assert {(b["source_id"], g["naming"]): g["share"] for b in data["bars"]
                for g in b["segments"]} == pytest.approx(drawn, abs=1e-3)
        for row in data["table"]:  # the table's mentions are the bars' sums, per outlet
            assert row["mentions"] == sum(int(r["mentions"]) for r in rows
                                          if r["source_id"] == row["source_id"]), args
        months = re.findall(r"<th>(\d{4}-\d{2})</th>", page)
        assert data["months"] == months and {m["month"] for m in data["monthly"]} == set(months)
    with pytest.raises(urllib.error.HTTPError) as unknown:
        get(f"{base}/-/framing/compare.xml?concept=karabakh")
    with unknown.value:
        assert unknown.value.code == 404


def walk_pages(base: str, url: str, rows: str, onward: str, size: int, most: int
               ) -> Iterator[tuple[str, list[str]]]:
    """Each page of a paged listing, from ``url`` along its ``onward`` link: (page, rows),
    every page holding 1 to ``size`` rows, at most ``most`` in all."""
    seen = 0
    next_url: str | None = url
    while next_url:
        page = html.unescape(get(next_url))
        found = re.findall(rows, page)
        assert 1 <= len(found) <= size
        seen += len(found)
        assert seen <= most
        yield page, found
        link = re.search(rf'<a id="{onward}" href="([^"]+)">', page)
        next_url = base + link.group(1) if link else None


def test_the_stories_page_is_read_a_page_at_a_time(site: tuple[Path, str]) -> None:
    """It listed every story in one page, sorted on the fly (at a million articles, hundreds
    of thousands of rows past the time limit). Pages of ?size= follow each other newest
    first, together exactly the stories of the archive; ?on_topic=1 keeps the topic's."""
    db, base = site
    every = query(db, "SELECT id FROM stories ORDER BY first_published DESC, id DESC")
    assert len(every) > 10
    seen = [row for _, rows in walk_pages(base, f"{base}/-/framing/stories?all=1&size=4",
                                          r'<tr><td><a href="/-/framing/story/([^"]+)">',
                                          "fr-older", 4, len(every)) for row in rows]
    assert seen == [r[0] for r in every]
    topical = html.unescape(get(f"{base}/-/framing/stories?all=1&on_topic=1&size=500"))
    listed = re.findall(r'<tr><td><a href="/-/framing/story/([^"]+)">', topical)
    assert listed == [r[0] for r in query(db, "SELECT id FROM stories WHERE on_topic = 1 "
                                               "ORDER BY first_published DESC, id DESC")]
    assert len(listed) < len(every)
    # each story's outlets by name, their ids in the tooltip
    outlets = query(db, "SELECT outlets FROM stories WHERE on_topic = 1 AND n_outlets >= 2 "
                        "AND outlets LIKE '%armnews%' LIMIT 1")[0][0]
    cell = re.search(rf'<td title="{re.escape(outlets)}">([^<]*)</td>', topical)
    assert cell and "Yerevan Dispatch" in cell.group(1) and "armnews" not in cell.group(1)
    for bad in ("page=abc", "size=-3", "page=99999"):
        assert "Stories across outlets" in get(f"{base}/-/framing/stories?{bad}")


def test_story_and_vocabulary_pages(site: tuple[Path, str]) -> None:
    db, base = site
    sid = query(db, """SELECT sa.story_id FROM story_articles sa JOIN articles a
        ON a.id = sa.article_id WHERE a.source_id = 'tms' AND sa.role = 'republication'""")[0][0]
    page = get(f"{base}/-/framing/story/{sid}")
    assert 'data-role="republication"' in page and 'data-role="original"' in page
    assert "armnews" in page and "tms" in page and "sovereignty ×" in page  # EU training cue
    assert 'class="fr-evidence"' in page and ("same text:" in page or "canonical link" in page)
    listing = get(f"{base}/-/framing/stories")
    assert f"/-/framing/story/{sid}" in listing
    # its articles cited as RIS records, in order of publication
    assert f'href="/-/framing/story/{sid}.ris"' in page
    cited = get(f"{base}/-/framing/story/{sid}.ris").split("\r\n")
    members = [r[0] for r in query(db, "SELECT a.id FROM story_articles sa JOIN articles a ON "
                                   "a.id = sa.article_id WHERE sa.story_id = ? "
                                   "ORDER BY a.published, a.id", (sid,))]
    assert [line[6:] for line in cited if line.startswith("ID  - ")] == members
    assert sum(line == "TY  - NEWS" for line in cited) == len(members) >= 2
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(f"{base}/-/framing/story/s-000000000000.ris")
    with missing.value:
        assert missing.value.code == 404
    run_id = query(db, "SELECT max(id) FROM fw_runs")[0][0]
    vocab = html.unescape(get(f"{base}/-/framing/vocabulary/{run_id}"))
    assert "state agency" in vocab and "snowball-russian" in vocab
    assert vocab.count("<tr><td title=\"stem") >= 4
    terms = query(db, "SELECT favours, z FROM fw_terms WHERE run_id = ?", (run_id,))
    assert all((f == "a") == (z > 0) for f, z in terms)


def test_a_story_page_is_read_a_page_at_a_time_under_its_outlets(site: tuple[Path, str]) -> None:
    """A story page listed every member, with a Python pass over all its namings per member:
    a story that runs for years (a recurring column) is thousands of rows. Pages of ?size=
    follow each other oldest first, together exactly the story's articles; the outlets table
    above them counts every article of the story, on every page."""
    db, base = site
    sid, n = query(db, "SELECT story_id, count(*) FROM story_articles GROUP BY story_id "
                       "ORDER BY count(*) DESC, story_id LIMIT 1")[0]
    assert n >= 3
    every = [r[0] for r in query(db, """SELECT sa.article_id FROM story_articles sa JOIN articles a
        ON a.id = sa.article_id WHERE sa.story_id = ? ORDER BY a.published, a.id""", (sid,))]
    outlets = dict(query(db, """SELECT a.source_id, count(*) FROM story_articles sa JOIN articles a
        ON a.id = sa.article_id WHERE sa.story_id = ? GROUP BY a.source_id""", (sid,)))
    for order, expected in (("", every), ("&order=newest", every[::-1])):
        seen: list[str] = []
        for page, rows in walk_pages(base, f"{base}/-/framing/story/{sid}?size=2{order}",
                                     r'<tr data-article="([^"]+)"', "fr-onward", 2, n):
            shown = {o: int(c) for o, c in re.findall(
                r'<tr data-outlet="([^"]+)"><td title="\1">[^<]*</td><td>(\d+)</td>', page)}
            assert shown == outlets
            assert f"Articles {len(seen) + 1}–{len(seen) + len(rows)} of {n}" in page
            seen += rows
        assert seen == expected
    whole = get(f"{base}/-/framing/story/{sid}")
    assert re.findall(r'<tr data-article="([^"]+)"', html.unescape(whole)) == every
    assert 'id="fr-onward"' not in whole and f"of {n}" not in whole
    newest = html.unescape(get(base + html.unescape(re.search(
        r'<a id="fr-order" href="([^"]+)">', whole).group(1))))
    assert re.findall(r'<tr data-article="([^"]+)"', newest) == every[::-1]
    for bad in ("page=abc", "size=-3"):
        assert re.findall(r'<tr data-article="([^"]+)"',
                          html.unescape(get(f"{base}/-/framing/story/{sid}?{bad}"))) == every
    assert re.findall(r'<tr data-article=', get(f"{base}/-/framing/story/{sid}?page=999")) == []


def kwic_lines(page: str) -> list[tuple[str, str, str]]:
    """(date, article id, field and offset) of each line of a KWIC page, in page order."""
    return re.findall(r'<td>(\d{4}-\d\d-\d\d)</td>.*?<a href="/article/([^"]+)" title="([^"]+)"',
                      html.unescape(page), re.S)


def test_kwic_lines_newest_first(site: tuple[Path, str]) -> None:
    """Past KWIC_LIMIT lines the page showed the oldest only: a researcher following a
    concept never saw its latest uses without a date filter. ?order=newest walks the
    articles from the newest, each article's lines still in reading order."""
    db, base = site
    oldest = kwic_lines(get(f"{base}/-/framing/kwic?concept=karabakh&copies=1"))
    page = get(f"{base}/-/framing/kwic?concept=karabakh&copies=1&order=newest")
    newest = kwic_lines(page)
    assert len({a for _, a, _ in oldest}) >= 3 and sorted(newest) == sorted(oldest)
    assert [d for d, _, _ in newest] == sorted((d for d, _, _ in newest), reverse=True)
    for article in {a for _, a, _ in oldest}:  # within an article, the same order
        assert [x for x in newest if x[1] == article] == [x for x in oldest if x[1] == article]
    assert "oldest first" in re.search(r'<a id="fr-order" href="[^"]+">([^<]+)</a>', page).group(1)
    # Cut at the limit, the page holds the newest lines: the oldest-first list's last ones.
    framing = load_bench("search_scale").plugin("framing_pages")
    framing.KWIC_LIMIT = 3
    conn = sqlite3.connect(db)
    p = {"concept": "karabakh", "copies": "1", "order": "newest"}
    cut = [(r[13][:10], r[0]) for r in conn.execute(framing.kwic_sql(p), p)]
    conn.close()
    assert len(cut) == 4 and cut == [(d, a) for d, a, _ in newest[:4]]
    assert [d for d, _ in cut] == sorted((d for d, _, _ in oldest), reverse=True)[:4]


def test_kwic_lines_as_csv_are_the_pages_lines(site: tuple[Path, str]) -> None:
    """The KWIC page's CSV link gives the same lines, every one of them, dated in the page's
    order, whatever the filters (an outlet and a naming, the frames, copies or not, a period).
    Within a day the CSV keeps the view's order (Datasette sorts by one column)."""
    _, base = site
    for query_string in ("concept=karabakh&source=rusagency&naming=international",
                         "concept=karabakh&copies=1&order=newest", "concept=frames&from=2023-01",
                         "concept=karabakh&lang=hy&to=2024-12"):
        page = get(f"{base}/-/framing/kwic?{query_string}")
        lines = kwic_lines(page)
        href = html.unescape(re.search(r'<a id="fr-csv" href="([^"]+)">', page).group(1))
        rows = list(csv.DictReader(io.StringIO(get(base + href))))
        assert lines, query_string
        got = [(r["published"][:10], r["article_id"], f"{r['field']} offset {r['offset']}")
               for r in rows]
        assert sorted(got) == sorted(lines), query_string
        assert [d for d, _, _ in got] == [d for d, _, _ in lines], query_string


def test_framing_pages_are_read_only_and_escape(site: tuple[Path, str]) -> None:
    _, base = site
    request = urllib.request.Request(f"{base}/-/framing/compare", data=b"x=1")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=30)
    assert err.value.code == 405
    err.value.close()  # an HTTPError holds the response open
    evil = urllib.parse.quote("<script>alert(1)</script>")
    page = get(f"{base}/-/framing/kwic?concept={evil}&source={evil}")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
