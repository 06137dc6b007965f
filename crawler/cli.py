"""The `mediawatch` command: a thin click group over the crawler, archive and Datasette."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from crawler.archive import Archive, ArchiveError
from crawler.sources import Registry, RegistryError, load_registry

DATASETTE_DIR = Path(__file__).resolve().parents[1] / "datasette"

db_option = click.option(
    "--db", "db", default="archive.db", show_default=True, envvar="MEDIAWATCH_DB",
    type=click.Path(dir_okay=False), help="The archive (created and migrated if missing).",
)
sources_option = click.option(
    "--sources", "sources", default="sources.toml", show_default=True,
    envvar="MEDIAWATCH_SOURCES", type=click.Path(dir_okay=False), help="The outlet registry.",
)


def _registry(path: str) -> Registry:
    try:
        return load_registry(path)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


def _archive(db: str) -> Archive:
    try:
        return Archive(db)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
@click.version_option(package_name="mediawatch")
def cli() -> None:
    """mediawatch: crawl news outlets politely, archive clean text, publish it with Datasette."""


@cli.command("init-db")
@db_option
def init_db(db: str) -> None:
    """Create the archive (or bring an old one up to date) by applying every migration."""
    archive = _archive(db)
    tables = archive.db.table_names()
    archive.close()
    click.echo(f"{db}: ready ({len(tables)} tables, WAL mode)")


@cli.group()
def sources() -> None:
    """Check or list the outlet registry (sources.toml)."""


@sources.command("check")
@sources_option
def sources_check(sources: str) -> None:
    """Validate the registry; list every problem with its fix, or say it is valid."""
    registry = _registry(sources)
    for warning in registry.warnings:
        click.echo(f"warning: {warning}")
    enabled = len(registry.enabled())
    click.echo(f"{sources}: valid: {len(registry.sources)} outlets ({enabled} enabled), "
               f"topic {registry.topic.id!r}")


@sources.command("list")
@sources_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def sources_list(sources: str, as_json: bool) -> None:
    """Print the registry: one outlet per line with its languages, kind and discovery paths."""
    from crawler.sources import registry_rows

    registry = _registry(sources)
    if as_json:
        click.echo(json.dumps(registry_rows(registry), ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{registry.path}: {len(registry.sources)} outlets")
    for col in ("id", "lang", "cc", "kind", "feeds", "sitemaps", "sections", "urls", "on", "live"):
        table.add_column(col)
    for s in registry.sources:
        table.add_row(
            s.id, ",".join(s.language), s.country, s.kind, str(len(s.feeds)),
            str(len(s.sitemaps)), str(len(s.sections)), str(len(s.urls)),
            "yes" if s.enabled else "no", "yes" if s.verified_live else "never",
        )
    Console().print(table)


@cli.command()
@sources_option
@db_option
@click.option("--source", "source_ids", multiple=True, metavar="ID",
              help="Crawl only this outlet (repeatable). Default: every enabled outlet.")
@click.option("-s", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a Scrapy setting, e.g. -s DOWNLOAD_TIMEOUT=10 (repeatable).")
def crawl(sources: str, db: str, source_ids: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Crawl the registry's outlets into the archive and record a crawl_runs row.

    Exits 0 when individual pages fail (each failure is a recorded row); exits non-zero
    only when the crawl cannot run at all (bad registry, unusable or locked archive).
    """
    from crawler.runner import UsageError, check_source_ids, crawl_settings, parse_overrides

    try:
        registry = load_registry(sources)
    except RegistryError as exc:
        _record_refused_run(db, f"invalid registry: {len(exc.problems)} problem(s)", exc.problems)
        raise click.ClickException(str(exc)) from exc
    try:
        check_source_ids(registry, list(source_ids))
        settings = crawl_settings(registry, db, list(source_ids), parse_overrides(overrides))
    except UsageError as exc:
        raise click.ClickException(str(exc)) from exc
    _archive(db).close()  # fail fast (unusable file, another crawl holds the lock)
    from crawler.runner import run_crawl

    run_crawl(settings)
    _print_last_run(db)


def _record_refused_run(db: str, reason: str, problems: list[str]) -> None:
    """Leave a crawl_runs row for a crawl that could not start, when the archive is usable."""
    try:
        archive = Archive(db)
    except ArchiveError:
        return
    try:
        run_id = archive.start_run([], {"refused": problems})
        archive.finish_run(run_id, reason, {})
    finally:
        archive.close()


def _print_last_run(db: str) -> None:
    import sqlite_utils

    rows = list(sqlite_utils.Database(db).query(
        "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1"))
    if not rows:
        raise click.ClickException(f"the crawl did not start: no crawl_runs row in {db}")
    r = rows[0]
    click.echo(
        f"crawl run {r['id']}: {r['finish_reason']}; {r['requests']} requests, "
        f"{r['pages_new']} new captures, articles: {r['articles_new']} new, "
        f"{r['articles_updated']} updated, {r['articles_unchanged']} unchanged; "
        f"{r['extraction_failures']} extraction failures, {r['errors']} errors"
    )


@cli.command()
@sources_option
@db_option
def retopic(sources: str, db: str) -> None:
    """Re-apply the registry's [topic] to every archived article, without re-crawling."""
    from crawler.topic import TopicMatcher

    registry = _registry(sources)
    archive = _archive(db)
    try:
        changed, total = archive.retopic(TopicMatcher(registry.topic))
    finally:
        archive.close()
    click.echo(f"topic {registry.topic.id!r}: {changed} of {total} articles changed")


def datasette_command(db: str, host: str, port: int) -> list[str]:
    """The Datasette command line that serves an archive read-only with our metadata."""
    return [
        sys.executable, "-m", "datasette", "serve", db,
        "--metadata", str(DATASETTE_DIR / "metadata.yaml"),
        "--template-dir", str(DATASETTE_DIR / "templates"),
        "--plugins-dir", str(DATASETTE_DIR / "plugins"),
        "--host", host, "--port", str(port),
        "--setting", "allow_download", "off",
        "--setting", "default_page_size", "50",
        "--setting", "sql_time_limit_ms", "3000",
    ]


@cli.command()
@db_option
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0 publishes it; it stays read-only).")
def serve(db: str, port: int, host: str) -> None:
    """Publish the archive read-only with Datasette (search, facets, canned queries)."""
    if not Path(db).exists():
        raise click.ClickException(f"{db} does not exist: run `mediawatch crawl` first, "
                                   "or `mediawatch demo` for an offline example.")
    _archive(db).close()  # migrate an old archive before publishing it
    click.echo(f"Serving {db} at http://{host}:{port}/ (read-only; Ctrl-C stops)")
    sys.stdout.flush()
    os.execv(sys.executable, datasette_command(db, host, port))


@cli.command()
@click.option("--dir", "directory", default="demo", show_default=True,
              type=click.Path(file_okay=False), help="Where the demo registry and archive go.")
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, help="Serve the archive when built.")
def demo(directory: str, port: int, serve: bool) -> None:
    """Build an archive offline from the bundled demo web on loopback, then serve it."""
    from demoweb import FixtureWeb

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "archive.db"
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)  # the demo web's ports change: start afresh
    with FixtureWeb() as web:
        sources_path = web.write_sources(out / "sources.toml")
        click.echo(f"demo web: {len(web.base_urls)} outlets on loopback; registry {sources_path}")
        cmd = [sys.executable, "-m", "crawler.cli", "crawl", "--sources", str(sources_path),
               "--db", str(db), "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "LOG_LEVEL=WARNING"]
        done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise click.ClickException("the demo crawl failed; see the messages above")
    if serve:
        if shutil.which("datasette") is None and not DATASETTE_DIR.exists():
            raise click.ClickException("Datasette is not installed: run `make demo`.")
        click.echo(f"Serving the demo archive at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        sys.stdout.flush()
        os.execv(sys.executable, datasette_command(str(db), "127.0.0.1", port))


if __name__ == "__main__":
    cli()
