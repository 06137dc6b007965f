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
@click.argument("urls", nargs=-1, metavar="URL...")
@click.option("--urls", "url_file", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Also every URL in FILE, one per line ('-': standard input; blank lines "
                   "and # comments skipped): a coverage check of a list of articles.")
@sources_option
@click.option("--db", "db", default="archive.db", show_default=True, envvar="MEDIAWATCH_DB",
              type=click.Path(dir_okay=False), help="The archive to look in (read only).")
@json_option
@click.option("--fetch", is_flag=True,
              help="Also fetch each URL once now as a crawl would (robots.txt, the outlet's "
                   "delay, the project's User-Agent) and extract it: what the archive would "
                   "store.")
@overrides_option("-s MEDIAWATCH_LOOPBACK_ONLY=1")
def explain(urls: tuple[str, ...], url_file: Any, sources: str, db: str, as_json: bool,
            fetch: bool, overrides: tuple[str, ...]) -> None:
    """Say what the registry and the archive know about URL, and where it stopped.

    Step by step: the URL as crawls write it (tracking parameters removed), the outlet that
    owns its host, whether that outlet's article_url_pattern accepts it, whether a feed,
    sitemap or section ever listed it (and which), its fetches (status, robots.txt, errors),
    and its article row (title, date, extraction status, access, topic), each failed step
    with its fix. Reads only: no network, no change to the archive (safe mid-crawl).

    With several URLs (or --urls FILE) it prints one line per URL: stored (with the article
    id) or the step where it stopped; --json then gives an array of the reports.

    With --fetch it also contacts the outlet once per URL, through the crawl's Scrapy stack,
    and says what the page gives now (HTTP status, robots.txt, headline, byline, date,
    language, length of text, or the problem): a URL no listing named yet can be tried.

    Exit status: 0 when every URL's article is stored, 1 when one is not, 2 on usage errors.
    """
    from crawler.ops.explain import explain_many
    from crawler.web.urls import is_http_url

    given = [*urls, *(_lines(url_file) if url_file is not None else [])]
    if not given:
        raise click.UsageError("give a URL (or several, or --urls FILE)")
    for url in given:
        if not is_http_url(url):
            raise click.BadParameter(f"{url!r} is not an http(s) URL with a host",
                                     param_hint="URL")
    registry = load_registry(sources) if Path(sources).exists() else None
    reports = explain_many(given, registry, db)
    if fetch:
        _fetch_now(reports, registry, db, overrides)
    if as_json:
        out: Any = reports[0] if len(reports) == 1 and not url_file else reports
        click.echo(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    elif len(reports) == 1 and not url_file:
        _print_steps(reports[0])
    else:
        for report in reports:
            click.echo(_summary(report))
        stored = sum(r["stored"] for r in reports)
        click.echo(f"{stored} of {len(reports)} stored")
    sys.exit(0 if all(r["stored"] for r in reports) else 1)


def _lines(handle: Any) -> list[str]:
    return [line.strip() for line in handle if line.strip() and not line.lstrip().startswith("#")]


def _print_steps(report: dict[str, Any]) -> None:
    verdict = "stored" if report["stored"] else "not stored"
    click.echo(f"{report['url']}: {verdict}")
    for step in report["steps"]:
        click.echo(f"  {_MARK[step['ok']]}  {step['step']:8s} {step['detail']}")
        if step["fix"] and step["ok"] is not True:
            click.echo(f"              fix: {step['fix']}")


def _summary(report: dict[str, Any]) -> str:
    """One line per URL: stored with its id, or the first failed step."""
    if report["stored"]:
        line = f"stored   {report['url']}  article {report['articles'][0]['id']}"
    else:
        failed = next((s for s in report["steps"] if s["ok"] is False), None)
        where = f"{failed['step']}: {failed['detail']}" if failed else "no article row"
        line = f"missing  {report['url']}  {where}"
    now = next((s for s in report["steps"] if s["step"] == "now"), None)
    return line + (f"  | now: {now['detail']}" if now else "")


def _fetch_now(reports: list[dict[str, Any]], registry: Registry | None, db: str,
               overrides: tuple[str, ...]) -> None:
    """The `now` step of each report: the probe's row for its URL (one Scrapy run for all)."""
    from crawler.cli.registry import probe_pairs, run_probe

    orphans = [r["url"] for r in reports if r["source"] is None]
    if registry is None or orphans:
        raise click.UsageError("--fetch needs the outlet that owns the URL's host in the "
                               "registry (requests go out with its delay and robots.txt): "
                               + (", ".join(orphans) or "no registry"))
    pairs = probe_pairs(overrides, None)
    wanted = list(dict.fromkeys(r["crawled_as"] for r in reports))
    warn_before_live_contact(pairs, wanted)
    ids = list(dict.fromkeys(r["source"] for r in reports))
    rows = {r["endpoint"]: r for r in run_probe(registry, db, ids, pairs, 0, only=wanted)
            if r["kind"] == "article"}
    for report in reports:
        row = report["fetched_now"] = rows.get(report["crawled_as"])
        report["steps"].append(_now_step(row))


def _now_step(row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        return {"step": "now", "ok": False, "detail": "the fetch was not made", "fix": None}
    got = row.get("article") or {}
    said = f"HTTP {row['status'] or '-'}, robots.txt {row['robots']}"
    if got:
        said += (f"; “{got['title'] or ''}” · {got['author'] or 'no byline'} · "
                 f"{got['published'] or 'no date'} · {got['lang'] or '?'} · "
                 f"{got['chars']:,} characters · {got['status']}")
    return {"step": "now", "ok": row["ok"], "detail": said, "fix": row["problem"]}
