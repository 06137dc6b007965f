"""The `mediawatch` command: a thin click group over the crawler, archive and Datasette."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
        return Archive(db, lexicon_path=os.environ.get("MEDIAWATCH_LEXICON"))
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc


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


@click.group()
@click.version_option(package_name="mediawatch")
def cli() -> None:
    """mediawatch: crawl news outlets politely, archive clean text, publish it with Datasette."""
    _set_clock()


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


def alert_options(func: Any) -> Any:
    """--alerts-jsonl and --alert-webhook (also from MEDIAWATCH_ALERTS_JSONL / _ALERT_WEBHOOK)."""
    func = click.option("--alert-webhook", "alert_webhook", envvar="MEDIAWATCH_ALERT_WEBHOOK",
                        metavar="URL", help="POST every alert raised or cleared here as JSON "
                        "(default: [alerts] webhook in the registry).")(func)
    return click.option("--alerts-jsonl", "alerts_jsonl", envvar="MEDIAWATCH_ALERTS_JSONL",
                        type=click.Path(dir_okay=False), help="Append alert events to this "
                        "JSON lines file (default: <archive>-alerts.jsonl).")(func)


@cli.command()
@sources_option
@db_option
@click.option("--source", "source_ids", multiple=True, metavar="ID",
              help="Crawl only this outlet (repeatable). Default: every enabled outlet.")
@click.option("--recheck", is_flag=True,
              help="Re-check every known article now, whatever its schedule (a full sweep).")
@click.option("--due", is_flag=True,
              help="Only what is due: feeds, sitemaps and sections whose adaptive poll "
                   "interval has passed, new or due articles, due canaries. Outlets with "
                   "nothing due are not contacted at all.")
@click.option("--progress/--no-progress", default=None,
              help="Print progress lines on stderr (default: when stderr is a terminal).")
@alert_options
@click.option("--redis", "redis_url", metavar="URL",
              help="Run as one worker of a distributed crawl sharing this Redis (e.g. "
                   "redis://10.0.0.5:6379/0): no database here; `mediawatch archiver` writes it.")
@click.option("--redis-prefix", "redis_prefix", default="mediawatch", show_default=True,
              help="With --redis: the crawl cluster's key prefix.")
@click.option("--worker-id", "worker", metavar="ID",
              help="With --redis: this worker's name (default: host-pid-random).")
@click.option("-s", "overrides", multiple=True, metavar="KEY=VALUE",
              help="Override a Scrapy setting, e.g. -s DOWNLOAD_TIMEOUT=10 (repeatable).")
def crawl(sources: str, db: str, source_ids: tuple[str, ...], recheck: bool, due: bool,
          progress: bool | None, alerts_jsonl: str | None, alert_webhook: str | None,
          redis_url: str | None, redis_prefix: str, worker: str | None,
          overrides: tuple[str, ...]) -> None:
    """Crawl the registry's outlets into the archive and record a crawl_runs row.

    Exits 0 when individual pages fail (each failure is a recorded row); exits non-zero
    only when the crawl cannot run at all (bad registry, unusable or locked archive).
    After each run, health rows and alerts are computed per outlet (see `mediawatch status`).
    With --redis, this process is one worker of a distributed crawl (see the README).
    """
    from crawler.runner import UsageError, check_source_ids, crawl_settings, parse_overrides

    try:
        registry = load_registry(sources)
    except RegistryError as exc:
        _record_refused_run(db, f"invalid registry: {len(exc.problems)} problem(s)", exc.problems)
        raise click.ClickException(str(exc)) from exc
    try:
        check_source_ids(registry, list(source_ids))
        if due and recheck:
            raise UsageError("--due and --recheck contradict each other: --recheck re-checks "
                             "every known article now, --due only what is due")
        pairs = parse_overrides(overrides)
        if recheck:
            pairs["MEDIAWATCH_RECHECK_ALL"] = "1"
        if os.environ.get("MEDIAWATCH_LEXICON"):
            pairs.setdefault("MEDIAWATCH_LEXICON", os.environ["MEDIAWATCH_LEXICON"])
        if redis_url and (due or recheck):
            raise UsageError("--due and --recheck need the archive's schedule; --redis workers "
                             "re-poll by expiring fingerprints instead (outlet poll_min_minutes, "
                             "-s MEDIAWATCH_REDIS_ARTICLE_TTL_HOURS=...)")
        settings = crawl_settings(registry, db, list(source_ids), pairs)
    except UsageError as exc:
        raise click.ClickException(str(exc)) from exc
    if redis_url:
        from crawler.cli_distributed import run_worker

        run_worker(settings, registry, redis_url, redis_prefix, worker)
        return
    _archive(db).close()  # fail fast (unusable file, another crawl holds the lock)
    _schedule_settings(settings, registry, db, pairs, alerts_jsonl, alert_webhook, progress)
    if due:
        settings.set("MEDIAWATCH_DUE_ONLY", True, priority="cmdline")
        settings.set("MEDIAWATCH_CANARY_MODE", "due", priority="cmdline")
        if not _report_due(registry, db, list(source_ids)):
            return  # nothing due: no Scrapy, no requests, no crawl_runs row
    from crawler.runner import run_crawl

    run_crawl(settings)
    _print_last_run(db)
    from crawler.cli_framing import _rebuild_stories

    click.echo(_rebuild_stories(db, full=False))  # only what the new articles can change


def _report_due(registry: Registry, db: str, source_ids: list[str]) -> bool:
    """Say what `crawl --due` will fetch; False when nothing is due (and when next)."""
    from crawler.clock import utcnow
    from crawler.schedule import next_wakeup, plan_due
    from crawler.state import CrawlState

    chosen = [registry.get(i) for i in source_ids] if source_ids else list(registry.enabled())
    state = CrawlState(db)
    try:
        plan = plan_due(chosen, state, utcnow())
        wakeup = None if plan else next_wakeup(chosen, state)
    finally:
        state.close()
    if not plan:
        later = f"; next: {wakeup[1]} at {wakeup[0]}" if wakeup else ""
        click.echo(f"nothing is due at {utcnow()}{later}")
        return False
    for sid, what in plan.items():
        click.echo(f"due: {sid}: {what.describe()}")
    return True


def _schedule_settings(settings: Any, registry: Registry, db: str, pairs: dict[str, str],
                       alerts_jsonl: str | None, alert_webhook: str | None,
                       progress: bool | None) -> None:
    """Alert delivery and progress settings: -s wins, then options/environment, then [alerts]."""
    a = registry.alerts
    env = os.environ
    values: dict[str, Any] = {
        "MEDIAWATCH_ALERTS_JSONL": alerts_jsonl or a.jsonl or str(
            Path(db).with_name(f"{Path(db).stem}-alerts.jsonl")),
        "MEDIAWATCH_ALERT_WEBHOOK": alert_webhook or a.webhook,
        "MEDIAWATCH_SMTP_HOST": env.get("MEDIAWATCH_SMTP_HOST") or a.smtp_host,
        "MEDIAWATCH_SMTP_PORT": env.get("MEDIAWATCH_SMTP_PORT") or a.smtp_port,
        "MEDIAWATCH_SMTP_TO": [t.strip() for t in env.get("MEDIAWATCH_SMTP_TO", "").split(",")
                               if t.strip()] or list(a.email_to),
        "MEDIAWATCH_SMTP_FROM": env.get("MEDIAWATCH_SMTP_FROM") or a.email_from or
        "mediawatch@localhost",
        "MEDIAWATCH_SMTP_STARTTLS": a.smtp_starttls,
        # Secrets only from the environment: never in sources.toml, never in crawl_runs.
        "MEDIAWATCH_SMTP_USER": env.get("MEDIAWATCH_SMTP_USER", ""),
        "MEDIAWATCH_SMTP_PASSWORD": env.get("MEDIAWATCH_SMTP_PASSWORD", ""),
        "MEDIAWATCH_LINK_BASE": env.get("MEDIAWATCH_LINK_BASE") or a.link_base or
        "http://127.0.0.1:8001",
    }
    if progress if progress is not None else sys.stderr.isatty():
        values["MEDIAWATCH_PROGRESS_SECONDS"] = 10
    for key, value in values.items():
        if key not in pairs and value not in (None, ""):
            settings.set(key, value, priority="cmdline")


def _record_refused_run(db: str, reason: str, problems: list[str]) -> None:
    """Leave a crawl_runs row for a crawl that could not start, when the archive is usable."""
    try:
        archive = Archive(db, lexicon_path=os.environ.get("MEDIAWATCH_LEXICON"))
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
        f"{r['articles_updated']} updated, {r['articles_unchanged']} unchanged, "
        f"{r['articles_removed']} removed; {r['not_modified']} not modified (304 or same body); "
        f"{r['deferred']} deferred to the next crawl; "
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
        "--static", f"mediawatch:{DATASETTE_DIR / 'static'}",
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
        crawled = len(load_registry(sources_path).sources)
        click.echo(f"demo web: {crawled} outlets crawled from loopback (registry "
                   f"{sources_path}); the hostile-server test outlet is served but not crawled")
        cmd = [sys.executable, "-m", "crawler.cli", "crawl", "--sources", str(sources_path),
               "--db", str(db), "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "LOG_LEVEL=WARNING"]
        done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise click.ClickException("the demo crawl failed; see the messages above")
    subprocess.run([sys.executable, "-m", "crawler.cli", "fightin", "--db", str(db), "--lang", "ru",
                    "-a", "kind:state agency", "-b", "exile", "--label-a", "Russian state agency",
                    "--label-b", "independent exile outlet"], check=False)  # a demo vocabulary run
    if serve:
        if shutil.which("datasette") is None and not DATASETTE_DIR.exists():
            raise click.ClickException("Datasette is not installed: run `make demo`.")
        click.echo(f"Serving the demo archive at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        sys.stdout.flush()
        os.execv(sys.executable, datasette_command(str(db), "127.0.0.1", port))


# -- scheduled crawls, canaries, status (crawler/schedule.py, health.py, alerts.py) ---------


# Command groups kept in their own modules register themselves on `cli` when imported.
from crawler import cli_captures, cli_distributed, cli_framing, cli_schedule  # noqa: E402,F401,I001

from crawler.cli_watch import watch  # noqa: E402

cli.add_command(watch)

if __name__ == "__main__":
    from crawler.cli import cli as main  # the registered group, not this __main__ copy

    main()
