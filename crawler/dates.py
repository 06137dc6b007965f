"""Lenient date parsing for feeds, sitemaps and HTTP headers into ISO 8601 strings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Month names by lowercase prefix.  Russian and Armenian dates are written in the genitive
# ("12 мая", "12 մայիսի"), so prefixes that cover nominative and genitive are used.
_MONTHS: tuple[tuple[str, int], ...] = (
    ("jan", 1), ("feb", 2), ("mar", 3), ("apr", 4), ("may", 5), ("jun", 6),
    ("jul", 7), ("aug", 8), ("sep", 9), ("oct", 10), ("nov", 11), ("dec", 12),
    ("янв", 1), ("фев", 2), ("мар", 3), ("апр", 4), ("мая", 5), ("май", 5),
    ("июн", 6), ("июл", 7), ("авг", 8), ("сен", 9), ("окт", 10), ("ноя", 11), ("дек", 12),
    ("հունվ", 1), ("փետր", 2), ("մարտ", 3), ("ապրիլ", 4), ("մայիս", 5), ("հունիս", 6),
    ("հուլիս", 7), ("օգոստ", 8), ("սեպտ", 9), ("հոկտ", 10), ("նոյ", 11), ("դեկտ", 12),
)

# RFC 822 named zones; MSK because Russian outlets still emit it.  Unknown names yield a
# naive result rather than a guess.
_ZONES = {
    "gmt": 0, "ut": 0, "utc": 0, "z": 0,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300,
    "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
    "msk": 180, "msd": 240, "amt": 240, "cet": 60, "cest": 120, "eet": 120, "eest": 180,
    "bst": 60,
}

_ISO = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|[+-]\d{2}(?::?\d{2})?|(?:GMT|UTC)(?:[+-]\d{2}:?\d{2})?)?"
)
_ISO_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})?")
# "Mon, 12 May 2025 23:30:00 +0400", RFC 850 "Monday, 12-May-25 ...", "12 мая 2025, 14:30".
_DMY = re.compile(
    r"(?:[^\W\d_]+\.?,?\s+)?(\d{1,2})[\s.-]+([^\W\d_]{3,})\.?[\s.,-]+(\d{4}|\d{2})"
    r"(?:\s*(?:г\.?|թ\.?)?,?\s*(?:в\s+)?(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
    r"\s*(?:([+-]\d{2}:?\d{2})|\(?([A-Za-z]{1,5})\)?)?(?:\s*\([^)]*\))?"
)
# asctime as used by HTTP: "Sun Nov  6 08:49:37 1994".
_ASCTIME = re.compile(
    r"[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})"
)


def _month(name: str) -> int | None:
    """Map an English/Russian/Armenian month name to its number."""
    low = name.lower()
    for prefix, number in _MONTHS:
        if low.startswith(prefix):
            return number
    return None


def _offset_minutes(zone: str) -> int | None:
    """Minutes east of UTC for '+0400', '+04:00', '+04', 'Z', 'GMT+03:00'; None if unknown."""
    zone = zone.strip()
    low = zone.lower()
    if low in _ZONES:
        return _ZONES[low]
    if low[:3] in ("gmt", "utc"):
        zone = zone[3:]
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", zone)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes >= 24 * 60:
        return None
    return -minutes if m.group(1) == "-" else minutes


def _build(
    year: int, month: int, day: int, clock: tuple[int, int, int, int] | None, offset: int | None
) -> str | None:
    """Validate the fields and format them, keeping the offset exactly as written."""
    try:
        if clock is None:
            return datetime(year, month, day).date().isoformat()
        hour, minute, second, micro = clock
        tz = timezone(timedelta(minutes=offset)) if offset is not None else None
        return datetime(year, month, day, hour, minute, min(second, 59), micro, tz).isoformat()
    except (ValueError, OverflowError):
        return None


def _year(text: str) -> int:
    """Expand two-digit years the way RFC 2822 readers do."""
    year = int(text)
    if len(text) == 2:
        year += 2000 if year < 50 else 1900
    return year


def _parse_iso(text: str) -> str | None:
    """W3C/ISO 8601 extended or basic form."""
    m = _ISO.fullmatch(text)
    if m:
        y, mo, d, hh, mi, ss, frac, zone = m.groups()
        clock = None
        if hh is not None:
            micro = int((frac or "0")[:6].ljust(6, "0"))
            clock = (int(hh), int(mi), int(ss or 0), micro)
        offset = _offset_minutes(zone) if zone else None
        if zone and offset is None:
            return None
        if clock is None and zone:
            clock = (0, 0, 0, 0)
        return _build(int(y), int(mo), int(d), clock, offset)
    m = _ISO_BASIC.fullmatch(text)
    if m:
        y, mo, d, hh, mi, ss, zone = m.groups()
        offset = _offset_minutes(zone) if zone else None
        return _build(int(y), int(mo), int(d), (int(hh), int(mi), int(ss or 0), 0), offset)
    return None


def _parse_dmy(text: str) -> str | None:
    """RFC 822/850 and 'day monthname year' forms in English, Russian and Armenian."""
    m = _DMY.fullmatch(text)
    if not m:
        return None
    d, mon, y, hh, mi, ss, num_zone, name_zone = m.groups()
    month = _month(mon)
    if month is None:
        return None
    clock = (int(hh), int(mi), int(ss or 0), 0) if hh is not None else None
    offset = None
    if num_zone:
        offset = _offset_minutes(num_zone)
    elif name_zone:
        offset = _ZONES.get(name_zone.lower())
    if clock is None and offset is not None:
        clock = (0, 0, 0, 0)
    return _build(_year(y), month, int(d), clock, offset)


def _parse_asctime(text: str) -> str | None:
    """C asctime(), which HTTP/1.1 still allows; it is always GMT."""
    m = _ASCTIME.fullmatch(text)
    if not m:
        return None
    mon, d, hh, mi, ss, y = m.groups()
    month = _month(mon)
    if month is None:
        return None
    return _build(int(y), month, int(d), (int(hh), int(mi), int(ss), 0), 0)


def parse_date(value: str | None) -> str | None:
    """Parse a feed/sitemap/HTTP date to ISO 8601 keeping its written offset; None if unknown."""
    if not value:
        return None
    text = " ".join(value.split())
    if not text or len(text) > 100:
        return None
    for parser in (_parse_iso, _parse_dmy, _parse_asctime):
        result = parser(text)
        if result is not None:
            return result
    return None
