"""`mediawatch explain URL`: why one URL is (not) in the archive."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from crawler.cli.options import json_option, load_registry, sources_option

_MARK = {True: "ok", False: "NO", None: "--"}


@click.command()
@click.argument("url")
@sources_option
@click.option("--db", "db", default="archive.db", show_default=True, envvar="MEDIAWATCH_DB",
              type=click.Path(dir_okay=False), help="The archive to look in (read only).")
@json_option
def explain(url: str, sources: str, db: str, as_json: bool) -> None:
    """Say what the registry and the archive know about URL, and where it stopped.

    Step by step: the URL as crawls write it (tracking parameters removed), the outlet that
    owns its host, whether that outlet's article_url_pattern accepts it, whether a feed,
    sitemap or section ever listed it (and which), its fetches (status, robots.txt, errors),
    and its article row (title, date, extraction status, access, topic), each failed step
    with its fix. Reads only: no network, no change to the archive (safe mid-crawl).

    Exit status: 0 when the URL's article is stored, 1 when it is not, 2 on usage errors.
    """
    from crawler.ops.explain import explain as collect
    from crawler.web.urls import is_http_url

    if not is_http_url(url):
        raise click.BadParameter(f"{url!r} is not an http(s) URL with a host", param_hint="URL")
    registry = load_registry(sources) if Path(sources).exists() else None
    report = collect(url, registry, db)
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
