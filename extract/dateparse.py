"""The one date-string parser: feeds, sitemaps, HTTP headers and pages all read dates here.

``parse_date`` reads one value that is meant to be a date (a meta tag, a feed's pubDate, a
Last-Modified header) into ISO 8601: ``YYYY-MM-DD`` for a day, ``YYYY-MM-DDTHH:MM:SS`` for a
local time, with ``+HH:MM`` when the value states its offset (kept as written: converting to UTC
would move late-evening articles to the next day; ``Z`` and named zones become offsets;
fractions of a second are dropped). ``dates_in_text`` finds every day-precise date in free text
(datelines, labels, ``<time>`` text). Month names come from :mod:`extract.months`.

Numeric dates with the day and month both at most 12 (``03/04/2025``) are ambiguous. The caller
passes the order its evidence supports (``numeric_order``: the page's locale and language,
other dates on the page); a value settles it itself when one reading is impossible. Dots are
always day first (nobody writes month-first with dots). Without evidence, an AM/PM clock (a
US-style stamp) reads month first, dashes day first, and slashes follow the language: month
first for English, day first for every other language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from .months import month_number

DMY, MDY = "dmy", "mdy"


@dataclass(frozen=True)
class DateStyle:
    """How one page writes dates: the numeric order its evidence supports and its language."""

    order: str | None = None
    lang: str | None = None


ANY_STYLE = DateStyle()
# RFC 822 zones, plus the ones Russian and Armenian outlets emit. Unknown names give no offset.
_ZONES = {
    "gmt": 0, "ut": 0, "utc": 0, "z": 0, "wet": 0,
    "est": -300, "edt": -240, "cst": -360, "cdt": -300,
    "mst": -420, "mdt": -360, "pst": -480, "pdt": -420,
    "msk": 180, "msd": 240, "amt": 240, "cet": 60, "cest": 120, "eet": 120, "eest": 180,
    "bst": 60, "ist": 330, "jst": 540, "kst": 540, "aest": 600, "aedt": 660,
}  # fmt: skip
_ZONE = r"(Z|[+-]\d{2}(?::?\d{2})?|(?:GMT|UTC)\s*[+-]\d{1,2}(?::?\d{2})?|(?-i:[A-Z]{2,5})\b)"
_CLOCK = (r"(?:[T\s,]+(?:(?:в|um|à|at|a las|alle|kl\.?|saat)\s+)?(\d{1,2})[:.h](\d{2})"
          r"(?::(\d{2})(?:[.,]\d+)?)?(?:\s*([AaPp])\.?\s?[Mm]\.?)?(?:\s*(?:Uhr|ч\.?|h)\b)?)?")
_TAIL = rf"{_CLOCK}\s*(?:\(?{_ZONE}\)?)?"
_ISO = re.compile(rf"(\d{{4}})-(\d{{1,2}})-(\d{{1,2}})(?!\d){_TAIL}", re.I)
# 2024/05/14, 2024.05.14 and the Korean "2024. 5. 14." (a space after each dot).
_YMD = re.compile(rf"(\d{{4}})(?:/|\.\s?)(\d{{1,2}})(?:/|\.\s?)(\d{{1,2}})(?!\d)\.?{_TAIL}", re.I)
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(Z|[+-]\d{4})?)?$")
_NUMERIC = re.compile(rf"(\d{{1,2}})([./-])\s?(\d{{1,2}})\2\s?(\d{{4}})(?!\d)\.?{_TAIL}", re.I)
_WORD = r"([^\W\d_]{3,}\.?)"
_WEEKDAY = r"(?:[^\W\d_]+\.?,?\s+)?"
_DAY_MONTH_BODY = (r"(\d{1,2})(?:st|nd|rd|th|er|º|\.)?(?:\s+de\s|\s*-|\s)\s*" + _WORD
                   + r"(?:\s+de\s|,|-)?\s*(\d{4}|\d{2})(?!\d)(?:\s*(?:г\.?|года|թ\.?|р\.?))?")
_MONTH_DAY_BODY = _WORD + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?!\d)"
# Whole values may start with a weekday ("Mon, 12 May 2025"); in running text a weekday
# pattern would swallow the label before a date ("Aktualisiert 12. Mai"), so it is left out.
_DAY_MONTH = re.compile(_WEEKDAY + _DAY_MONTH_BODY + _TAIL, re.I)
_MONTH_DAY = re.compile(_WEEKDAY + _MONTH_DAY_BODY + _TAIL, re.I)
_DAY_MONTH_IN_TEXT = re.compile(_DAY_MONTH_BODY, re.I)
_MONTH_DAY_IN_TEXT = re.compile(_MONTH_DAY_BODY, re.I)
_YEAR_MONTH = re.compile(  # "2025 թ. մայիսի 14"
    rf"(\d{{4}})\s*(?:թ\.?|г\.?)?,?\s+{_WORD}\s+(\d{{1,2}})(?!\d)(?!\s*[:.]\d)", re.I)
_CJK = re.compile(r"(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]"
                  r"(?:[^\d]{0,6}(\d{1,2})[:時시]\s*(\d{2}))?")
_ASCTIME = re.compile(r"[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})$")
_EPOCH = re.compile(r"\d{10}$")
_MAX_WORDY = 60


def _offset(zone: str | None) -> int | None:
    """Minutes east of UTC for 'Z', '+0400', '+04:00', 'GMT+3', 'MSK'; None if unknown."""
    if not zone:
        return None
    low = zone.strip().lower()
    if low in _ZONES:
        return _ZONES[low]
    low = re.sub(r"^(gmt|utc)\s*", "", low)
    m = re.fullmatch(r"([+-])(\d{1,2}):?(\d{2})?", low)
    if not m:
        return None
    minutes = int(m.group(2)) * 60 + int(m.group(3) or 0)
    if minutes > 14 * 60:
        return None
    return -minutes if m.group(1) == "-" else minutes


def _year(text: str) -> int:
    """Two-digit years as RFC 2822 readers expand them."""
    year = int(text)
    return year + (2000 if year < 50 else 1900) if len(text) == 2 else year


def _build(y: int, mo: int, d: int, hh: str | None = None, mi: str | None = None,
           ss: str | None = None, ampm: str | None = None, zone: str | None = None) -> str | None:
    """Validate and format; a zone without a clock means midnight in that zone."""
    try:
        day = date(y, mo, d)
    except (ValueError, OverflowError):
        return None
    offset = _offset(zone)
    if zone and offset is None and not zone.isalpha():
        return None  # a malformed numeric offset: refuse rather than guess
    if hh is None and offset is None:
        return day.isoformat()
    hour, minute, second = int(hh or 0), int(mi or 0), min(int(ss or 0), 59)
    if ampm:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    out = f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}"
    if offset is not None:
        tz = timezone(timedelta(minutes=offset))
        out = datetime.fromisoformat(out).replace(tzinfo=tz).isoformat()
    return out


def resolve(first: int, second: int, order: str | None, ampm: bool = False,
            lang: str | None = None, sep: str = "/") -> tuple[int, int] | None:
    """(day, month) of a numeric date: impossible values, the separator, the order, defaults."""
    if first > 12 and second > 12:
        return None
    if first > 12:
        return first, second
    if second > 12:
        return second, first
    if sep == ".":
        return first, second  # nobody writes month-first with dots
    if order is None:
        order = MDY if ampm or (sep == "/" and (lang or "").startswith("en")) else DMY
    return (first, second) if order == DMY else (second, first)


def _clock(m: re.Match[str], at: int) -> tuple[str | None, ...]:
    """The (hour, minute, second, am/pm, zone) groups of a _TAIL starting at group ``at``."""
    return tuple(m.group(at + i) for i in range(5))


def parse_date(value: str | None, order: str | None = None, lang: str | None = None) -> str | None:
    """Parse one date value to ISO 8601 (see the module doc); None when it is not one."""
    if not value:
        return None
    text = " ".join(str(value).split())
    if not text or len(text) > 200:
        return None
    if m := _ISO.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]), *_clock(m, 4))
    if m := _YMD.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]), *_clock(m, 4))
    if m := _COMPACT.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]), m[4], m[5], m[6], None, m[7])
    if m := _NUMERIC.match(text):
        if dm := resolve(int(m[1]), int(m[3]), order, bool(m[8]), lang, m[2]):
            return _build(int(m[4]), dm[1], dm[0], *_clock(m, 5))
        return None
    if _EPOCH.match(text):
        return datetime.fromtimestamp(int(text), UTC).isoformat()
    for rx in (_DAY_MONTH, _MONTH_DAY):
        if (m := rx.match(text)) and (found := _named(m, rx is _DAY_MONTH, lang)):
            return found
    if m := _ASCTIME.match(text):
        month = month_number(m[1], "en")
        return _build(int(m[6]), month, int(m[2]), m[3], m[4], m[5], None, "GMT") if month else None
    if m := _CJK.match(text):
        return _build(int(m[1]), int(m[2]), int(m[3]), m[4], m[5])
    # A short phrase around a date ("Veröffentlicht am 24. Januar 2022"): its first day.
    if len(text) <= _MAX_WORDY and (days := dates_in_text(text, order, lang)):
        return days[0][2]
    return None


def _named(m: re.Match[str], day_first: bool, lang: str | None) -> str | None:
    """A date written with a month name, from a _DAY_MONTH or _MONTH_DAY match."""
    d, word, y = (m[1], m[2], m[3]) if day_first else (m[2], m[1], m[3])
    month = month_number(word, lang)
    if month is None or (len(y) == 2 and not day_first):
        return None
    return _build(_year(y), month, int(d), *_clock(m, 4))


def dates_in_text(text: str, order: str | None = None, lang: str | None = None
                  ) -> list[tuple[int, int, str]]:
    """Every day-precise date in a text as (start, end, YYYY-MM-DD), in order of position."""
    found: list[tuple[int, int, str]] = []
    for m in _DAY_MONTH_IN_TEXT.finditer(text):
        if len(m[3]) == 4 and (month := month_number(m[2], lang)):
            _add(found, m, _safe(int(m[3]), month, int(m[1])))
    for m in _MONTH_DAY_IN_TEXT.finditer(text):
        if month := month_number(m[1], lang):
            _add(found, m, _safe(int(m[3]), month, int(m[2])))
    for m in _YEAR_MONTH.finditer(text):
        if month := month_number(m[2], lang):
            _add(found, m, _safe(int(m[1]), month, int(m[3])))
    for m in _NUMERIC.finditer(text):
        if text[max(m.start() - 1, 0):m.start()] in _DIGITS_DOT:
            continue
        if dm := resolve(int(m[1]), int(m[3]), order, bool(m[8]), lang, m[2]):
            _add(found, m, _safe(int(m[4]), dm[1], dm[0]))
    for rx in (_ISO, _YMD, _CJK):
        for m in rx.finditer(text):
            if not text[max(m.start() - 1, 0):m.start()].isdigit():
                _add(found, m, _safe(int(m[1]), int(m[2]), int(m[3])))
    found.sort()
    # A date inside another one's span (the "12.05.2025" of "Mo, 12.05.2025") counts once.
    out: list[tuple[int, int, str]] = []
    for item in found:
        if not out or item[0] >= out[-1][1]:
            out.append(item)
    return out


_DIGITS_DOT = set("0123456789.")


def _add(found: list[tuple[int, int, str]], m: re.Match[str], day: str | None) -> None:
    if day:
        found.append((m.start(), m.end(), day))


def _safe(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


_SLASHED = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
_US_REGIONS = {"us", "ph", "fm", "mh", "pw", "as", "gu", "mp", "pr", "um", "vi"}


def numeric_order(samples: Iterable[str], locale: str | None = None, lang: str | None = None,
                  known_days: Iterable[str] = ()) -> str | None:
    """The numeric date order a page's evidence supports, or None when it has none.

    Evidence, strongest first: a numeric date on the page whose reading agrees with a date the
    page states unambiguously (``known_days``, e.g. ISO dates in its metadata); a numeric date
    that can only be read one way (a part above 12); the page's locale region (en-US is month
    first; en-GB, en-IN and every other region are day first); its language (not English: day
    first).
    """
    known = set(known_days)
    votes = {DMY: 0, MDY: 0}
    for sample in samples:
        for m in _SLASHED.finditer(sample):
            first, second, year = int(m[1]), int(m[2]), int(m[3])
            if first > 12 or second > 12:
                votes[DMY if first > 12 else MDY] += 2
                continue
            for reading, (d, mo) in ((DMY, (first, second)), (MDY, (second, first))):
                if first != second and _safe(year, mo, d) in known:
                    votes[reading] += 3
    if votes[DMY] != votes[MDY]:
        return DMY if votes[DMY] > votes[MDY] else MDY
    if locale and (region := re.split(r"[-_]", locale.strip().lower())[1:2]):
        return MDY if region[0] in _US_REGIONS else DMY
    if lang and not lang.lower().startswith("en"):
        return DMY
    return None
