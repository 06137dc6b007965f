"""`make bench` (and tests/test_search_eval.py): search recall and precision per query.

The labelled corpus (tests/search_eval/corpus.toml) is loaded into a real archive schema
(every migration applied, rows inserted through the same normalised columns the crawler
writes, indexed by the real triggers). Each query of tests/search_eval/queries.toml runs
twice: through mediawatch's expansion (aliases + normalisation + light stemming), and as a
stock Datasette would run it over plain FTS5 of the raw text (each word quoted, AND-ed).
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mediawatch_schema.migrations import FTS_TOKENIZE, migrations  # noqa: E402

from crawler.search.columns import search_columns  # noqa: E402
from crawler.search.query import expand_query, plain_query  # noqa: E402

EVAL_DIR = ROOT / "tests" / "search_eval"


@dataclass(frozen=True)
class QueryResult:
    """One query's outcome in one mode."""

    query: str
    relevant: frozenset[str]
    retrieved: frozenset[str]

    @property
    def hits(self) -> int:
        """Relevant documents retrieved."""
        return len(self.relevant & self.retrieved)

    @property
    def recall(self) -> float:
        """Share of the relevant documents that were retrieved."""
        return self.hits / len(self.relevant) if self.relevant else 1.0

    @property
    def precision(self) -> float | None:
        """Share of the retrieved documents that are relevant (None when none came back)."""
        return self.hits / len(self.retrieved) if self.retrieved else None


@dataclass(frozen=True)
class Report:
    """Every query of the evaluation set in one mode, with overall figures."""

    mode: str
    results: list[QueryResult]

    @property
    def recall(self) -> float:
        """Mean recall over queries (macro average)."""
        return sum(r.recall for r in self.results) / len(self.results)

    @property
    def precision(self) -> float:
        """Micro precision: relevant retrieved / all retrieved, over every query."""
        retrieved = sum(len(r.retrieved) for r in self.results)
        return sum(r.hits for r in self.results) / retrieved if retrieved else 0.0


def load_eval() -> tuple[list[dict], list[dict]]:
    """The labelled corpus and the queries."""
    corpus = tomllib.loads((EVAL_DIR / "corpus.toml").read_text(encoding="utf-8"))["doc"]
    queries = tomllib.loads((EVAL_DIR / "queries.toml").read_text(encoding="utf-8"))["query"]
    return corpus, queries


def relevant_set(query: dict, corpus: list[dict]) -> frozenset[str]:
    """The documents labelled relevant for a query."""
    if "relevant" in query:
        return frozenset(query["relevant"])
    return frozenset(d["id"] for d in corpus if query["about"] in d["about"]
                     and query.get("lang", d["lang"]) == d["lang"])


def build_db(corpus: list[dict]) -> sqlite_utils.Database:
    """An in-memory archive holding the corpus, plus a plain FTS5 over the raw text."""
    db = sqlite_utils.Database(memory=True)
    migrations.apply(db)
    for doc in corpus:
        db.table("articles").insert({
            "id": doc["id"], "url": f"https://example.invalid/{doc['id']}", "lang": doc["lang"],
            "title": doc["title"], "text": doc["text"], "first_seen_at": "2025-01-01",
            "fetched_at": "2025-01-01", "extraction_status": "ok",
            **search_columns(doc["title"], doc["text"]),
        })
    db.execute(f"CREATE VIRTUAL TABLE plain_fts USING fts5(title, text, content=articles, "
               f"content_rowid=rowid, tokenize='{FTS_TOKENIZE}')")
    db.execute("INSERT INTO plain_fts(plain_fts) VALUES ('rebuild')")
    return db


def run(mode: str = "mediawatch") -> Report:
    """Run every query in one mode: `mediawatch` (expanded) or `plain` (stock FTS5)."""
    corpus, queries = load_eval()
    db = build_db(corpus)
    fts, build = ("articles_fts", expand_query) if mode == "mediawatch" else (
        "plain_fts", plain_query)
    results = []
    for q in queries:
        expr = build(q["q"])
        rows = db.execute(
            f"SELECT a.id FROM {fts} JOIN articles a ON a.rowid = {fts}.rowid "
            f"WHERE {fts} MATCH ?", [expr]).fetchall() if expr else []
        results.append(QueryResult(q["q"], relevant_set(q, corpus),
                                   frozenset(r[0] for r in rows)))
    return Report(mode, results)


def _fmt(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.2f}"


def main() -> int:
    """Print recall and precision per query and overall, next to plain FTS5."""
    ours, plain = run("mediawatch"), run("plain")
    corpus, queries = load_eval()
    print(f"\n== Search: {len(queries)} queries over {len(corpus)} labelled articles "
          "(en/ru/hy) ==")
    print(f"{'query':32} {'rel':>3} | {'recall':>6} {'prec':>6} | "
          f"{'plain R':>7} {'plain P':>7}")
    for a, b in zip(ours.results, plain.results, strict=True):
        print(f"{a.query[:32]:32} {len(a.relevant):3d} | {_fmt(a.recall):>6} "
              f"{_fmt(a.precision):>6} | {_fmt(b.recall):>7} {_fmt(b.precision):>7}")
    print(f"{'OVERALL (recall macro, precision micro)':44} "
          f"{ours.recall:.3f} {ours.precision:.3f} | {plain.recall:.3f} {plain.precision:.3f}")
    missed = [(r.query, sorted(r.relevant - r.retrieved), sorted(r.retrieved - r.relevant))
              for r in ours.results if r.relevant != r.retrieved]
    for query, fn, fp in missed:
        print(f"  {query}: missed {fn} extra {fp}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
