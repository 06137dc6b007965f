"""`mediawatch explain URL`: why one URL is (not) in the archive."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crawler.cli.options import (
    json_option,
    load_registry,
    overrides_option,
    sources_option,
    warn_before_live_contact,
)

if TYPE_CHECKING:
    from crawler.registry.model import Registry

_MARK = {True: "ok", False: "NO", None: "--"}


@click.command()
@click.argument("url")
@sources_option
@click.option("--db", "db", default="archive.db", show_default=True, envvar="MEDIAWATCH_DB",
              type=click.Path(dir_okay=False), help="The archive to look in (read only).")
@json_option
@click.option("--fetch", is_flag=True,
              help="Also fetch URL once now as a crawl would (robots.txt, the outlet's delay, "
                   "the project's User-Agent) and extract it: what the archive would store.")
@overrides_option("-s MEDIAWATCH_LOOPBACK_ONLY=1")
def explain(url: str, sources: str, db: str, as_json: bool, fetch: bool,
            overrides: tuple[str, ...]) -> None:
    """Say what the registry and the archive know about URL, and where it stopped.

    Step by step: the URL as crawls write it (tracking parameters removed), the outlet that
    owns its host, whether that outlet's article_url_pattern accepts it, whether a feed,
    sitemap or section ever listed it (and which), its fetches (status, robots.txt, errors),
    and its article row (title, date, extraction status, access, topic), each failed step
    with its fix. Reads only: no network, no change to the archive (safe mid-crawl).

    With --fetch it also contacts the outlet once, through the crawl's Scrapy stack, and says
    what the page gives now (HTTP status, robots.txt, headline, byline, date, language,
    length of text, or the problem): a URL no listing named yet can be tried this way.

    Exit status: 0 when the URL's article is stored, 1 when it is not, 2 on usage errors.
    """
    from crawler.ops.explain import explain as collect
    from crawler.web.urls import is_http_url

    if not is_http_url(url):
        raise click.BadParameter(f"{url!r} is not an http(s) URL with a host", param_hint="URL")
    registry = load_registry(sources) if Path(sources).exists() else None
    report = collect(url, registry, db)
    if fetch:
        report["steps"].append(_fetched_now(report, registry, db, overrides))
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    else:
        verdict = "stored" if report["stored"] else "not stored"
        click.echo(f"{url}: {verdict}")
        for step in report["steps"]:
            click.echo(f"  {_MARK[step['ok']]}  {step['step']:8s} {step['detail']}")
            if step["fix"] and step["ok"] is not True:
                click.echo(f"              fix: {step['fix']}")
    sys.exit(0 if report["stored"] else 1)


def _fetched_now(report: dict[str, Any], registry: Registry | None, db: str,
                 overrides: tuple[str, ...]) -> dict[str, Any]:
    """The `fetch now` step: the probe's row for this one URL, as a step."""
    from crawler.cli.registry import probe_pairs, run_probe

    if registry is None or report["source"] is None:
        raise click.UsageError("--fetch needs the outlet that owns the URL's host in the "
                               "registry (requests go out with its delay and robots.txt)")
    pairs = probe_pairs(overrides, None)
    warn_before_live_contact(pairs, [report["crawled_as"]])
    rows = run_probe(registry, db, [report["source"]], pairs, 0, only=[report["crawled_as"]])
    row = next((r for r in rows if r["kind"] == "article"), None)
    report["fetched_now"] = row
    if row is None:
        return {"step": "now", "ok": False, "detail": "the fetch was not made", "fix": None}
    got = row.get("article") or {}
    said = f"HTTP {row['status'] or '-'}, robots.txt {row['robots']}"
    if got:
        said += (f"; “{got['title'] or ''}” · {got['author'] or 'no byline'} · "
                 f"{got['published'] or 'no date'} · {got['lang'] or '?'} · "
                 f"{got['chars']:,} characters · {got['status']}")
    return {"step": "now", "ok": row["ok"], "detail": said, "fix": row["problem"]}
