"""Build the search-at-scale archives: the documented bulk path, and the real path for tests.

The bulk path (bench only; no real archive is ever written this way) produces exactly the
rows `Archive.record` would for the same extraction results, at about 1,500 articles/s:

- the file is created by `crawler.archive.core.Archive` itself: every migration of
  schema/migrations.py applied, the registry synced into `sources`, the lexicon tables and
  framing settings written by `Archive.reframe`;
- every index and trigger except the FTS ones is dropped for the load and recreated from
  its own `sqlite_master` SQL afterwards (a bulk load's usual trick: one sort per index
  instead of a million inserts); `framing_counts` and `article_days`, which those triggers
  maintain, are then filled by their migrations' own backfill queries
  (schema.migrations.framing_counts_sql, article_days_sql), and the story queue
  (`story_changes`) with every article, as its insert trigger would;
- per chunk of generated articles (bench/scale_specs.py), one transaction inserts the
  rows of `pages`, `articles`, `article_versions`, `article_dates`, `mentions`, `kwic` and
  `url_state` with the values the real code computes (id, capture key, fingerprint, text
  signature, date flags, next re-check, search columns, topic terms, mention counts, KWIC
  lines and offsets); `articles_fts` is filled by the archive's own insert trigger, so the
  FTS index is built exactly as a crawl builds it;
- `stories` and `story_articles` are written as `Archive.rebuild_stories` writes them, but
  the clusters are the generator's events: crawler/framing/stories.cluster compares each
  article with every earlier one, which does not finish at a million articles;
- during the build the file runs with journal_mode=OFF and synchronous=OFF; it is switched
  back to WAL at the end.

Left out, because no timed page reads them: WARC files (pages.warc_* are NULL), feed,
sitemap and robots.txt captures, crawl_runs, health and alerts. tests/test_search_scale.py
writes the same articles through Archive.record and checks the two archives are identical
(schema, triggers, indexes, rows, FTS integrity, search hits).
"""

from __future__ import annotations

import hashlib
import html
import json
import multiprocessing
import sqlite3
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mediawatch_schema.migrations import article_days_sql, framing_counts_sql
from scale_corpus import Piece, Pools
from scale_specs import Recipe, Spec

from crawler.archive.core import Archive
from crawler.archive.policy import date_flags, next_check, text_signature
from crawler.items import FetchedPage
from crawler.registry.topic import TopicMatch
from crawler.search.columns import SEARCH_VERSION
from extract import ArticleResult
from extract.article import fingerprint
from extract.datesources import DateCandidate
from extract.options import EXTRACTOR_VERSION

HEADERS = {"content-type": "text/html; charset=utf-8"}
BUILT_AT = "2026-01-01T00:00:00+00:00"  # stories.built_at of every generated story
EMPTY_REASON, NOT_ARTICLE_REASON = "no text extracted", "no article markup"
COLUMNS = {
    "pages": ("id", "capture_key", "source_id", "url", "final_url", "redirect_chain", "kind",
              "discovered_via", "discovered_from", "status", "headers", "content_type",
              "body_sha256", "body_length", "hints", "warc_file", "warc_offset", "warc_length",
              "error", "outcome", "article_id", "run_id", "fetched_at", "last_fetched_at"),
    "articles": ("source_id", "url", "canonical_url", "republication_of", "title", "author",
                 "published", "published_source", "published_month", "modified", "lang",
                 "text", "description", "sitename", "license", "word_count", "fingerprint",
                 "on_topic", "topic_terms", "source_kind", "discovered_via", "feed_title",
                 "fetched_at", "extraction_status", "extraction_error", "extractor_version",
                 "search_title", "search_text", "search_version", "page_id", "date_flags", "id",
                 "first_seen_at"),
    "article_versions": ("article_id", "version", "fetched_at", "title", "text_hash", "text",
                         "diff", "flags"),
    "article_dates": ("article_id", "kind", "value", "source"),
    "mentions": ("article_id", "kind", "concept", "variant", "naming", "n", "lexicon_version"),
    "kwic": ("article_id", "kind", "concept", "variant", "naming", "field", "left", "hit",
             "right", "offset", "lexicon_version"),
    "url_state": ("url", "source_id", "kind", "discovered_via", "discovered_from", "article_id",
                  "first_seen", "last_fetched", "last_changed", "last_status", "content_hash",
                  "next_due", "failures", "fetches", "not_modified"),
    "stories": ("id", "headline", "first_published", "last_published", "n_articles",
                "n_independent", "n_outlets", "languages", "outlets", "concepts", "on_topic",
                "built_at"),
    "story_articles": ("story_id", "article_id", "role", "copy_of", "score"),
}
_PAGE_ID = COLUMNS["articles"].index("page_id")


def body(spec: Spec) -> bytes:
    """The notional HTML of a generated page (hashed into the capture key)."""
    title = html.escape(spec.title.text if spec.title else "")
    paras = "".join(f"<p>{html.escape(line)}</p>" for line in spec.text.split("\n") if line)
    return (f"<!doctype html><html lang=\"{spec.lang}\"><head><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{paras}</article></body></html>").encode()


def extraction(spec: Spec) -> ArticleResult:
    """The ArticleResult the real path is given for a spec."""
    text = spec.text
    return ArticleResult(
        status=spec.status, title=spec.title.text if spec.title else None, author=spec.author,
        date=spec.published, date_source=spec.published_source, modified=spec.modified,
        text=text, lang=spec.lang, sitename=spec.source.name, description=spec.description,
        canonical_url=spec.canonical_url, fingerprint=fingerprint(text),
        reason={"empty": EMPTY_REASON, "not_article": NOT_ARTICLE_REASON}.get(spec.status),
        date_candidates=[DateCandidate(*c) for c in spec.candidates])


def fetched_page(spec: Spec, topic: TopicMatch | None) -> FetchedPage:
    """The FetchedPage Archive.record gets for a spec (the real path, for tests)."""
    page = FetchedPage(source_id=spec.source.id, url=spec.url, kind="article",
                       discovered_via=spec.discovered_via, fetched_at=spec.fetched_at,
                       discovered_from=spec.discovered_from, final_url=spec.url, status=200,
                       headers=dict(HEADERS), body=body(spec))
    page.extraction = extraction(spec)
    page.topic = None if spec.status == "not_article" else topic
    return page


def _pieces(spec: Spec) -> Iterator[tuple[int, Piece]]:
    """Each text piece with its character offset in the text."""
    offset = 0
    for para in spec.paragraphs:
        for piece in para:
            yield offset, piece
            offset += len(piece.text) + 1  # the space, or the newline ending the paragraph


def _analysis(spec: Spec, groups: tuple[tuple[str, ...], ...]) -> tuple[
        dict[tuple[str, str, str, str], int], list[tuple[Any, ...]], dict[str, int], bool]:
    """Mention counts, KWIC lines, topic terms and the verdict, summed over the pieces."""
    counts: dict[tuple[str, str, str, str], int] = {}
    lines: list[tuple[Any, ...]] = []
    terms: dict[str, int] = {}
    located = ([(0, spec.title)] if spec.title else [])
    for offset, piece in [*located, *_pieces(spec)]:
        for kind, concept, variant, naming, n in piece.mentions:
            key = (kind, concept, variant, naming)
            counts[key] = counts.get(key, 0) + n
        lines.extend((*k[:8], k[8] + offset) for k in piece.kwic)
        for term, n in piece.topic:
            terms[term] = terms.get(term, 0) + n
    on_topic = all(any(t in terms for t in group) for group in groups)
    return counts, lines, terms, on_topic


def spec_rows(spec: Spec, groups: tuple[tuple[str, ...], ...], lexicon_version: str
              ) -> dict[str, list[tuple[Any, ...]]]:
    """The rows Archive.record writes for one spec (pages without id, articles' page_id None)."""
    raw = body(spec)
    body_sha = hashlib.sha256(raw).hexdigest()
    key = hashlib.sha1("\x1f".join([spec.url, spec.url, "200", body_sha, ""]).encode()).hexdigest()
    aid = spec.id if spec.status != "not_article" else None
    error = {"empty": f"empty: {EMPTY_REASON}",
             "not_article": f"not_article: {NOT_ARTICLE_REASON}"}.get(spec.status)
    outcome = {"ok": "extracted"}.get(spec.status, spec.status)
    sid, at = spec.source.id, spec.fetched_at
    rows: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
    rows["pages"].append((
        key, sid, spec.url, spec.url, None, "article", spec.discovered_via, spec.discovered_from,
        200, json.dumps(HEADERS, ensure_ascii=False), HEADERS["content-type"], body_sha,
        len(raw), None, None, None, None, error, outcome, aid, None, at, at))
    due = next_check(spec.published if aid else None, at, at, 365)
    rows["url_state"].append((spec.url, sid, "article", spec.discovered_via,
                              spec.discovered_from, aid, at, at, at, 200, body_sha, due, 0, 1, 0))
    if aid is None:
        return rows
    text = spec.text
    title = spec.title.text if spec.title else None
    counts, lines, terms, on_topic = _analysis(spec, groups)
    flags = date_flags(spec.published, spec.modified,
                       [(c[0], c[1]) for c in spec.candidates], at, at)
    norm = "\n".join(" ".join(p.norm for p in para) for para in spec.paragraphs)
    rows["articles"].append((
        sid, spec.url, spec.canonical_url, spec.republication_of, title, spec.author,
        spec.published, spec.published_source,
        spec.published[:7] if spec.published else None, spec.modified, spec.lang, text,
        spec.description, spec.source.name, spec.source.licence, len(text.split()),
        fingerprint(text), int(on_topic), json.dumps(terms, ensure_ascii=False, sort_keys=True),
        spec.source.kind, spec.discovered_via, None, at, spec.status,
        EMPTY_REASON if spec.status != "ok" else None, EXTRACTOR_VERSION,
        spec.title.norm if spec.title else "", norm, SEARCH_VERSION, None, json.dumps(flags),
        aid, at))
    if spec.status == "ok":
        rows["article_versions"].append((aid, 1, at, title, text_signature(text), text, None,
                                         "[]"))
    rows["article_dates"].extend((aid, *c) for c in [*spec.candidates,
                                                       ("published", at, "first-seen")])
    rows["mentions"].extend((aid, *k, n, lexicon_version) for k, n in sorted(counts.items()))
    rows["kwic"].extend((aid, *k, lexicon_version) for k in lines)
    return rows


def story_rows(specs: list[Spec], facts: dict[str, tuple[set[str], bool]]
               ) -> dict[str, list[tuple[Any, ...]]]:
    """`stories` and `story_articles` rows for the generated events of one chunk.

    `facts` maps an article id to its naming concepts and its on_topic verdict.
    """
    groups: dict[str, list[Spec]] = {}
    for s in specs:
        if s.story and s.status == "ok":
            groups.setdefault(s.story, []).append(s)
    stories, links = [], []
    for members in groups.values():
        members.sort(key=lambda s: (s.fetched_at, s.id))
        sid = "s-" + hashlib.sha1(members[0].id.encode()).hexdigest()[:12]
        independent = [m for m in members if m.role in ("original", "report")]
        dated = sorted(m.published for m in members if m.published)
        head = (independent or members)[0].title
        stories.append((
            sid, head.text if head else None, dated[0] if dated else None,
            dated[-1] if dated else None, len(members), len(independent),
            len({m.source.id for m in members}), ",".join(sorted({m.lang for m in members})),
            ",".join(sorted({m.source.id for m in members})),
            ",".join(sorted(set().union(*(facts[m.id][0] for m in members)))),
            int(any(facts[m.id][1] for m in members)), BUILT_AT))
        by_url = {m.url: m.id for m in members}
        links.extend((sid, m.id, m.role, by_url.get(m.copy_of or ""), m.score) for m in members)
    return {"stories": stories, "story_articles": links}


# -- chunks in worker processes, one writer ------------------------------------------------

_RECIPE: Recipe | None = None
_CONTEXT: tuple[tuple[tuple[str, ...], ...], str] | None = None


def chunk_rows(index: int) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of one chunk (run in a worker; the recipe is inherited by fork)."""
    assert _RECIPE is not None and _CONTEXT is not None
    groups, version = _CONTEXT
    specs = _RECIPE.chunk(index)
    out: dict[str, list[tuple[Any, ...]]] = {t: [] for t in COLUMNS}
    facts: dict[str, tuple[set[str], bool]] = {}
    on_topic = COLUMNS["articles"].index("on_topic")
    for spec in specs:
        rows = spec_rows(spec, groups, version)
        for table, values in rows.items():
            out[table].extend(values)
        if rows["articles"]:
            facts[spec.id] = ({r[2] for r in rows["mentions"] if r[1] == "naming"},
                              bool(rows["articles"][0][on_topic]))
    out.update(story_rows(specs, facts))
    return out


def _insert(conn: sqlite3.Connection, rows: dict[str, list[tuple[Any, ...]]],
            next_page: int) -> int:
    pages, page_of = [], {}
    for row in rows["pages"]:
        pages.append((next_page, *row))
        if row[19] is not None:
            page_of[row[19]] = next_page
        next_page += 1
    rows = dict(rows, pages=pages, articles=[
        (*r[:_PAGE_ID], page_of[r[-2]], *r[_PAGE_ID + 1:]) for r in rows["articles"]])
    for table, cols in COLUMNS.items():
        if rows[table]:
            verb = "INSERT OR IGNORE" if table == "article_dates" else "INSERT"
            names = ", ".join(f'"{c}"' for c in cols)
            marks = ", ".join("?" * len(cols))
            conn.executemany(f"{verb} INTO {table} ({names}) VALUES ({marks})", rows[table])
    return next_page


def write_bulk(path: Path, recipe: Recipe, workers: int = 2) -> int:
    """Create an archive at `path` through the bulk path; return the number of articles."""
    global _RECIPE, _CONTEXT
    archive = Archive(path, lock=False)
    from crawler.registry.topic import TopicMatcher

    registry_ = _registry()
    archive.sync_sources(registry_)
    archive.framing.reframe()
    lexicon_version = archive.framing.framing_lexicon().version
    archive.close()
    matcher = TopicMatcher(registry_.topic)
    _RECIPE, _CONTEXT = recipe, (matcher._groups, lexicon_version)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -1000000",
                   "temp_store = MEMORY", "locking_mode = EXCLUSIVE"):
        conn.execute(f"PRAGMA {pragma}")
    next_page = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM pages").fetchone()[0]
    deferred = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
        "AND sql IS NOT NULL AND sql NOT LIKE '%articles_fts%'").fetchall()
    for kind, name, _ in deferred:  # built once at the end: faster than row by row
        conn.execute(f'DROP {kind.upper()} "{name}"')
    for rows in _chunks(recipe.chunks, workers):
        conn.execute("BEGIN")
        next_page = _insert(conn, rows, next_page)
        conn.execute("COMMIT")
    conn.execute("BEGIN")
    for _kind, _name, sql in deferred:
        conn.execute(sql)
    conn.execute(f"INSERT INTO framing_counts {framing_counts_sql()}")  # its triggers were off
    conn.execute(article_days_sql())  # so were article_days' (schema migration 0010)
    # and the story queue's (0013): every article waits for its first story build.
    conn.execute("INSERT OR IGNORE INTO story_changes (article_id) SELECT id FROM articles "
                 "ORDER BY rowid")
    conn.execute("COMMIT")
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    conn.execute("PRAGMA locking_mode = NORMAL")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    return int(articles)


def _chunks(n: int, workers: int) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    if workers <= 0:
        yield from (chunk_rows(i) for i in range(n))
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        pending: deque[Any] = deque()
        nxt = 0
        while nxt < n or pending:
            while nxt < n and len(pending) < workers * 2:  # bounded: the writer sets the pace
                pending.append(pool.apply_async(chunk_rows, (nxt,)))
                nxt += 1
            yield pending.popleft().get()


def _registry() -> Any:
    from scale_corpus import registry

    return registry()


def write_real(path: Path, recipe: Recipe) -> int:
    """The same archive through Archive.record, one fetch per transaction (tests only)."""
    from crawler.registry.topic import TopicMatcher

    registry_ = _registry()
    matcher = TopicMatcher(registry_.topic)
    archive = Archive(path, lock=False)
    archive.sync_sources(registry_)
    n = 0
    for index in range(recipe.chunks):
        for spec in recipe.chunk(index):
            title = spec.title.text if spec.title else None
            archive.record(fetched_page(spec, matcher.match(title, spec.text)))
            n += spec.status != "not_article"
    archive.close()
    return n


def pools_for(size: int) -> Pools:
    """The sentence pools (small archives use fewer filler sentences: faster to analyse)."""
    from scale_corpus import FILLER_PER_LANG, build_pools

    return build_pools(FILLER_PER_LANG if size > 1000 else 600)


def cached_archive(size: int, workers: int = 2) -> tuple[Path, dict[str, Any]]:
    """The archive of `size` articles under bench/.cache (built once, then reused)."""
    import os
    import time

    from scale_corpus import CACHE_DIR, GENERATOR_VERSION, prune_stale, registry

    pools = pools_for(size)
    path = CACHE_DIR / f"scale-v{GENERATOR_VERSION}-{pools.digest}-{size}.db"
    meta_path = path.with_suffix(".json")
    if path.exists() and meta_path.exists():
        meta: dict[str, Any] = json.loads(meta_path.read_text())
        meta["reused"] = True
        return path, meta
    prune_stale(CACHE_DIR, size, pools.digest)
    tmp = path.with_name(path.stem + ".building.db")
    for stale in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        stale.unlink(missing_ok=True)
    start, cpu = time.perf_counter(), _cpu_seconds()
    articles = write_bulk(tmp, Recipe(size, pools, registry()), workers)
    seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
    os.replace(tmp, path)
    for folder in (tmp.with_name(f"{tmp.stem}-warc"),):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()  # Archive made it for WARC files; the bulk path writes none
    meta = {"size": size, "articles": articles, "build_seconds": round(seconds, 1),
            "cpu_seconds": round(cpu, 1), "generator": GENERATOR_VERSION, "workers": workers}
    meta_path.write_text(json.dumps(meta))
    meta["reused"] = False
    return path, meta


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the chunk workers)."""
    import resource

    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
