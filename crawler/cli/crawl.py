"""`mediawatch crawl`: one crawl run of the registry's outlets into the archive."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from crawler.archive.core import Archive, ArchiveError
from crawler.cli.options import (
    alert_options,
    contact_pairs,
    db_option,
    lexicon_path,
    overrides_option,
    source_ids_option,
    sources_option,
    warn_before_live_contact,
    writer_lock_for_scrapy,
)
from crawler.registry.model import Registry, RegistryError
from crawler.registry.model import load_registry as read_registry


@click.command()
@sources_option
@db_option
@source_ids_option("Crawl only this outlet")
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
@overrides_option()
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
        registry = read_registry(sources)
    except RegistryError as exc:
        _record_refused_run(db, f"invalid registry: {len(exc.problems)} problem(s)", exc.problems)
        raise click.ClickException(str(exc)) from exc
    try:
        check_source_ids(registry, list(source_ids))
        if due and recheck:
            raise UsageError("--due and --recheck contradict each other: --recheck re-checks "
                             "every known article now, --due only what is due")
        pairs = contact_pairs(parse_overrides(overrides))
        if recheck:
            pairs["MEDIAWATCH_RECHECK_ALL"] = "1"
        if lexicon_path():
            pairs.setdefault("MEDIAWATCH_LEXICON", os.environ["MEDIAWATCH_LEXICON"])
        if redis_url and (due or recheck):
            raise UsageError("--due and --recheck need the archive's schedule; --redis workers "
                             "re-poll by expiring fingerprints instead (outlet poll_min_minutes, "
                             "-s MEDIAWATCH_REDIS_ARTICLE_TTL_HOURS=...)")
        settings = crawl_settings(registry, db, list(source_ids), pairs)
    except UsageError as exc:
        raise click.ClickException(str(exc)) from exc
    chosen = registry.chosen(source_ids)
    if not due:  # --due warns once it knows which outlets it will contact, if any
        warn_before_live_contact(pairs, [s.homepage for s in chosen])
    if redis_url:
        from crawler.cli.distributed import run_worker

        run_worker(settings, registry, redis_url, redis_prefix, worker)
        return
    # Hold the writer lock from here to the story update: checking it and letting Scrapy take
    # it later left a moment in which a second crawl could pass the check and then fail.
    with writer_lock_for_scrapy(db, settings) as lock:
        schedule_settings(settings, registry, db, pairs, alerts_jsonl, alert_webhook, progress)
        if due:
            settings.set("MEDIAWATCH_DUE_ONLY", True, priority="cmdline")
            settings.set("MEDIAWATCH_CANARY_MODE", "due", priority="cmdline")
            plan = _report_due(registry, db, list(source_ids))
            if not plan:
                return  # nothing due: no Scrapy, no requests, no crawl_runs row, no warning
            warn_before_live_contact(pairs, [s.homepage for s in chosen if s.id in plan])
        from crawler.runner import run_crawl

        run_crawl(settings)
        _print_last_run(db)
        from crawler.cli.framing import rebuild_stories

        click.echo(rebuild_stories(db, full=False, lock=lock))  # only what the new articles change


def _report_due(registry: Registry, db: str, source_ids: list[str]) -> set[str]:
    """Say what `crawl --due` will fetch; the outlets due (none: say when next)."""
    from crawler.archive.view import CrawlState
    from crawler.clock import utcnow
    from crawler.ops.schedule import next_wakeup, plan_due

    chosen = registry.chosen(source_ids)
    state = CrawlState(db)
    try:
        plan = plan_due(chosen, state, utcnow())
        wakeup = None if plan else next_wakeup(chosen, state)
    finally:
        state.close()
    if not plan:
        later = f"; next: {wakeup[1]} at {wakeup[0]}" if wakeup else ""
        click.echo(f"nothing is due at {utcnow()}{later}")
        return set()
    for sid, what in plan.items():
        click.echo(f"due: {sid}: {what.describe()}")
    return set(plan)


def schedule_settings(settings: Any, registry: Registry, db: str, pairs: dict[str, str],
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
        archive = Archive(db, lexicon_path=lexicon_path())
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
        + _stats_notes(r["stats"])
    )


def _stats_notes(stats: str | None) -> str:
    """What Scrapy's stats of the run add to its summary: worker restarts, storage failures."""
    import json

    counts = json.loads(stats or "{}")
    notes = []
    if n := counts.get("mediawatch/extraction_worker_restarts", 0):
        notes.append(f"extraction workers died and were restarted {n} times")
    if n := counts.get("mediawatch/store_errors", 0):
        notes.append(f"{n} fetches could not be stored (fetched again next time)")
    if n := counts.get("mediawatch/pipeline_errors", 0):
        notes.append(f"{n} pages failed in a pipeline (stored as extraction errors)")
    return "".join(f"; {note}" for note in notes) + (" (see the log)" if notes else "")
