"""`mediawatch status`: a read-only terminal summary of each outlet and of open alerts.

Reads the archive through a read-only connection (safe while a crawl is writing) and
never migrates it; an archive from before scheduling simply has less to show.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.archive.view import CrawlState
from crawler.clock import utcnow
from crawler.ops.schedule import discovery_docs, outlet_due

if TYPE_CHECKING:
    from crawler.registry.model import Registry


def _rows(conn: sqlite3.Connection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cursor = conn.execute(sql, params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def collect(db: str | Path, registry: Registry | None) -> dict[str, Any]:
    """Everything `status` shows, as plain data (also printed by `status --json`)."""
    now = utcnow()
    conn = sqlite3.connect(f"file:{Path(db)}?mode=ro", uri=True)
    state = CrawlState(db)
    try:
        tables = _tables(conn)
        scheduling = {"health", "alerts", "canaries"} <= tables
        if registry is not None:
            outlets = [(s.id, s.enabled) for s in registry.sources]
        else:
            outlets = [(r["id"], bool(r["enabled"])) for r in
                       _rows(conn, "SELECT id, enabled FROM sources ORDER BY id", [])]
        report: dict[str, Any] = {"db": str(db), "now": now, "scheduling": scheduling,
                                  "outlets": [], "alerts": []}
        probes = {r["source_id"]: r for r in _rows(
            conn, "SELECT source_id, probed_at, ok, problems, summary FROM probes", [])} \
            if "probes" in tables else {}
        for sid, enabled in outlets:
            row: dict[str, Any] = {"id": sid, "enabled": enabled}
            row["probe"] = probes.get(sid)  # the last `sources probe --write` verdict
            run = _rows(conn, "SELECT id, started_at, finish_reason FROM crawl_runs WHERE "
                        "EXISTS (SELECT 1 FROM json_each(crawl_runs.sources) WHERE value = ?) "
                        "ORDER BY id DESC LIMIT 1", [sid])
            row["last_run"] = run[0] if run else None
            row["last_fetch"] = conn.execute(
                "SELECT max(last_fetched) FROM url_state WHERE source_id = ?",
                [sid]).fetchone()[0]
            row["paused"] = state.paused(sid, now)
            if registry is not None and scheduling:
                source = registry.get(sid)
                row["due"] = outlet_due(source, state, now).describe()
                row["next_due"] = state.next_due(sid, discovery_docs(source))
            else:
                row["due"], row["next_due"] = None, None
            health = _rows(conn, "SELECT * FROM health WHERE source_id = ? ORDER BY run_id "
                           "DESC LIMIT 1", [sid]) if scheduling else []
            row["health"] = health[0] if health else None
            row["open_alerts"] = conn.execute(
                "SELECT count(*) FROM alerts WHERE source_id = ? AND cleared_at IS NULL",
                [sid]).fetchone()[0] if scheduling else 0
            report["outlets"].append(row)
        if scheduling:
            report["alerts"] = _rows(
                conn, "SELECT id, source_id, rule, subject, raised_at, reason, link FROM alerts "
                "WHERE cleared_at IS NULL ORDER BY raised_at, id", [])
        return report
    finally:
        state.close()
        conn.close()


def _ago(now: str, then: str | None) -> str:
    from datetime import datetime

    if not then:
        return "never"
    seconds = (datetime.fromisoformat(now) - datetime.fromisoformat(then)).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            text = f"{seconds / size:.0f}{unit}"
            break
    else:
        text = f"{seconds:.0f}s"
    return f"in {text}" if future else f"{text} ago"


def _health_cells(h: dict[str, Any] | None) -> tuple[str, str, str, str]:
    if h is None:
        return "–", "–", "–", "–"
    base = h["baseline_per_day"]
    new = f"{h['articles_24h']}" + (f" (usual {base:g}/day)" if base is not None else "")
    share = h["failure_share"]
    fails = "–" if share is None else f"{share:.0%} of {h['fetches']}"
    # Gone pages (404, 410) are no outage of the outlet, so not in the share; named beside it,
    # so that the line below the table ("failed fetches or gone pages at ...") adds up.
    parts = [f"{label} {h[col]}" for label, col in (("403", "fail_403"), ("429", "fail_429"),
             ("5xx", "fail_5xx"), ("timeout", "fail_timeout"), ("network", "fail_network"),
             ("gone", "gone_404")) if h.get(col)]
    if parts:
        fails += " (" + ", ".join(parts) + ")"
    since = "–" if h["hours_since_new"] is None else f"{h['hours_since_new']:.0f}h"
    nodate = "–" if h["no_date_share"] is None else f"{h['no_date_share']:.0%}"
    return new, fails, since, nodate


def render(report: dict[str, Any], width: int | None = None) -> None:
    """Print the report with rich: one table of outlets, one of open alerts (`width`: None
    for the terminal's)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=width)
    now = report["now"]
    table = Table(title=f"mediawatch status — {report['db']} at {now}")
    for col in ("outlet", "last run", "due now", "next due", "new 24h", "failed fetches",
                "since new", "no date", "probe", "alerts"):
        table.add_column(col)
    for o in report["outlets"]:
        run = o["last_run"]
        last = "never" if run is None else \
            f"#{run['id']} {_ago(now, run['started_at'])} ({run['finish_reason'] or 'running'})"
        due = o["due"] or "–"
        if o["paused"]:
            due = f"paused: {o['paused']}"
        elif not o["enabled"]:
            due = "disabled"
        alerts = o["open_alerts"]
        alert_cell = f"[bold red]{alerts} open[/]" if alerts else "[green]ok[/]"
        # Archive values may hold [brackets]: escape them, or rich reads them as markup.
        cells = [o["id"], last, due, _ago(now, o["next_due"]) if o["next_due"] else "–",
                 *_health_cells(o["health"])]
        probe = o.get("probe")
        probe_cell = "never" if probe is None else (
            f"[green]ok[/] {_ago(now, probe['probed_at'])}" if probe["ok"] else
            f"[bold red]FAILED[/] {_ago(now, probe['probed_at'])}")
        table.add_row(*(escape(c) for c in cells), probe_cell, alert_cell)
    console.print(table)
    failing = [o["id"] for o in report["outlets"] if (h := o["health"] or {}).get(
        "failure_share") or h.get("gone_404")]
    if failing:  # where the URLs behind the percentages are, and how to ask about one
        console.print(f"Failed fetches or gone pages at {escape(', '.join(failing))}: the "
                      "URLs are on /health/<outlet> (`mediawatch serve`); `mediawatch explain "
                      "URL` says why one is not in the archive.")
    for o in report["outlets"]:
        if o.get("probe") and not o["probe"]["ok"]:
            console.print(f"[bold red]last probe failed[/] {escape(o['id'])}: "
                          f"{escape(o['probe']['summary'] or '')} "
                          f"(`mediawatch sources probe --source {escape(o['id'])}`)")
    if not report["scheduling"]:
        console.print("This archive has no health or alerts yet: any `mediawatch crawl` adds "
                      "them.")
        return
    if not report["alerts"]:
        console.print("[green]No open alerts.[/]")
        return
    alerts = Table(title=f"{len(report['alerts'])} open alert(s)")
    for col in ("outlet", "rule", "since", "reason", "link"):
        alerts.add_column(col, overflow="fold")
    for a in report["alerts"]:
        alerts.add_row(*(escape(c) for c in (a["source_id"], a["rule"], _ago(now, a["raised_at"]),
                                              a["reason"], a["link"] or "")))
    console.print(alerts)
