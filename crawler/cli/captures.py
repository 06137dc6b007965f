"""`mediawatch warc export|import`, `reextract`, `publish`: the stored captures."""

from __future__ import annotations

import os
from pathlib import Path

import click

from crawler.cli.options import (
    db_option,
    existing_db_option,
    load_registry,
    open_archive,
    restarts_note,
    source_ids_option,
    sources_option,
)


@click.group()
def warc() -> None:
    """Export the archive's raw captures as WARC, or import WARC/ARC files from other crawls."""


@warc.command("export")
@existing_db_option
@source_ids_option("Only this outlet's captures")
@click.option("--since", metavar="DATE", help="Only captures fetched on or after DATE (ISO).")
@click.option("--out", "out", type=click.Path(dir_okay=False), default=None,
              help="The WARC to write (default: <archive>-export-<date>.warc.gz); a .cdxj index "
                   "is written beside it.")
def warc_export(db: str, source_ids: tuple[str, ...], since: str | None, out: str | None) -> None:
    """Write a standalone WARC of the selected captures plus a CDXJ index (pywb, warcio)."""
    from crawler.clock import now
    from crawler.ingest.captures import export_warc

    target = Path(out) if out else Path(db).with_name(
        f"{Path(db).stem}-export-{now():%Y%m%d-%H%M%S}.warc.gz")
    archive = open_archive(db)
    try:
        report = export_warc(archive, target, source_ids, since)
    finally:
        archive.close()
    click.echo(f"{report.warc}: {report.captures} captures, {report.bytes} bytes; "
               f"index {report.cdxj}")


@warc.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@sources_option
@db_option
@click.option("--source", "source_id", metavar="ID",
              help="File every capture under this outlet (default: the outlet whose hosts or "
                   "aliases own the URL; captures of no registered outlet are skipped).")
@click.option("--jobs", default=os.cpu_count() or 1, show_default=True,
              type=click.IntRange(1, 64), help="Extraction worker processes.")
def warc_import(files: tuple[str, ...], sources: str, db: str, source_id: str | None,
                jobs: int) -> None:
    """Import WARC/ARC files (gzipped or not): HTML responses become captures and articles.

    Records of no registered outlet are skipped on their WARC headers, unread. Malformed
    or truncated records are counted and reported, never fatal. Re-importing a file passes
    over the records already imported from it.
    """
    from crawler.ingest.captures import import_warcs

    registry = load_registry(sources)
    if source_id and source_id not in {s.id for s in registry.sources}:
        raise click.ClickException(f"unknown outlet id {source_id!r}: see `mediawatch sources list`")
    archive = open_archive(db)
    try:
        archive.sync_sources(registry)
        report = import_warcs(archive, registry, [Path(f) for f in files], source_id, jobs)
    finally:
        archive.close()
    rate = report.records / report.seconds if report.seconds else 0.0
    click.echo(f"{len(files)} file(s): {report.records} records, {report.responses} responses, "
               f"{report.imported} imported ({report.articles} articles), "
               f"{report.not_in_registry} skipped (no registered outlet), "
               f"{report.already} already imported, "
               f"{report.revisits} revisits skipped, {report.malformed} malformed; "
               f"{rate:.0f} records/s{restarts_note(report.worker_restarts)}")
    for problem in report.problems:
        click.echo(f"  malformed: {problem}")


@click.command()
@sources_option
@existing_db_option
@source_ids_option("Only this outlet's articles")
@click.option("--since", metavar="DATE", help="Only articles fetched on or after DATE (ISO).")
@click.option("--status", type=click.Choice(["ok", "empty", "error"]),
              help="Only articles whose last extraction had this status.")
@click.option("--jobs", default=os.cpu_count() or 1, show_default=True,
              type=click.IntRange(1, 64), help="Worker processes (1: in this process).")
@click.option("--stale", is_flag=True,
              help="Only articles whose extractor_version is not the current one.")
@click.option("--since-version", "since_version", metavar="N",
              help="Extraction output changed in extractor version N: only articles extracted "
                   "by an older version (or of unknown version).")
def reextract(sources: str, db: str, source_ids: tuple[str, ...], since: str | None,
              status: str | None, jobs: int, stale: bool, since_version: str | None) -> None:
    """Re-run extraction over the stored captures (no network) and report what changed.

    Extraction runs on --jobs worker processes; rows are written in batches.
    """
    import time

    from crawler.ingest.reextract import reextract as run

    registry = load_registry(sources)
    archive = open_archive(db)
    started = time.monotonic()
    try:
        archive.sync_sources(registry)
        r = run(archive, registry, source_ids, since, status, jobs, stale, since_version)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        archive.close()
    seconds = time.monotonic() - started
    click.echo(f"re-extracted {r.checked} articles: {r.changed_text} texts, {r.changed_title} "
               f"titles, {r.changed_date} dates, {r.changed_status} statuses changed; "
               f"{r.unchanged} unchanged; {r.checked / seconds if seconds else 0:.1f} articles/s"
               f"{restarts_note(r.worker_restarts)}")
    for failure in r.failed[:20]:
        click.echo(f"  failed: {failure}")


# -- framing: naming lexicon, stories, distinctive vocabulary (crawler/framing) -------------




@click.command()
@existing_db_option
@click.option("--public", "public", is_flag=True,
              help="Public build: full text only for outlets whose licence allows it.")
@click.argument("out", type=click.Path(dir_okay=False))
def publish(db: str, public: bool, out: str) -> None:
    """Build a database to publish: a private copy of everything, or a --public build."""
    from crawler.ingest.publish import PublishError, build

    try:
        summary = build(db, out, public=public)
    except PublishError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary)
