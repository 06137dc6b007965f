"""The crawler's clock: UTC, second precision, overridable so schedules can be tested."""

from __future__ import annotations

import time
from datetime import UTC, datetime

_fixed: datetime | None = None


def now() -> datetime:
    """The current time (or the fixed time set for a test or a replayed run)."""
    return _fixed if _fixed is not None else datetime.now(UTC).replace(microsecond=0)


def utcnow() -> str:
    """Current UTC time as ISO 8601 with offset, second precision."""
    return now().isoformat()


def set_now(value: datetime | None) -> None:
    """Fix the clock at `value` (None: back to real time)."""
    global _fixed
    _fixed = value


def utcnow_after(newest: str | None, patience: float = 2.0) -> str:
    """utcnow(), but strictly later than `newest` (an earlier utcnow()) if the clock gets
    there within `patience` seconds: waits out the rest of a second shared with it.

    Times are kept to the second, so "fetched at or after this run started" cannot tell this
    run's fetches from a previous run's in the same second; starting a run one tick later
    can. A `newest` further ahead (a clock set back) is returned as is, after the wait; a
    fixed clock (a replayed run) is never waited for.
    """
    started = utcnow()
    deadline = time.monotonic() + patience
    while newest is not None and started <= newest and _fixed is None \
            and time.monotonic() < deadline:
        time.sleep(0.02)
        started = utcnow()
    return started
