"""What one probed endpoint says about an outlet's registry entry (pure: no Scrapy, no I/O).

The probe spider (crawler.spiders.probe) fetches; this module judges. Every judgement is a
plain-words `problem` with the fix, or None when the endpoint works as the registry expects.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from crawler.web.discovery import DiscoveryError, parse_feed, parse_sitemap, sniff
from crawler.web.links import page_links
from crawler.web.urls import host_key, is_http_url

KINDS = ("robots", "homepage", "feed", "sitemap", "section", "canary", "article")


@dataclass
class EndpointReport:
    """One row of `mediawatch sources probe`: the keys of its --json objects."""

    source: str
    endpoint: str
    kind: str
    status: int | None = None
    final_url: str | None = None
    content_type: str | None = None
    parsed: bool = False
    items: int = 0
    newest: str | None = None
    links_on_host: int = 0
    links_matching: int = 0
    robots: str = "unknown"  # allowed | disallowed | no robots.txt | unreachable | unknown
    crawl_delay: float | None = None
    error: str | None = None
    problem: str | None = None
    sitemaps: list[str] = field(default_factory=list)  # robots rows: the Sitemap: lines
    # article and canary rows: what extract_article made of the page (crawler.registry.sample)
    article: dict[str, Any] | None = None
    # listing rows: the article links they list, newest first (sampled as article rows)
    candidates: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing is wrong with this endpoint."""
        return self.problem is None

    def as_dict(self) -> dict[str, Any]:
        """The JSON object of this row (ok included; the sampling candidates left out)."""
        out = {**asdict(self), "ok": self.ok}
        del out["candidates"]
        return out


@dataclass(frozen=True)
class Fetched:
    """What came back for one endpoint (a response, or the error that replaced it)."""

    url: str
    final_url: str | None = None
    status: int | None = None
    content_type: str | None = None
    body: bytes = b""
    error: str | None = None


def _discover_hint(homepage: str) -> str:
    return f"find the current one with `mediawatch sources discover {homepage}`"


def judge_robots(report: EndpointReport, fetched: Fetched, homepage: str) -> EndpointReport:
    """A robots.txt row: 200 and 404 are fine; anything else leaves the crawler guessing."""
    report.status, report.final_url = fetched.status, fetched.final_url
    report.content_type, report.error = fetched.content_type, fetched.error
    if fetched.error:
        report.robots = "unreachable"
        report.problem = (f"robots.txt could not be fetched ({fetched.error}): the crawler then "
                          "treats everything as allowed — check that the host answers from the "
                          "crawler host before crawling it")
    elif fetched.status == 200:
        report.parsed, report.robots = True, "fetched"
        report.items = len(report.sitemaps)
    elif fetched.status is not None and 400 <= fetched.status < 500:
        report.parsed, report.robots = True, "no robots.txt"
        if fetched.status in (401, 403):
            report.problem = (f"robots.txt answers HTTP {fetched.status}: the site blocks this "
                              "crawler (Scrapy then treats everything as allowed, but pages "
                              "will likely be refused too) — ask the outlet for access or "
                              "disable the outlet")
    else:
        report.robots = "unreachable"
        report.problem = (f"robots.txt answers HTTP {fetched.status}: the host has trouble — "
                          "probe again later before crawling it")
    return report


def judge(report: EndpointReport, fetched: Fetched, pattern: str | None,
          hosts: frozenset[str], homepage: str) -> EndpointReport:
    """Fill a feed/sitemap/section/homepage row from its response and say what is wrong
    (article and canary rows: crawler.registry.sample.judge_article)."""
    if answer_problem(report, fetched, homepage):
        return report
    what = report.kind
    compiled = re.compile(pattern) if pattern else None
    listed, dates = _contents(report, fetched)
    if report.problem:
        return report
    on_host = [(u, d) for u, d in listed if is_http_url(u) and host_key(u) in hosts]
    report.links_on_host = len(on_host)
    matching = [(u, d) for u, d in on_host if compiled and compiled.search(u)]
    report.links_matching = len(matching)
    report.newest = max(dates) if dates else None
    # Without a pattern, what a feed or sitemap lists is taken for articles (as a crawl does).
    found = matching if compiled else on_host if what in ("feed", "sitemap") else []
    # Newest first where the listing dates them (a sitemap may list its oldest first).
    report.candidates = [u for u, _ in sorted(found, key=lambda x: x[1] or "", reverse=True)]
    report.problem = _content_problem(report, len(listed), compiled is not None, homepage)
    return report


def answer_problem(report: EndpointReport, fetched: Fetched, homepage: str) -> bool:
    """Fill the row's HTTP facts; True (with the problem set) when robots.txt refused the URL,
    the fetch failed or the server answered an error."""
    report.status, report.final_url = fetched.status, fetched.final_url
    report.content_type, report.error = fetched.content_type, fetched.error
    what = report.kind
    if report.robots == "disallowed":
        report.problem = (f"robots.txt disallows the {what}: the crawler will never fetch it — "
                          f"remove it from the registry ({_discover_hint(homepage)})")
    elif fetched.error:
        report.problem = _error_problem(what, fetched.error)
    elif (status := fetched.status or 0) >= 400:
        gone = status in (404, 410)
        report.problem = (f"{what} answers HTTP {status}: " + (
            _gone_fix(what, homepage) if gone else
            "the server refuses or fails — probe again later; if it persists the outlet "
            "blocks crawlers"))
    return report.problem is not None


def _gone_fix(what: str, homepage: str) -> str:
    # A listing or seed that is gone is the registry's to fix; a listed article that is gone
    # is the outlet's doing (a crawl records it and goes on), a gone canary needs replacing.
    if what == "article":
        return ("the outlet removed it or the listing that named it is stale; a crawl records "
                "that and goes on — probe again later: if new samples fail too, the listing is "
                "broken")
    if what == "canary":
        return "the page is gone — replace it in the outlet's canaries with a current article"
    return f"it moved or is gone — {_discover_hint(homepage)}"


def _error_problem(what: str, error: str) -> str:
    low = error.lower()
    if "timeout" in low or "timed out" in low:
        return (f"{what} timed out ({error}): the server did not answer in time — open it in a "
                "browser from the crawler host; if the site is only slow, raise "
                "-s DOWNLOAD_TIMEOUT=...")
    if "offsite" in low:
        return (f"{what} redirects or points off the outlet's hosts ({error}): add the host to "
                "the registry (as a feed, section or alias) or use the final URL")
    if "dns" in low or "connect" in low or "refused" in low:
        return (f"{what} is unreachable ({error}): check the host name and that the site is up "
                "from the crawler host")
    return f"{what} failed ({error}): probe again; if it persists, check the URL in a browser"


Listed = list[tuple[str, str | None]]  # (URL, the date its listing gives it)


def _contents(report: EndpointReport, fetched: Fetched) -> tuple[Listed, list[str]]:
    """Parse the body by kind; the URLs it lists (with their dates) and the dates of its items."""
    body, kind = fetched.body, report.kind
    shape = sniff(body)
    if kind in ("feed", "sitemap"):
        if shape == "html":
            report.problem = (f"{kind} answers HTML, not XML: the {kind} moved, or a bot wall "
                              f"or error page answers instead")
            return [], []
        try:
            if shape == "sitemap" or kind == "sitemap":
                sitemap = parse_sitemap(body, fetched.final_url or fetched.url)
                report.parsed, report.items = True, len(sitemap.entries)
                dates = [d for e in sitemap.entries
                         for d in (e.news_publication_date or e.lastmod,) if d]
                if sitemap.kind == "sitemapindex":
                    return [], dates  # children are sitemaps, not articles
                return [(e.loc, e.news_publication_date or e.lastmod)
                        for e in sitemap.entries], dates
            feed = parse_feed(body, fetched.final_url or fetched.url)
        except DiscoveryError as exc:
            report.problem = f"{kind} does not parse ({exc}): the URL serves something else"
            return [], []
        report.parsed, report.items = True, len(feed.entries)
        return ([(e.url, e.published) for e in feed.entries],
                [e.published for e in feed.entries if e.published])
    if shape not in ("html", "other") or not body:
        report.problem = f"{kind} is not an HTML page ({shape or 'empty'})"
        return [], []
    links = page_links(body, fetched.final_url or fetched.url)
    report.parsed, report.items = True, len(links)
    return [(link.url, None) for link in links], []


def _content_problem(r: EndpointReport, listed: int, has_pattern: bool,
                     homepage: str) -> str | None:
    kind = r.kind
    if kind in ("feed", "sitemap") and r.items == 0:
        return f"{kind} is empty: 0 items — {_discover_hint(homepage)}"
    if listed and r.links_on_host == 0 and kind != "sitemap":
        return (f"0 of {listed} {kind} links are on the outlet's hosts: the crawler drops them "
                "— add the host the links point to (aliases, or the homepage of that edition)")
    if not has_pattern:
        if kind == "section":
            return ("the outlet has no article_url_pattern, so a section yields nothing — "
                    f"add one (`mediawatch sources discover {homepage}` proposes it)")
        return None
    if kind in ("feed", "sitemap", "section") and r.links_on_host and not r.links_matching:
        return (f"0 of {r.links_on_host} {kind} links match article_url_pattern: the outlet's "
                f"URL scheme changed or the pattern is wrong — `mediawatch sources discover "
                f"{homepage}` proposes one")
    return None
