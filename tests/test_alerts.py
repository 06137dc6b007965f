"""Alerts on a controllable clock: quiet, blocked (403), redesigned, feed gone; once; cleared."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from helpers.miniweb import T0, MiniWeb, SmtpSink, Webhook, crawl_at, days, free_loopback_port

from crawler.archive.policy import Shape, canary_problem
from crawler.ops.alerts import Finding, canary_findings, feed_findings, outlet_findings
from crawler.ops.health import Thresholds

pytestmark = pytest.mark.e2e

OUTLETS = ("quiet", "blocked", "redesign", "gone", "shell")


def _open(db: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return {(r[0], r[1]) for r in conn.execute(
            "select source_id, rule from alerts where cleared_at is null")}
    finally:
        conn.close()


def _events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _ok(result: Any) -> None:
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert "Traceback" not in result.stderr


@pytest.fixture
def receivers() -> Any:
    hook, smtp = Webhook(), SmtpSink()
    try:
        yield hook, smtp
    finally:
        hook.close()
        smtp.close()


def test_outlets_that_break_raise_one_alert_each_and_clear_when_fixed(
        tmp_path: Path, receivers: tuple[Webhook, SmtpSink]) -> None:
    hook, smtp = receivers
    jsonl = tmp_path / "alerts.jsonl"
    db = tmp_path / "archive.db"
    with MiniWeb(*OUTLETS) as web:
        alerts = (f'webhook = "{hook.url}"\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\n'
                  'email_to = ["desk@example.org"]\nemail_from = "mw@example.org"\n'
                  'link_base = "http://127.0.0.1:8001"\n')
        sources = web.write_sources(tmp_path / "sources.toml",
                                    {o: ["story-1"] for o in OUTLETS}, alerts)
        for day in (0, 1):  # two normal days: three articles per outlet per day
            for outlet in OUTLETS:
                web[outlet].add(T0 + days(day) - days(0.5), 3)
            _ok(crawl_at(T0 + days(day), sources, db, "--alerts-jsonl", str(jsonl)))
            assert _open(db) == set()
        assert not jsonl.exists() and hook.events == [] and smtp.messages == []

        # Day 2: one outlet stops publishing, one blocks us, one is redesigned, one loses its
        # feed, one now builds its text with JavaScript (title and date still in the page).
        web["blocked"].forbidden = True
        web["redesign"].layout = "v2"
        web["redesign"].add(T0 + days(2) - days(0.2), 3)
        web["gone"].feed_status = 404
        web["shell"].layout = "shell"
        web["shell"].add(T0 + days(2) - days(0.2), 3)
        _ok(crawl_at(T0 + days(2), sources, db, "--alerts-jsonl", str(jsonl)))
        broken = {("blocked", "failure_rate"), ("redesign", "canary_changed"),
                  ("redesign", "dates_missing"), ("gone", "feed_gone"),
                  ("shell", "text_missing"), ("shell", "canary_changed")}
        assert _open(db) == broken
        # Day 3: still broken, nothing raised twice; the silent outlet is now overdue.
        _ok(crawl_at(T0 + days(3), sources, db, "--alerts-jsonl", str(jsonl)))
        assert _open(db) == broken | {("quiet", "went_quiet")}
        raised = [e for e in _events(jsonl) if e["event"] == "raised"]
        assert Counter((e["source_id"], e["rule"]) for e in raised) == Counter(
            {k: 1 for k in _open(db)})
        why = {e["rule"]: e for e in raised if e["source_id"] != "shell"}
        assert "403 ×" in why["failure_rate"]["reason"]
        assert "date missing" in why["canary_changed"]["reason"]
        assert "text length" in why["canary_changed"]["reason"]
        assert why["canary_changed"]["subject"].endswith("/news/story-1")
        why |= {e["rule"]: e for e in raised if e["source_id"] == "shell"}
        assert "date missing" not in why["canary_changed"]["reason"]
        assert "text length" in why["canary_changed"]["reason"]
        assert "HTTP 404" in why["feed_gone"]["reason"]
        assert why["text_missing"]["reason"].startswith(
            "100% of the 3 articles first seen in the last 24 h have less than 50 words")
        assert "no new article for 48 h" in why["went_quiet"]["reason"]
        assert why["went_quiet"]["link"] == "http://127.0.0.1:8001/health/quiet"

        # Everything is fixed; the quiet outlet publishes again.
        web["blocked"].forbidden = False
        web["redesign"].layout = "v1"
        web["gone"].feed_status = 200
        web["shell"].layout = "v1"
        for outlet in OUTLETS:
            web[outlet].add(T0 + days(4) - days(0.1), 3)
        _ok(crawl_at(T0 + days(4), sources, db, "--alerts-jsonl", str(jsonl)))
        assert _open(db) == set()
        _ok(crawl_at(T0 + days(5), sources, db, "--alerts-jsonl", str(jsonl)))
        assert _open(db) == set()

    everything = _events(jsonl)
    events = [e for e in everything if e["event"] in ("raised", "cleared")]
    # The redesigned and the shell outlet changed every re-checked article twice (broken,
    # then repaired): a page change each time, held back in one line, never listed as edits.
    changes = [e for e in everything if e["event"] == "article_changes"]
    assert len(changes) == 2 and all(not e["edited"] for e in changes)
    assert [sorted(h["source_id"] for h in e["held_back"]) for e in changes] == [
        ["redesign", "shell"]] * 2
    per_alert = Counter((e["source_id"], e["rule"], e["event"]) for e in events)
    assert set(per_alert.values()) == {1} and len(per_alert) == 14  # 7 raised, 7 cleared
    # The same events reached the webhook, and e-mail digests went out for days 2, 3 and 4.
    assert [(e["id"], e["event"]) for e in hook.events] == [(e["id"], e["event"])
                                                            for e in everything]
    assert all(e["text"].startswith(("RAISED", "CLEARED", "CHANGES")) for e in hook.events)
    assert sum("held back: " in e["text"] for e in hook.events) == 2
    digests = [m for m in smtp.messages if "alert(s) raised" in m["data"]]
    assert len(digests) == 3 and len(smtp.messages) == 3 + len(changes)  # a notice per run
    assert digests[0]["to"] == ["<desk@example.org>"]
    assert "6 alert(s) raised, 0 cleared" in digests[0]["data"]
    assert "RAISED gone: feed gone" in digests[0]["data"]
    conn = sqlite3.connect(db)
    delivered = {json.dumps(json.loads(r[0])) for r in conn.execute(
        "select delivered from alerts")}
    assert delivered == {json.dumps(["email", "jsonl", "log", "webhook"])}
    # A health row per outlet per run, with the measures that explain the alerts.
    blocked = conn.execute("select fail_403, fetches, failure_share from health h join "
                           "crawl_runs r on r.id = h.run_id where source_id = 'blocked' "
                           "order by run_id").fetchall()
    assert [b[2] for b in blocked] == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]
    assert blocked[2][0] == blocked[2][1] >= 3
    assert conn.execute("select count(*) from health").fetchone()[0] == 6 * 5
    conn.close()


def test_a_failing_webhook_or_mail_server_never_fails_the_crawl(tmp_path: Path) -> None:
    dead = free_loopback_port()
    db = tmp_path / "archive.db"
    with MiniWeb("gone") as web:
        web["gone"].feed_status = 410
        sources = web.write_sources(tmp_path / "sources.toml")
        result = crawl_at(T0, sources, db, env={
            "MEDIAWATCH_ALERT_WEBHOOK": f"http://127.0.0.1:{dead}/hook",
            "MEDIAWATCH_SMTP_HOST": "127.0.0.1", "MEDIAWATCH_SMTP_PORT": str(dead),
            "MEDIAWATCH_SMTP_TO": "desk@example.org"})
    _ok(result)
    assert "webhook" in result.stderr and "failed" in result.stderr
    assert _open(db) == {("gone", "feed_gone")}
    # The JSON lines file sits beside the archive by default, and it took the alert.
    lines = _events(tmp_path / "archive-alerts.jsonl")
    assert [(e["rule"], e["event"]) for e in lines] == [("feed_gone", "raised")]
    assert "HTTP 410" in lines[0]["reason"]


def test_canary_changes_are_judged_by_shape_not_by_wording() -> None:
    base = Shape("Putin and Pashinyan meet in Moscow", "2026-03-01T10:00:00+03:00", "A. B.", 2000)
    assert canary_problem(base, base, 0.5) is None
    # A corrected headline, a re-timed date on the same day, a slightly edited text: no alarm.
    same = Shape("Putin and Pashinyan meet in Moscow again", "2026-03-01T12:00:00+03:00",
                 "a. b.", 1700)
    assert canary_problem(base, same, 0.5) is None
    broken = canary_problem(base, Shape("Site name", None, None, 300), 0.5)
    assert broken is not None
    for part in ("title changed", "date missing", "author missing", "text length 2000 → 300"):
        assert part in broken


def test_rules_raise_clear_or_keep_by_evidence() -> None:
    th = Thresholds()
    row = {"source_id": "x", "hours_since_new": 10.0, "baseline_per_day": 5.0,
           "articles_24h": 0, "failure_share": 0.2, "fetches": 10, "failures": 2,
           "fail_403": 2, "fail_429": 0, "fail_5xx": 0, "fail_timeout": 0, "fail_network": 0,
           "no_date_share": None, "extracted_24h": 0}
    verdict = {f.rule: f.action for f in outlet_findings(row, 0.0, th)}
    assert verdict == {"went_quiet": "clear", "failure_rate": "clear"}
    row |= {"hours_since_new": 30.0, "failure_share": 0.8, "failures": 8, "fail_403": 8,
            "no_date_share": 1.0, "extracted_24h": 4}
    verdict = {f.rule: f.action for f in outlet_findings(row, 0.0, th)}
    assert verdict == {"went_quiet": "raise", "failure_rate": "raise", "dates_missing": "raise"}
    # An outlet that always fails this much did not "jump"; two fetches prove nothing.
    assert {f.rule: f.action for f in outlet_findings(row, 0.7, th)}["failure_rate"] == "keep"
    assert "failure_rate" not in {f.rule for f in outlet_findings(row | {"fetches": 2}, 0, th)}
    # An outlet failing on its first run (its host is down) is reported, and the reason does
    # not invent a usual share it never had.
    first = next(f for f in outlet_findings(row, None, th) if f.rule == "failure_rate")
    assert first.action == "raise" and first.reason.endswith("no earlier run to compare with")
    assert next(f for f in outlet_findings(row, 0.1, th)
                if f.rule == "failure_rate").reason.endswith("usually 10%")
    # Text missing: judged against the outlet's own usual share of very short texts.
    def text(share: float | None, usual: float | None = 0.0, n: int = 4) -> str | None:
        found = {f.rule: f.action for f in outlet_findings(
            row | {"short_text_share": share, "extracted_24h": n}, 0.0, th, usual)}
        return found.get("text_missing")
    assert text(0.8) == "raise" and text(0.3) == "clear" and text(None) is None
    assert text(0.8, usual=0.7) == "keep"  # an outlet of wire flashes: nothing jumped
    assert text(1.0, n=2) is None  # two articles prove nothing
    # No history yet (a new outlet, maybe a ticker of short flashes): nothing is raised.
    assert text(1.0, usual=None) == "keep" and text(0.2, usual=None) == "clear"
    # A rare publisher is not quiet after a day: the limit scales with its own rhythm.
    slow = row | {"baseline_per_day": 0.5}
    assert {f.rule: f.action for f in outlet_findings(slow, 0, th)}["went_quiet"] == "clear"
    assert feed_findings("x", [("u", 404), ("v", 200), ("w", None)]) == [
        Finding("x", "feed_gone", "u", "raise",
                "u answers HTTP 404: fix or remove it in the registry"),
        Finding("x", "feed_gone", "v", "clear", "")]
    assert [f.action for f in canary_findings([("x", "u", "date missing", "t"),
                                               ("x", "v", None, "t"),
                                               ("x", "w", None, None)])] == ["raise", "clear"]
