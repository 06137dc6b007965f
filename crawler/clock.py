"""The crawler's clock: UTC, second precision, overridable so schedules can be tested."""

from __future__ import annotations

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
