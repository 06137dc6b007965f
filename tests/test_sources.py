"""crawler.registry.model: the shipped registry, eager validation, hosts and SQL rows."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from crawler.registry.model import (
    KINDS,
    Registry,
    RegistryError,
    Source,
    load_registry,
    parse_registry,
    registry_rows,
)

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
TOPIC = {"id": "am-ru", "name": "Armenia–Russia", "require": [["Armenia*"], ["Russia*"]]}


def source(**overrides: Any) -> dict[str, Any]:
    """A minimal valid [[source]] table."""
    base = {"id": "demo", "name": "Demo", "homepage": "https://www.example.org/",
            "language": "en", "country": "AM", "kind": "independent"}
    return {**base, **overrides}


def registry(*sources: dict[str, Any]) -> Registry:
    return parse_registry({"topic": TOPIC, "source": list(sources)})


def problems_of(data: dict[str, Any]) -> list[str]:
    with pytest.raises(RegistryError) as info:
        parse_registry(data)
    return info.value.problems


# -- the shipped registry ------------------------------------------------------

@pytest.fixture(scope="module")
def shipped() -> Registry:
    return load_registry(ROOT / "sources.toml")


def test_shipped_registry_loads_with_spread(shipped: Registry) -> None:
    assert shipped.topic.id == "am-ru"
    assert len(shipped.topic.require) == 2
    assert len(shipped.sources) >= 15
    languages = {lang for s in shipped.sources for lang in s.language}
    assert {"en", "ru", "hy"} <= languages
    assert len({s.kind for s in shipped.sources}) >= 6
    assert len({s.id for s in shipped.sources}) == len(shipped.sources)


def test_shipped_registry_claims_nothing_live(shipped: Registry) -> None:
    assert not any(s.verified_live for s in shipped.sources)
    for s in shipped.enabled():
        assert s.feeds or s.sitemaps or s.sections or s.urls, f"{s.id} has nothing to crawl"
        # Sections are filtered by the pattern, so a section without one finds nothing.
        assert s.article_url_pattern or not s.sections, s.id
        assert 2 <= s.download_delay <= 5 and 1 <= s.concurrency <= 2, s.id


def test_shipped_tms_entry(shipped: Registry) -> None:
    tms = shipped.get("tms")
    assert "https://www.transcend.org/tms/?p=294863" in tms.urls
    assert tms.licence == "CC BY-NC 4.0" and tms.public_full_text
    assert tms.feeds == ()
    pattern = re.compile(tms.article_url_pattern or "")
    assert pattern.search("https://www.transcend.org/tms/?p=294863")
    assert pattern.search("https://www.transcend.org/tms/2025/12/baud-and-the-eu-nato-censorship-"
                          "architecture-%E2%9B%94/")
    assert not pattern.search("https://www.transcend.org/tms/")


# Article URLs quoted as public evidence for the registry (see the notes in sources.toml).
EVIDENCED_ARTICLES = {
    "armenpress": ["https://armenpress.am/en/article/1253144",
                   "https://armenpress.am/eng/news/123456/some-slug.html"],
    "azatutyun": ["https://www.azatutyun.am/a/33760132.html",
                  "https://www.azatutyun.am/a/28393572.html"],
    "news-am": ["https://news.am/eng/news/486296.html", "https://news.am/eng/news/57228.html"],
    "civilnet": ["https://www.civilnet.am/en/news/1003468/armenia-tightens-crypto-rules-puts-"
                 "sector-under-central-bank-oversight/"],
    "aravot": ["https://www.aravot.am/2016/09/27/181582/"],
    "hetq": ["https://hetq.am/en/article/84283", "https://hetq.am/en/article/59884"],
    "panorama": ["https://www.panorama.am/en/news/2026/09/05/US-Armenia-Azerbaijan/3168156"],
    "mediamax": ["https://mediamax.am/en/news/yerevan/354/"],
    "1lurer": ["https://www.1lurer.am/en/2026/06/05/UN-General-Assembly-unanimously-adopted-"
               "resolution"],
    "tert": ["http://www.tert.am/en/news/2015/03/26/liana/1628440"],
    "armenian-weekly": ["https://armenianweekly.com/2016/06/02/bundestag-recognizes-genocide/"],
    "tass": ["https://tass.com/world/2195299", "https://tass.com/world/2190833"],
    "ria": ["https://ria.ru/20200331/1569385390.html"],
    "interfax": ["https://www.interfax.ru/world/1120363", "https://www.interfax.ru/world/1107299"],
    "kommersant": ["https://www.kommersant.ru/doc/8861511"],
    "rbc": ["https://www.rbc.ru/politics/02/09/2026/6a973cb65bd2c4a73a49f0dd"],
    "meduza": ["https://meduza.io/en/feature/2024/12/17/stay-tuned"],
    "novaya-gazeta-europe": ["https://novayagazeta.eu/articles/2026-03-28/push-ne-proidet"],
    "izvestia": ["https://iz.ru/1091344/2020-11-24/some-slug"],
    "regnum": ["https://regnum.ru/news/3923781"],
    "oc-media": ["https://oc-media.org/installation-of-armenias-monumental-jesus-statue-begins/"],
    "jamnews": ["https://jam-news.net/?p=38573"],
    "rferl": ["https://www.rferl.org/a/russia-sanctions-timeline/29477179.html"],
    "bbc-russian": ["https://www.bbc.com/russian/articles/cg704gpj0yxo?at_medium=RSS&"
                    "at_campaign=rss"],
    "dw-russian": ["https://www.dw.com/ru/vojna-ukraina-rossija-11-maja-2/a-61758257"],
    "caucasian-knot": ["https://www.eng.kavkaz-uzel.eu/articles/79097"],
}


@pytest.mark.parametrize(("sid", "urls"), sorted(EVIDENCED_ARTICLES.items()))
def test_shipped_patterns_match_evidenced_articles(
        shipped: Registry, sid: str, urls: list[str]) -> None:
    s = shipped.get(sid)
    assert s.article_url_pattern, sid
    for url in urls:
        assert re.search(s.article_url_pattern, url), url
        assert shipped.source_for_url(url) == s, url


def test_shipped_patterns_reject_listing_and_feed_urls(shipped: Registry) -> None:
    for s in shipped.sources:
        if s.article_url_pattern:
            for url in (s.homepage, *s.feeds, *s.sections, *s.sitemaps):
                assert not re.search(s.article_url_pattern, url), (s.id, url)
    listings = {"https://oc-media.org/category/armenia/", "https://www.interfax.ru/rss.asp",
                "https://tass.ru/politika", "https://iz.ru/1091344/video/some-slug"}
    for url in listings:
        s = shipped.source_for_url(url)
        assert s is not None and not re.search(s.article_url_pattern or "^$", url), url


# -- validation: every problem in one error ------------------------------------

BROKEN = """\
[topic]
id = "am-ru"
name = "Test"
require = [["Armenia*"], []]
colour = "red"

[[source]]
id = "tass"
name = "TASS"
homepage = "https://tass.ru/"
language = "ru"
country = "RU"
kind = "state agency"
feed = ["https://tass.ru/rss/v2.xml"]
download_delay = "2"
article_url_pattern = '^https://tass\\.ru/(\\d+'

[[source]]
id = "tass"
name = "TASS again"
homepage = "ftp://tass.ru/"
language = ["ru"]
country = "UK"
kind = "state-agency"
concurrency = true
feeds = ["https://tass.com/rss/v2.xml", "https://tass.com/rss v2.xml"]

[[source]]
name = "No id"
homepage = "https://example.org/"
language = ["ru", "eng"]
country = "AM"
kind = "private"
"""


def test_broken_registry_lists_every_problem_once(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(BROKEN, encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    problems = info.value.problems
    expected = [
        ("topic, key 'require'", "group 1: is empty"),
        ("topic, key 'colour'", "unknown key 'colour'"),
        ("source[0] (id=tass), key 'feed'", "unknown key 'feed' — did you mean 'feeds'?"),
        ("source[0] (id=tass), key 'download_delay'", "write download_delay = 2 (no quotes)"),
        ("source[0] (id=tass), key 'article_url_pattern'", "does not compile"),
        ("source[1] (id=tass), key 'id'", "duplicate id 'tass', already used by source[0]"),
        ("source[1] (id=tass), key 'homepage'", '"ftp://tass.ru/" is not an absolute http(s) URL'),
        ("source[1] (id=tass), key 'country'",
         '"UK" is not an ISO 3166-1 alpha-2 country code — did you mean "GB"?'),
        ("source[1] (id=tass), key 'concurrency'", "expected a whole number, got true"),
        ("source[1] (id=tass), key 'feeds'",
         'item 1: "https://tass.com/rss v2.xml" is not an absolute http(s) URL'),
        ("source[2]", "missing required key 'id'"),
        ("source[2], key 'language'",
         'code 1: "eng" is not an ISO 639-1 language code — did you mean "en"?'),
    ]
    for where, what in expected:
        hits = [p for p in problems if p.startswith(where + ":") and what in p]
        assert hits, (where, what, problems)
    assert len(problems) == len(expected), problems
    # Every problem says where, what and how to fix it.
    assert all(re.match(r"[^:]+: .+ — .+", p) for p in problems), problems
    message = str(info.value)
    assert message.splitlines()[0] == f"{path} has {len(expected)} problems:"
    assert message.splitlines()[1:] == [f"  - {p}" for p in problems]


def test_missing_topic_and_sources() -> None:
    problems = problems_of({})
    assert any("missing [topic] table" in p for p in problems)
    assert any("no [[source]] tables" in p for p in problems)


def test_single_source_table_instead_of_array() -> None:
    problems = problems_of({"topic": TOPIC, "source": source()})
    assert problems == [p for p in problems if "[[source]]" in p] and len(problems) == 1


def test_unknown_top_level_key_and_bad_topic_terms() -> None:
    topic = {**TOPIC, "require": [["Arm*enia", "Yerevan"], "Russia*"]}
    problems = problems_of({"topic": topic, "sources": [source()], "source": [source()]})
    assert any("key 'sources'" in p and "did you mean [source]?" in p for p in problems)
    assert any("group 0: term 0" in p and "'*' is allowed only at the end" in p for p in problems)
    assert any("group 1: expected a list" in p for p in problems)


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("id", "TASS News", 'use e.g. id = "tass-news"'),
        ("homepage", "tass.ru", "is not an absolute http(s) URL"),
        ("homepage", "https:///path-only", "is not an absolute http(s) URL"),
        ("homepage", "https://example.org:99999/", "is not an absolute http(s) URL"),
        ("homepage", " https://example.org/", "without spaces"),
        ("language", [], "is empty"),
        ("language", "ARM", 'did you mean "hy"?'),
        ("country", "am", 'did you mean "AM"?'),
        ("country", "XX", "legal seat"),
        ("download_delay", -1, "must be a finite number >= 0"),
        ("concurrency", 0, "must be a finite number >= 1"),
        ("concurrency", 1.5, "expected a whole number"),
        ("enabled", "true", "write enabled = true (no quotes)"),
        ("concurrency", "true", "write e.g. concurrency = 2"),
        ("download_delay", "2.5", "write download_delay = 2.5 (no quotes)"),
        ("feeds", "123", 'write e.g. feeds = ["123"]'),
        ("sitemaps", "https://x.org/sitemap.xml", 'sitemaps = ["https://x.org/sitemap.xml"]'),
        ("sitemaps", ["robot"], "is not an absolute http(s) URL"),
        ("prune_xpath", ["//div[@class='x'"], "is invalid"),
        ("max_pages", 0, "must be a finite number >= 1"),
        ("poll_min_minutes", 2000, "exceeds poll_max_minutes"),
        ("licence", "", "is empty"),
    ],
)
def test_single_bad_value(key: str, value: Any, fragment: str) -> None:
    problems = problems_of({"topic": TOPIC, "source": [source(**{key: value})]})
    assert len(problems) == 1, problems
    assert fragment in problems[0] and f"key '{key}'" in problems[0], problems


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "sources.toml"
    path.write_text('[topic]\nid = "am-ru"\nname = "unterminated\n', encoding="utf-8")
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert len(info.value.problems) == 1
    assert "TOML syntax error" in str(info.value) and "line 3" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="file not found"):
        load_registry(tmp_path / "nope.toml")


# -- defaults, lookup, hosts ---------------------------------------------------

def test_defaults_and_language_string() -> None:
    s = registry(source()).sources[0]
    assert s.language == ("en",)
    assert (s.feeds, s.sitemaps, s.sections, s.urls, s.prune_xpath, s.canaries) == ((),) * 6
    assert s.article_url_pattern is None and s.licence is None and s.max_requests is None
    assert (s.download_delay, s.concurrency, s.enabled, s.verified_live) == (1.0, 2, True, False)
    assert (s.owner, s.notes, s.public_full_text) == ("", "", False)
    assert (s.poll_min_minutes, s.poll_max_minutes) == (15, 1440)
    assert isinstance(registry(source(download_delay=0)).sources[0].download_delay, float)


def test_get_and_enabled() -> None:
    reg = registry(source(id="one"), source(id="two", enabled=False))
    assert reg.get("two").id == "two"
    assert [s.id for s in reg.enabled()] == ["one"]
    with pytest.raises(KeyError, match="did you mean 'one'"):
        reg.get("onee")


def test_ip_and_port_urls_are_accepted() -> None:
    reg = registry(
        source(id="a", homepage="http://127.0.0.2:8765/", feeds=["http://127.0.0.2:8765/feed.xml"],
               sitemaps=["robots", "http://127.0.0.2:8765/sitemap.xml"],
               urls=["http://127.0.0.2:8765/news/1.html"], article_url_pattern=r"/news/\d+\.html"),
        source(id="b", homepage="http://127.0.0.3:8766/"),
    )
    a = reg.get("a")
    assert a.hosts == frozenset({"127.0.0.2:8765"})
    assert a.owns("http://127.0.0.2:8765/news/2.html")
    assert not a.owns("http://127.0.0.2/news/2.html")  # port must match
    assert not a.owns("http://127.0.0.2:8766/news/2.html")
    assert reg.source_for_url("http://127.0.0.3:8766/x") == reg.get("b")
    assert reg.source_for_url("http://127.0.0.4:8765/x") is None


def test_hosts_and_owns_are_www_insensitive() -> None:
    s = registry(source(homepage="https://www.Example.org/", feeds=["https://rss.example.org/all"],
                        sections=["https://example.org/news/"])).sources[0]
    assert s.hosts == frozenset({"example.org", "rss.example.org"})
    assert s.owns("https://example.org/a")
    assert s.owns("http://WWW.EXAMPLE.ORG/a?x=1")
    assert s.owns("https://example.org:443/a")  # the default port is no port
    assert s.owns("https://rss.example.org/other")
    assert not s.owns("https://example.org:8443/a")
    assert not s.owns("https://news.example.org/a")  # subdomains are separate hosts
    assert not s.owns("https://example.org.evil.com/a")
    for junk in ("/relative/path", "mailto:x@example.org", "not a url", "ftp://example.org/", "",
                 "http://[::1"):
        assert not s.owns(junk), junk
        assert registry(source()).source_for_url(junk) is None


def test_source_for_url_prefers_the_longest_path_on_a_shared_host() -> None:
    reg = registry(source(id="dw-en", homepage="https://www.dw.com/en/"),
                   source(id="dw-ru", homepage="https://www.dw.com/ru/"))
    assert reg.source_for_url("https://www.dw.com/ru/slug/a-61758257").id == "dw-ru"
    assert reg.source_for_url("https://dw.com/en/slug/a-1").id == "dw-en"
    assert reg.source_for_url("https://www.dw.com/de/slug/a-1").id == "dw-en"  # tie: file order


# -- SQL rows ------------------------------------------------------------------

def test_registry_rows_shape_and_sqlite_round_trip() -> None:
    reg = registry(source(id="a", language=["hy", "en"], feeds=["https://example.org/feed"],
                          licence="CC BY-NC 4.0", public_full_text=True),
                   source(id="b", enabled=False))
    rows = registry_rows(reg)
    names = [f.name for f in fields(Source)]
    assert [list(r) for r in rows] == [names, names]
    a, b = rows
    assert a["language"] == '["hy", "en"]'
    assert json.loads(a["feeds"]) == ["https://example.org/feed"]
    assert a["sitemaps"] == "[]" and a["licence"] == "CC BY-NC 4.0" and b["licence"] is None
    assert (a["enabled"], a["public_full_text"], a["verified_live"], b["enabled"]) == (1, 1, 0, 0)
    assert all(isinstance(v, str | int | float | type(None)) for r in rows for v in r.values())
    assert not any(isinstance(v, bool) for r in rows for v in r.values())
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE sources ({', '.join(names)})")
    conn.executemany(f"INSERT INTO sources VALUES ({', '.join(':' + n for n in names)})", rows)
    stored = conn.execute("SELECT id, enabled FROM sources ORDER BY id").fetchall()
    assert stored == [("a", 1), ("b", 0)]


def test_kind_vocabulary_is_documented_in_the_shipped_file() -> None:
    text = (ROOT / "sources.toml").read_text(encoding="utf-8")
    header = text.split("\n[topic]")[0]
    assert all(f'"{kind}"' in header for kind in KINDS)
    assert "has been crawled live" in header.lower()


def test_unknown_kind_is_a_warning_not_an_error() -> None:
    data = {"topic": {"id": "t", "name": "T", "require": [["a"]]},
            "source": [{"id": "x", "name": "X", "homepage": "http://127.0.0.2:9/",
                        "language": "en", "country": "AM", "kind": "state-agency"},
                       {"id": "y", "name": "Y", "homepage": "http://127.0.0.3:9/",
                        "language": "en", "country": "AM", "kind": "regional weekly"}]}
    reg = parse_registry(data)
    assert [s.kind for s in reg.sources] == ["state-agency", "regional weekly"]
    assert len(reg.warnings) == 2
    assert 'did you mean "state agency"?' in reg.warnings[0]
    assert "source 'y'" in reg.warnings[1]


def test_an_outlet_entered_twice_is_a_warning_naming_what_they_share() -> None:
    def outlet(sid: str, **extra: object) -> dict[str, object]:
        return {"id": sid, "name": sid, "language": "en", "country": "AM", "kind": "private",
                **extra}

    data = {"topic": {"id": "t", "name": "T", "require": [["a"]]},
            "source": [outlet("a", homepage="http://127.0.0.2:9/en/",
                              feeds=["http://127.0.0.2:9/en/feed/"], sitemaps=["robots"]),
                       # the same outlet again, as `sources discover` proposes it
                       outlet("a-again", homepage="http://127.0.0.2:9/en",
                              feeds=["http://127.0.0.2:9/en/feed/?utm_source=x"],
                              sitemaps=["robots"]),
                       # an edition on the same host is no duplicate
                       outlet("a-ru", homepage="http://127.0.0.2:9/ru/",
                              feeds=["http://127.0.0.2:9/ru/feed/"], sitemaps=["robots"])]}
    warnings = parse_registry(data).warnings
    assert len(warnings) == 2, warnings
    assert warnings[0].startswith("source 'a-again': its homepage http://127.0.0.2:9/en is "
                                  "also a's")
    assert warnings[1].startswith("source 'a-again': its feed http://127.0.0.2:9/en/feed/"
                                  "?utm_source=x is also a's")
    assert "remove one entry" in warnings[1]
