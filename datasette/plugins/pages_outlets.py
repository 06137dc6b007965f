"""The outlets' pages: /outlets (every outlet, its volume and failures) and /outlet/<id>
(its registry entry, volume over time, latest articles, extraction failures)."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

from datasette.utils.asgi import NotFound, Response

from datasette import hookimpl


def _sibling(name: str) -> Any:
    """Sibling plugin modules are not importable by name; load one by path."""
    spec = importlib.util.spec_from_file_location(f"mw_outlets_{name}",
                                                  Path(__file__).with_name(f"{name}.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


charts = _sibling("pages_charts")
pages = _sibling("pages_archive")


async def outlets_page(datasette: Any, request: Any) -> Response:
    """Every outlet with its volume, its newest article and its failures."""
    db = datasette.get_database()
    rows = [dict(r) for r in await db.execute(
        "select s.id, s.name, s.kind, s.country, s.language, s.licence, "
        "(select count(*) from articles a where a.source_id = s.id) as articles, "
        # "+on_topic": count within the outlet's entries of articles_source_month; the index
        # on on_topic first read every on-topic article per outlet (7x slower at 100k).
        "(select count(*) from articles a where a.source_id = s.id and +on_topic = 1) "
        "as on_topic, "
        "(select count(*) from pages p where p.source_id = s.id and p.outcome in "
        "('empty', 'not_article', 'extraction_error')) as failures, "
        # What a monitor looks at first: has the outlet gone quiet, do its fetches fail? (The
        # fetch failures of crawler.archive.fetch_rows.FETCH_FAILURES, as on /health/<id>.)
        "(select max(published) from articles a where a.source_id = s.id) as newest, "
        "(select count(*) from pages p where p.source_id = s.id and p.outcome in "
        "('http_error', 'network_error', 'dropped', 'too_large', 'parse_error')) as failed "
        "from sources s order by s.name")]
    for r in rows:  # sources.language is a JSON list (["hy", "ru"]): shown as "hy, ru"
        r["language"] = languages_text(r.get("language"))
    if await db.table_exists("probes"):  # the last `sources probe --write` verdict
        probes = {r["source_id"]: dict(r) for r in await db.execute(
            "select source_id, probed_at, ok, summary from probes")}
        for r in rows:
            r["probe"] = probes.get(r["id"])
    return await pages._render(datasette, request, "mw_outlets.html", {"outlets": rows})


def languages_text(stored: str | None) -> str:
    """An outlet's languages as the registry stores them (a JSON list) in plain words."""
    try:
        langs = json.loads(stored or "[]")
    except ValueError:
        return stored or ""
    return ", ".join(str(x) for x in langs) if isinstance(langs, list) else str(langs)


MAX_MONTHS = 120  # longer spans are drawn per year: a bar per month would be under 6 px


def calendar_series(monthly: list[tuple[str, int, int]]
                    ) -> tuple[list[str], list[tuple[int, int]]]:
    """Every month from the first to the last (YYYY-MM, counts), months without articles as
    zeros, so that a gap in an outlet's coverage shows as one; per year past MAX_MONTHS."""
    found = {m: (n, k) for m, n, k in monthly if re.fullmatch(r"\d{4}-\d{2}", m or "")}
    if not found:
        return [], []
    y0, m0 = map(int, min(found).split("-"))
    y1, m1 = map(int, max(found).split("-"))
    months, y, m = [], y0, m0
    while (y, m) <= (y1, m1):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    if len(months) <= MAX_MONTHS:
        return months, [found.get(m, (0, 0)) for m in months]
    per_year = {str(y): (0, 0) for y in range(y0, y1 + 1)}
    for month, (n, k) in found.items():
        total, topical = per_year[month[:4]]
        per_year[month[:4]] = (total + n, topical + k)
    return list(per_year), list(per_year.values())


async def outlet_page(datasette: Any, request: Any) -> Response:
    """One outlet: registry entry, volume over time, latest articles, extraction failures."""
    db = datasette.get_database()
    oid = request.url_vars["id"]
    rows = list(await db.execute("select * from sources where id = ?", [oid]))
    if not rows:
        raise NotFound(f"No outlet {oid}")
    source = dict(rows[0])
    try:
        config = json.loads(source.get("config") or "{}")
    except ValueError:
        config = {}
    # The sources table keeps lists as JSON text: show them as lists, not escaped strings.
    config = {k: _listed(v) for k, v in config.items()}
    monthly = list(await db.execute(
        "select published_month, count(*), sum(on_topic) from articles where source_id = ? "
        "and published_month is not null group by published_month order by published_month",
        [oid]))
    periods, counts = calendar_series([(r[0], r[1], r[2] or 0) for r in monthly])
    chart = charts.grouped_bars(periods, {"articles": [c[0] for c in counts],
                                          "on topic": [c[1] for c in counts]},
                                f"Articles per {'month' if len(periods[0]) > 4 else 'year'}: "
                                f"{source['name']}" if periods else "No dated articles")
    latest = [dict(r) for r in await db.execute(
        "select id, title, published, lang, on_topic, extraction_status from articles "
        "where source_id = ? order by published desc limit 20", [oid])]
    failures = [dict(r) for r in await db.execute(
        "select id, url, outcome, error, last_fetched_at from pages where source_id = ? "
        "and outcome in ('empty', 'not_article', 'extraction_error') "
        "order by last_fetched_at desc limit 50", [oid])]
    return await pages._render(datasette, request, "mw_outlet.html", {
        "s": source, "config": json.dumps(config, ensure_ascii=False, indent=2),
        "chart": chart, "latest": latest, "failures": failures})


def _listed(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("["):
        try:
            return json.loads(value)
        except ValueError:
            pass
    return value


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """The outlets' pages."""
    return [(r"^/outlets$", outlets_page), (r"^/outlet/(?P<id>[^/]+)$", outlet_page)]
