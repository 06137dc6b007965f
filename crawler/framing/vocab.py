"""A distinctive-vocabulary run: select two groups of articles, score, and describe the run.

Reads the archive (never writes: crawler.archive.core stores the returned rows). Groups are
outlet ids or `kind:<outlet kind>` (e.g. `kind:state agency`); both groups must be one
language, because stems of different languages are not comparable.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from crawler.framing import CODE_VERSION
from crawler.framing.fightin import log_odds_dirichlet, top_terms
from crawler.framing.stopwords import stopwords_version
from crawler.framing.tokenize import doc_stem_counts, stem_counts, tokenizer_id
from crawler.framing.wirelead import counted_text


@dataclass
class RunSpec:
    """What to compare; stored verbatim with the run."""

    lang: str
    group_a: list[str]
    group_b: list[str]
    label_a: str = ""
    label_b: str = ""
    period_from: str | None = None  # YYYY-MM or YYYY-MM-DD, inclusive
    period_to: str | None = None
    shared_stories_only: bool = False
    prior_strength: float = 1000.0
    min_count: int = 3  # in the group a term is distinctive of
    top: int = 40
    lexicon_version: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    min_docs: int = 2  # articles of the group a term is distinctive of that use it


def _group_sql(members: list[str]) -> tuple[str, list[str]]:
    ids = [m for m in members if not m.startswith("kind:")]
    kinds = [m[5:] for m in members if m.startswith("kind:")]
    parts: list[str] = []
    params: list[str] = []
    if ids:
        parts.append(f"a.source_id IN ({','.join('?' * len(ids))})")
        params += ids
    if kinds:
        parts.append(f"a.source_kind IN ({','.join('?' * len(kinds))})")
        params += kinds
    return "(" + " OR ".join(parts or ["0"]) + ")", params


def select_texts(db: sqlite_utils.Database, spec: RunSpec, members: list[str],
                 other: list[str]) -> list[tuple[str, str]]:
    """(article id, title + text without its wire dateline) of one group's independent
    articles in the language/period."""
    where, params = _group_sql(members)
    sql = (f"SELECT a.id, coalesce(a.title, ''), coalesce(a.text, '') FROM articles a "
           "JOIN framing_articles fa ON fa.article_id = a.id "
           f"WHERE {where} AND a.lang = ? AND fa.independent = 1")
    params.append(spec.lang)  # every parameter is text; lengths are written into the SQL
    if spec.period_from:
        sql += " AND a.published >= ?"
        params.append(spec.period_from)
    if spec.period_to:
        sql += f" AND substr(a.published, 1, {len(spec.period_to)}) <= ?"
        params.append(spec.period_to)
    if spec.shared_stories_only:
        # Only stories the other group also covered: wording, not choice of stories.
        other_where, other_params = _group_sql(other)
        sql += (" AND fa.story_id IN (SELECT sa.story_id FROM story_articles sa "
                f"JOIN articles a ON a.id = sa.article_id WHERE {other_where})")
        params += other_params
    # Without a wire report's dateline: an agency's name and city would otherwise top every
    # comparison with that agency.
    return [(r[0], counted_text(r[1], r[2])) for r in db.execute(sql, params).fetchall()]


def run_fightin(db: sqlite_utils.Database, spec: RunSpec, created_at: str
                ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Score A against B; return the fw_runs row (without id) and its fw_terms rows."""
    texts_a = select_texts(db, spec, spec.group_a, spec.group_b)
    texts_b = select_texts(db, spec, spec.group_b, spec.group_a)
    counts_a, docs_a, surf_a = doc_stem_counts((t for _, t in texts_a), spec.lang)
    counts_b, docs_b, surf_b = doc_stem_counts((t for _, t in texts_b), spec.lang)
    # Informative prior: the language's whole archive, not just A+B, as Monroe et al.
    # (2008, section 3.5) do, so a word common everywhere is not "distinctive" of either side.
    background, _ = stem_counts(
        (counted_text(*r) for r in db.execute(
            "SELECT coalesce(title, ''), coalesce(text, '') FROM articles "
            "WHERE lang = ? AND extraction_status = 'ok'", [spec.lang])),
        spec.lang, stop=True)
    scores = log_odds_dirichlet(counts_a, counts_b, background, spec.prior_strength,
                                spec.min_count, (docs_a, docs_b), spec.min_docs)
    favour_a, favour_b = top_terms(scores, spec.top)
    surfaces: dict[str, Counter[str]] = {}
    for table in (surf_a, surf_b):
        for term, forms in table.items():
            surfaces.setdefault(term, Counter()).update(forms)
    terms = []
    for side, chosen in (("a", favour_a), ("b", favour_b)):
        for rank, s in enumerate(chosen, 1):
            surface = sorted(surfaces[s.term].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
            terms.append({"term": s.term, "surface": surface, "favours": side, "rank": rank,
                          "count_a": s.count_a, "count_b": s.count_b,
                          "docs_a": s.docs_a, "docs_b": s.docs_b,
                          "delta": round(s.delta, 5), "z": round(s.z, 4)})
    run = {
        "created_at": created_at, "lang": spec.lang,
        "label_a": spec.label_a or ",".join(spec.group_a),
        "label_b": spec.label_b or ",".join(spec.group_b),
        "group_a": json.dumps(spec.group_a, ensure_ascii=False),
        "group_b": json.dumps(spec.group_b, ensure_ascii=False),
        "period_from": spec.period_from, "period_to": spec.period_to,
        "shared_stories_only": int(spec.shared_stories_only),
        "prior": "informative Dirichlet: archive-wide stem frequencies in this language, "
                 "stop words removed",
        "prior_strength": spec.prior_strength, "min_count": spec.min_count,
        "min_docs": spec.min_docs, "stopwords": f"stopwords.toml {stopwords_version()}",
        "tokenizer": f"{tokenizer_id(spec.lang)}+no-wire-lead",
        "lexicon_version": spec.lexicon_version,
        "code_version": CODE_VERSION,
        "docs_a": len(texts_a), "docs_b": len(texts_b),
        "tokens_a": sum(counts_a.values()), "tokens_b": sum(counts_b.values()),
    }
    return run, terms
