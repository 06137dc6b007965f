"""Attention over time: how many articles match each query, per period and outlet/language.

Media Cloud's core view. For up to four queries (each expanded across en/ru/hy exactly as
/search expands it), matching articles are counted per period and per outlet, language or
the whole selection, next to all articles of that outlet/language in that period (the
share's denominator: Media Cloud's normalisation). The date is the article's publication
date (`articles.published`, its calendar day as the outlet wrote it); undated articles are
left out of every count and reported apart.

One statement walks the `article_days` index (schema migration 0010) over the date range
once: every dated article of the selection is counted and tested against each query's FTS
matches (materialised once per query, only the rowids of the selection's span), grouped
by day, outlet and language in index order. Periods and series are folded from those day
rows here. Reads only; no Datasette, no Scrapy.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from crawler.search.filters import FilterError, SearchFilters

INTERVALS = ("day", "week", "month")
BYS = ("outlet", "language", "none")
MAX_QUERIES = 4
MAX_PERIODS = 1500  # points per series; beyond this a coarser interval is asked for
DATE_BASIS = "published"
LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "hy": "Armenian"}
UNKNOWN_LANG = "und"  # ISO 639-2 "undetermined": articles whose language is unknown


class AttentionError(ValueError):
    """The request cannot be answered as asked; the message says why (HTTP 400)."""


@dataclass(frozen=True)
class AttentionRequest:
    """What to count: queries, grouping, interval and the shared search filters."""

    queries: tuple[str, ...]
    by: str = "outlet"
    interval: str = "month"
    filters: SearchFilters = field(default_factory=SearchFilters)

    def expanded(self) -> list[str]:
        """Each query's FTS5 expression (as /search expands it)."""
        out = []
        for q in self.queries:
            expr = self.filters.expand(q)
            if expr is None:
                raise AttentionError(f"nothing to search for in q={q!r}")
            out.append(expr)
        return out


def parse_request(getlist: Callable[[str], Sequence[str]]) -> AttentionRequest:
    """Parse and check request parameters; an AttentionError says what is wrong."""
    queries = tuple(q.strip() for q in getlist("q") if q.strip())
    if len(queries) > MAX_QUERIES:
        raise AttentionError(f"{len(queries)} queries given: compare at most {MAX_QUERIES} "
                             "(q=…&q=…) at a time")
    by = (list(getlist("by")) or ["outlet"])[0] or "outlet"
    interval = (list(getlist("interval")) or ["month"])[0] or "month"
    if by not in BYS:
        raise AttentionError(f"by={by!r}: use one of {', '.join(BYS)}")
    if interval not in INTERVALS:
        raise AttentionError(f"interval={interval!r}: use one of {', '.join(INTERVALS)}")
    try:
        filters = SearchFilters.from_args(getlist)
    except FilterError as exc:
        raise AttentionError(str(exc)) from None
    return AttentionRequest(queries, by, interval, filters)


# -- periods -------------------------------------------------------------------------------


def period_of(day: date, interval: str) -> str:
    """The period a day falls in: the day, its week's Monday, or YYYY-MM."""
    if interval == "day":
        return day.isoformat()
    if interval == "week":
        return (day - timedelta(days=day.weekday())).isoformat()
    return day.isoformat()[:7]


def periods(start: date, end: date, interval: str) -> list[str]:
    """Every period from start to end inclusive, in order."""
    out: list[str] = []
    day = start
    while day <= end:
        p = period_of(day, interval)
        if not out or out[-1] != p:
            out.append(p)
        if interval == "month":
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
        elif interval == "week":
            day = day - timedelta(days=day.weekday()) + timedelta(days=7)
        else:
            day += timedelta(days=1)
    return out


def period_bounds(period: str, interval: str) -> tuple[date, date]:
    """First and last day of a period (for links to the matching search)."""
    if interval == "month":
        first = date.fromisoformat(period + "-01")
        return first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    first = date.fromisoformat(period)
    return first, first + timedelta(days=6 if interval == "week" else 0)


def default_range(conn: sqlite3.Connection, today: date) -> tuple[date, date]:
    """The last twelve months up to the newest publication date (never after today)."""
    row = conn.execute("SELECT max(published) FROM articles WHERE published < ?",
                       [(today + timedelta(days=1)).isoformat()]).fetchone()
    try:
        end = date.fromisoformat(row[0][:10]) if row and row[0] else today
    except ValueError:
        end = today
    start = end.replace(day=1)
    for _ in range(11):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, end


def resolve_range(conn: sqlite3.Connection, req: AttentionRequest,
                  today: date) -> AttentionRequest:
    """Fill in a missing `from`/`to` with the default range; refuse a range too fine to draw."""
    f = req.filters
    if f.date_from is None or f.date_to is None:
        start, end = default_range(conn, today)
        if f.date_to is not None:
            end = f.date_to
            start = end.replace(day=1)
            for _ in range(11):
                start = (start - timedelta(days=1)).replace(day=1)
        if f.date_from is not None:
            start = f.date_from
            end = max(end, start)
        f = SearchFilters(f.langs, f.sources, f.on_topic, f.literal, f.independent, start, end)
    assert f.date_from and f.date_to
    n = len(periods(f.date_from, f.date_to, req.interval)) if (
        f.date_to - f.date_from).days < MAX_PERIODS * 31 else MAX_PERIODS + 1
    if n > MAX_PERIODS:
        raise AttentionError(f"{f.date_from} to {f.date_to} is {n} {req.interval}s: at most "
                             f"{MAX_PERIODS} per series; choose a coarser interval or a "
                             "shorter range")
    return AttentionRequest(req.queries, req.by, req.interval, f)


# -- counting --------------------------------------------------------------------------------


def days_where(filters: SearchFilters, alias: str = "d") -> tuple[str, dict[str, Any]]:
    """The selection as conditions on article_days (dates inclusive, outlets, languages,
    topic, independence); the same selection /search makes of article rows."""
    parts, params = [], {}
    if filters.date_from:
        parts.append(f"{alias}.day >= :mw_day_from")
        params["mw_day_from"] = filters.date_from.isoformat()
    if filters.date_to:
        parts.append(f"{alias}.day <= :mw_day_to")
        params["mw_day_to"] = filters.date_to.isoformat()
    cols, cparams = filters.column_sql(alias)
    if cols:
        parts.append(cols)
        params.update(cparams)
    if filters.independent:
        parts.append(f"{alias}.independent = 1")
    return " AND ".join(parts) or "1", params


def fts_in(param: str, column: str = "d.article_rowid") -> str:
    """`column` is the rowid of an FTS match of :param, within the rowids :lo..:hi."""
    return (f"{column} IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :{param} "
            "AND rowid BETWEEN :lo AND :hi)")


def count_sql(n_queries: int, filters: SearchFilters) -> tuple[str, dict[str, Any]]:
    """Articles and each query's matches per day, outlet and language, in one walk of the
    article_days index (groups stream in index order: no sort).

    Parameters :q0…:qN are the queries' filtered FTS expressions (SearchFilters.fts); :lo and
    :hi bound the rowids of the selection (rowid_span), so FTS reads only that part of each
    doclist."""
    where, params = days_where(filters)
    matches = "".join(f",\n  sum({fts_in(f'q{i}')}) AS m{i}" for i in range(n_queries))
    sql = f"""SELECT d.day, d.source_id, d.lang, count(*) AS total{matches}
FROM article_days d INDEXED BY article_days_day
WHERE {where}
GROUP BY d.day, d.source_id, d.lang"""
    return sql, params


def rowid_span(conn: sqlite3.Connection, filters: SearchFilters) -> tuple[int, int]:
    """The lowest and highest article rowid in the selection."""
    where, params = days_where(filters)
    row = conn.execute(f"SELECT min(d.article_rowid), max(d.article_rowid) FROM article_days d "
                       f"INDEXED BY article_days_day WHERE {where}", params).fetchone()
    return (int(row[0]), int(row[1])) if row and row[0] is not None else (1, 0)


def undated_sql(filters: SearchFilters) -> tuple[str, dict[str, Any]]:
    """Articles of the selection (dates aside) that have no publication date."""
    undated = dataclasses.replace(filters, date_from=None, date_to=None)
    where, params = days_where(undated)
    return (f"SELECT count(*) FROM article_days d INDEXED BY article_days_day "
            f"WHERE d.day = '' AND {where}"), params


def outlet_names(conn: sqlite3.Connection) -> dict[str, str]:
    """Outlet id -> display name (the registry's `name`)."""
    return {r[0]: r[1] or r[0] for r in conn.execute("SELECT id, name FROM sources")}


def language_label(code: str) -> str:
    """'Russian (ru)' for a language code."""
    if code == UNKNOWN_LANG:
        return "unknown language"
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def attention(conn: sqlite3.Connection, req: AttentionRequest, today: date) -> dict[str, Any]:
    """The /-/attention.json document for a request (see the module docstring)."""
    req = resolve_range(conn, req, today)
    f = req.filters
    assert f.date_from and f.date_to
    exprs = req.expanded()
    fts = [f.fts(e) for e in exprs]
    sql, params = count_sql(len(fts), f)  # (undated articles have day '': never in range)
    lo, hi = rowid_span(conn, f)
    params.update({f"q{i}": q for i, q in enumerate(fts)}, lo=lo, hi=hi)
    names = outlet_names(conn)
    all_periods = periods(f.date_from, f.date_to, req.interval)
    index = {p: i for i, p in enumerate(all_periods)}
    n = len(all_periods)
    totals: dict[str, list[int]] = {}
    matches: dict[str, list[list[int]]] = {}
    by_outlet: list[dict[str, int]] = [{} for _ in fts]
    by_lang: list[dict[str, int]] = [{} for _ in fts]
    seen_total: dict[str, int] = {}
    outlet_total: dict[str, int] = {}
    lang_total: dict[str, int] = {}
    for day, source_id, lang, total, *m in conn.execute(sql, params):
        try:
            p = index.get(period_of(date.fromisoformat(day), req.interval))
        except (TypeError, ValueError):
            p = None  # a malformed date: outside every period
        if p is None:
            continue
        lang = lang or UNKNOWN_LANG
        key = {"outlet": source_id or "", "language": lang, "none": "all"}[req.by]
        if key not in totals:
            totals[key], matches[key] = [0] * n, [[0] * n for _ in fts]
        totals[key][p] += total
        seen_total[key] = seen_total.get(key, 0) + total
        outlet_total[source_id or ""] = outlet_total.get(source_id or "", 0) + total
        lang_total[lang] = lang_total.get(lang, 0) + total
        for i, count in enumerate(m):
            matches[key][i][p] += count or 0
            if count:
                by_outlet[i][source_id or ""] = by_outlet[i].get(source_id or "", 0) + count
                by_lang[i][lang] = by_lang[i].get(lang, 0) + count
    if req.by == "outlet":
        for sid in f.sources:  # asked for by name: shown even when it has nothing here
            totals.setdefault(sid, [0] * n)
            matches.setdefault(sid, [[0] * n for _ in fts])
    if req.by == "none" and "all" not in totals:
        totals["all"], matches["all"] = [0] * n, [[0] * n for _ in fts]

    def label(key: str) -> str:
        return {"outlet": lambda: names.get(key, key), "language": lambda: language_label(key),
                "none": lambda: "all selected articles"}[req.by]()

    order = sorted(totals, key=lambda k: (-sum(sum(x) for x in matches[k]), -seen_total.get(
        k, 0), label(k)))
    series = []
    for i in range(len(fts)):
        for key in order:
            points = [{"period": period, "matches": matches[key][i][j], "total": totals[key][j],
                       "share": round(matches[key][i][j] / totals[key][j], 6)
                       if totals[key][j] else 0.0} for j, period in enumerate(all_periods)]
            series.append({"query": i, "key": key, "label": label(key), "points": points})
    undated = conn.execute(*undated_sql(f)).fetchone()[0]
    return {
        "queries": [{"q": q, "expanded": e} for q, e in zip(req.queries, exprs, strict=True)],
        "interval": req.interval, "by": req.by, "series": series,
        "from": f.date_from.isoformat(), "to": f.date_to.isoformat(),
        "date": DATE_BASIS, "periods": all_periods,
        "filters": {"lang": list(f.langs), "source": list(f.sources), "on_topic": f.on_topic,
                    "literal": f.literal, "independent": f.independent},
        "undated": {"articles": undated},
        "top_outlets": [_ranked(d, outlet_total, lambda k: names.get(k, k)) for d in by_outlet],
        "languages": [_ranked(d, lang_total, language_label) for d in by_lang],
    }


def _ranked(counts: dict[str, int], totals: dict[str, int],
            label: Callable[[str], str]) -> list[dict[str, Any]]:
    """Keys by matches (most first), with their totals and shares over the whole range."""
    return [{"key": k, "label": label(k), "matches": v, "total": totals.get(k, 0),
             "share": round(v / totals[k], 6) if totals.get(k) else 0.0}
            for k, v in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


CSV_COLUMNS = ("query", "key", "period", "matches", "total", "share")


def csv_rows(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The document's points as flat rows: query (as typed), key, period, matches, total, share."""
    rows = []
    for s in doc["series"]:
        q = doc["queries"][s["query"]]["q"]
        for p in s["points"]:
            rows.append((q, s["key"], p["period"], p["matches"], p["total"], p["share"]))
    return rows
