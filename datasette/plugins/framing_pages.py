"""Datasette plugin: framing pages (compare, KWIC, stories, vocabulary runs) and canned queries.

Every number on these pages links to the KWIC lines it counts. Counts exclude copies
(republications and translations), exactly as the SQL views do; the KWIC page can show
copies on request. All values are rendered through Jinja autoescape; nothing scraped is
marked safe. Read-only: the pages only run SELECTs.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from datasette.utils.asgi import Response

from crawler.framing.evidence import copy_evidence
from datasette import hookimpl

NAMING_COLORS = {
    "armenian-usage": "#e07a5f", "international": "#1f6f8b", "russian-official": "#b23a48",
    "azerbaijani-usage": "#2a9d8f", "generic": "#9a9a9a", "descriptive": "#6d597a",
}
FRAME_COLORS = ["#3d405b", "#81b29a", "#f2cc8f", "#9c6644", "#457b9d", "#b56576"]
FRAMES = "frames"  # pseudo-concept: the mix of frames per outlet
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


# The compare page adds up framing_counts (schema migration 0005): per outlet, month and
# language, the independent articles and their words, and mentions and distinct articles per
# naming / concept / kind, kept current by triggers. Months and languages are '' there when
# unknown, so a period never includes them (nullif), exactly as framing_articles' NULLs.
_COUNTS_PERIOD = """(:from = '' OR nullif(c.month, '') >= :from)
  AND (:to = '' OR nullif(c.month, '') <= :to) AND (:lang = '' OR c.lang = :lang)"""
_OUTLET_TOTALS = "c.kind = '' AND c.concept = '' AND c.naming = ''"


def _counts_filter(concept: str, level: str) -> str:
    """framing_counts rows of a concept (or of every frame) at the naming or concept level."""
    if concept == FRAMES:
        return ("c.kind = 'frame' AND c.concept != '' AND c.naming != ''" if level == "naming"
                else "c.kind = 'frame' AND c.concept = '' AND c.naming = ''")
    return ("c.kind IN ('naming', 'frame') AND c.concept = :concept AND "
            + ("c.naming != ''" if level == "naming" else "c.naming = ''"))


def compare_sql(concept: str) -> dict[str, str]:
    """The compare page's statements for a concept (parameters: concept, from, to, lang)."""
    counted = f"c.articles > 0 AND {_COUNTS_PERIOD}"
    return {
        "shares": f"""
        SELECT nullif(c.source_id, '') AS source_id, c.naming, sum(c.mentions) AS mentions,
               sum(c.articles) AS articles
        FROM framing_counts c WHERE {_counts_filter(concept, 'naming')} AND {counted}
        GROUP BY c.source_id, c.naming ORDER BY c.source_id, c.naming""",
        "outlets": f"""
        SELECT nullif(c.source_id, '') AS source_id, sum(c.articles) AS articles,
               sum(c.words) AS words
        FROM framing_counts c WHERE {_OUTLET_TOTALS} AND {counted} GROUP BY c.source_id""",
        "matching": f"""
        SELECT nullif(c.source_id, '') AS source_id, sum(c.articles) AS n
        FROM framing_counts c WHERE {_counts_filter(concept, 'concept')} AND {counted}
        GROUP BY c.source_id""",
        "monthly": f"""
        WITH w AS (SELECT c.source_id, c.month, sum(c.words) AS words, sum(c.articles) AS articles
                   FROM framing_counts c WHERE {_OUTLET_TOTALS} AND {counted} AND c.month != ''
                   GROUP BY c.source_id, c.month),
             m AS (SELECT c.source_id, c.month, sum(c.mentions) AS mentions
                   FROM framing_counts c WHERE {_counts_filter(concept, 'concept')} AND {counted}
                   GROUP BY c.source_id, c.month)
        SELECT nullif(w.source_id, '') AS source_id, w.month, w.words, w.articles,
               coalesce(m.mentions, 0) AS mentions
        FROM w LEFT JOIN m ON m.source_id = w.source_id AND m.month = w.month AND w.source_id != ''
        ORDER BY w.source_id, w.month""",
    }


async def compare_page(datasette: Any, request: Any) -> Response:
    """Naming shares per outlet (chart), rates over time and attention, for one concept/period."""
    db = datasette.get_database()
    p = _params(request)
    concepts = await _rows(db, "SELECT id, kind, label, namings FROM lexicon_concepts "
                               "ORDER BY kind DESC, id")
    settings = await _settings(db)
    thin_mentions = int(settings.get("thin_min_mentions") or 5)
    thin_articles = int(settings.get("thin_min_articles") or 3)
    kind = "frame" if p["concept"] == FRAMES else next(
        (c["kind"] for c in concepts if c["id"] == p["concept"]), "naming")
    sql = compare_sql(p["concept"])
    shares = await _rows(db, sql["shares"], p)
    outlets = await _rows(db, sql["outlets"], p)
    matching = {r["source_id"]: r["n"] for r in await _rows(db, sql["matching"], p)}
    monthly = await _rows(db, sql["monthly"], p)
    bars: dict[str, dict[str, Any]] = {}
    for r in shares:
        bar = bars.setdefault(r["source_id"], {"source_id": r["source_id"], "total": 0,
                                               "segments": []})
        bar["total"] += r["mentions"]
        bar["segments"].append(r)
    namings = sorted({r["naming"] for r in shares})
    colors = {n: NAMING_COLORS.get(n, FRAME_COLORS[i % len(FRAME_COLORS)])
              for i, n in enumerate(namings)}
    for bar in bars.values():
        bar["thin"] = bar["total"] < thin_mentions
        for seg in bar["segments"]:
            seg["share"] = seg["mentions"] / bar["total"]
            seg["color"] = colors[seg["naming"]]
    by_outlet = {o["source_id"]: o for o in outlets}
    table = []
    for o in outlets:
        mentions = sum(r["mentions"] for r in shares if r["source_id"] == o["source_id"])
        words = o["words"] or 0
        table.append({**o, "mentions": mentions, "matching": matching.get(o["source_id"], 0),
                      "rate": 1000 * mentions / words if words else 0.0,
                      "attention": matching.get(o["source_id"], 0) / o["articles"],
                      "thin": o["articles"] < thin_articles})
    months = sorted({r["month"] for r in monthly})
    grid: dict[str, dict[str, Any]] = {}
    for r in monthly:
        r["rate"] = 1000 * r["mentions"] / r["words"] if r["words"] else 0.0
        r["thin"] = r["articles"] < thin_articles
        grid.setdefault(r["source_id"], {})[r["month"]] = r
    concept_row = next((c for c in concepts if c["id"] == p["concept"]), None)
    return await _render(datasette, request, "framing_compare.html", {
        "p": p, "kind": kind, "concepts": concepts, "concept": concept_row, "FRAMES": FRAMES,
        "bars": [bars[k] for k in sorted(bars)], "namings": namings, "colors": colors,
        "table": sorted(table, key=lambda r: r["source_id"]), "months": months, "grid": grid,
        "outlets": sorted(by_outlet), "thin_mentions": thin_mentions,
        "thin_articles": thin_articles, "settings": settings,
    })


def kwic_lines_sql(concept: str) -> str:
    """How many lines a concept has (independent articles; framing_counts), to plan KWIC."""
    return (f"SELECT coalesce(sum(c.mentions), 0) FROM framing_counts c "
            f"WHERE {_counts_filter(concept, 'concept')} AND c.articles > 0")


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
