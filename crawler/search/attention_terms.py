"""Top distinctive terms of a query's matches against the rest of the archive.

The project's log-odds ratio with an informative Dirichlet prior
(crawler.framing.fightin.log_odds_dirichlet and top_terms, Monroe, Colaresi & Quinn 2008),
on Snowball stems without stop words (crawler.framing.tokenize.stem_counts(stop=True):
content words only), one language at a time (stems of different languages are not
comparable). Group A is a sample of the newest matches in the attention page's selection
and date range; group B a deterministic spread sample of the other articles of that
language in the same selection and range; the prior is A + B. Samples keep the cost
bounded on a million-article archive; their sizes are reported with the terms.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from typing import Any

from crawler.framing.fightin import log_odds_dirichlet, top_terms
from crawler.framing.tokenize import stem_counts
from crawler.framing.wirelead import counted_text
from crawler.search.attention import days_where, fts_in, rowid_span
from crawler.search.filters import SearchFilters

SAMPLE_MATCHES = 100
SAMPLE_REST = 200
TEXT_CHARS = 2000  # of title + text per article: the lead carries the framing
MIN_MATCHES = 3  # fewer matches in a language than this: no terms for it
PRIOR_STRENGTH = 500.0
# crawler.framing.tokenize shares one Snowball stemmer per language, and a stemmer object
# keeps its word in its own state: two threads stemming at once corrupt each other
# (IndexError inside snowballstemmer). Datasette runs requests on a thread pool.
_STEMMING = threading.Lock()


def _texts(conn: sqlite3.Connection, rowids: list[int]) -> list[str]:
    if not rowids:
        return []
    marks = ", ".join(str(int(r)) for r in rowids)
    # Without a wire report's opening dateline: an agency's name is no term of a story.
    return [counted_text(title, text)[:TEXT_CHARS] for title, text in conn.execute(
        f"SELECT coalesce(title, ''), substr(coalesce(text, ''), 1, {TEXT_CHARS}) "
        f"FROM articles WHERE rowid IN ({marks})")]


def languages_of_matches(conn: sqlite3.Connection, fts: str,
                         filters: SearchFilters) -> list[tuple[str, int]]:
    """Languages of the matches in the selection, most matches first."""
    where, params = days_where(filters)
    lo, hi = rowid_span(conn, filters)
    rows = conn.execute(
        f"SELECT d.lang, count(*) FROM article_days d WHERE {where} AND d.lang IS NOT NULL "
        f"AND {fts_in('q')} GROUP BY d.lang ORDER BY 2 DESC, 1",
        {**params, "q": fts, "lo": lo, "hi": hi}).fetchall()
    return [(r[0], r[1]) for r in rows]


def distinctive_terms(conn: sqlite3.Connection, fts: str, filters: SearchFilters, lang: str,
                      k: int = 10) -> dict[str, Any]:
    """The k stems most distinctive of the matches in one language, with their counts."""
    where, params = days_where(filters)
    lo, hi = rowid_span(conn, filters)
    params = {**params, "q": fts, "lang": lang, "lo": lo, "hi": hi}
    base = f"FROM article_days d WHERE {where} AND d.lang = :lang"
    a_ids = [r[0] for r in conn.execute(
        f"SELECT d.article_rowid {base} AND {fts_in('q')} ORDER BY d.day DESC "
        f"LIMIT {SAMPLE_MATCHES}", params)]
    # A spread over the whole range, the same every time (Knuth's multiplicative hash).
    b_ids = [r[0] for r in conn.execute(
        f"SELECT d.article_rowid {base} AND NOT {fts_in('q')} "
        f"ORDER BY (d.article_rowid * 2654435761) % 4294967296 LIMIT {SAMPLE_REST}", params)]
    texts_a, texts_b = _texts(conn, a_ids), _texts(conn, b_ids)
    with _STEMMING:
        counts_a, surf_a = stem_counts(texts_a, lang, stop=True)
        counts_b, surf_b = stem_counts(texts_b, lang, stop=True)
    out: dict[str, Any] = {"lang": lang, "matches_sampled": len(a_ids),
                           "rest_sampled": len(b_ids), "terms": []}
    if len(a_ids) < MIN_MATCHES or not counts_b:
        return out
    scores = log_odds_dirichlet(counts_a, counts_b, counts_a + counts_b,
                                prior_strength=PRIOR_STRENGTH)
    favour, _ = top_terms(scores, k)
    surfaces: dict[str, Counter[str]] = {}
    for table in (surf_a, surf_b):
        for term, forms in table.items():
            surfaces.setdefault(term, Counter()).update(forms)
    out["terms"] = [{"term": s.term, "word": sorted(surfaces[s.term].items(),
                                                    key=lambda kv: (-kv[1], kv[0]))[0][0],
                     "matches": s.count_a, "rest": s.count_b, "z": round(s.z, 2)}
                    for s in favour if len(s.term) > 1]
    return out
