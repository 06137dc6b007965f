"""Date evidence: collect every candidate, then choose one by a fixed rule.

The rule for the publication date (first valid candidate wins, in this order):

1. the page's own structured data: JSON-LD ``datePublished`` (article-like types first), then
   publication meta tags (``article:published_time`` and kin), then microdata ``itemprop``;
2. a full date in the URL path (``/2020/09/23/``); it also overrides structured data that
   disagrees with it, since paths are written once at publication while structured dates get
   rewritten on updates or given in UTC;
3. a date the page labels as its publication ("Veröffentlicht am", "Published:", "Опубликовано"),
   then a date that is a whole segment at the end (or start) of its title ("… | DW |
   28.04.2023"), then the visible dateline printed beside the headline ``<h1>`` (dates
   labelled as updates are never datelines);
4. generic meta names (``date``, ``dc.date``, ``dcterms.date``, ``created``): many CMSs fill
   them with the render or last-edit time, so they rank below what the page prints;
5. htmldate's guess (``original_date=True``, extensive search);
6. a ``<time>`` element (its ``datetime``, else its printed text);
7. the feed date, then the sitemap ``news:publication_date``.

A structured publication time that repeats a modification time exactly, while another
structured source states an earlier day, is a CMS rewriting the field and is set aside. When
structured sources (generic meta names included) still disagree among themselves, the day the
page prints (label, title segment or dateline) settles it, if a structured source states that
day other than by repeating a modification stamp; else the one htmldate agrees with wins. When
the page prints, as its label or dateline, the day that structured data gives as the
modification day and no structured source gives as publication, the printed day wins if that
modification came at least 12 hours after the publication: the site re-dated the page and
presents it under that date (an edit within hours is a correction). When the winner is written
in UTC and the same moment is also written in local time (with an offset, or naive with the
same minutes and seconds), the local one wins: its day is the publication day.

htmldate runs only when its guess can matter (``needs_guess``): when nothing ranked above it
exists, or structured sources disagree without a URL date or a printed day to settle them. When it does not run,
no ``htmldate`` candidate appears.

Date strings are read by :mod:`extract.dateparse` with the page's own numeric order (its locale,
language and unambiguous dates decide whether 03/04/2025 is the 3rd of April or 4th of March).

"Valid" means parseable, not before 1995, and not after the crawl time (``first_seen``, else
now) plus one day for time zones. A guess from htmldate equal to the crawl day is treated as
the site's "today" header and loses to a feed or sitemap date when one exists; a guess on a day
the page gives as its modification loses to any other publication evidence (htmldate fell back
on the update). A date that only appears in body text (unlabelled) can therefore never beat
structured metadata. Offsets are kept as written: converting to UTC would move late-evening
articles to the next day.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lxml.html import HtmlElement

from .dateline import labelled_dates, visible_dateline, visible_text
from .dateparse import DateStyle, numeric_order
from .datesources import (
    EARLIEST,
    DateCandidate,
    day_of,
    jsonld_candidates,
    jsonld_objects,
    meta_candidates,
    microdata_candidates,
    time_candidates,
    to_iso,
    url_date,
)
from .meta import declared_lang, declared_locale, meta_content
from .titles import title_date

__all__ = ["DateCandidate", "choose", "collect", "day_of", "jsonld_objects", "needs_guess",
           "to_iso", "upper_bound", "url_date"]  # fmt: skip


def collect(
    tree: HtmlElement | None,
    url: str | None,
    guess: str | Callable[[], str | None] | None,
    hints: Mapping[str, Any],
    jsonld: list[dict[str, Any]] | None = None,
) -> list[DateCandidate]:
    """Return every date candidate for a page, strongest evidence first within each source.

    ``guess`` may be a function running htmldate: it is then called only when the other
    evidence leaves the choice to htmldate (see ``needs_guess``), and an htmldate candidate is
    absent from the result when it was not run.
    """
    out: list[DateCandidate] = []
    if tree is not None:
        jsonld = jsonld if jsonld is not None else jsonld_objects(tree)
        visible = " ".join(visible_text(tree).split())
        style = date_style(tree, jsonld, visible)
        out += jsonld_candidates(jsonld, style)
        out += meta_candidates(tree, style)
        out += microdata_candidates(tree, style)
    if day := url_date(url):
        out.append(DateCandidate("published", day, "url"))
    if tree is not None:
        published, updated = labelled_dates(tree, style, visible)
        if published:
            out.append(DateCandidate("published", published, "label"))
        if updated:
            out.append(DateCandidate("modified", updated, "label"))
        for title in (tree.findtext(".//title"), meta_content(tree, "og:title")):
            if day := title_date(title):
                out.append(DateCandidate("published", day, "title"))
                break
        if line := visible_dateline(tree, style):
            out.append(DateCandidate("published", line, "dateline"))
        out += time_candidates(tree, style)
    if callable(guess):
        first_seen = hints.get("first_seen")
        guess = guess() if needs_guess(out, first_seen if isinstance(first_seen, str) else None) else None
    if guess_iso := to_iso(guess):
        out.append(DateCandidate("published", guess_iso, "htmldate"))
    for hint, kind, source in (
        ("feed_date", "published", "feed"),
        ("sitemap_date", "published", "sitemap"),
        ("sitemap_lastmod", "modified", "sitemap-lastmod"),
        ("last_modified", "modified", "http-last-modified"),
    ):
        if isinstance(hints.get(hint), str) and (iso := to_iso(hints[hint])):
            out.append(DateCandidate(kind, iso, source))
    return _unique(out)


_ISO_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")
_SLASHED = re.compile(r"(?<!\d)\d{1,2}/\d{1,2}/\d{4}(?!\d)")
_SLASHED_HINT = re.compile(r"\d/\d{1,2}/\d{4}(?!\d)")  # matches wherever _SLASHED does
# Dates that can be read only one way: ISO days and dotted day-first dates.
_PLAIN_DAY = re.compile(r"(?<![\d.])(?:(\d{4})-(\d{2})-(\d{2})|(\d{1,2})\.(\d{1,2})\.(\d{4}))(?![\d])")


def date_style(tree: HtmlElement, jsonld: list[dict[str, Any]], visible: str) -> DateStyle:
    """The page's numeric date order (by its own evidence) and language, for reading its dates."""
    values = [str(v) for obj in jsonld for k, v in obj.items() if k.startswith("date")]
    values += [m.get("content") or "" for m in tree.iter("meta") if "/" in (m.get("content") or "")[:12]]
    values += [t.get("datetime") or "" for t in tree.iter("time")]
    samples = [visible, *values]
    known: set[str] = set()
    # `_SLASHED_HINT` finds every text where `_SLASHED` can match, three times faster: most
    # pages have no slashed date, and numeric_order() then has no date to vote with either.
    if any(_SLASHED_HINT.search(v) and _SLASHED.search(v) for v in samples):
        # Ambiguous dates: find plain ones beside them.
        known = {m.group(1) for v in values if (m := _ISO_DAY.match(v))}
        for m in _PLAIN_DAY.finditer(visible):
            y, mo, d = (m[1], m[2], m[3]) if m[1] else (m[6], m[5], m[4])
            known.add(f"{int(y):04d}-{int(mo):02d}-{int(d):02d}")
    else:
        samples = []
    lang = declared_lang(tree)
    order = numeric_order(samples, declared_locale(tree), lang, known)
    return DateStyle(order, lang)


def _unique(cands: Iterable[DateCandidate]) -> list[DateCandidate]:
    seen: set[DateCandidate] = set()
    return [c for c in cands if not (c in seen or seen.add(c))]  # type: ignore[func-returns-value]


_STRUCTURED = ("json-ld", "meta:", "microdata")
_VISIBLE = ("label", "title", "dateline")
_PUBLISHED_ORDER = (
    *_STRUCTURED, "url", *_VISIBLE, "weak-meta:", "htmldate", "time-element", "feed", "sitemap"
)  # fmt: skip
_MODIFIED_ORDER = (*_STRUCTURED, "label", "sitemap-lastmod", "http-last-modified")
_GUESS_RANK = _PUBLISHED_ORDER.index("htmldate")


def _group(source: str, order: tuple[str, ...]) -> int:
    for i, prefix in enumerate(order):
        if source == prefix or (prefix.endswith(":") and source.startswith(prefix)):
            return i
    return len(order)


def upper_bound(first_seen: str | None) -> date:
    """Return the latest acceptable day: the crawl day (or today) plus one for time zones."""
    seen = day_of(to_iso(first_seen) or "") if first_seen else None
    return (seen or datetime.now(UTC).date()) + timedelta(days=1)


def _is_utc(value: str) -> bool:
    return value.endswith(("Z", "+00:00", "-00:00"))


def _local_first(best: DateCandidate, pool: list[DateCandidate]) -> DateCandidate:
    """Prefer evidence written in local time when the best one is UTC and a day apart."""
    if not _is_utc(best.value):
        return best
    for cand in pool:
        if not _is_utc(cand.value) and _same_instant(best.value, cand.value):
            if cand.value[:10] != best.value[:10]:
                return cand
    return best


def _same_instant(utc_value: str, other: str) -> bool:
    """True if other is the same moment written in local time (with an offset or without)."""
    try:
        a = datetime.fromisoformat(utc_value.replace("Z", "+00:00"))
        b = datetime.fromisoformat(other.replace("Z", "+00:00"))
    except ValueError:
        return False
    if "T" not in other:
        return False
    if b.tzinfo is not None:
        return abs((a - b).total_seconds()) <= 60
    # A naive local time differs from UTC by whole hours: same minutes and seconds.
    gap = abs((a.replace(tzinfo=None) - b).total_seconds())
    return (a.minute, a.second) == (b.minute, b.second) and gap <= 14 * 3600


def _days(cands: Iterable[DateCandidate]) -> set[str]:
    return {c.value[:10] for c in cands}


_REDATED_HOURS = 12


def _hours_between(first: str, later: str) -> float:
    """Hours from one ISO value to another; by calendar days when either has no time."""
    try:
        a = datetime.fromisoformat(first.replace("Z", "+00:00"))
        b = datetime.fromisoformat(later.replace("Z", "+00:00"))
        if "T" in first and "T" in later and (a.tzinfo is None) == (b.tzinfo is None):
            return (b - a).total_seconds() / 3600
    except ValueError:
        return 0.0
    return (b.date() - a.date()).days * 24.0


def _structured(valid: list[DateCandidate], modified: Iterable[str]) -> list[DateCandidate]:
    """Structured publication dates, without those that merely repeat a modification time
    while another structured source states an earlier day (a CMS rewriting the field)."""
    structured = [c for c in valid if _group(c.source, _STRUCTURED) < len(_STRUCTURED)]
    stamps = set(modified)
    kept = [c for c in structured if c.value not in stamps or "T" not in c.value]
    earliest = min((c.value[:10] for c in kept), default=None)
    if kept and len(kept) < len(structured) and earliest is not None and all(
            earliest < c.value[:10] for c in structured if c not in kept):
        return kept
    return structured


def _printed(visible: DateCandidate | None, pool: list[DateCandidate],
             modified: Iterable[str]) -> DateCandidate | None:
    """The printed date, if it is a day that some structured source states as publication
    other than by repeating a modification stamp (a page printing its update day settles
    nothing)."""
    stamps = set(modified)
    if visible is not None and visible.value[:10] in _days(c for c in pool if c.value not in stamps):
        return visible
    return None


def _choose_published(valid: list[DateCandidate], updated: dict[str, str],
                      modified: Iterable[str] = ()) -> DateCandidate | None:
    modified = list(modified)
    structured = _structured(valid, modified)
    url = next((c for c in valid if c.source == "url"), None)
    guess = next((c for c in valid if c.source == "htmldate"), None)
    visible = next((c for c in valid if c.source in _VISIBLE), None)
    if url is not None:
        same_day = [c for c in structured if c.value[:10] == url.value[:10]]
        return same_day[0] if same_day else _local_first(url, structured)
    if structured:
        # Generic meta names still settle disagreements and time zones among structured data.
        pool = structured + [c for c in valid if c.source.startswith("weak-meta:")]
        best = structured[0]
        if len(_days(pool)) > 1:
            # The day the page prints settles a disagreement among its structured sources;
            # htmldate, which reads the same metadata, settles it where the page prints none.
            judge = _printed(visible, pool, modified) or guess
            if judge is not None:
                best = next((c for c in pool if c.value[:10] == judge.value[:10]), best)
        # The page prints its update day as its date and no structured source calls that day
        # the publication: readers (and archives) date the page by what it prints, when it was
        # re-dated later (an edit within hours of publication is a correction, not a new date).
        if visible is not None and visible.value[:10] in set(updated) - _days(pool) \
                and _hours_between(best.value, updated[visible.value[:10]]) >= _REDATED_HOURS:
            return visible
        return _local_first(best, pool)
    return valid[0] if valid else None


def _valid(cands: list[DateCandidate], kind: str, first_seen: str | None) -> list[DateCandidate]:
    latest = upper_bound(first_seen)
    valid = [
        c for c in cands
        if c.kind == kind and (d := day_of(c.value)) is not None and EARLIEST <= d <= latest
    ]  # fmt: skip
    order = _PUBLISHED_ORDER if kind == "published" else _MODIFIED_ORDER
    valid.sort(key=lambda c: _group(c.source, order))  # stable: keeps in-source ranking
    return valid


def needs_guess(cands: list[DateCandidate], first_seen: str | None = None) -> bool:
    """True if htmldate's guess could change the published date chosen from these candidates."""
    valid = _valid(cands, "published", first_seen)
    if not any(_group(c.source, _PUBLISHED_ORDER) < _GUESS_RANK for c in valid):
        return True
    modified = [c.value for c in _valid(cands, "modified", first_seen)]
    structured = _structured(valid, modified)
    pool = structured + [c for c in valid if c.source.startswith("weak-meta:")]
    if not structured or any(c.source == "url" for c in valid) or len(_days(pool)) < 2:
        return False
    visible = next((c for c in valid if c.source in _VISIBLE), None)
    return _printed(visible, pool, modified) is None


def choose(
    cands: list[DateCandidate], kind: str, first_seen: str | None = None
) -> DateCandidate | None:
    """Apply the module's date rule to candidates of one kind."""
    valid = _valid(cands, kind, first_seen)
    if kind == "published":
        mods = _valid(cands, "modified", first_seen)
        updated = {c.value[:10]: c.value for c in reversed(mods)}
        best = _choose_published(valid, updated, [c.value for c in mods])
    else:
        best, updated = (valid[0] if valid else None), {}
    latest = upper_bound(first_seen)
    if best is not None and best.source == "htmldate" and best.value[:10] in updated:
        # htmldate fell back on the modification day: a publication date the page marks up
        # (its <time>, the feed) is the better evidence.
        later = [c for c in valid if c.value[:10] != best.value[:10] and c.source != "htmldate"]
        if later:
            return later[0]
    if best is not None and best.source == "htmldate" and day_of(best.value) == latest - timedelta(days=1):
        hinted = [c for c in valid if c.source in ("feed", "sitemap")]
        if hinted:
            return hinted[0]
    return best
