"""Alert rules over health rows, canaries and discovery documents; delivery of alert events.

Rules are pure: each returns Findings that say raise, clear or keep (not enough evidence
either way). crawler.archive.core turns findings into `alerts` rows, raising each alert once
and clearing it when the rule no longer holds; this module then delivers the events to
the log, a JSON lines file, a webhook and e-mail, whichever are configured. A delivery
that fails is logged and never fails the crawl.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from crawler.ops.health import FAILURE_BUCKETS, Thresholds

logger = logging.getLogger("mediawatch.alerts")
WATCH_LINES = 50  # articles listed in one saved search's message (the event carries all)

RULES = {
    "went_quiet": "went quiet",
    "failure_rate": "failure rate jumped",
    "dates_missing": "dates missing",
    "text_missing": "text missing",
    "canary_changed": "canary changed",
    "feed_gone": "feed gone",
}


@dataclass(frozen=True)
class Finding:
    """One rule's verdict for one outlet (and subject: a canary or feed URL, or '')."""

    source_id: str
    rule: str
    subject: str
    action: str  # raise | clear | keep
    reason: str = ""


def outlet_findings(h: Mapping[str, Any], usual_share: float | None, th: Thresholds,
                    usual_short: float | None = None) -> list[Finding]:
    """went_quiet, failure_rate, dates_missing and text_missing for one health row (the usual
    shares are None for an outlet without earlier runs)."""
    sid, out = h["source_id"], []
    since, baseline = h["hours_since_new"], h["baseline_per_day"]
    if since is not None and baseline:
        limit = max(th.quiet_hours, th.quiet_factor * 24 / baseline)
        quiet = since > limit
        out.append(Finding(sid, "went_quiet", "", "raise" if quiet else "clear",
                           f"no new article for {since:.0f} h (usually {baseline:g} a day; "
                           f"alert after {limit:.0f} h of silence)"))
    elif since is not None and h["articles_24h"]:
        out.append(Finding(sid, "went_quiet", "", "clear"))
    share = h["failure_share"]
    if share is not None and h["fetches"] >= th.min_fetches:
        # An outlet failing on its first run is reported too (a host that is down, a feed URL
        # that was wrong): measured against no failures, and said so.
        jumped = share >= th.failure_share and share >= (usual_share or 0.0) + th.failure_jump
        why = ", ".join(f"{b} ×{h[c]}" for b, c in zip(
            FAILURE_BUCKETS, ("fail_403", "fail_429", "fail_5xx", "fail_timeout", "fail_network"),
            strict=True) if h[c])
        action = "raise" if jumped else "clear" if share < th.failure_share else "keep"
        out.append(Finding(sid, "failure_rate", "", action,
                           f"{h['failures']} of {h['fetches']} fetches failed in this run "
                           f"({why or 'none'}); " + ("no earlier run to compare with"
                                                     if usual_share is None
                                                     else f"usually {usual_share:.0%}")))
    share = h["no_date_share"]
    if share is not None and h["extracted_24h"] >= th.min_sample:
        missing = share >= th.no_date_share
        out.append(Finding(sid, "dates_missing", "", "raise" if missing else "clear",
                           f"{share:.0%} of the {h['extracted_24h']} articles first seen in "
                           "the last 24 h have no publication date"))
    # A redesign the extractor does not follow, a page that now builds its text with
    # JavaScript, a new paywall: the articles keep coming, with little or no text.
    # Judged against the outlet's own usual share (None: no history yet, nothing is raised).
    share = h.get("short_text_share")
    if share is not None and h["extracted_24h"] >= th.min_sample:
        jumped = usual_short is not None and share >= th.short_text_share and \
            share >= usual_short + th.short_text_jump
        action = "raise" if jumped else "clear" if share < th.short_text_share else "keep"
        usual = "no history yet" if usual_short is None else f"usually {usual_short:.0%}"
        out.append(Finding(sid, "text_missing", "", action,
                           f"{share:.0%} of the {h['extracted_24h']} articles first seen in the "
                           f"last 24 h have less than {th.short_words} words of text ({usual}): "
                           "see their extraction_status and the canaries"))
    return out


def canary_findings(rows: Iterable[tuple[str, str, str | None, str | None]]) -> list[Finding]:
    """canary_changed for each (source_id, url, problem, checked_at) canary row."""
    return [Finding(sid, "canary_changed", url, "raise" if problem else "clear",
                    f"canary {url}: {problem}" if problem else "")
            for sid, url, problem, checked in rows if checked]


def feed_findings(source_id: str, docs: Iterable[tuple[str, int | None]]) -> list[Finding]:
    """feed_gone for each (url, last HTTP status) discovery document the registry names."""
    out = []
    for url, status in docs:
        if status is None:
            continue
        gone = status in (404, 410)
        out.append(Finding(source_id, "feed_gone", url, "raise" if gone else "clear",
                           f"{url} answers HTTP {status}: fix or remove it in the registry"
                           if gone else ""))
    return out


# -- delivery ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertConfig:
    """Where alert events go besides the log (empty: not configured)."""

    jsonl: str = ""
    webhook: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "mediawatch@localhost"
    smtp_to: tuple[str, ...] = ()
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    timeout: float = 10.0


def describe(event: Mapping[str, Any]) -> str:
    """One line for humans: 'RAISED tass: went quiet — reason <link>'."""
    if event["event"] == "article_changes":  # on-topic edits, removals (crawler/ops/changes.py)
        from crawler.ops.changes import describe_changes

        return describe_changes(dict(event))
    if event["event"] == "watch_match":  # a saved search's new articles (crawler/ops/watch.py)
        lines = [f"- {a['title'] or '(no title)'} ({a['outlet']}, {(a['published'] or '')[:10]})"
                 f" <{a['link']}>" for a in event["articles"][:WATCH_LINES]]
        more = event["count"] - len(lines)
        return "\n".join([f"WATCH {event['watch']}: {event['count']} new article(s) for "
                          f"{event['query']!r} <{event['search']}>", *lines,
                          *([f"… and {more} more: <{event['link']}>"] if more > 0 else [])])
    title = RULES.get(event["rule"], event["rule"])
    text = f"{event['event'].upper()} {event['source_id']}: {title}"
    if event.get("reason"):
        text += f" — {event['reason']}"
    return text + (f" <{event['link']}>" if event.get("link") else "")


def deliver(events: list[dict[str, Any]], config: AlertConfig) -> dict[Any, list[str]]:
    """Send alert events everywhere configured; return the channels that took each event id."""
    took: dict[Any, list[str]] = {e["id"]: [] for e in events}
    if not events:
        return took
    for e in events:
        (logger.warning if e["event"] == "raised" else logger.info)(
            "%s %s", _KINDS.get(e["event"], "alert"), describe(e))
        took[e["id"]].append("log")
    if config.jsonl:
        try:
            path = Path(config.jsonl)
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as out:
                for e in events:
                    out.write(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n")
                    took[e["id"]].append("jsonl")
        except OSError as exc:
            logger.error("alerts: cannot append to %s: %s", config.jsonl, exc)
    if config.webhook:
        for e in events:
            if _post(config.webhook, {**e, "text": describe(e)}, config.timeout):
                took[e["id"]].append("webhook")
    if config.smtp_host and config.smtp_to and _mail(events, config):
        for e in events:
            took[e["id"]].append("email")
    return took


def _post(url: str, payload: dict[str, Any], timeout: float) -> bool:
    body = json.dumps(payload, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return 200 <= response.status < 300
    except OSError as exc:  # URLError, HTTPError, timeouts: the crawl goes on
        logger.error("alerts: webhook %s failed: %s", url, exc)
        return False


_KINDS = {"watch_match": "saved search", "article_changes": "edits and removals"}


def _subject(events: list[dict[str, Any]]) -> str:
    """What a digest holds, by kind: alerts, saved searches' matches, edits and removals."""
    raised = sum(e["event"] == "raised" for e in events)
    cleared = sum(e["event"] == "cleared" for e in events)
    watched = [e for e in events if e["event"] == "watch_match"]
    changed = sum(e["count"] for e in events if e["event"] == "article_changes")
    parts = [f"{raised} alert(s) raised, {cleared} cleared"] if raised or cleared else []
    if watched:
        parts.append(f"{sum(e['count'] for e in watched)} new article(s) for {len(watched)} "
                     "saved search(es)")
    if changed:
        parts.append(f"{changed} on-topic article(s) edited or taken down")
    return "[mediawatch] " + "; ".join(parts)


def _mail(events: list[dict[str, Any]], config: AlertConfig) -> bool:
    message = EmailMessage()
    message["Subject"] = _subject(events)
    message["From"] = config.smtp_from
    message["To"] = ", ".join(config.smtp_to)
    message.set_content("\n\n".join(describe(e) for e in events) + "\n")
    try:
        with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=config.timeout) as smtp:
            if config.smtp_starttls:
                smtp.starttls()
            if config.smtp_user:
                smtp.login(config.smtp_user, config.smtp_password)
            smtp.send_message(message)
        return True
    except (OSError, smtplib.SMTPException) as exc:
        logger.error("alerts: e-mail via %s:%s failed: %s", config.smtp_host, config.smtp_port,
                     exc)
        return False


# -- after each crawl run: health rows, findings, alerts, delivery ----------------------------


def thresholds_from(settings: Any) -> Thresholds:
    """Thresholds from Scrapy settings (MEDIAWATCH_QUIET_HOURS, ...), defaults otherwise."""
    base = Thresholds()
    values: dict[str, Any] = {}
    for name, default in base.__dict__.items():
        key = f"MEDIAWATCH_{name.upper()}"
        if settings.get(key) not in (None, ""):
            values[name] = (settings.getint if isinstance(default, int) else
                            settings.getfloat)(key)
    return Thresholds(**values)


def alert_config_from(settings: Any) -> AlertConfig:
    """Delivery settings (MEDIAWATCH_ALERTS_JSONL, _ALERT_WEBHOOK, _SMTP_*)."""
    return AlertConfig(
        jsonl=settings.get("MEDIAWATCH_ALERTS_JSONL") or "",
        webhook=settings.get("MEDIAWATCH_ALERT_WEBHOOK") or "",
        smtp_host=settings.get("MEDIAWATCH_SMTP_HOST") or "",
        smtp_port=settings.getint("MEDIAWATCH_SMTP_PORT", 25),
        smtp_from=settings.get("MEDIAWATCH_SMTP_FROM") or "mediawatch@localhost",
        smtp_to=tuple(settings.getlist("MEDIAWATCH_SMTP_TO")),
        smtp_user=settings.get("MEDIAWATCH_SMTP_USER") or "",
        smtp_password=settings.get("MEDIAWATCH_SMTP_PASSWORD") or "",
        smtp_starttls=settings.getbool("MEDIAWATCH_SMTP_STARTTLS"),
    )


def review_run_from(settings: Any, archive: Any, sources: Iterable[Any], run_id: int,
                    tallies: Mapping[str, Mapping[str, int]]) -> list[dict[str, Any]]:
    """review_run with thresholds, delivery and link base from Scrapy settings; then the
    saved searches' new matches (crawler/ops/watch.py) and the on-topic articles the run
    found edited or taken down (crawler/ops/changes.py), through the same channels."""
    from crawler.ops.changes import notify_changes
    from crawler.ops.watch import notify_watches

    config, link_base = alert_config_from(settings), settings.get("MEDIAWATCH_LINK_BASE")
    try:
        return review_run(archive, sources, run_id, tallies, thresholds_from(settings),
                          config, link_base)
    finally:
        notify_watches(archive, run_id, config, link_base, deliver)
        notify_changes(archive, run_id, config, link_base, deliver)


def review_run(archive: Any, sources: Iterable[Any], run_id: int,
               tallies: Mapping[str, Mapping[str, int]], th: Thresholds, config: AlertConfig,
               link_base: str) -> list[dict[str, Any]]:
    """Store health rows for the outlets of a run, apply every rule, deliver the events."""
    from crawler.clock import now, utcnow
    from crawler.ops.health import outlet_health, usual_failure_share, usual_short_share
    from crawler.ops.schedule import discovery_docs, robots_url

    conn = archive.db.conn
    moment = now()
    rows, findings = [], []
    for source in sources:
        h = outlet_health(conn, source.id, moment, tallies.get(source.id, {}), th)
        rows.append(h)
        findings += outlet_findings(h, usual_failure_share(conn, source.id, run_id), th,
                                    usual_short_share(conn, source.id, moment, th.min_sample))
        docs = [u for u in discovery_docs(source) if u != robots_url(source)]
        if docs:
            marks = ", ".join("?" * len(docs))
            findings += feed_findings(source.id, conn.execute(
                f"SELECT url, last_status FROM url_state WHERE url IN ({marks})", docs))
        if source.canaries:
            marks = ", ".join("?" * len(source.canaries))
            findings += canary_findings(conn.execute(
                f"SELECT source_id, url, problem, checked_at FROM canaries WHERE url IN ({marks})",
                list(source.canaries)))
    findings = _explained(conn, findings)
    events = archive.monitoring.sync_alerts(findings, utcnow(), run_id, link_base)
    archive.monitoring.store_health(run_id, rows)  # after the alerts, so open_alerts is current
    archive.monitoring.mark_delivered(deliver(events, config))
    return events


# An outlet that is blocked or lost its feed also goes quiet: one alert for the cause is enough.
_CAUSES = ("failure_rate", "feed_gone")


def _explained(conn: Any, findings: list[Finding]) -> list[Finding]:
    """Hold back 'went quiet' for outlets with an open or new failure_rate/feed_gone alert."""
    marks = ", ".join("?" * len(_CAUSES))
    open_causes = {(r[0], r[1], r[2]) for r in conn.execute(
        f"SELECT source_id, rule, subject FROM alerts WHERE cleared_at IS NULL "
        f"AND rule IN ({marks})", _CAUSES)}
    for f in findings:
        if f.rule in _CAUSES and f.action == "raise":
            open_causes.add((f.source_id, f.rule, f.subject))
        elif f.rule in _CAUSES and f.action == "clear":
            open_causes.discard((f.source_id, f.rule, f.subject))
    causes = {sid for sid, _, _ in open_causes}
    return [Finding(f.source_id, f.rule, f.subject, "keep", f.reason)
            if f.rule == "went_quiet" and f.action == "raise" and f.source_id in causes else f
            for f in findings]
