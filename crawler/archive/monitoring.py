"""The archive's monitoring writes: outlet pauses and crawl delays, canary checks, health
rows and alerts (what `mediawatch status` and /health read)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from crawler.archive.base import Store
from crawler.archive.policy import Shape, canary_problem, due_at

if TYPE_CHECKING:
    from crawler.items import FetchedPage
    from crawler.ops.alerts import Finding


class MonitoringStore(Store):
    """outlet_state, canaries, health and alerts."""

    def pause_outlets(self, paused: dict[str, str], until: str, now: str,
                      crawl_delays: dict[str, float]) -> None:
        """Record outlets paused by this crawl, and robots.txt crawl delays."""
        with self.transaction():
            for sid, reason in paused.items():
                if reason.startswith("still paused"):
                    continue
                self.db.execute(
                    "INSERT INTO outlet_state (source_id, paused_until, paused_reason, updated_at)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (source_id) DO UPDATE SET "
                    "paused_until = excluded.paused_until, paused_reason = excluded.paused_reason,"
                    " updated_at = excluded.updated_at", [sid, until, reason, now])
            for sid, delay in crawl_delays.items():
                self.db.execute(
                    "INSERT INTO outlet_state (source_id, crawl_delay, updated_at) VALUES (?, ?, ?)"
                    " ON CONFLICT (source_id) DO UPDATE SET crawl_delay = excluded.crawl_delay, "
                    "updated_at = excluded.updated_at", [sid, delay, now])

    def check_canary(self, page: FetchedPage, tolerance: float, hours: float) -> str | None:
        """Compare a re-fetched canary with its baseline; store the check; return the problem."""
        now = page.fetched_at
        result = page.extraction
        row = self.db.execute(
            "SELECT baseline_title, baseline_date, baseline_author, baseline_length, problem "
            "FROM canaries WHERE url = ?", [page.url]).fetchone()
        self.db.execute("INSERT INTO canaries (url, source_id) VALUES (?, ?) "
                        "ON CONFLICT (url) DO NOTHING", [page.url, page.source_id])
        status = page.status
        if page.error or status is None or (status >= 400 and status not in (404, 410)):
            # Unreachable or refused: the failure-rate rule speaks for that; retry in an hour.
            self.db.execute("UPDATE canaries SET last_status = ?, next_due = ? WHERE url = ?",
                            [status, due_at(now, 60), page.url])
            return row[4] if row else None
        shape = None
        if status in (404, 410):
            problem: str | None = f"the canary page now answers HTTP {status}"
        elif result is None or result.status != "ok":
            problem = f"the canary no longer extracts ({result.status if result else 'none'})"
        else:
            shape = Shape(result.title, result.date, result.author, len(result.text or ""))
            problem = None
            if row is not None and row[3] is not None:
                problem = canary_problem(Shape(*row[:4]), shape, tolerance)
        if shape is not None and (row is None or row[3] is None):
            self.db.execute(
                "UPDATE canaries SET baseline_title = ?, baseline_date = ?, baseline_author = ?,"
                " baseline_length = ?, baseline_at = ? WHERE url = ?",
                [shape.title, shape.date, shape.author, shape.length, now, page.url])
        self.db.execute(
            "UPDATE canaries SET last_title = ?, last_date = ?, last_author = ?, "
            "last_length = ?, last_status = ?, checked_at = ?, next_due = ?, problem = ? "
            "WHERE url = ?",
            [shape.title if shape else None, shape.date if shape else None,
             shape.author if shape else None, shape.length if shape else None, status, now,
             due_at(now, int(hours * 60)), problem, page.url])
        return problem

    def rebaseline_canaries(self, source_ids: list[str]) -> int:
        """Accept the canaries' current shape as their new baseline (after a known redesign)."""
        marks = ", ".join("?" * len(source_ids))
        where = f"WHERE source_id IN ({marks}) AND" if source_ids else "WHERE"
        with self.transaction():
            return self.db.execute(
                "UPDATE canaries SET baseline_title = last_title, baseline_date = last_date, "
                "baseline_author = last_author, baseline_length = last_length, "
                f"baseline_at = checked_at, problem = NULL {where} last_length IS NOT NULL",
                source_ids).rowcount

    def store_health(self, run_id: int, rows: list[dict[str, Any]]) -> None:
        """Store this run's health row per outlet (a re-run of the same run replaces them)."""
        with self.transaction():
            for row in rows:
                open_alerts = self.db.execute(
                    "SELECT count(*) FROM alerts WHERE source_id = ? AND cleared_at IS NULL",
                    [row["source_id"]]).fetchone()[0]
                self.db.table("health").upsert(
                    {**row, "run_id": run_id, "open_alerts": open_alerts,
                     "status": "alert" if open_alerts else "ok"}, pk=("run_id", "source_id"))

    def sync_alerts(self, findings: list[Finding], now: str, run_id: int | None,
                    link_base: str) -> list[dict[str, Any]]:
        """Raise new alerts once, clear fixed ones; return the raised/cleared events."""
        events = []
        with self.transaction():
            for f in findings:
                if f.action == "keep":
                    continue
                row = self.db.execute(
                    "SELECT id, raised_at, reason, link FROM alerts WHERE source_id = ? AND "
                    "rule = ? AND subject = ? AND cleared_at IS NULL",
                    [f.source_id, f.rule, f.subject]).fetchone()
                event = {"source_id": f.source_id, "rule": f.rule, "subject": f.subject}
                if f.action == "raise" and row is None:
                    link = f"{link_base.rstrip('/')}/health/{f.source_id}"
                    cursor = self.db.execute(
                        "INSERT INTO alerts (source_id, rule, subject, raised_at, last_seen_at, "
                        "reason, link, run_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [f.source_id, f.rule, f.subject, now, now, f.reason, link, run_id])
                    events.append({**event, "event": "raised", "id": cursor.lastrowid,
                                   "raised_at": now, "reason": f.reason, "link": link})
                elif f.action == "raise":
                    self.db.execute("UPDATE alerts SET last_seen_at = ? WHERE id = ?",
                                    [now, row[0]])
                elif row is not None:
                    self.db.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?",
                                    [now, row[0]])
                    events.append({**event, "event": "cleared", "id": row[0],
                                   "raised_at": row[1], "cleared_at": now,
                                   "reason": f.reason or f"fixed: {row[2]}", "link": row[3]})
        return events

    def mark_delivered(self, took: dict[int, list[str]]) -> None:
        """Remember which channels took each alert event."""
        with self.transaction():
            for alert_id, channels in took.items():
                old = self.db.execute("SELECT delivered FROM alerts WHERE id = ?",
                                      [alert_id]).fetchone()
                merged = sorted(set(json.loads(old[0] or "[]") if old else []) | set(channels))
                self.db.execute("UPDATE alerts SET delivered = ? WHERE id = ?",
                                [json.dumps(merged), alert_id])
