"""The filters every search-like page shares: /search, /-/attention, saved searches and feeds.

One parser and one meaning for `literal`, `lang`, `source`, `on_topic`, `independent`,
`access`, `from` and `to`, so a count on the attention page is exactly the number of hits its link
to /search shows. Language, outlet and topic filter inside the FTS index (search_meta
tokens, crawler.search.query.filtered_query); the publication date range and "independent
articles only" are conditions on the article row. Pure: builds SQL text, runs none.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from crawler.search.query import expand_query, filtered_query

# Copies (wire reprints, syndication, translations) are not independent articles: the same
# rule as the framing_articles view (schema migration 0003), so each story counts once.
COPY_ROLES = ("republication", "translation")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_VALUE = re.compile(r"^[\w.:-]{1,100}$", re.UNICODE)
TRUE = ("1", "on", "true", "yes")
# articles.access: a paywalled or teaser page is an article too (headline, byline, date and
# teaser kept), and every count can include or leave it out.
ACCESS = ("open", "paywalled", "teaser")


class FilterError(ValueError):
    """A filter parameter is malformed; the message says which and how to write it."""


def parse_date(value: str, name: str) -> date | None:
    """A YYYY-MM-DD parameter as a date ('' is None); anything else is a FilterError."""
    value = (value or "").strip()
    if not value:
        return None
    if not _DATE.match(value):
        raise FilterError(f"{name}={value!r} is not a date: write YYYY-MM-DD, e.g. 2024-02-01")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise FilterError(f"{name}={value!r} is not a calendar date") from None


def independent_sql(alias: str = "a") -> str:
    """SQL condition: the article is no republication or translation of another."""
    roles = ", ".join(f"'{r}'" for r in COPY_ROLES)
    return (f"{alias}.republication_of IS NULL AND NOT EXISTS (SELECT 1 FROM story_articles sa "
            f"WHERE sa.article_id = {alias}.id AND sa.role IN ({roles}))")


@dataclass(frozen=True)
class SearchFilters:
    """Which articles a query is searched in (every field empty: the whole archive)."""

    langs: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    on_topic: str = ""  # "" any, "1" on topic only, "0" off topic only
    literal: bool = False
    independent: bool = False
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    access: tuple[str, ...] = ()  # () any; else only these articles.access values

    @classmethod
    def from_args(cls, getlist: Callable[[str], Sequence[str]]) -> SearchFilters:
        """Parse request parameters (getlist(name) -> every value given for name)."""
        def first(name: str) -> str:
            values = [v for v in getlist(name) if v]
            return values[0].strip() if values else ""

        def listed(name: str) -> tuple[str, ...]:
            out: list[str] = []
            for v in getlist(name):
                v = v.strip()
                if not v:
                    continue
                if not _VALUE.match(v):
                    raise FilterError(f"{name}={v!r} is not a valid {name} id")
                if v not in out:
                    out.append(v)
            return tuple(out)

        on_topic = first("on_topic")
        if on_topic not in ("", "0", "1"):
            raise FilterError(f"on_topic={on_topic!r}: use 1 (on topic only) or 0 (off topic)")
        access = listed("access")
        unknown = [a for a in access if a not in ACCESS]
        if unknown:
            raise FilterError(f"access={unknown[0]!r}: use {', '.join(ACCESS)} (repeatable)")
        start, end = parse_date(first("from"), "from"), parse_date(first("to"), "to")
        if start and end and start > end:
            raise FilterError(f"from={start} is after to={end}")
        return cls(langs=listed("lang"), sources=listed("source"), on_topic=on_topic,
                   literal=first("literal").lower() in TRUE,
                   independent=first("independent").lower() in TRUE,
                   date_from=start, date_to=end, access=access)

    def expand(self, query: str) -> str | None:
        """The FTS5 expression of a query, expanded exactly as /search expands it."""
        return expand_query(query, literal=self.literal) if query.strip() else None

    def fts(self, expr: str) -> str:
        """The expression restricted to these languages, outlets and topic (index only)."""
        return filtered_query(expr, lang=self.langs, source_id=self.sources,
                              on_topic=self.on_topic)

    def row_sql(self, alias: str = "a", dates: bool = True) -> tuple[str, dict[str, Any]]:
        """Conditions on the article row the FTS index cannot answer (publication date range,
        independence, access): SQL + params."""
        parts: list[str] = []
        params: dict[str, Any] = {}
        if dates and self.date_from:
            parts.append(f"{alias}.published >= :mw_from")
            params["mw_from"] = self.date_from.isoformat()
        if dates and self.date_to:
            parts.append(f"{alias}.published < :mw_to_next")
            params["mw_to_next"] = (self.date_to + timedelta(days=1)).isoformat()
        if self.independent:
            parts.append(independent_sql(alias))
        if self.access:
            names = [f"mw_access_{i}" for i in range(len(self.access))]
            parts.append(f"{alias}.access IN ({', '.join(':' + n for n in names)})")
            params.update(zip(names, self.access, strict=True))
        return " AND ".join(parts), params

    def column_sql(self, alias: str = "a") -> tuple[str, dict[str, Any]]:
        """The filters that are columns of articles and article_days (language, outlet, topic,
        access) as conditions."""
        parts: list[str] = []
        params: dict[str, Any] = {}
        for column, values in (("lang", self.langs), ("source_id", self.sources),
                               ("access", self.access)):
            if values:
                names = [f"mw_{column}_{i}" for i in range(len(values))]
                parts.append(f"{alias}.{column} IN ({', '.join(':' + n for n in names)})")
                params.update(zip(names, values, strict=True))
        if self.on_topic:
            parts.append(f"{alias}.on_topic = {int(self.on_topic)}")
        return " AND ".join(parts), params

    def args(self, **override: Any) -> list[tuple[str, str]]:
        """These filters as URL parameters (for links to /search and back)."""
        values: dict[str, Any] = {
            "lang": list(self.langs), "source": list(self.sources), "on_topic": self.on_topic,
            "literal": "1" if self.literal else "", "independent": "1" if self.independent else "",
            "access": list(self.access),
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else ""}
        values.update(override)
        out: list[tuple[str, str]] = []
        for name, value in values.items():
            for v in value if isinstance(value, list | tuple) else [value]:
                if v not in ("", None):
                    out.append((name, str(v)))
        return out
