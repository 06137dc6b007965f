"""Pure rules the archive applies: article versions, date disagreements, re-check and poll
schedules, canary shapes."""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

# Trivia that changes between fetches without the story changing.
_TIMES = re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b")
_COUNTERS = re.compile(
    r"\b\d[\d\s.,]*\s*(views?|shares?|comments?|likes?|reads?|просмотр\w*|комментари\w*|"
    r"поделил\w*|դիտում\w*|մեկնաբանություն\w*)\b|\b(views?|shares?|comments?|просмотров|"
    r"комментариев)\s*:?\s*\d[\d\s.,]*", re.I)
_AGO = re.compile(r"\b\d+\s*(minutes?|hours?|мин\w*|час\w*|րոպե\w*|ժամ\w*)\s*(ago|назад|առաջ)\b",
                  re.I)
_CORRECTION = re.compile(
    r"\b(correction|clarification|corrected|an earlier version of this (article|story)|"
    r"исправление|уточнение|исправлено|ուղղում)\b", re.I)
_UPDATE = re.compile(r"\b(update[ds]?|обновлено|обновление|дополнено|թարմացված|թարմացում)\b\s*[:(—-]",
                     re.I)


def text_signature(text: str) -> str:
    """Hash of a text with spacing, clock times, counters and 'x minutes ago' removed."""
    core = _AGO.sub(" ", _COUNTERS.sub(" ", _TIMES.sub(" ", text or "")))
    return hashlib.sha256(" ".join(core.casefold().split()).encode()).hexdigest()


def _lead(text: str) -> str:
    return next((line.strip() for line in (text or "").splitlines() if line.strip()), "")


def version_flags(old_title: str | None, old_text: str, title: str | None, text: str
                  ) -> list[str]:
    """What kind of edit a new version is: headline, lead, correction, update notice."""
    flags = []
    if (old_title or "").strip() != (title or "").strip():
        flags.append("headline-changed")
    if " ".join(_lead(old_text).split()) != " ".join(_lead(text).split()):
        flags.append("lead-changed")
    if len(_CORRECTION.findall(text)) > len(_CORRECTION.findall(old_text)):
        flags.append("correction")
    if len(_UPDATE.findall(text)) > len(_UPDATE.findall(old_text)):
        flags.append("update-notice")
    return flags


# What each flag of version_flags() means, in the order pages list them.
FLAG_WORDS = {"headline-changed": "headline changed", "lead-changed": "first paragraph changed",
              "correction": "correction notice", "update-notice": "update notice"}


def flags_in_words(flags: str | None) -> list[str]:
    """A version's flags (the JSON list stored in article_versions) in words, in a fixed order;
    unknown flags as they are."""
    try:
        found = json.loads(flags or "[]")
    except ValueError:
        found = []
    if not isinstance(found, list):
        found = []
    return [w for f, w in FLAG_WORDS.items() if f in found] + [
        str(f) for f in found if f not in FLAG_WORDS]


def text_diff(old_text: str, text: str) -> str:
    """A readable unified diff, paragraph by paragraph."""
    return "\n".join(difflib.unified_diff(
        (old_text or "").splitlines(), (text or "").splitlines(),
        "previous", "this version", lineterm="", n=1))


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = datetime.fromisoformat(value[:10])
        except ValueError:
            return None
    return parsed


def _day(value: str | None) -> str | None:
    return value[:10] if value and re.match(r"\d{4}-\d{2}-\d{2}", value) else None


def date_flags(published: str | None, modified: str | None, candidates: list[tuple[str, str]],
               first_seen: str, fetched_at: str) -> list[str]:
    """Disagreements a researcher may want to filter on; days compared as written."""
    flags = []
    days = sorted({d for kind, v in candidates if kind == "published" and (d := _day(v))})
    if len(days) > 1:
        first, last = _parse(days[0]), _parse(days[-1])
        if first and last and (last - first) > timedelta(days=1):
            flags.append("dates-disagree")
    pub = _day(published)
    if pub and pub > (_day(fetched_at) or pub):
        flags.append("date-in-future")
    elif pub and pub > (_day(first_seen) or pub):
        flags.append("published-after-first-seen")
    mod = _day(modified)
    if pub and mod and mod < pub:
        flags.append("modified-before-published")
    if not pub:
        flags.append("no-date")
    return flags


def next_check(published: str | None, first_seen: str, now: str, max_age_days: int
               ) -> str | None:
    """When to re-check an article: often while young, rarely when old, never past max age."""
    now_dt = _parse(now)
    born = _parse(published) or _parse(first_seen) or now_dt
    if now_dt is None or born is None:
        return None
    if born.tzinfo is None and now_dt.tzinfo is not None:
        born = born.replace(tzinfo=now_dt.tzinfo)
    age = now_dt - born
    if age > timedelta(days=max_age_days):
        return None
    for limit, every in ((timedelta(days=1), timedelta(hours=1)),
                         (timedelta(days=3), timedelta(hours=4)),
                         (timedelta(days=7), timedelta(hours=12)),
                         (timedelta(days=30), timedelta(days=2))):
        if age < limit:
            return (now_dt + every).isoformat()
    return (now_dt + timedelta(days=14)).isoformat()


def retry_check(failures: int, now: str) -> str | None:
    """After a failed fetch: back off exponentially, from an hour up to a week."""
    now_dt = _parse(now)
    if now_dt is None:
        return None
    return (now_dt + min(timedelta(hours=2 ** max(failures - 1, 0)), timedelta(days=7))
            ).isoformat()


# -- poll intervals of feeds, sitemaps and sections --------------------------------------


def next_interval(current: int | None, new_items: int, low: int, high: int) -> int:
    """The next poll interval in minutes: shorter the more a poll yielded, doubled when empty."""
    current = min(max(current or low, low), high)
    if new_items <= 0:
        return min(current * 2, high)
    # Many new items at once means we polled too rarely: come back proportionally sooner.
    return max(low, min(high, current // (1 + new_items)))


def due_at(fetched_at: str, minutes: int) -> str:
    """The ISO time `minutes` after `fetched_at`."""
    return (datetime.fromisoformat(fetched_at) + timedelta(minutes=minutes)).isoformat()


# -- canaries: what a reference article's extraction should keep looking like -------------


@dataclass(frozen=True)
class Shape:
    """What a canary's extraction looks like: enough to notice a redesign or a regression."""

    title: str | None
    date: str | None
    author: str | None
    length: int


def canary_problem(baseline: Shape, now: Shape, tolerance: float) -> str | None:
    """Why a canary's extraction no longer looks like its baseline, or None."""
    problems = []
    if baseline.title and not now.title:
        problems.append("title missing")
    elif baseline.title and now.title and difflib.SequenceMatcher(
            None, baseline.title.casefold(), now.title.casefold()).ratio() < 0.6:
        problems.append(f"title changed from {baseline.title!r} to {now.title!r}")
    if baseline.date and not now.date:
        problems.append("date missing")
    elif baseline.date and now.date and baseline.date[:10] != now.date[:10]:
        problems.append(f"date changed from {baseline.date[:10]} to {now.date[:10]}")
    if baseline.author and not now.author:
        problems.append("author missing")
    elif baseline.author and now.author and baseline.author.casefold() != now.author.casefold():
        problems.append(f"author changed from {baseline.author!r} to {now.author!r}")
    if baseline.length:
        ratio = now.length / baseline.length
        if abs(ratio - 1) > tolerance:
            problems.append(f"text length {baseline.length} → {now.length} characters "
                            f"({ratio - 1:+.0%})")
    return "; ".join(problems) or None
