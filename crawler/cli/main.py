"""The `mediawatch` group: sets the clock, then hands over to one module per command family."""

from __future__ import annotations

import os

import click

from crawler.cli.backfill import backfill
from crawler.cli.captures import publish, reextract, warc
from crawler.cli.crawl import crawl
from crawler.cli.distributed import archiver
from crawler.cli.explain import explain
from crawler.cli.framing import fightin, reframe, retopic, stories
from crawler.cli.options import CONTEXT_SETTINGS
from crawler.cli.schedule import canaries, schedule, status
from crawler.cli.serve import demo, init_db, serve
from crawler.cli.sources import sources
from crawler.cli.watch import watch


def _set_clock() -> None:
    """MEDIAWATCH_NOW fixes the clock (tests, replays); the one place the environment is read."""
    value = os.environ.get("MEDIAWATCH_NOW", "").strip()
    if not value:
        return
    from datetime import UTC, datetime

    from crawler.clock import set_now

    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.ClickException(f"MEDIAWATCH_NOW={value!r} is not an ISO 8601 time, e.g. "
                                   "2026-01-01T00:00:00+00:00") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    set_now(moment.astimezone(UTC).replace(microsecond=0))


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="mediawatch")
def cli() -> None:
    """mediawatch: crawl news outlets politely, archive clean text, publish it with Datasette."""
    _set_clock()


for command in (init_db, sources, crawl, retopic, serve, demo, warc, reextract, publish,
                reframe, stories, fightin, canaries, schedule, status, archiver, backfill,
                watch, explain):
    cli.add_command(command)
