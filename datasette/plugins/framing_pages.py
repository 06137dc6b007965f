"""Datasette plugin: framing pages (compare, KWIC, stories, vocabulary runs) and canned queries.

Every number on these pages links to the KWIC lines it counts. Counts exclude copies
(republications and translations), exactly as the SQL views do; the KWIC page can show
copies on request. All values are rendered through Jinja autoescape; nothing scraped is
marked safe. Read-only: the pages only run SELECTs.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import quote, urlencode

from datasette.utils.asgi import Response

from crawler.framing.compare import FRAMES, compare_numbers, compare_sql, counts_filter
from crawler.framing.evidence import copy_evidence
from datasette import hookimpl

NAMING_COLORS = {
    "armenian-usage": "#e07a5f", "international": "#1f6f8b", "russian-official": "#b23a48",
    "azerbaijani-usage": "#2a9d8f", "generic": "#9a9a9a", "descriptive": "#6d597a",
}
FRAME_COLORS = ["#3d405b", "#81b29a", "#f2cc8f", "#9c6644", "#457b9d", "#b56576"]
KWIC_LIMIT = 1000
DENSE_LINES = 20 * KWIC_LIMIT  # beyond this, walking articles by date finds a page sooner


def _concept_filter(concept: str) -> str:
    return "m.kind = 'frame'" if concept == FRAMES else "m.concept = :concept"


async def _rows(db: Any, sql: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    result = await db.execute(sql, params or {})
    return [dict(r) for r in result.rows]


def _params(request: Any) -> dict[str, str]:
    a = request.args
    return {"concept": a.get("concept") or "karabakh", "from": a.get("from") or "",
            "to": a.get("to") or "", "lang": a.get("lang") or ""}


def kwic_href(**params: Any) -> str:
    """The KWIC page URL for a filter (empty values dropped)."""
    return "/-/framing/kwic?" + urlencode({k: v for k, v in params.items() if v not in ("", None)})


async def _render(datasette: Any, request: Any, template: str, ctx: dict[str, Any]) -> Response:
    db = datasette.get_database()
    ctx = {"db": db.name, "kwic_href": kwic_href, **ctx}
    return Response.html(await datasette.render_template(template, ctx, request=request))


async def _settings(db: Any) -> dict[str, str]:
    return {r["key"]: r["value"] for r in await _rows(db, "SELECT key, value FROM framing_settings")}


async def _compare(db: Any, p: dict[str, str]) -> dict[str, Any]:
    """The compare numbers for a concept and period (crawler.framing.compare)."""
    settings = await _settings(db)
    mentions = int(settings.get("thin_min_mentions") or 5)
    articles = int(settings.get("thin_min_articles") or 3)
    rows = {name: await _rows(db, sql, p) for name, sql in compare_sql(p["concept"]).items()}
    return {**compare_numbers(rows, mentions, articles), "thin_mentions": mentions,
            "thin_articles": articles, "settings": settings}


async def compare_page(datasette: Any, request: Any) -> Response:
    """Naming shares per outlet (chart), rates over time and attention, for one concept/period."""
    db = datasette.get_database()
    p = _params(request)
    concepts = await _rows(db, "SELECT id, kind, label, namings FROM lexicon_concepts "
                               "ORDER BY kind DESC, id")
    kind = "frame" if p["concept"] == FRAMES else next(
        (c["kind"] for c in concepts if c["id"] == p["concept"]), "naming")
    numbers = await _compare(db, p)
    colors = {n: NAMING_COLORS.get(n, FRAME_COLORS[i % len(FRAME_COLORS)])
              for i, n in enumerate(numbers["namings"])}
    for bar in numbers["bars"]:
        for seg in bar["segments"]:
            seg["color"] = colors[seg["naming"]]
    return await _render(datasette, request, "framing_compare.html", {
        **numbers, "p": p, "kind": kind, "concepts": concepts, "FRAMES": FRAMES,
        "concept": next((c for c in concepts if c["id"] == p["concept"]), None),
        "colors": colors, "data_args": urlencode({k: v for k, v in p.items() if v})})


async def compare_data(datasette: Any, request: Any) -> Response:
    """The compare page's numbers: .json (bars, table, months) or .csv (one row per outlet and
    naming, with the outlet's totals), for a report's own tables and charts."""
    p = _params(request)
    numbers = await _compare(datasette.get_database(), p)
    if request.url_vars["format"] == "json":
        return Response.json({"filters": p, **{k: numbers[k] for k in (
            "bars", "table", "months", "thin_mentions", "thin_articles")},
            "monthly": [r for cells in numbers["grid"].values() for r in cells.values()]})
    by_outlet = {r["source_id"]: r for r in numbers["table"]}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["source_id", "naming", "mentions", "share", "articles_with_naming",
                     "outlet_articles", "outlet_words", "outlet_mentions", "per_1000_words",
                     "articles_mentioning", "attention", "thin"])
    for bar in numbers["bars"]:
        o = by_outlet.get(bar["source_id"], {})
        for seg in bar["segments"]:
            writer.writerow([bar["source_id"], seg["naming"], seg["mentions"],
                             f"{seg['share']:.4f}", seg["articles"], o.get("articles"),
                             o.get("words"), o.get("mentions"), f"{o.get('rate', 0.0):.3f}",
                             o.get("matching"), f"{o.get('attention', 0.0):.4f}",
                             int(bool(bar["thin"] or o.get("thin")))])
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8")


def kwic_lines_sql(concept: str) -> str:
    """How many lines a concept has (independent articles; framing_counts), to plan KWIC."""
    return (f"SELECT coalesce(sum(c.mentions), 0) FROM framing_counts c "
            f"WHERE {counts_filter(concept, 'concept')} AND c.articles > 0")


def kwic_sql(p: dict[str, str], lines: int = 0) -> str:
    """The KWIC page's statement for its filters (concept, source, naming, variant, article,
    from, to, lang, copies: the parameters it runs with), given the concept's `lines`.

    Lines are shown in publication order, oldest first or (order=newest) newest first, so
    when there are many (more than DENSE_LINES) or one outlet is asked for (every link from a
    number is), the statement walks articles in that order (articles_published or
    articles_source_published, either way; a month range as a range of dates) and stops at
    the limit; a rarer concept starts from its own lines. An article's lines keep its order.
    """
    walk = not p.get("article") and bool(p.get("source") or lines > DENSE_LINES)
    # Walking articles, a line is found by its article (kwic_article): the unary + keeps the
    # planner from scanning a concept's lines once per article (kwic_concept).
    k = "+k." if walk else "k."
    where = [] if p.get("copies") else ["fa.independent = 1"]
    where.append(_concept_filter(p["concept"]).replace("m.", k))
    for key, column in (("source", "fa.source_id"), ("naming", f"{k}naming"),
                        ("variant", f"{k}variant"), ("article", "k.article_id"),
                        ("lang", "fa.lang")):
        if p.get(key):
            where.append(f"{column} = :{key}")
    if p.get("from"):
        where.append("fa.month >= :from")
    if p.get("to"):
        where.append("fa.month <= :to")
    driver = "kwic k JOIN articles a ON a.id = k.article_id"
    if walk:
        driver = "articles a CROSS JOIN kwic k ON k.article_id = a.id"
        if p.get("source"):
            where.append("a.source_id = :source")
        # published_month is published's first seven characters: the same months as dates
        if p.get("from"):
            where.append("a.published >= :from")
        if p.get("to"):
            where.append("a.published < :to || '~'")
    desc = "DESC" if p.get("order") == "newest" else ""
    return f"""
        SELECT k.article_id, k.kind, k.concept, k.naming, k.variant, k.field, k."left" AS l,
               k.hit, k."right" AS r, k."offset" AS off, fa.source_id, fa.role, fa.independent,
               a.published, a.title, a.lang
        FROM {driver} CROSS JOIN framing_articles fa ON fa.article_id = k.article_id
        WHERE {" AND ".join(where)}
        ORDER BY a.published {desc}, k.article_id {desc}, k.field DESC, k."offset"
        LIMIT {KWIC_LIMIT + 1}"""


def kwic_csv_href(db: str, p: dict[str, str]) -> str:
    """The same lines as CSV, every one of them: the kwic_lines view with the page's filters."""
    args = {"kind": "frame"} if p["concept"] == FRAMES else {"concept": p["concept"]}
    for key, column in (("source", "source_id"), ("naming", "naming"), ("variant", "variant"),
                        ("article", "article_id"), ("lang", "lang"), ("from", "month__gte"),
                        ("to", "month__lte")):
        if p.get(key):
            args[column] = p[key]
    if not p.get("copies"):
        args["independent__gt"] = "0"  # a view's columns have no type: "=1" matches no integer
    args["_sort_desc" if p.get("order") else "_sort"] = "published"
    return f"/{quote(db)}/kwic_lines.csv?" + urlencode({**args, "_stream": "on", "_size": "max"})


async def kwic_page(datasette: Any, request: Any) -> Response:
    """The KWIC lines behind a number: filter by outlet, concept, naming, variant, article, period."""
    db = datasette.get_database()
    a = request.args
    p = {**_params(request), "source": a.get("source") or "", "naming": a.get("naming") or "",
         "variant": a.get("variant") or "", "article": a.get("article") or "",
         "copies": "1" if a.get("copies") else "",
         "order": "newest" if a.get("order") == "newest" else ""}
    count = (await db.execute(kwic_lines_sql(p["concept"]), p)).first()[0]
    lines = await _rows(db, kwic_sql(p, count), p)
    return await _render(datasette, request, "framing_kwic.html", {
        "p": p, "lines": lines[:KWIC_LIMIT], "truncated": len(lines) > KWIC_LIMIT,
        "toggle": kwic_href(**{**p, "copies": "" if p["copies"] else "1"}),
        "toggle_order": kwic_href(**{**p, "order": "" if p["order"] else "newest"}),
        "csv": kwic_csv_href(db.name, p),
        "withheld": await public_statement(db),
    })


async def public_statement(db: Any) -> str | None:
    """What a public build withholds (None for an archive or a private build)."""
    if "public_build" not in await db.table_names():
        return None
    row = (await db.execute("SELECT value FROM public_build WHERE key = 'statement'")).first()
    return row[0] if row else None


STORIES_PAGE, STORIES_MAX = 100, 500  # stories per page: default, most with ?size=


def _positive(value: str | None, default: int, most: int) -> int:
    """A page number or size from the query string; a bad one is the default."""
    return min(max(int(value), 1), most) if (value or "").isdigit() else default


def _link(path: str, keep: dict[str, str], **change: str) -> str:
    """``path`` with the query string ``keep`` changed by ``change`` (empty values dropped)."""
    query = urlencode({k: v for k, v in {**keep, **change}.items() if v})
    return path + (f"?{query}" if query else "")


def _pages(path: str, keep: dict[str, str], page: int, more: bool) -> tuple[str | None, str | None]:
    """The links to the next page (when there is ``more``) and to the one before (page 1 has
    no ?page=)."""
    return (_link(path, keep, page=str(page + 1)) if more else None,
            _link(path, keep, page=str(page - 1) if page > 2 else "") if page > 1 else None)


async def stories_page(datasette: Any, request: Any) -> Response:
    """Stories covered by at least two outlets (or all, with ?all=1; on-topic ones only with
    ?on_topic=1), newest first, a page at a time (?page=, ?size=)."""
    db, args = datasette.get_database(), request.args
    show_all, on_topic = bool(args.get("all")), args.get("on_topic") == "1"
    size, page = _positive(args.get("size"), STORIES_PAGE, STORIES_MAX), _positive(args.get("page"), 1, 10**6)
    where = "n_outlets >= :min" + (" AND on_topic = 1" if on_topic else "")
    # Backwards along stories_first_published (migration 0016): one page, never the whole table.
    stories = await _rows(db, f"SELECT * FROM stories WHERE {where} ORDER BY first_published "
                              "DESC, id DESC LIMIT :n OFFSET :skip",
                          {"min": 1 if show_all else 2, "n": size + 1, "skip": (page - 1) * size})
    path = "/-/framing/stories"
    keep = {"all": "1" if show_all else "", "on_topic": "1" if on_topic else "",
            "size": str(size) if size != STORIES_PAGE else ""}
    older, newer = _pages(path, keep, page, len(stories) > size)
    return await _render(datasette, request, "framing_stories.html", {
        "stories": stories[:size], "show_all": show_all, "on_topic": on_topic, "page": page,
        "older": older, "newer": newer,
        "toggle_all": _link(path, keep, all="" if show_all else "1"),
        "toggle_topic": _link(path, keep, on_topic="" if on_topic else "1"),
        "settings": await _settings(db)})


STORY_PAGE, STORY_MAX = 200, 1000  # a story's articles per page: default, most with ?size=


async def story_page(datasette: Any, request: Any) -> Response:
    """One story: its outlets, then its articles a page at a time (?page=, ?size=), when,
    language, headline, namings and frames, copies marked."""
    db, args = datasette.get_database(), request.args
    sid = request.url_vars["id"]
    story = await _rows(db, "SELECT * FROM stories WHERE id = :id", {"id": sid})
    if not story:
        return Response.html("<h1>No such story</h1>", status=404)
    size, page = _positive(args.get("size"), STORY_PAGE, STORY_MAX), _positive(args.get("page"), 1, 10**6)
    newest = args.get("order") == "newest"  # a running story's latest coverage first
    # A story can run for years (a recurring column, a chain of follow-ups): one page of its
    # articles, and the namings of those only.
    members = await _rows(db, f"""
        SELECT sa.*, a.source_id, a.published, a.lang,
               a.title, a.url, c.source_id AS copy_source, c.title AS copy_title
        FROM story_articles sa JOIN articles a ON a.id = sa.article_id
        LEFT JOIN articles c ON c.id = sa.copy_of
        WHERE sa.story_id = :id ORDER BY {"a.published DESC, a.id DESC" if newest else
                                          "a.published, a.id"} LIMIT :n OFFSET :skip""",
                          {"id": sid, "n": size + 1, "skip": (page - 1) * size})
    more, members = len(members) > size, members[:size]
    uses: dict[str, list[dict[str, Any]]] = {}
    for u in await _rows(db, """
            SELECT m.article_id, m.kind, m.concept, m.naming, sum(m.n) AS n FROM mentions m
            WHERE m.article_id IN (SELECT value FROM json_each(:ids))
            GROUP BY m.article_id, m.kind, m.concept, m.naming
            ORDER BY m.kind DESC, m.concept, n DESC""",
                         {"ids": json.dumps([m["article_id"] for m in members])}):
        uses.setdefault(u["article_id"], []).append(u)
    for m in members:
        m["evidence"] = copy_evidence(m)
        m["namings"] = [u for u in uses.get(m["article_id"], []) if u["kind"] == "naming"]
        m["frames"] = [u for u in uses.get(m["article_id"], []) if u["kind"] == "frame"]
    outlets = await _rows(db, """
        SELECT a.source_id, count(*) AS n, min(a.published) AS first, max(a.published) AS last,
               sum(sa.role NOT IN ('republication', 'translation')) AS independent
        FROM story_articles sa JOIN articles a ON a.id = sa.article_id
        WHERE sa.story_id = :id GROUP BY a.source_id ORDER BY first, a.source_id""", {"id": sid})
    path = f"/-/framing/story/{quote(sid, safe='')}"
    keep = {"size": str(size) if size != STORY_PAGE else "", "order": "newest" if newest else ""}
    onward, back = _pages(path, keep, page, more)
    return await _render(datasette, request, "framing_story.html", {
        "story": story[0], "members": members, "colors": NAMING_COLORS, "outlets": outlets,
        "first": (page - 1) * size + 1, "onward": onward, "back": back, "newest": newest,
        "toggle_order": _link(path, {**keep, "order": "" if newest else "newest"})})


async def vocabulary_page(datasette: Any, request: Any) -> Response:
    """Stored distinctive-vocabulary runs, or one run with its parameters and top terms."""
    db = datasette.get_database()
    run_id = request.url_vars.get("id")
    if run_id is None:
        runs = await _rows(db, "SELECT * FROM fw_runs ORDER BY id DESC")
        return await _render(datasette, request, "framing_vocabulary.html",
                             {"runs": runs, "run": None})
    run = await _rows(db, "SELECT * FROM fw_runs WHERE id = :id", {"id": run_id})
    if not run:
        return Response.html("<h1>No such run</h1>", status=404)
    terms = await _rows(db, "SELECT * FROM fw_terms WHERE run_id = :id ORDER BY favours, rank",
                        {"id": run_id})
    return await _render(datasette, request, "framing_vocabulary.html", {
        "runs": None, "run": run[0],
        "favour_a": [t for t in terms if t["favours"] == "a"],
        "favour_b": [t for t in terms if t["favours"] == "b"]})


async def index_page(datasette: Any, request: Any) -> Response:
    """The framing section's front page: what is measured and where to look."""
    db = datasette.get_database()
    concepts = await _rows(db, "SELECT * FROM lexicon_concepts ORDER BY kind DESC, id")
    return await _render(datasette, request, "framing_index.html", {
        "concepts": concepts, "settings": await _settings(db), "FRAMES": FRAMES})


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    """The framing pages."""
    return [
        (r"^/-/framing/?$", index_page),
        (r"^/-/framing/compare$", compare_page),
        (r"^/-/framing/compare\.(?P<format>json|csv)$", compare_data),
        (r"^/-/framing/kwic$", kwic_page),
        (r"^/-/framing/stories$", stories_page),
        (r"^/-/framing/story/(?P<id>[^/.]+)$", story_page),
        (r"^/-/framing/vocabulary$", vocabulary_page),
        (r"^/-/framing/vocabulary/(?P<id>\d+)$", vocabulary_page),
    ]


@hookimpl
def render_cell(value: Any, column: str, table: str | None, database: str,
                datasette: Any) -> Any:
    """In the framing views, the kwic_url column is a link to the lines behind the row."""
    if column == "kwic_url" and isinstance(value, str) and value.startswith("/-/framing/kwic?"):
        from markupsafe import Markup

        return Markup('<a href="{}">KWIC lines</a>').format(value)
    return None
