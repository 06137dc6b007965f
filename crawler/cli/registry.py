"""`mediawatch sources probe` and `mediawatch sources discover`: first live contact with outlets.

Both fetch through the crawl's Scrapy stack (robots.txt obeyed, the outlet's delay, the
project's User-Agent); the judging and pattern learning are pure (crawler.registry).
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from crawler.cli.options import (
    contact_pairs,
    db_option,
    open_archive,
    overrides_option,
    source_ids_option,
    sources_option,
    table_width,
    warn_before_live_contact,
)

if TYPE_CHECKING:
    from crawler.registry.model import Registry

USAGE_EXIT = 2  # bad flags, unknown outlet ids, an unusable registry


class _Usage(click.ClickException):
    exit_code = USAGE_EXIT


def probe_pairs(pairs: tuple[str, ...], timeout: float | None) -> dict[str, str]:
    """-s overrides of a command that contacts outlets once (contact added, errors only)."""
    from crawler.runner import UsageError, parse_overrides

    try:
        out = contact_pairs(parse_overrides(pairs))
    except UsageError as exc:
        raise _Usage(str(exc)) from exc
    if timeout is not None:
        out.setdefault("DOWNLOAD_TIMEOUT", str(timeout))
    out.setdefault("LOG_LEVEL", "ERROR")
    return out


@click.command("probe")
@sources_option
@source_ids_option("Probe only this outlet (disabled outlets too)")
@click.option("--json", "as_json", is_flag=True,
              help="Print a JSON array, one object per endpoint, instead of a table.")
@click.option("--write", is_flag=True,
              help="Record each outlet's verdict and time in the archive (probes table), "
                   "shown by `sources list`, `status` and /outlets.")
@db_option
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Give up on an endpoint after this long (default: DOWNLOAD_TIMEOUT, 30 s).")
@click.option("--articles", type=click.IntRange(min=0), default=2, show_default=True,
              metavar="N", help="Articles per outlet to fetch from what its listings name and "
                                "extract as a crawl would (0: none).")
@overrides_option("-s MEDIAWATCH_LOOPBACK_ONLY=1")
def probe(sources: str, source_ids: tuple[str, ...], as_json: bool, write: bool, db: str,
          timeout: float | None, articles: int, overrides: tuple[str, ...]) -> None:
    """Fetch every endpoint of each outlet once and say what works and what to fix.

    Endpoints: robots.txt of each host, the homepage, feeds, sitemaps (also those robots.txt
    names when sitemaps = ["robots"]), sections and canaries; then the newest articles those
    listings name (--articles). Each is fetched once through the crawl's stack: robots.txt
    obeyed, the outlet's delay and Crawl-delay, the project's User-Agent, no retries. Per
    endpoint: status, final URL, content type, whether it parsed, items, newest item date,
    links on the outlet's hosts and links matching article_url_pattern, the robots.txt
    verdict and Crawl-delay, and a problem with its fix. Articles and canaries are extracted
    as a crawl would: their headline, byline, date, language and length of text are shown,
    and a page without text, headline or date, or in a language the registry does not list,
    is a problem.

    Exit status: 0 when every endpoint is ok, 1 when any has a problem, 2 on usage errors.
    """
    from crawler.clock import utcnow
    from crawler.registry.model import RegistryError, load_registry
    from crawler.runner import UsageError, check_source_ids

    try:
        registry = load_registry(sources)
        check_source_ids(registry, list(source_ids))
    except (RegistryError, UsageError) as exc:
        raise _Usage(str(exc)) from exc
    pairs = probe_pairs(overrides, timeout)
    chosen = registry.chosen(source_ids)
    warn_before_live_contact(pairs, [s.homepage for s in chosen])
    probed_at = utcnow()
    rows = run_probe(registry, db, list(source_ids), pairs, articles)
    if write:
        archive = open_archive(db)
        try:
            verdicts = archive.probes.record(rows, probed_at)
        finally:
            archive.close()
        failed = sorted(k for k, ok in verdicts.items() if not ok)
        click.echo(f"{db}: probe verdicts recorded for {len(verdicts)} outlet(s) at "
                   f"{probed_at}" + (f"; failing: {', '.join(failed)}" if failed else ""),
                   err=as_json)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _print_table(rows)
    sys.exit(0 if all(r["ok"] for r in rows) else 1)


def run_probe(registry: Registry, db: str, source_ids: list[str], pairs: dict[str, str],
              articles: int, only: list[str] | None = None) -> list[dict[str, Any]]:
    """Run the probe spider (one Scrapy process) and return its rows; with `only`, fetch
    just those article URLs of the outlets (`explain --fetch`)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.runner import crawl_settings
    from crawler.spiders.probe import ProbeSpider, probe_middlewares

    settings = crawl_settings(registry, db, source_ids, pairs)
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("RETRY_ENABLED", False, priority="cmdline")  # each endpoint once
    settings.set("MEDIAWATCH_PROBE_ARTICLES", articles, priority="cmdline")
    settings.set("MEDIAWATCH_PROBE_URLS", list(only or []), priority="cmdline")
    settings.set("DOWNLOADER_MIDDLEWARES",
                 probe_middlewares(settings.getdict("DOWNLOADER_MIDDLEWARES")),
                 priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(ProbeSpider)
    process.crawl(crawler)
    process.start()
    return [r.as_dict() for r in getattr(crawler.spider, "reports", [])]


def _print_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="sources probe", show_lines=True)
    for col in ("source", "kind", "endpoint", "status", "items", "on host", "match",
                "newest", "robots", "delay", "problem"):
        table.add_column(col, overflow="fold")
    for r in rows:
        final = r["final_url"]
        where = r["endpoint"] + (f" -> {final}" if final and final != r["endpoint"] else "")
        table.add_row(*(escape(str(v)) for v in (
            r["source"], r["kind"], where, r["status"] if r["status"] is not None else "-",
            *(("-", "-", "-") if r["kind"] in ("article", "canary") else
              (r["items"], r["links_on_host"], r["links_matching"])), (r["newest"] or "-")[:19],
            r["robots"], r["crawl_delay"] if r["crawl_delay"] is not None else "-",
            r["problem"] or _ok_text(r))))
    console = Console(width=table_width())
    console.print(table)
    bad = [r for r in rows if not r["ok"]]
    outlets = sorted({r["source"] for r in bad})
    console.print(f"{len(rows)} endpoints, {len(bad)} with a problem"
                  + (f" (outlets: {', '.join(outlets)})" if outlets else ""))


def _ok_text(row: dict[str, Any]) -> str:
    """ "ok", and for an article what the crawl would store of it."""
    got = row.get("article")
    if not got:
        return "ok"
    parts = [f"“{(got['title'] or '')[:70]}”", got["author"], got["published"], got["lang"],
             f"{got['chars']:,} chars", None if got["access"] == "open" else got["access"]]
    return "ok: " + " · ".join(str(p) for p in parts if p)


@click.command("discover")
@click.argument("url")
@click.option("--json", "as_json", is_flag=True,
              help="Print the proposal and its evidence as JSON instead of TOML.")
@click.option("--timeout", type=float, default=None, metavar="SECONDS",
              help="Give up on a URL after this long (default: DOWNLOAD_TIMEOUT, 30 s).")
@overrides_option("-s DOWNLOAD_DELAY=3")
def discover(url: str, as_json: bool, timeout: float | None,
             overrides: tuple[str, ...]) -> None:
    """Propose a [[source]] entry for the outlet whose homepage is URL.

    Reads the homepage (name from og:site_name or <title>, languages from lang attributes),
    tries its advertised feeds (<link rel="alternate">, links named RSS), the common feed
    paths (/feed, /rss, /rss.xml, /atom.xml ...) and sitemaps (robots.txt Sitemap: lines,
    /sitemap.xml, /sitemap_index.xml, news sitemaps), then learns an article_url_pattern from
    the article URLs they list and checks it against the homepage's other links. Prints a
    ready TOML block with verified_live = false and the evidence as comments. Requests go
    through the crawl's Scrapy stack (robots.txt obeyed, the project's User-Agent); the
    registry is not read. Exit status 1 when no article URL was found, 2 on usage errors.
    """
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from crawler.registry.discover import proposal, toml_block
    from crawler.settings import user_agent
    from crawler.spiders.discover import DiscoverSpider
    from crawler.spiders.probe import probe_middlewares
    from crawler.web.urls import is_http_url

    if not is_http_url(url):
        raise _Usage(f"{url!r} is not an absolute http(s) URL: write e.g. https://example.org/")
    pairs = probe_pairs(overrides, timeout)
    warn_before_live_contact(pairs, [url])
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    settings.set("RETRY_ENABLED", False, priority="cmdline")
    settings.set("DOWNLOADER_MIDDLEWARES",
                 probe_middlewares(settings.getdict("DOWNLOADER_MIDDLEWARES")),
                 priority="cmdline")
    settings.set("MEDIAWATCH_DISCOVER_URL", url, priority="cmdline")
    for key, value in pairs.items():
        settings.set(key, value, priority="cmdline")
    if "USER_AGENT" not in pairs:
        settings.set("USER_AGENT", user_agent(settings.get("MEDIAWATCH_CONTACT")),
                     priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(DiscoverSpider)
    process.crawl(crawler)
    process.start()
    spider = crawler.spider
    if not isinstance(spider, DiscoverSpider):
        raise click.ClickException("the discover crawl did not start")
    found = proposal(url, spider.page, spider.feeds, spider.sitemaps,
                     spider.rejected)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        click.echo(toml_block(found), nl=False)
    if not found["article_url_pattern"]:
        why = found["evidence"]["rejected"].get(url)  # type: ignore[index]
        click.echo(f"no article URL found{f' (the homepage: {why})' if why else ''}: the "
                   "proposal is incomplete" + ("" if as_json else " and printed commented out"),
                   err=True)
        sys.exit(1)
