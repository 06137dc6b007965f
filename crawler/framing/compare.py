"""How outlets name one concept: the numbers of /-/framing/compare, for the page and its data.

Everything is added up from framing_counts (schema migration 0005): per outlet, month and
language, the independent articles and their words, and mentions and distinct articles per
naming / concept / kind, kept current by triggers, so copies (republications, translations)
never count twice. Months and languages are '' there when unknown, so a period never
includes them (nullif), exactly as framing_articles' NULLs. The page (datasette/plugins/
framing_pages.py) draws these numbers; `/-/framing/compare.json` and `.csv` give them as data.
"""

from __future__ import annotations

from typing import Any

FRAMES = "frames"  # pseudo-concept: the mix of frames per outlet
COUNTS_PERIOD = """(:from = '' OR nullif(c.month, '') >= :from)
  AND (:to = '' OR nullif(c.month, '') <= :to) AND (:lang = '' OR c.lang = :lang)"""
OUTLET_TOTALS = "c.kind = '' AND c.concept = '' AND c.naming = ''"


def counts_filter(concept: str, level: str) -> str:
    """framing_counts rows of a concept (or of every frame) at the naming or concept level."""
    if concept == FRAMES:
        return ("c.kind = 'frame' AND c.concept != '' AND c.naming != ''" if level == "naming"
                else "c.kind = 'frame' AND c.concept = '' AND c.naming = ''")
    return ("c.kind IN ('naming', 'frame') AND c.concept = :concept AND "
            + ("c.naming != ''" if level == "naming" else "c.naming = ''"))


def compare_sql(concept: str) -> dict[str, str]:
    """The compare statements for a concept (parameters: concept, from, to, lang)."""
    counted = f"c.articles > 0 AND {COUNTS_PERIOD}"
    return {
        "shares": f"""
        SELECT nullif(c.source_id, '') AS source_id, c.naming, sum(c.mentions) AS mentions,
               sum(c.articles) AS articles
        FROM framing_counts c WHERE {counts_filter(concept, 'naming')} AND {counted}
        GROUP BY c.source_id, c.naming ORDER BY c.source_id, c.naming""",
        "outlets": f"""
        SELECT nullif(c.source_id, '') AS source_id, sum(c.articles) AS articles,
               sum(c.words) AS words
        FROM framing_counts c WHERE {OUTLET_TOTALS} AND {counted} GROUP BY c.source_id""",
        "matching": f"""
        SELECT nullif(c.source_id, '') AS source_id, sum(c.articles) AS n
        FROM framing_counts c WHERE {counts_filter(concept, 'concept')} AND {counted}
        GROUP BY c.source_id""",
        "monthly": f"""
        WITH w AS (SELECT c.source_id, c.month, sum(c.words) AS words, sum(c.articles) AS articles
                   FROM framing_counts c WHERE {OUTLET_TOTALS} AND {counted} AND c.month != ''
                   GROUP BY c.source_id, c.month),
             m AS (SELECT c.source_id, c.month, sum(c.mentions) AS mentions
                   FROM framing_counts c WHERE {counts_filter(concept, 'concept')} AND {counted}
                   GROUP BY c.source_id, c.month)
        SELECT nullif(w.source_id, '') AS source_id, w.month, w.words, w.articles,
               coalesce(m.mentions, 0) AS mentions
        FROM w LEFT JOIN m ON m.source_id = w.source_id AND m.month = w.month AND w.source_id != ''
        ORDER BY w.source_id, w.month""",
    }


def compare_numbers(rows: dict[str, list[dict[str, Any]]], thin_mentions: int,
                    thin_articles: int) -> dict[str, Any]:
    """The rows of compare_sql's statements as the page shows them: per outlet a bar of
    naming shares (thin below `thin_mentions` mentions), a table row (articles, words,
    mentions, rate per 1,000 words, articles mentioning it, attention; thin below
    `thin_articles` articles), and per outlet and month the rate."""
    bars: dict[str, dict[str, Any]] = {}
    for r in rows["shares"]:
        bar = bars.setdefault(r["source_id"], {"source_id": r["source_id"], "total": 0,
                                               "segments": []})
        bar["total"] += r["mentions"]
        bar["segments"].append(r)
    for bar in bars.values():
        bar["thin"] = bar["total"] < thin_mentions
        for seg in bar["segments"]:
            seg["share"] = seg["mentions"] / bar["total"]
    matching = {r["source_id"]: r["n"] for r in rows["matching"]}
    table = []
    for o in rows["outlets"]:
        mentions = sum(r["mentions"] for r in rows["shares"] if r["source_id"] == o["source_id"])
        words = o["words"] or 0
        table.append({**o, "mentions": mentions, "matching": matching.get(o["source_id"], 0),
                      "rate": 1000 * mentions / words if words else 0.0,
                      "attention": matching.get(o["source_id"], 0) / o["articles"],
                      "thin": o["articles"] < thin_articles})
    grid: dict[str, dict[str, Any]] = {}
    for r in rows["monthly"]:
        r["rate"] = 1000 * r["mentions"] / r["words"] if r["words"] else 0.0
        r["thin"] = r["articles"] < thin_articles
        grid.setdefault(r["source_id"], {})[r["month"]] = r
    return {"bars": [bars[k] for k in sorted(bars)],
            "namings": sorted({r["naming"] for r in rows["shares"]}),
            "table": sorted(table, key=lambda r: r["source_id"]),
            "months": sorted({r["month"] for r in rows["monthly"]}), "grid": grid,
            "outlets": sorted(o["source_id"] for o in rows["outlets"])}
