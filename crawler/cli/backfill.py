"""`mediawatch backfill ccnews`: history from Common Crawl News (crawler/backfill)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from crawler.cli.options import (
    db_option,
    load_registry,
    open_archive,
    restarts_note,
    source_ids_option,
    sources_option,
)


@click.group()
def backfill() -> None:
    """Fill the archive with the past from public web archives (see docs/backfill.md)."""


@backfill.command("ccnews")
@click.option("--from", "start", required=True, metavar="YYYY-MM", help="First month.")
@click.option("--to", "end", required=True, metavar="YYYY-MM", help="Last month (inclusive).")
@source_ids_option()
@click.option("--base", default="https://data.commoncrawl.org/", show_default=True,
              metavar="URL", help="Common Crawl's data endpoint (or a mirror of its layout).")
@click.option("--jobs", default=os.cpu_count() or 1, show_default=True,
              type=click.IntRange(1, 64), help="Extraction worker processes.")
@click.option("--downloads", default=1, show_default=True, type=click.IntRange(1, 8),
              help="WARC files downloaded at once (be polite: 1 is plenty for one archive).")
@click.option("--max-files", type=click.IntRange(1), metavar="N",
              help="Stop after N files this run (the next run goes on from there).")
@click.option("--keep", is_flag=True,
              help="Also keep each downloaded WARC file whole under <archive>-ccnews/ (a kept "
                   "file is read from disk by later runs).")
@click.option("--strict-dates", is_flag=True,
              help="Drop (do not store) articles dated outside the requested months.")
@click.option("--progress/--no-progress", default=None,
              help="Show progress (default: when stderr is a terminal).")
@click.option("--retries", default=6, show_default=True, type=click.IntRange(1, 20),
              help="Attempts per request (503, 429, 5xx and network errors back off).")
@click.option("--backoff", default=2.0, show_default=True, type=click.FloatRange(0),
              help="First back-off in seconds, doubled each retry (Retry-After wins).")
@click.option("--dry-run", is_flag=True,
              help="Only read the months' listings: print how many files (about 1 GB each).")
@db_option
@sources_option
def ccnews(start: str, end: str, source_ids: tuple[str, ...], base: str, jobs: int,
           downloads: int, max_files: int | None, keep: bool, strict_dates: bool,
           progress: bool | None, retries: int, backoff: float, dry_run: bool, db: str,
           sources: str) -> None:
    """Backfill from CC-NEWS: the registry's articles from --from to --to, resumably.

    Each month's WARC files are streamed from --base; records of the outlets' hosts are
    kept (on their headers, before anything is decoded), extracted on --jobs processes and
    stored with discovered_via = 'ccnews' and their CC file, offset and length. Run it
    again to go on: files done are skipped, a file cut short is redone without duplicates.
    Stories, framing counts and search are brought up to date at the end.
    """
    from crawler.backfill.ccnews import BackfillUsageError, months
    from crawler.backfill.driver import Backfill, BackfillOptions
    from crawler.backfill.http import Client, DownloadError, RetryPolicy
    from crawler.cli.framing import rebuild_stories
    from crawler.settings import USER_AGENT

    registry = load_registry(sources)
    known = {s.id for s in registry.sources}
    unknown = [i for i in source_ids if i not in known]
    if unknown:
        raise click.ClickException(f"unknown outlet id(s) {', '.join(unknown)}: see "
                                   "`mediawatch sources list`")
    try:
        months(start, end)
    except BackfillUsageError as exc:
        raise click.ClickException(str(exc)) from exc
    if not base.startswith(("http://", "https://")):
        raise click.ClickException(f"--base {base!r} must be an http(s) URL")
    policy = RetryPolicy(attempts=retries, backoff=backoff)
    if dry_run:
        _dry_run(base, months(start, end), Client(USER_AGENT, policy))
        return
    try:
        archive = open_archive(db)
    except click.ClickException as exc:
        if "being written" in str(exc):
            raise click.ClickException(f"{exc.message} (a backfill or crawl is running)") from exc
        raise
    options = BackfillOptions(
        start=start, end=end, source_ids=source_ids, base=base, jobs=jobs, downloads=downloads,
        max_files=max_files, keep=Path(db).with_name(f"{Path(db).stem}-ccnews") if keep else None,
        strict_dates=strict_dates, retry=policy)
    show = progress if progress is not None else sys.stderr.isatty()
    display = _Display() if show else None
    try:
        archive.sync_sources(registry)
        run = Backfill(archive, registry, options, USER_AGENT,
                       progress=display.update if display else _lines())
        try:
            report = run.run()
        finally:
            if display:
                display.update(run.report, force=True)
                display.stop()
    except DownloadError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        archive.close()
    r = report
    click.echo(
        f"backfill run {r.run_id}: {r.months} month(s), {r.files_listed} files listed, "
        f"{r.files_skipped} already done, {r.files_done} done now, {r.files_failed} failed; "
        f"{r.records} records read ({r.bytes / 1e6:.0f} MB, {r.records / max(r.seconds, 1e-9):.0f}"
        f" records/s), {r.matched} of the outlets, {r.stored} stored; articles: "
        f"{r.articles_new} new, {r.articles_updated} updated; {r.out_of_window} dated outside "
        f"{start}..{end}{' (dropped)' if strict_dates else ''}, {r.undated} undated; "
        f"{r.truncated} truncated by the crawler, {r.malformed} malformed; {r.requests} "
        f"requests, {r.retries} retries{restarts_note(r.worker_restarts)}")
    for failure in r.failures:
        click.echo(f"  failed: {failure}")
    click.echo(rebuild_stories(db, full=False))
    left = r.files_listed - r.files_skipped - r.files_done
    if left:
        click.echo(f"{left} file(s) left: run the same command again to go on")


def _dry_run(base: str, chosen: list[str], client: Any) -> None:
    """Print each month's file count and transfer estimate (CC-NEWS files are ~1 GB)."""
    from crawler.backfill.ccnews import month_files
    from crawler.backfill.http import DownloadError

    total = 0
    for month in chosen:
        try:
            files = month_files(client, base, month)
        except DownloadError as exc:
            raise click.ClickException(str(exc)) from exc
        total += len(files)
        click.echo(f"{month}: {len(files)} files (about {len(files)} GB to download)")
    click.echo(f"total: {total} files, about {total} GB to download; disk: about 60 KB per "
               "stored article (see docs/backfill.md)")


def _lines() -> Any:
    """Without a terminal: one line on stderr per file finished."""
    seen = [0]

    def update(report: Any) -> None:
        finished = report.files_done + report.files_failed
        if finished != seen[0]:
            seen[0] = finished
            print(f"backfill: {finished}/{report.files_todo} files, {report.records} records, "
                  f"{report.matched} matched, {report.stored} stored", file=sys.stderr,
                  flush=True)

    return update


class _Display:
    """A rich progress bar: files done/total, records/s, matched, stored, ETA."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("files"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            TextColumn("{task.fields[stats]}"), console=Console(stderr=True), transient=False)
        self.task = self.progress.add_task("backfill", total=None, stats="listing months…")
        self.progress.start()
        self._at = 0.0

    def update(self, report: Any, force: bool = False) -> None:
        """Redraw at most four times a second (and once more at the end)."""
        now = time.monotonic()
        if now - self._at < 0.25 and not force:
            return
        self._at = now
        records = report.records_now
        rate = records / max(report.seconds, 1e-9)
        self.progress.update(
            self.task, total=report.files_todo or None,
            completed=report.files_done + report.files_failed,
            stats=f"{records:,} records · {rate:,.0f}/s · {report.matched_now} matched · "
                  f"{report.stored} stored · {report.current[-60:]}")

    def stop(self) -> None:
        """Leave the last state on screen."""
        self.progress.stop()
