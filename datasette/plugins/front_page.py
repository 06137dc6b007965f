"""Datasette plugin: the front page `/` that starts the work, and Datasette's index at /-/tables.

The front page has the search box (all three languages, /search's expansion), a quick
attention comparison, the latest on-topic articles with outlet name, language and date,
counts per language and outlet kind for the last 30 days (published, and collected), a
small chart of the lexicon's naming concepts over the last twelve months (from
`framing_counts`, the compare page's aggregates), crawl health at a glance (outlets with
open alerts: failing or quiet) and the way to every other page. Every statement reads an
index or an aggregate, so the page stays fast on a large archive. Scraped values are
autoescaped by the template, never marked safe.
"""

from __future__ import annotations

import importlib.util
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from datasette.utils.asgi import Response
from datasette.views.index import IndexView

from crawler.archive.policy import flags_in_words
from crawler.clock import now
from crawler.search.attention import language_label
from datasette import hookimpl

_spec = importlib.util.spec_from_file_location("mw_front_charts",
                                               Path(__file__).with_name("pages_charts.py"))
assert _spec and _spec.loader
charts = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(charts)

LATEST = 12
CONCEPTS_SHOWN = 5

LATEST_SQL = """select a.id, a.title, a.source_id, a.lang, a.published, a.republication_of
from articles a indexed by articles_topic_source
where a.on_topic = 1 and a.published is not null and a.published < :tomorrow
order by a.published desc limit :n"""
PUBLISHED_SQL = """select d.lang, d.source_id, count(*) as n from article_days d
where d.day >= :since and d.day < :tomorrow group by 1, 2"""
COLLECTED_SQL = """select a.lang, a.source_id, count(*) as n
from articles a indexed by articles_first_seen
where a.first_seen_at >= :since group by 1, 2"""
CONCEPTS_SQL = """select c.concept, c.month, sum(c.articles) as n from framing_counts c
where c.kind = 'naming' and c.concept != '' and c.naming = '' and c.articles > 0
  and c.month >= :first and c.month <= :last group by 1, 2"""
MONTH_TOTALS_SQL = """select c.month, sum(c.articles) as n from framing_counts c
where c.kind = '' and c.concept = '' and c.naming = '' and c.articles > 0
  and c.month >= :first and c.month <= :last group by 1"""
# The newest on-topic edits and removals (/-/changes), along the partial indexes of 0017.
CHANGES_SQL = """select * from (
  select v.article_id, v.title, a.source_id, v.fetched_at as at, 'edited' as what, v.flags
  from article_versions v join articles a on a.id = v.article_id
  where v.version > 1 and +a.on_topic = 1 order by v.fetched_at desc limit :n)
union all select * from (
  select a.id, a.title, a.source_id, a.removed_at, 'taken down', null from articles a
  where a.removed_at is not null and +a.on_topic = 1 order by a.removed_at desc limit :n)
order by at desc limit :n"""
CHANGES_SHOWN = 5
LAST_MONTH_SQL = """select max(month) from framing_counts
where kind = '' and concept = '' and naming = '' and articles > 0 and month != ''
  and month <= :this_month"""


async def _tables(db: Any) -> set[str]:
    return {r[0] for r in await db.execute(
        "select name from sqlite_master where type in ('table', 'view')")}


def _months(last: str, n: int = 12) -> list[str]:
    end = date.fromisoformat(last + "-01")
    out = [end]
    while len(out) < n:
        out.insert(0, (out[0] - timedelta(days=1)).replace(day=1))
    return [d.isoformat()[:7] for d in out]


async def concept_chart(db: Any, today: date) -> dict[str, Any] | None:
    """The lexicon's most mentioned naming concepts, month by month, as a share of all
    independent articles (the twelve months up to the newest one with articles)."""
    last = list(await db.execute(LAST_MONTH_SQL, {"this_month": today.isoformat()[:7]}))
    if not last or not last[0][0]:
        return None
    months = _months(last[0][0])
    span = {"first": months[0], "last": months[-1]}
    totals = {r["month"]: r["n"] for r in await db.execute(MONTH_TOTALS_SQL, span)}
    counts: dict[str, dict[str, int]] = {}
    for r in await db.execute(CONCEPTS_SQL, span):
        counts.setdefault(r["concept"], {})[r["month"]] = r["n"]
    labels = {r[0]: r[1] for r in await db.execute("select id, label from lexicon_concepts")}
    top = sorted(counts, key=lambda c: (-sum(counts[c].values()), c))[:CONCEPTS_SHOWN]
    lines = []
    for i, concept in enumerate(top):
        label = labels.get(concept, concept)
        values = [counts[concept].get(m, 0) / totals[m] if totals.get(m) else 0.0
                  for m in months]
        lines.append(charts.Line(
            label, values, style=i,
            tips=[f"{label}, {m}: {counts[concept].get(m, 0)} of {totals.get(m, 0)} "
                  f"independent articles ({v:.1%})" for m, v in zip(months, values, strict=True)],
            hrefs=["/-/framing/kwic?" + urlencode({"concept": concept, "from": m, "to": m})
                   if counts[concept].get(m) else None for m in months]))
    svg = charts.line_chart(months, lines, "Naming concepts, last twelve months",
                            "month of publication", "share of independent articles",
                            percent=True, width=760, height=270)
    return {"svg": svg, "concepts": [(c, labels.get(c, c)) for c in top], "months": months}


async def front_page(datasette: Any, request: Any) -> Response:
    """The archive's front page."""
    db = datasette.get_database()
    today = now().date()
    tables = await _tables(db)
    names = {r[0]: (r[1] or r[0], r[2] or "?") for r in await db.execute(
        "select id, name, kind from sources")}
    tomorrow = (today + timedelta(days=1)).isoformat()
    latest = [dict(r) for r in await db.execute(LATEST_SQL, {"tomorrow": tomorrow,
                                                              "n": LATEST})]
    for a in latest:
        a["outlet"] = names.get(a["source_id"], (a["source_id"], ""))[0]
        a["language"] = language_label(a["lang"] or "und")
    since = (today - timedelta(days=30)).isoformat()
    recent: dict[str, dict[str, dict[str, int]]] = {"lang": {}, "kind": {}}
    for column, sql in (("published", PUBLISHED_SQL), ("collected", COLLECTED_SQL)):
        for r in await db.execute(sql, {"since": since, "tomorrow": tomorrow}):
            for group, key in (("lang", language_label(r["lang"] or "und")),
                               ("kind", names.get(r["source_id"], ("", "?"))[1])):
                cell = recent[group].setdefault(key, {"published": 0, "collected": 0})
                cell[column] += r["n"]
    ctx: dict[str, Any] = {
        "db": db.name, "latest": latest, "since": since, "today": today.isoformat(),
        "recent": {g: sorted(rows.items(), key=lambda kv: (-kv[1]["published"],
                                                          -kv[1]["collected"], kv[0]))
                   for g, rows in recent.items()},
        "totals": list(await db.execute(
            "select (select count(*) from articles), (select count(*) from sources), "
            "(select max(published) from articles where published < :t)", {"t": tomorrow}))[0],
        "concepts": await concept_chart(db, today) if "framing_counts" in tables else None,
        "health": await _health(db, tables, names),
        "withheld": await _withheld(db, tables),
        "changes": [dict(r, words=flags_in_words(r["flags"]), outlet=names.get(
            r["source_id"], (r["source_id"], ""))[0]) for r in await db.execute(
                CHANGES_SQL, {"n": CHANGES_SHOWN})] if "article_versions" in tables else [],
    }
    html = await datasette.render_template("mw_front.html", ctx, request=request)
    return Response.html(html)


async def _withheld(db: Any, tables: set[str]) -> str | None:
    """A public build's statement of what it withholds (crawler/ingest/publish.py)."""
    if "public_build" not in tables:
        return None
    row = (await db.execute("select value from public_build where key = 'statement'")).first()
    return row[0] if row else None


async def _health(db: Any, tables: set[str], names: dict[str, tuple[str, str]]
                  ) -> dict[str, Any] | None:
    """Outlets failing (an open alert other than went_quiet) or quiet, and the last run."""
    if not {"alerts", "health", "crawl_runs"} <= tables:
        return None
    alerts = [dict(r) for r in await db.execute(
        "select source_id, rule, reason, raised_at from alerts where cleared_at is null "
        "order by source_id, rule")]
    for a in alerts:
        a["outlet"] = names.get(a["source_id"], (a["source_id"], ""))[0]
    run = list(await db.execute("select id, started_at, finished_at, finish_reason, "
                                "articles_new from crawl_runs order by id desc limit 1"))
    watched = list(await db.execute(
        "select count(distinct source_id) from health"))[0][0]
    return {"failing": [a for a in alerts if a["rule"] != "went_quiet"],
            "quiet": [a for a in alerts if a["rule"] == "went_quiet"],
            "outlets": len(names), "watched": watched,
            "run": dict(run[0]) if run else None}


async def datasette_index(datasette: Any, request: Any) -> Response:
    """Datasette's own index (every database, table, view and query), one click away."""
    fmt = request.url_vars.get("format")
    request.scope["url_route"] = {"kwargs": {"format": fmt}}  # what IndexView reads
    response: Response = await IndexView(datasette).get(request)
    return response


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """`/` and `/-/tables`."""
    return [(r"^/$", front_page), (r"^/-/tables(\.(?P<format>json))?$", datasette_index)]
