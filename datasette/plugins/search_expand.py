"""Datasette plugin: multilingual search on articles through crawler/search/query.py.

`?_search=` on the articles table is rewritten at the ASGI edge into an FTS5 expression
(concept aliases + normalisation + light stemming) in `_mw_search`, which this plugin's
filter applies, so the table view, its facets and its CSV/JSON exports all search the same
way; `_mw_literal=1` skips the aliases and stemming. The canned queries call the same
expansion as SQL functions.

The filter is Datasette's own search clause with one change for large result sets: when a
search matches more than BROAD rows, `+rowid` keeps SQLite from reading every matching row
to sort them by date (seconds on a million articles); it walks the date index instead and
stops at the page.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import yaml
from datasette.filters import FilterArguments
from markupsafe import Markup, escape

from crawler.search.query import expand_query
from datasette import hookimpl

METADATA = Path(__file__).resolve().parents[1] / "metadata.yaml"
ARTICLES_PATH = re.compile(r"^/(?P<db>[^/]+)/articles(?:\.(?:json|csv))?$")
MARK_OPEN, MARK_CLOSE = "\u27e6", "\u27e7"  # snippet markers: rare in news, readable in CSV


def is_literal(value: str | None) -> bool:
    """Whether the literal-search switch is on."""
    return (value or "").lower() in ("1", "on", "true", "yes")


def rewrite_query_string(query_string: bytes) -> bytes:
    """Rewrite ?_search= into the expanded FTS5 expression (_mw_search); the words typed go in
    _mw_q."""
    args = parse_qsl(query_string.decode("utf-8", "replace"), keep_blank_values=True)
    values = dict(args)
    if "_search" not in values:
        return query_string
    search, original = values["_search"], values.get("_mw_q")
    literal = is_literal(values.get("_mw_literal"))
    # Hidden form fields carry _mw_q along: a new _search typed over it wins.
    if original is not None and search == (expand_query(original, literal=literal) or ""):
        query = original
    else:
        query = search
    expr = expand_query(query, literal=literal) if query.strip() else None
    if expr is None:
        return query_string
    drop = {"_search", "_mw_q", "_mw_search", "_searchmode"}
    kept = [(k, v) for k, v in args if k not in drop]
    kept += [("_mw_search", expr), ("_mw_q", query)]
    return urlencode(kept).encode()


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Expand ?_search= on the articles table (HTML, JSON and CSV alike)."""

    def wrap(app: Any) -> Any:
        async def expand(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and ARTICLES_PATH.match(scope.get("path", "")):
                qs = scope.get("query_string", b"")
                if b"_search=" in qs:
                    scope = dict(scope, query_string=rewrite_query_string(qs))
            await app(scope, receive, send)

        return expand

    return wrap


BROAD = 5000  # matches beyond which the table view walks the date index (see the docstring)


def search_clause(broad: bool) -> str:
    """The articles table's search condition (parameter :mw_search)."""
    return (f"{'+rowid' if broad else 'rowid'} in "
            "(select rowid from articles_fts where articles_fts match :mw_search)")


@hookimpl
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    """Search the articles table for the expanded query; show the words the user typed."""
    if table != "articles" or "_mw_search" not in request.args:
        return None
    expr, typed = request.args["_mw_search"], request.args.get("_mw_q", "")

    async def search() -> FilterArguments:
        count = await datasette.get_database(database).execute(
            "select count(*) from (select 1 from articles_fts where articles_fts match :q "
            f"limit {BROAD + 1})", {"q": expr})
        return FilterArguments(
            [search_clause(count.first()[0] > BROAD)], params={"mw_search": expr},
            human_descriptions=[f'search matches "{typed or expr}"'],
            extra_context={"search": typed or expr})

    return search()


@hookimpl
def prepare_connection(conn: Any) -> None:
    """SQL functions for canned queries: mw_query(q) and mw_query_literal(q)."""
    conn.create_function("mw_query", 1, lambda q: expand_query(q or "") or '""',
                         deterministic=True)
    conn.create_function("mw_query_literal", 1,
                         lambda q: expand_query(q or "", literal=True) or '""',
                         deterministic=True)


def highlight(value: str) -> Markup:
    """Escape a snippet first, then turn its match markers into <mark> elements."""
    safe = str(escape(value))
    return Markup(safe.replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>"))


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Any:
    """Highlighted snippets; article titles link to the article page (escaped)."""
    if column == "snippet" and isinstance(value, str) and MARK_OPEN in value:
        return highlight(value)
    if column == "title" and isinstance(value, str) and "id" in row.keys():
        if table == "articles" or (table is None and "source_id" in row.keys()):
            href = datasette.urls.path(f"/article/{row['id']}")
            return Markup('<a href="{}">{}</a>').format(href, value)
    return None


@lru_cache(maxsize=1)
def _archive_metadata() -> dict[str, Any]:
    data = yaml.safe_load(METADATA.read_text(encoding="utf-8"))
    return dict(data["databases"]["archive"])


@hookimpl
def get_metadata(datasette: Any, key: str, database: str | None, table: str | None) -> Any:
    """Apply the archive's metadata to any database name (public.db, private.db, ...)."""
    names = [n for n in datasette.databases if n not in ("_internal", "archive")]
    return {"databases": {name: _archive_metadata() for name in names}}
