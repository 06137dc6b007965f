"""`mediawatch canaries`, `schedule cron|systemd|loop`, `status`: unattended operation."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from crawler.cli.crawl import schedule_settings
from crawler.cli.options import (
    alert_options,
    contact_pairs,
    contact_warning,
    db_option,
    existing_db_option,
    json_option,
    load_registry,
    open_archive,
    overrides_option,
    source_ids_option,
    sources_option,
    table_width,
    warn_before_live_contact,
    writer_lock_for_scrapy,
)


@click.command()
@sources_option
@db_option
@source_ids_option("Only this outlet's canaries")
@click.option("--rebaseline", is_flag=True,
              help="Accept the canaries' last checked shape as the new normal (after a known "
                   "redesign) and clear their alerts; fetches nothing.")
@alert_options
@overrides_option()
def canaries(sources: str, db: str, source_ids: tuple[str, ...], rebaseline: bool,
             alerts_jsonl: str | None, alert_webhook: str | None,
             overrides: tuple[str, ...]) -> None:
    """Re-fetch and re-extract every canary URL now; alert when one changed shape."""
    from crawler.runner import UsageError, check_source_ids, crawl_settings, parse_overrides

    registry = load_registry(sources)
    try:
        check_source_ids(registry, list(source_ids))
        pairs = contact_pairs(parse_overrides(overrides))
        settings = crawl_settings(registry, db, list(source_ids), pairs)
    except UsageError as exc:
        raise click.ClickException(str(exc)) from exc
    chosen = registry.chosen(source_ids)
    if not rebaseline:
        warn_before_live_contact(pairs, [u for s in chosen for u in s.canaries])
    if not any(s.canaries for s in chosen):
        raise click.ClickException("no canaries: add canaries = [\"https://...\"] (a few "
                                   "reference article URLs) to an outlet in the registry")
    schedule_settings(settings, registry, db, pairs, alerts_jsonl, alert_webhook, False)
    if rebaseline:
        _rebaseline(db, chosen, settings)
        return
    with writer_lock_for_scrapy(db, settings):  # held until Scrapy is done, as `crawl` does
        settings.set("MEDIAWATCH_CANARY_MODE", "only", priority="cmdline")
        from crawler.runner import run_crawl

        run_crawl(settings)
    _print_canaries(db, [s.id for s in chosen])


def _rebaseline(db: str, chosen: list[Any], settings: Any) -> None:
    from crawler.clock import utcnow
    from crawler.ops.alerts import Finding, alert_config_from, deliver

    archive = open_archive(db)
    try:
        n = archive.monitoring.rebaseline_canaries([s.id for s in chosen])
        clear = [Finding(s.id, "canary_changed", url, "clear", "accepted as the new baseline")
                 for s in chosen for url in s.canaries]
        events = archive.monitoring.sync_alerts(clear, utcnow(), None, settings.get("MEDIAWATCH_LINK_BASE"))
        archive.monitoring.mark_delivered(deliver(events, alert_config_from(settings)))
    finally:
        archive.close()
    click.echo(f"{n} canaries re-baselined; {len(events)} alert(s) cleared")


def _print_canaries(db: str, source_ids: list[str]) -> None:
    import sqlite_utils

    marks = ", ".join("?" * len(source_ids))
    for row in sqlite_utils.Database(db).query(
            f"SELECT source_id, url, last_status, problem FROM canaries "
            f"WHERE source_id IN ({marks}) ORDER BY source_id, url", source_ids):
        verdict = f"CHANGED: {row['problem']}" if row["problem"] else "as at baseline"
        click.echo(f"canary {row['source_id']} {row['url']} (HTTP {row['last_status']}): "
                   f"{verdict}")


@click.group()
def schedule() -> None:
    """Run `crawl --due` unattended: a crontab line, systemd units, or a foreground loop."""


every_option = click.option(
    "--every", default="15m", show_default=True, metavar="INTERVAL",
    help="How often to look for due work: 30s, 15m, 2h, 1d. Each feed still keeps its own "
         "adaptive interval; this is only how often to check.")


def _every(text: str) -> int:
    from crawler.ops.schedule import parse_every

    try:
        return parse_every(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from exc


def _install(folder: str | None, files: dict[str, str]) -> None:
    if folder is None:
        for name, text in files.items():
            if len(files) > 1:
                click.echo(f"# --- {name}")
            click.echo(text.rstrip("\n"))
        return
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (target / name).write_text(text if text.endswith("\n") else text + "\n")
        click.echo(f"wrote {target / name}")


@schedule.command("cron")
@sources_option
@db_option
@every_option
@click.option("--log", "log", type=click.Path(dir_okay=False), default=None,
              help="Where cron appends the output (default: <archive>-cron.log).")
@click.option("--install", "folder", type=click.Path(file_okay=False), default=None,
              help="Write mediawatch.crontab into this folder instead of printing it "
                   "(load it with `crontab FILE`, or append it to `crontab -e`).")
def schedule_cron(sources: str, db: str, every: str, log: str | None,
                  folder: str | None) -> None:
    """Print (or --install) a crontab line running `crawl --due` under flock, never overlapping."""
    from crawler.ops.schedule import cron_line

    log = log or str(Path(db).with_name(f"{Path(db).stem}-cron.log"))
    try:
        line = cron_line(sources, db, _every(every), log, _contact_env(db))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--every") from exc
    header = "# mediawatch: crawl what is due; flock -n skips a run while the last one goes on\n"
    _install(folder, {"mediawatch.crontab": header + line + "\n"})


def _contact_env(db: str) -> dict[str, str]:
    """The User-Agent's contact for the scheduled crawls, taken from this shell: cron and
    systemd do not see its exports. Without one, say where to put it."""
    from crawler.ops.schedule import env_file

    contact = contact_pairs({}).get("MEDIAWATCH_CONTACT")
    if contact:
        return {"MEDIAWATCH_CONTACT": contact}
    click.echo(f"note: {contact_warning()}; for the scheduled crawls, put a line "
               f"MEDIAWATCH_CONTACT=... in {env_file(db)}, or export it and run this again",
               err=True)
    return {}


@schedule.command("systemd")
@sources_option
@db_option
@every_option
@click.option("--name", default="mediawatch", show_default=True, help="Unit name.")
@click.option("--install", "folder", type=click.Path(file_okay=False), default=None,
              help="Write NAME.service and NAME.timer into this folder (e.g. "
                   "~/.config/systemd/user), then `systemctl [--user] enable --now NAME.timer`.")
def schedule_systemd(sources: str, db: str, every: str, name: str, folder: str | None) -> None:
    """Print (or --install) a oneshot .service and a .timer that run `crawl --due`."""
    from crawler.ops.schedule import systemd_units

    _install(folder, systemd_units(sources, db, _every(every), name, _contact_env(db)))


@schedule.command("loop")
@sources_option
@db_option
@every_option
@click.option("--cycles", type=click.IntRange(1), default=None,
              help="Stop after this many cycles (default: until SIGTERM or Ctrl-C).")
def schedule_loop(sources: str, db: str, every: str, cycles: int | None) -> None:
    """Run `crawl --due` every INTERVAL in the foreground (containers); SIGTERM stops cleanly."""
    from crawler.ops.schedule import due_command, lock_path, run_loop

    seconds = _every(every)
    load_registry(sources)  # refuse to loop over a broken registry
    open_archive(db).close()

    def echo(text: str) -> None:
        click.echo(f"schedule loop: {text}")
        sys.stdout.flush()

    run_loop(due_command(sources, db), seconds, lock_path(db), echo, cycles)


@click.command()
@sources_option
@existing_db_option
@json_option
def status(sources: str, db: str, as_json: bool) -> None:
    """Each outlet: last run, what is due, health, open alerts (read-only; safe mid-crawl)."""
    from crawler.ops.status import collect, render

    registry = None
    if Path(sources).exists():
        registry = load_registry(sources)
    report = collect(db, registry)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        return
    render(report, table_width())
