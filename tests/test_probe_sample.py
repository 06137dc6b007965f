"""`sources probe` article rows judged on recorded real pages (crawler.registry.sample)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crawler.registry.model import Source, parse_registry
from crawler.registry.probe import EndpointReport, Fetched
from crawler.registry.sample import judge_article, pick_samples

pytestmark = pytest.mark.unit

PAGES = Path(__file__).parent / "pages"
HTML = "text/html; charset=utf-8"
TASS = "https://tass.ru/moskva/8836033"  # tests/pages/ru-tass-8836033 (see its MANIFEST row)


def _source(**kw: object) -> Source:
    entry = {"id": "tass", "name": "TASS", "homepage": "https://tass.ru/", "language": "ru",
             "country": "RU", "kind": "state", "article_url_pattern": r"/[a-z-]+/\d+$",
             **{k: v for k, v in kw.items() if v is not None}}
    if kw.get("article_url_pattern", "") is None:
        del entry["article_url_pattern"]
    topic = {"id": "t", "name": "T", "require": [["Armenia*"]]}
    return parse_registry({"topic": topic, "source": [entry]}).get("tass")


def _judge(case: str, url: str, source: Source, kind: str = "article", **fetched: object
           ) -> EndpointReport:
    body = (PAGES / case / "input.html").read_bytes()
    got = Fetched(url, url, 200, HTML, body)
    return judge_article(EndpointReport(source.id, url, kind, robots="allowed"),
                         replace(got, **fetched), source)  # type: ignore[arg-type]


def test_a_real_article_is_ok_and_shows_what_the_crawl_would_store() -> None:
    row = _judge("ru-tass-8836033", TASS, _source())
    assert row.ok, row.problem
    got = row.article
    assert got is not None and got["status"] == "ok" and got["lang"] == "ru"
    assert got["published"] == row.newest and row.newest.startswith("2020-06-29")
    assert got["chars"] > 1000
    assert got["title"] and "ТАСС" not in got["title"]
    assert row.as_dict()["article"] == got and "candidates" not in row.as_dict()


def test_an_article_in_a_language_the_registry_does_not_list_is_a_problem() -> None:
    row = _judge("ru-tass-8836033", TASS, _source(language="hy"))
    assert not row.ok and row.problem is not None
    assert row.problem.startswith("the article reads as 'ru' but the registry says 'hy'")


def test_a_front_page_taken_for_an_article_asks_for_a_tighter_pattern() -> None:
    url = "https://web.archive.org/web/http://aptsvet.livejournal.com/"
    row = _judge("ru-livejournal-front-not-article", url, _source(article_url_pattern=None))
    assert row.article is not None and row.article["status"] == "not_article"
    assert row.problem is not None and "tighten article_url_pattern" in row.problem
    canary = _judge("ru-livejournal-front-not-article", url, _source(article_url_pattern=None),
                    kind="canary")
    assert canary.problem is not None and "replace the canary" in canary.problem


def test_a_canary_off_the_pattern_and_http_failures_are_problems_before_extraction() -> None:
    row = _judge("ru-tass-8836033", TASS, _source(article_url_pattern=r"/news/\d+$"), "canary")
    assert row.problem is not None and row.problem.startswith(
        "the canary URL does not match article_url_pattern") and row.article is None
    gone = _judge("ru-tass-8836033", TASS, _source(), status=404)
    assert gone.problem is not None and gone.problem.startswith("article answers HTTP 404")
    # A gone article is the outlet's doing, not the registry's: no "find the feed" advice.
    assert "stale" in gone.problem and "sources discover" not in gone.problem
    gone_canary = _judge("ru-tass-8836033", TASS, _source(), "canary", status=410)
    assert gone_canary.problem is not None and "replace it in the outlet's canaries" in \
        gone_canary.problem
    refused = judge_article(EndpointReport("tass", TASS, "article", robots="disallowed"),
                            Fetched(TASS), _source())
    assert refused.problem is not None and refused.problem.startswith(
        "robots.txt disallows this article")


def test_a_page_without_a_date_is_a_problem() -> None:
    body = (b"<html lang='en'><head><title>Talks resume | Herald</title></head><body><article>"
            b"<h1>Talks resume</h1>" + b"".join(
                b"<p>Officials from Yerevan and Moscow met for round %d to discuss trade, "
                b"security and the transit routes through the south of the country.</p>" % i
                for i in range(1, 5)) + b"</article></body></html>")
    url = "https://herald.example/news/talks-resume"
    row = judge_article(EndpointReport("h", url, "article", robots="allowed"),
                        Fetched(url, url, 200, HTML, body),
                        _source(homepage="https://herald.example/", language="en",
                                article_url_pattern=None))
    assert row.article is not None and row.article["title"] == "Talks resume"
    assert row.problem is not None and row.problem.startswith("no publication date found")


def test_samples_come_from_feeds_first_newest_first_and_never_twice() -> None:
    def listing(kind: str, urls: list[str], problem: str | None = None) -> EndpointReport:
        row = EndpointReport("s", f"https://s.example/{kind}", kind, problem=problem)
        row.candidates = urls
        return row

    rows = [listing("homepage", ["h1", "f2"]), listing("section", ["s1"]),
            listing("feed", ["f1", "f2"]), listing("sitemap", ["x1"], problem="broken")]
    assert pick_samples(rows, 2) == ["f1", "f2"]
    assert pick_samples(rows, 3, taken=["f1"]) == ["f2", "s1", "h1"]
    assert pick_samples(rows, 0) == []
    # Fetched as a crawl fetches them: a feed's tracking parameters are not sent, and a
    # tagged link and its clean twin are one article.
    tagged = [listing("feed", ["https://s.example/a/1?utm_source=rss&utm_medium=feed",
                               "https://s.example/a/2?id=7&utm_campaign=x"]),
              listing("homepage", ["https://s.example/a/1"])]
    assert pick_samples(tagged, 3) == ["https://s.example/a/1", "https://s.example/a/2?id=7"]


def test_a_sitemap_listing_its_oldest_first_is_sampled_newest_first() -> None:
    from crawler.registry.probe import judge

    urls = [f"https://tass.ru/politika/{n}" for n in (101, 102, 103)]
    body = ("<?xml version='1.0' encoding='UTF-8'?><urlset xmlns="
            "'http://www.sitemaps.org/schemas/sitemap/0.9'>" + "".join(
                f"<url><loc>{u}</loc><lastmod>2025-03-0{i}</lastmod></url>"
                for i, u in enumerate(urls, 1)) + "</urlset>").encode()
    source = _source()
    row = judge(EndpointReport("tass", "https://tass.ru/sitemap.xml", "sitemap", robots="allowed"),
                Fetched("https://tass.ru/sitemap.xml", None, 200, "application/xml", body),
                source.article_url_pattern, source.hosts, source.homepage)
    assert row.ok and row.links_matching == 3 and row.newest == "2025-03-03"
    assert pick_samples([row], 2) == [urls[2], urls[1]]
