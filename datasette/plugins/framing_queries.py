"""Framing queries for the SQL-minded, as Datasette canned queries (the framing pages in
framing_pages.py read the same tables). Read-only, like every page of the archive."""

from __future__ import annotations

from typing import Any

from datasette import hookimpl


@hookimpl
def canned_queries(datasette: Any, database: str, actor: Any) -> dict[str, Any]:
    """Framing queries for the SQL-minded (the framing pages read the same tables)."""
    return {
        "framing_naming_share": {
            "title": "Naming share per outlet over a period (copies excluded)",
            "sql": """SELECT nullif(c.source_id, '') AS source_id, c.naming, sum(c.mentions) AS mentions,
  round(1.0 * sum(c.mentions) / sum(sum(c.mentions)) OVER (PARTITION BY c.source_id), 4) AS share
FROM framing_counts c
WHERE c.kind IN ('naming', 'frame') AND c.concept = :concept AND c.naming != ''
  AND c.articles > 0 AND (:from = '' OR nullif(c.month, '') >= :from)
  AND (:to = '' OR nullif(c.month, '') <= :to)
GROUP BY c.source_id, c.naming ORDER BY c.source_id, mentions DESC""",
        },
        "framing_kwic": {
            "title": "KWIC lines for a concept, naming and outlet",
            "sql": """SELECT source_id, published, naming, variant, "left", hit, "right", article_id
FROM kwic_lines WHERE concept = :concept AND (:naming = '' OR naming = :naming)
  AND (:source = '' OR source_id = :source) AND independent = 1
ORDER BY published, article_id, "offset" LIMIT 1000""",
        },
        "framing_stories": {
            "title": "Stories covered by several outlets",
            "sql": """SELECT id, headline, first_published, n_outlets, n_independent, n_articles,
  languages, outlets FROM stories WHERE n_outlets >= 2 ORDER BY first_published DESC""",
        },
        "framing_vocabulary_terms": {
            "title": "Top terms of a distinctive-vocabulary run",
            "sql": """SELECT favours, rank, surface, term, z, delta, count_a, count_b, docs_a, docs_b
FROM fw_terms WHERE run_id = :run_id ORDER BY favours, rank""",
        },
    }
