"""The archive's story writes: full rebuilds streamed in publication order, incremental updates.

A full build reads each article's text once (twice for a sampled few, to count the word
vocabulary first), keeps in memory only what the copy window needs, and replaces every
story row. It also stores, per article, a MinHash signature and its rare keys
(`story_sketches`) and the vocabulary (`story_vocab`), so that an update after a crawl
reads the text of the new articles and of the few older ones the indexes propose, and
nothing else: its cost follows the crawl, not the archive.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

from crawler.archive.story_rows import (
    FeatureKeep,
    StoryDelta,
    StoryRows,
    chunks,
    in_list,
    sketch_row,
)
from crawler.archive.story_scope import Lookups, scope_of
from crawler.framing.build import StoryUpdate, link_row
from crawler.framing.candidates import Focus
from crawler.framing.features import (
    Features,
    Item,
    Vocabulary,
    featurize_all,
    sampled,
)
from crawler.framing.stories import Clusterer, StoryDoc, StoryParams, parse_when
from crawler.framing.storydocs import UNDATED, date_groups, order_key, published_order
from crawler.web.urls import article_id

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.framing.lexicon import Lexicon

ELIGIBLE = "extraction_status = 'ok' AND coalesce(text, '') != ''"
DOC_COLUMNS = "id, source_id, lang, published, title, text, republication_of"
VOCAB_SAMPLE = 100_000  # articles the vocabulary is counted on (all of them below that)
CACHE_LIMIT = 20_000  # below this, features read for the vocabulary are kept for clustering
T = TypeVar("T")


class StoryStore:
    """stories, story_articles, story_sketches and story_vocab."""

    def __init__(self, db: sqlite_utils.Database,
                 transaction: Callable[[], AbstractContextManager[None]],
                 lexicon: Lexicon, code_version: str, jobs: int | None = None) -> None:
        import os

        self.db, self._tx, self.lexicon, self.code_version = db, transaction, lexicon, code_version
        self.rows = StoryRows(db, code_version)
        self.jobs = jobs if jobs is not None else (os.cpu_count() or 1)

    # -- reading ---------------------------------------------------------------------------

    def docs(self, ids: list[str]) -> Iterator[StoryDoc]:
        """The articles `ids` as StoryDocs, in the order given (missing ones skipped)."""
        for chunk in chunks(ids):
            got = {r[0]: r for r in self.db.execute(
                f"SELECT {DOC_COLUMNS} FROM articles WHERE id IN ({in_list(len(chunk))})", chunk)}
            for aid in chunk:
                if aid in got:
                    r = got[aid]
                    target = article_id(r[6]) if r[6] else None
                    yield StoryDoc(r[0], r[1], r[2] or "", r[3], r[4] or "", r[5] or "",
                                   republication_of=target, canonical_url=r[6])

    def _load(self, aid: str) -> StoryDoc | None:
        return next(self.docs([aid]), None)

    def _ordered(self, where: str = ELIGIBLE, args: list[Any] | None = None
                 ) -> list[tuple[datetime, str, str | None]]:
        rows = self.db.execute(f"SELECT id, published FROM articles WHERE {where}", args or [])
        return sorted((parse_when(p) or UNDATED, aid, p) for aid, p in rows)

    def vocabulary(self) -> Vocabulary | None:
        """The stored vocabulary, or None when no build has stored one."""
        n = self.db.execute("SELECT value FROM framing_settings "
                            "WHERE key = 'stories_vocab_n'").fetchone()
        if not n or n[0] is None:
            return None
        return Vocabulary(int(n[0]), dict(self.db.execute("SELECT key, df FROM story_vocab")))

    # -- full rebuild ----------------------------------------------------------------------

    def _featurized(self, ids: list[str], keep: FeatureKeep | None = None,
                    fresh: set[str] | None = None) -> Iterator[tuple[StoryDoc, Features]]:
        """The articles `ids` read in order, with their features: those an extraction worker
        queued or a build kept (crawler.framing.featblob) when they match the stored article,
        the others computed on every core (and, past `keep`'s date, encoded to be kept; their
        ids added to `fresh`)."""
        batches: list[tuple[list[StoryDoc], dict[str, Features]]] = []

        def items(batch: list[StoryDoc]) -> list[Item]:
            ready = self._stored_features(batch)
            todo = [d for d in batch if d.id not in ready]
            batches.append((batch, ready))
            # The lexicon's hits in each text were found at ingest (KWIC lines): reused.
            hits: dict[str, list[tuple[int, int, str]]] = {d.id: [] for d in todo}
            for aid, concept, offset, length in self.db.execute(
                    'SELECT article_id, concept, "offset", length(hit) FROM kwic '
                    "WHERE kind = 'naming' AND field = 'text' "
                    f"AND article_id IN ({in_list(len(todo))})", [d.id for d in todo]):
                hits[aid].append((offset, offset + length, concept))
            return [(d.title, d.text, d.lang, sorted(hits[d.id])) for d in todo]

        def read() -> Iterator[list[Item]]:
            batch: list[StoryDoc] = []
            for doc in self.docs(ids):
                batch.append(doc)
                if len(batch) == 64:
                    yield items(batch)
                    batch = []
            if batch:
                yield items(batch)

        stored = self._stored_count(ids)
        jobs = min(self.jobs, max(1, (len(ids) - stored) // 200))  # a pool costs more than a few docs
        for n, computed in enumerate(featurize_all(read(), self.lexicon, jobs)):
            (docs, ready), batches[n] = batches[n], ([], {})  # done with their texts
            made = iter(computed)
            for doc in docs:
                feats = ready.get(doc.id)
                if feats is None:
                    feats = next(made)
                    if fresh is not None:
                        fresh.add(doc.id)
                    if keep is not None:
                        keep.computed(doc, feats, self.lexicon.version)
                yield doc, feats

    def _stored(self, batch: list[StoryDoc], read: Callable[[bytes], T | None]) -> dict[str, T]:
        """What `read` takes from the feature blobs of `batch` that a worker queued or a build
        kept, where they were made from the articles as stored (featblob.features_key) and
        `read` makes something of them (a queued blob that does not, yields to a kept one)."""
        from crawler.framing.featblob import features_key

        docs = {d.id: d for d in batch}
        out: dict[str, T] = {}
        for table in ("story_changes", "story_features"):
            ids = [aid for aid in docs if aid not in out]
            if not ids:
                break
            for aid, key, blob in self.db.execute(
                    f"SELECT article_id, features_key, features FROM {table} WHERE "
                    f"features IS NOT NULL AND article_id IN ({in_list(len(ids))})", ids):
                d = docs[aid]
                if aid not in out and key == features_key(
                        d.title, d.text, d.lang, self.lexicon.version) and \
                        (value := read(blob)) is not None:
                    out[aid] = value
        return out

    def _stored_features(self, batch: list[StoryDoc]) -> dict[str, Features]:
        """The stored features of `batch` (see _stored)."""
        from crawler.framing.featblob import decode

        return self._stored(batch, decode)

    def _stored_shingles(self, doc: StoryDoc) -> Any:
        """Only the unquoted shingles of an article's stored features, if any."""
        from crawler.framing.featblob import free_shingles

        return self._stored([doc], free_shingles).get(doc.id)

    def _stored_count(self, ids: list[str]) -> int:
        """How many of `ids` have queued or kept features (to size the pool for the rest)."""
        found: set[str] = set()
        for table in ("story_changes", "story_features"):
            total = self.db.execute(
                f"SELECT count(*) FROM {table} WHERE features IS NOT NULL").fetchone()[0]
            if not total:
                continue
            if total <= len(ids):  # fewer stored than asked about: read the stored ids
                wanted = set(ids)
                found.update(aid for (aid,) in self.db.execute(
                    f"SELECT article_id FROM {table} WHERE features IS NOT NULL")
                    if aid in wanted)
            else:
                for c in chunks(ids):
                    found.update(r[0] for r in self.db.execute(
                        f"SELECT article_id FROM {table} WHERE features IS NOT NULL AND "
                        f"article_id IN ({in_list(len(c))})", c))
        return len(found)

    def rebuild(self, params: StoryParams, started: str) -> StoryUpdate:
        """Re-cluster every article; replace every story row."""
        order = self._ordered()
        keep = FeatureKeep.before(_newest(order), started, params.reach_days())
        every = max(1, len(order) // VOCAB_SAMPLE)
        cache: dict[str, Features] = {}
        cached = len(order) <= CACHE_LIMIT

        def terms() -> Iterator[set[str]]:
            for doc, feats in self._featurized([aid for _, aid, _ in order
                                                if sampled(aid, every)], keep if cached else None):
                if cached:
                    cache[doc.id] = feats
                yield feats.terms()

        vocab = Vocabulary.build(terms(), scale=every)
        sketches: list[tuple[Any, ...]] = []
        clusterer = Clusterer(self.lexicon, params, vocab,
                              on_index=lambda *s: sketches.append(sketch_row(*s)))
        old = self.db.execute("SELECT count(*) FROM stories").fetchone()[0]
        with self._tx():
            # Links are written before the rows of their stories (made from the links).
            self.db.execute("PRAGMA defer_foreign_keys = ON")
            for table in ("story_articles", "stories", "story_sketches"):
                self.db.execute(f"DELETE FROM {table}")
            self.rows.keep_features(keep)  # the queued ones; computed ones follow
            rest = [aid for _, aid, _ in order if aid not in cache]
            features = self._featurized(rest, keep) if rest else iter(())
            for doc in self.docs([aid for _, aid, _ in order]) if not rest else ():
                clusterer.add(doc, cache.pop(doc.id))
            for doc, feats in features:
                clusterer.add(doc, feats)
                if len(sketches) >= 5000:
                    self.rows.write_sketches(sketches)
                    self.rows.write_kept(keep)
            self.rows.write_sketches(sketches)
            story_ids: set[str] = set()
            links: list[dict[str, Any]] = []
            n_links = 0
            for m in clusterer.memberships():
                links.append(link_row(m))
                story_ids.add(m.story_id)
                if len(links) == 5000:
                    self.rows.insert("story_articles", links)
                    n_links += len(links)
                    links = []
            self.rows.insert("story_articles", links)
            n_links += len(links)
            del clusterer
            written, _ = self.rows.write_story_rows(story_ids, started)
            self.rows.write_vocab(vocab)
            self.rows.write_kept(keep)
        return StoryUpdate(full=True, loaded=[aid for _, aid, _ in order], stories=written,
                           links=n_links, dropped=old)

    # -- incremental -----------------------------------------------------------------------

    def scope(self, seeds: set[str], params: StoryParams,
              new: dict[str, tuple[datetime | None, Lookups]] | None = None) -> set[str]:
        """Article ids to re-cluster for changed `seeds` (crawler.archive.story_scope);
        `new`: the lookups of the seeds, read here if not given."""
        return scope_of(self.db, params, seeds, self.lookups(seeds) if new is None else new)

    def _seed_features(self, seeds: set[str], fresh: set[str] | None = None
                       ) -> dict[str, tuple[StoryDoc, Features]]:
        """The `seeds` still eligible, read with their features (`fresh`: ids not stored)."""
        ids = sorted(seeds)
        ok = [aid for c in chunks(ids) for (aid,) in self.db.execute(
            f"SELECT id FROM articles WHERE {ELIGIBLE} AND id IN ({in_list(len(c))})", c)]
        return {doc.id: (doc, f) for doc, f in self._featurized(sorted(ok), fresh=fresh)}

    def lookups(self, seeds: set[str], read: dict[str, tuple[StoryDoc, Features]] | None = None
                ) -> dict[str, tuple[datetime | None, Lookups]]:
        """The new dates and lookups of the `seeds` still eligible (`read`: as _seed_features)."""
        read = self._seed_features(seeds) if read is None else read
        return {aid: (doc.when, Lookups.of_features(f)) for aid, (doc, f) in read.items()}

    def update(self, params: StoryParams, seeds: set[str], started: str,
               vocab: Vocabulary) -> StoryUpdate:
        """Re-cluster the scope of `seeds` against the stored stories before it."""
        fresh: set[str] = set()
        seeded = self._seed_features(seeds, fresh)  # read once: the scope needs them too
        scope = self.scope(seeds, params, self.lookups(seeds, seeded))
        eligible = {aid for c in chunks(sorted(scope)) for (aid,) in self.db.execute(
            f"SELECT id FROM articles WHERE {ELIGIBLE} AND id IN ({in_list(len(c))})", c)}
        order = sorted((parse_when(p) or UNDATED, aid, p) for c in chunks(sorted(eligible))
                       for aid, p in self.db.execute(
                           f"SELECT id, published FROM articles WHERE id IN ({in_list(len(c))})", c))
        old_links = self.rows.links(scope)
        sketched = self.rows.sketched(eligible)
        new_docs = [aid for _, aid, _ in order if aid not in sketched]
        kept = self.db.execute("SELECT max(published) FROM story_features").fetchone()[0]
        keep = FeatureKeep.before(max(filter(None, (_newest(order), parse_when(kept))),
                                      default=None), started, params.reach_days())
        docs, feats = [], {}
        if keep is not None:
            for aid in fresh:
                keep.computed(*seeded[aid], self.lexicon.version)
        known = dict(seeded)
        known.update((doc.id, (doc, f)) for doc, f in self._featurized(
            [aid for _, aid, _ in order if aid not in seeded], keep))
        for _, aid, _ in order:
            doc, f = known[aid]
            docs.append(doc)
            feats[doc.id] = f
        counted = [feats[aid].terms() for aid in new_docs]
        vocab = vocab.extended(counted)
        sketches: list[tuple[Any, ...]] = []
        new: dict[str, dict[str, Any]] = {}
        # Articles more than the reach apart cannot be candidates of each other: each group
        # of the scope is clustered on its own, with the stored articles before and among it
        # (one group after a crawl; several after a backfill of older dates).
        for group in date_groups(docs, timedelta(days=params.reach_days() + 1)):
            clusterer = Clusterer(self.lexicon, params, vocab, loader=self._load,
                                  on_index=lambda *s: sketches.append(sketch_row(*s)),
                                  stored=lambda doc: self._stored_features([doc]).get(doc.id),
                                  stored_shingles=self._stored_shingles)
            for doc in group:
                clusterer.prepare(doc, feats[doc.id])
            focus = clusterer.focus()  # of the context, index only what these can look up
            # Stored articles before the group and between its articles are context, each
            # added where it was published: an article sees what came before it, as in a
            # full build, and what lies between two changed ones is never left out.
            context = deque(self._context(group, params, scope, focus)
                            if group[0].when is not None else ())
            for doc in group:
                while context and context[0][0] < order_key(doc):
                    clusterer.add_context(*context.popleft()[1])
                if doc is group[0]:  # the texts the group will compare first, on every core
                    wanted = set().union(*(clusterer.wanted(d, feats[d.id]) for d in group))
                    for read, f in self._featurized(sorted(wanted), keep):
                        clusterer.provide(read.id, f)
                clusterer.add(doc, feats[doc.id])
            found = {m.article_id: link_row(m) for m in clusterer.memberships()}
            for aid in clusterer.roots - set(found):  # a context article something now copies
                found[aid] = {"original": True}
            new.update(found)
        with self._tx():
            self.db.execute("PRAGMA defer_foreign_keys = ON")  # links before story rows
            touched, written_links = self.rows.apply_links(old_links, new)
            self.rows.unmark_originals({link["copy_of"] for link in old_links.values()
                                        if link["copy_of"]} - scope)
            self.rows.write_sketches(sketches)
            gone = sorted(scope - eligible)
            for chunk in chunks(gone):
                for table in ("story_sketches", "story_features"):
                    self.db.execute(f"DELETE FROM {table} WHERE article_id IN "
                                    f"({in_list(len(chunk))})", chunk)
            before = self.rows.story_keys(touched)
            written, dropped = self.rows.write_story_rows(
                touched, started, before, StoryDelta.of(old_links, new, seeds))
            self.rows.write_vocab(vocab, set().union(*counted))
            self.rows.keep_features(keep)
        return StoryUpdate(full=False, loaded=sorted(eligible), stories=written,
                           links=written_links, dropped=dropped,
                           unchanged=len(before) - dropped)

    def _context(self, group: list[StoryDoc], params: StoryParams, scope: set[str],
                 focus: Focus | None) -> list[tuple[tuple[datetime, str], tuple[Any, ...]]]:
        """The stored articles a window before the group and among it, and its declared
        originals (first, wherever they were published), as (order key, add_context args)."""
        first, last = group[0].when, max(d.when for d in group if d.when is not None)
        assert first is not None
        since = (first - timedelta(days=params.reach_days() + 1)).date().isoformat()
        targets = sorted({d.republication_of for d in group if d.republication_of} - scope)
        rows = self.rows.context_rows(since, last.date().isoformat(), targets)
        declared, seen = set(targets), set[str]()
        start = (datetime.min.replace(tzinfo=UTC), "")  # declared originals come first
        ordered = sorted(((start if r[0] in declared else published_order(r[2], r[0]), r)
                          for r in rows if r[0] not in scope), key=lambda x: x[0])
        # Signatures go to the LSH as stored, and only those that can match (candidates).
        lsh = focus.matching([r[3] for _, r in ordered]) if focus else [True] * len(ordered)
        out = []
        for (key, r), match in zip(ordered, lsh, strict=True):
            if r[0] not in seen and (r[0] in declared or key[0] <= last):
                seen.add(r[0])
                out.append((key, (r[0], r[1] or "", r[2], r[6], r[7], r[3] if match else None,
                                  ((r[4] or "").split(), (r[5] or "").split()))))
        return out


def _newest(order: list[tuple[datetime, str, str | None]]) -> datetime | None:
    """The latest date of a publication-ordered list (undated articles sort last)."""
    return next((when for when, _, _ in reversed(order) if when != UNDATED), None)
