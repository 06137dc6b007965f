"""`mediawatch sources discover`: pattern learning on real URL shapes, and end to end."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers.probeweb import probe_web

from crawler.registry.discover import learn_pattern, proposal, read_homepage, toml_block
from crawler.registry.model import load_registry, parse_registry
from demoweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]
TOPIC = '[topic]\nid = "t"\nname = "T"\nrequire = [["Armenia*"]]\n\n'


# -- learn_pattern on the real URL shapes of the shipped registry's examples ---------------

def _shipped() -> list:
    return [s for s in load_registry(ROOT / "sources.toml").sources if len(s.examples) >= 3]


@pytest.mark.parametrize("source", _shipped(), ids=lambda s: s.id)
@pytest.mark.unit
def test_learned_from_some_examples_accepts_the_rest_of_their_shape(source) -> None:
    """Learned from every other example, the pattern accepts the others of the same shape
    and rejects every known non-article."""
    from crawler.registry.discover import shape_key
    from crawler.web.urls import host_key

    learn, check = list(source.examples[::2]), list(source.examples[1::2])
    learned = learn_pattern(learn, source.not_articles)
    assert learned.pattern and learned.accepted == len(learned.articles)
    rx = re.compile(learned.pattern)
    for url in check:
        # What varies is learnt from two examples of a shape; a scheme never seen, or seen
        # once, cannot be generalised (bench/url_patterns.py measures that cost).
        if sum(shape_key(u) == shape_key(url) for u in learn) >= 2 and \
                host_key(url) == learned.host:
            assert rx.search(url), (source.id, learned.pattern, url)
    for url in source.not_articles:
        assert not rx.search(url), (source.id, learned.pattern, url)


@pytest.mark.unit
def test_learning_real_shapes() -> None:
    # Dates, ids and slugs (Meduza)
    meduza = learn_pattern(["https://meduza.io/feature/2015/11/20/metro-bez-urn-samolety",
                            "https://meduza.io/news/2022/11/26/umer-ministr-inostrannyh-del"],
                           ["https://meduza.io/cdn-cgi/trace"])
    rx = re.compile(meduza.pattern or "")
    assert rx.search("https://meduza.io/news/2021/05/01/italiya-vozobnovila-vydachu")
    assert not rx.search("https://meduza.io/news/") and not rx.search("https://meduza.io/rss/all")
    # hex ids under a DD/MM/YYYY date (RBC), tracking query allowed
    rbc = learn_pattern(["https://www.rbc.ru/politics/02/09/2026/6a973cb65bd2c4a73a49f0dd"])
    assert re.search(rbc.pattern or "",
                     "https://www.rbc.ru/politics/08/11/2020/5fa7f3579a79475e3e6041e3?from=x")
    assert not re.search(rbc.pattern or "", "https://www.rbc.ru/politics/?utm_source=topline")
    # type word + id (DW), percent-encoded non-Latin slugs
    dw = learn_pattern([
        "https://www.dw.com/ru/evrosouz-menaet-strategiu-sankcij/a-76918423",
        "https://www.dw.com/ru/otvet-germanii-na-diversiu/a-78844842"])
    assert re.search(dw.pattern or "", "http://www.dw.com/ru/в-гонконге-проходят-выборы/a-19525437")
    assert not re.search(dw.pattern or "",
                         "https://www.dw.com/ru/%D1%82%D0%B5%D0%BC%D1%8B-%D0%B4%D0%BD%D1%8F/s-9119")
    # opaque ids (BBC), not the empty listing
    bbc = learn_pattern(["https://www.bbc.com/russian/articles/cg704gpj0yxo",
                         "https://www.bbc.com/russian/articles/cy0qd5png8qo"])
    assert not re.search(bbc.pattern or "", "https://www.bbc.com/russian/articles/")
    assert learn_pattern([]).pattern is None


@pytest.mark.unit
def test_narrowing_keeps_every_example_and_rejects_the_non_article() -> None:
    learned = learn_pattern(["https://x.example/world/607706", "https://x.example/world/1107299"],
                            ["https://x.example/photo/1234567"])
    assert learned.accepted == 2 and learned.accepted_non_articles == []


@pytest.mark.unit
def test_an_article_named_by_a_long_id_is_accepted_with_and_without_what_follows_it() -> None:
    # Armenpress links "/eng/news/928860.html" beside "/eng/news/766444/uwc-dilijan.html";
    # Regnum serves "/news/3923781" beside "/news/2519620.html" (outlet-urls.json).
    slugged = learn_pattern(["https://armenpress.am/eng/news/766444/uwc-dilijan-huge.html",
                             "https://armenpress.am/eng/news/766512/pm-meets-envoy.html"])
    rx = re.compile(slugged.pattern or "")
    assert rx.search("https://armenpress.am/eng/news/928860.html")
    assert rx.search("https://armenpress.am/eng/news/766444/uwc-dilijan-huge.html")
    assert not rx.search("https://armenpress.am/eng/news/") and \
        not rx.search("https://armenpress.am/eng/news/12/page.html")  # a short number: a page
    bare = learn_pattern(["https://regnum.ru/news/3923781", "https://regnum.ru/news/3923900"])
    assert re.search(bare.pattern or "", "https://regnum.ru/news/2348996.html")
    # Not where a known non-article has the loosened form: the shape stays as learnt.
    strict = learn_pattern(["https://x.example/story/1234567/a-slug.html",
                            "https://x.example/story/1234999/other-slug.html"],
                           ["https://x.example/story/7654321.html"])
    assert strict.accepted == 2 and strict.accepted_non_articles == []
    assert not re.search(strict.pattern or "", "https://x.example/story/1234567.html")


@pytest.mark.unit
def test_homepage_reading_and_hostile_names() -> None:
    html = ('<html lang="hy-AM"><head><title>Լուրեր | Outlet</title>'
            '<meta property="og:site_name" content="Evil &quot;\nname">'
            '<link rel="alternate" type="application/rss+xml" href="/rss/all">'
            '<link rel="alternate" hreflang="ru" href="/ru/"></head>'
            '<body><a href="/feed-list/">RSS</a><a href="/news/">News</a></body></html>')
    page = read_homepage(html.encode(), "https://x.example/")
    assert page.name == 'Evil "\nname' and page.languages == ["hy", "ru"]
    assert set(page.feeds) == {"https://x.example/feed-list/", "https://x.example/rss/all"}
    proposed = {"id": "x", "name": page.name, "homepage": "https://x.example/",
                "language": page.languages, "country": "AM", "feeds": list(page.feeds),
                "sitemaps": [], "article_url_pattern": r"^https://x\.example/news/\d+$",
                "verified_live": False, "examples": [], "not_articles": [],
                "evidence": {"feeds": {}, "sitemaps": {}, "articles": 3,
                             "articles_accepted": 3, "non_articles_rejected": 1,
                             "non_articles_accepted": [], "same_shape_homepage_links": [],
                             "rejected": {"https://x.example/a\n[x]": "HTTP 404"}}}
    reg = parse_registry(tomllib.loads(TOPIC + toml_block(proposed)))  # scraped text cannot
    assert reg.sources[0].name == 'Evil "\nname'  # break the TOML
    # Without a pattern the proposal is incomplete: all comments, so `>> sources.toml` adds
    # no half-made entry to the user's registry.
    incomplete = toml_block({**proposed, "article_url_pattern": None})
    assert tomllib.loads(TOPIC + incomplete).get("source") is None
    assert "# [[source]]" in incomplete and '# name = "Evil' in incomplete


@pytest.mark.unit
def test_a_feed_with_tracking_parameters_gives_clean_examples_and_variants() -> None:
    # Feeds often tag every link (?utm_source=rss): a crawl strips that before fetching, so
    # the entry's examples are the clean URLs, the tagged ones its variants; the homepage's
    # links to the same articles are those articles, and its stylesheet is no counter-example.
    home = "https://x.example/"
    tagged = [f"https://x.example/news/{n}/story-{n}/?utm_source=rss&utm_medium=feed"
              for n in range(1001, 1005)]
    page = read_homepage((b"<html><head><link rel='stylesheet' href='/static/site.css'>"
                          b"</head><body><a href='/news/1001/story-1001/'>a</a>"
                          b"<a href='/politics/'>s</a><a href='/about/'>b</a></body></html>"
                          ), home)
    proposed = proposal(home, page, {"https://x.example/feed/": tagged}, {}, {})
    clean = [u.split("?")[0] for u in tagged]
    assert proposed["examples"] == clean
    assert proposed["variants"] == tagged[:3]
    assert "https://x.example/static/site.css" not in proposed["not_articles"]
    assert "https://x.example/politics/" in proposed["not_articles"]
    assert proposed["evidence"]["same_shape_homepage_links"] == []  # a feed article, not "also"
    # The block is a valid entry: its examples, non-articles and variants pass the checks.
    source = parse_registry(tomllib.loads(TOPIC + toml_block(proposed))).sources[0]
    assert source.variants == tuple(tagged[:3]) and source.examples == tuple(clean)


# -- end to end, as a subprocess, on the loopback probe web ------------------------------

@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    with probe_web() as fixture:
        yield fixture


def _discover(url: str, cwd: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "MEDIAWATCH_SOURCES": str(cwd / "no-such-registry.toml")}
    return subprocess.run(
        [sys.executable, "-m", "crawler.cli", "sources", "discover", url, "--timeout", "3",
         "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "DOWNLOAD_DELAY=0", *extra],
        capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


@pytest.mark.parametrize("outlet", ["probe-healthy", "probe-htmlfeed", "probe-nomatch",
                                    "probe-robots", "probe-slow", "probe-shell"])
@pytest.mark.e2e
def test_discover_reproduces_a_working_entry(web: FixtureWeb, outlet: str,
                                             tmp_path: Path) -> None:
    web.clear_requests()
    result = _discover(web.base_urls[outlet] + "/", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    registry = parse_registry(tomllib.loads(TOPIC + result.stdout))  # a valid entry
    source = registry.sources[0]
    assert source.verified_live is False and source.article_url_pattern
    rx = re.compile(source.article_url_pattern)
    articles = [a.url for a in web.expected_articles() if a.outlet == outlet]
    assert articles and all(rx.search(u) for u in articles), (source.article_url_pattern,
                                                               articles)
    pages = [web.url(outlet, p["path"]) for p in web.sites[outlet].outlet.conf["pages"]]
    assert pages and not any(rx.search(u) for u in pages), source.article_url_pattern
    assert source.feeds or source.sitemaps
    assert "# article_url_pattern learned from 4 article URLs" in result.stdout
    hosts = {r.host.rsplit(":", 1)[0] for r in web.requests}
    assert hosts == {web.base_urls[outlet].split("//")[1].rsplit(":", 1)[0]}  # that outlet only
    assert sum(r.path == "/robots.txt" for r in web.requests) == 1


@pytest.mark.e2e
def test_discover_evidence_names_what_failed(web: FixtureWeb, tmp_path: Path) -> None:
    html = _discover(web.base_urls["probe-htmlfeed"] + "/", tmp_path, "--json")
    data = json.loads(html.stdout)
    assert data["evidence"]["rejected"][web.url("probe-htmlfeed", "/rss/")] == \
        "answers HTML, not a feed"
    assert data["sitemaps"] == [web.url("probe-htmlfeed", "/sitemap_index.xml")]
    slow = json.loads(_discover(web.base_urls["probe-slow"] + "/", tmp_path, "--json").stdout)
    assert "took longer than 3.0 seconds" in slow["evidence"]["rejected"][
        web.url("probe-slow", "/feed.xml")]
    robots = _discover(web.base_urls["probe-robots"] + "/sitemaps/news.xml", tmp_path,
                       "--json")
    assert "robots.txt disallows it" in json.loads(robots.stdout)["evidence"]["rejected"].values()


@pytest.mark.e2e
def test_discover_of_a_host_that_is_down_says_so_and_proposes_nothing(tmp_path: Path) -> None:
    """A homepage that refuses connections (nothing listens on the port): exit 1, one line on
    stderr saying why, no traceback (Scrapy logs a robots.txt it could not fetch with one), and
    the proposal commented out, so the README's `>> sources.toml` adds no half-made entry."""
    from helpers.processes import free_port

    result = _discover(f"http://127.0.0.1:{free_port()}/", tmp_path)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert "no article URL found (the homepage: " in result.stderr
    assert "printed commented out" in result.stderr
    assert tomllib.loads(TOPIC + result.stdout).get("source") is None
    assert "# [[source]]" in result.stdout and "not used: http://127.0.0.1:" in result.stdout


@pytest.mark.e2e
def test_discover_usage_errors(tmp_path: Path) -> None:
    bad = _discover("not-a-url", tmp_path)
    assert bad.returncode == 2 and "not an absolute http(s) URL" in bad.stderr


@pytest.mark.e2e
def test_help_with_h() -> None:
    from conftest import run_mediawatch

    for command in ("probe", "discover"):
        result = run_mediawatch("sources", command, "-h")
        assert result.returncode == 0 and "Usage: mediawatch sources " + command in result.stdout
