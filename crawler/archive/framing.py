"""The archive's framing writes: mentions, KWIC lines, stories, vocabulary runs.

A store composed into crawler.archive.core.Archive (`archive.framing`; the Archive stays the
one writer of archive.db): crawler/framing computes the rows, only these methods write them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.archive.base import Shared, Store
from crawler.archive.rows import insert_rows
from crawler.archive.triggers import triggers_aside
from crawler.clock import utcnow

if TYPE_CHECKING:
    from crawler.archive.stories import StoryStore
    from crawler.framing.build import StoryUpdate
    from crawler.framing.features import Vocabulary
    from crawler.framing.lexicon import Lexicon
    from crawler.framing.stories import StoryParams

# Worker-computed story features kept in the queue at most (a few KB each): beyond this,
# a backfill that runs long before its first build leaves the featurizing to that build.
FEATURE_BACKLOG = 50_000


class FramingStore(Store):
    """Framing tables (mentions, KWIC, stories, vocabulary runs), kept in step with the
    lexicon and code versions."""

    def __init__(self, shared: Shared, lexicon_path: Path) -> None:
        super().__init__(shared)
        self.lexicon_path = lexicon_path
        self._lexicon: Lexicon | None = None
        self._backlog: int | None = None  # feature blobs in the queue, counted once

    def framing_lexicon(self) -> Lexicon:
        """The lexicon in use; mentions are rebuilt first if they came from another version."""
        lexicon = self._lexicon
        if lexicon is None:
            from crawler.framing import CODE_VERSION
            from crawler.framing.lexicon import load_lexicon

            lexicon = self._lexicon = load_lexicon(self.lexicon_path)
            stored = dict(self.db.execute(
                "SELECT key, value FROM framing_settings "
                "WHERE key IN ('lexicon_version', 'code_version')").fetchall())
            if stored != {"lexicon_version": lexicon.version, "code_version": CODE_VERSION}:
                self._reframe(lexicon)
        return lexicon

    def store_mentions(self, aid: str, computed: dict[str, Any] | None = None) -> int:
        """(Re)compute one article's mentions and KWIC lines from its stored text.

        `computed` (crawler.ingest.extraction.framing_analysis, done in an extraction worker) is used
        when it was made with this lexicon from exactly the stored title, text and language.
        """
        lexicon = self.framing_lexicon()
        row = self.db.execute("SELECT title, text, lang FROM articles WHERE id = ?",
                              [aid]).fetchone()
        self.db.execute("DELETE FROM mentions WHERE article_id = ?", [aid])
        self.db.execute("DELETE FROM kwic WHERE article_id = ?", [aid])
        if row is None:
            return 0
        mentions, lines, reused = self._analysis(lexicon, row, computed)
        if reused:
            self._queue_features(aid, computed or {})
        return self._write_mentions(aid, lexicon, mentions, lines)

    def store_new_mentions(self, aid: str, row: dict[str, Any], computed: dict[str, Any] | None,
                           insert_article: Callable[[dict[str, Any]], Any]) -> int:
        """Mentions and KWIC lines of a new article, written around `insert_article`'s write
        of its row.

        framing_counts' per-mention trigger does three upserts per mention row of an article
        that counts, the largest write of an article fetch after its search index. An article
        whose extraction is "ok" is therefore written as "pending" (counted nowhere), its
        mentions next (the trigger adds nothing), and then set to "ok": the article's update
        trigger counts all its mentions in four grouped statements. All of it happens inside
        the caller's savepoint, so no reader ever sees the pending row.
        """
        lexicon = self.framing_lexicon()
        mentions, lines, reused = self._analysis(lexicon, (row["title"], row["text"], row["lang"]),
                                                 computed)
        status = row["extraction_status"]
        if status == "ok" and mentions:
            insert_article({**row, "extraction_status": "pending"})
            n = self._write_mentions(aid, lexicon, mentions, lines)
            self.db.execute("UPDATE articles SET extraction_status = ? WHERE id = ?", [status, aid])
        else:  # not counted anyway (or nothing to count): the per-mention trigger is cheap
            insert_article(row)
            n = self._write_mentions(aid, lexicon, mentions, lines)
        if reused:
            self._queue_features(aid, computed or {})
        return n

    @staticmethod
    def _analysis(lexicon: Lexicon, stored: tuple[Any, ...], computed: dict[str, Any] | None
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        """(mentions, KWIC lines, whether the worker's analysis was the one used)."""
        from crawler.framing.kwic import analysis_key

        title, text, lang = stored
        if computed and computed.get("lexicon") == lexicon.version and \
                computed.get("key") == analysis_key(title, text, lang):
            return computed["mentions"], computed["kwic"], True
        from crawler.framing.kwic import analyse

        mentions, lines = analyse(lexicon, title, text, lang)
        return mentions, lines, False

    def _write_mentions(self, aid: str, lexicon: Lexicon, mentions: list[dict[str, Any]],
                        lines: list[dict[str, Any]]) -> int:
        extra = {"article_id": aid, "lexicon_version": lexicon.version}
        insert_rows(self.db, "mentions", [{**m, **extra} for m in mentions])
        insert_rows(self.db, "kwic", [{**k, **extra} for k in lines])
        return len(mentions)

    def _queue_features(self, aid: str, computed: dict[str, Any]) -> None:
        """Keep a worker's story features beside the article's id in the story queue.

        The next story build reads them instead of featurizing the text again, and drops
        them with the queue entry. Past FEATURE_BACKLOG queued blobs (a long backfill before
        any build), the build computes the rest itself rather than the archive growing.
        """
        blob, key = computed.get("features"), computed.get("features_key")
        if not isinstance(blob, bytes) or not isinstance(key, str):
            return
        if self._backlog is None:
            self._backlog = self.db.execute(
                "SELECT count(*) FROM story_changes WHERE features IS NOT NULL").fetchone()[0]
        if self._backlog >= FEATURE_BACKLOG:
            return
        cursor = self.db.execute("UPDATE story_changes SET features = ?, features_key = ? "
                                 "WHERE article_id = ?", [blob, key, aid])
        self._backlog += cursor.rowcount

    def reframe(self, lexicon: Lexicon | None = None) -> tuple[int, int]:
        """Rebuild every article's mentions and KWIC lines; return (articles, mention rows)."""
        from crawler.framing.lexicon import load_lexicon

        lexicon = lexicon or load_lexicon(self.lexicon_path)
        with self.transaction():
            return self._reframe(lexicon)

    def _reframe(self, lexicon: Lexicon) -> tuple[int, int]:
        from mediawatch_schema.migrations import framing_counts_sql

        from crawler.framing import CODE_VERSION
        from crawler.framing.build import lexicon_rows

        self._lexicon = lexicon
        # Every mention row is replaced: framing_counts is recomputed once at the end instead
        # of by the per-row triggers (three upserts per row deleted or written; at 100k
        # articles the DELETE alone took minutes).
        with triggers_aside(self.db, "mentions"):
            self.db.execute("DELETE FROM mentions")
            self.db.execute("DELETE FROM kwic")
            self.db.execute("DELETE FROM lexicon_variants")
            self.db.execute("DELETE FROM lexicon_concepts")
            concepts, variants = lexicon_rows(lexicon)
            self.db.table("lexicon_concepts").insert_all(concepts)
            self.db.table("lexicon_variants").insert_all(variants)
            ids = [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id")]
            total = sum(self.store_mentions(aid) for aid in ids)
            self.db.execute("DELETE FROM framing_counts")
            self.db.execute(f"INSERT INTO framing_counts {framing_counts_sql()}")
        for key, value in (("lexicon_version", lexicon.version), ("code_version", CODE_VERSION)):
            self.db.execute("UPDATE framing_settings SET value = ? WHERE key = ?", [value, key])
        return len(ids), total

    def _story_store(self) -> StoryStore:
        from crawler.archive.stories import StoryStore
        from crawler.framing import CODE_VERSION

        return StoryStore(self.db, self.transaction, self.framing_lexicon(), CODE_VERSION)

    def rebuild_stories(self, params: StoryParams | None = None) -> tuple[int, int]:
        """Re-cluster every extracted article into stories (idempotent); return (stories, links)."""
        self._write_stories(params, None)
        counts = self.db.execute(
            "SELECT (SELECT count(*) FROM stories), (SELECT count(*) FROM story_articles)"
        ).fetchone()
        return counts[0], counts[1]

    def update_stories(self, params: StoryParams | None = None,
                       changed: Iterable[str] = ()) -> StoryUpdate:
        """Re-cluster only what articles stored since the last build can affect (after a crawl).

        `changed` adds ids the caller knows it wrote. What changed since the last build is
        read from the story_changes queue (its triggers fill it), so nothing new costs one
        read of an empty table and writes nothing; other parameters, another lexicon or
        code version, or no build yet mean a full rebuild.
        """
        # Not bit-for-bit a full rebuild: the vocabulary of the last full build (plus the
        # new articles) weighs the words, and a decision after the re-clustered span that
        # hinged on it is not revisited. `stories --full` is the reference;
        # tests/test_stories_incremental.py checks they agree on the fixture.
        from crawler.archive.story_rows import params_json
        from crawler.framing import CODE_VERSION
        from crawler.framing.build import StoryUpdate
        from crawler.framing.stories import StoryParams

        params = params or StoryParams()
        lexicon = self.framing_lexicon()
        settings = dict(self.db.execute(
            "SELECT key, value FROM framing_settings "
            "WHERE key IN ('stories_built_at', 'stories_params')").fetchall())
        built_at = settings.get("stories_built_at")
        store = self._story_store()
        vocab = store.vocabulary()
        if not built_at or vocab is None or \
                settings.get("stories_params") != params_json(params, lexicon, CODE_VERSION):
            return self._write_stories(params, None)
        seeds = self._changed_since(built_at) | set(changed)
        if not seeds:
            if self._queued() is None:  # compared the tables: the queue takes over from here
                handled = [r[0] for r in self.db.execute("SELECT article_id FROM story_changes")]
                with self.transaction():
                    self._dequeue(handled)
            return StoryUpdate(full=False)
        return self._write_stories(params, seeds, vocab)

    def _changed_since(self, built_at: str) -> set[str]:
        """Articles new to the stories, gone from them, or changed since the last build."""
        queued = self._queued()
        if queued is not None:
            return queued
        # An archive whose queue (migration 0013) has not been through a build yet: compare
        # the tables once, as before the queue existed.
        new = self.db.execute(
            "SELECT a.id FROM articles a WHERE a.extraction_status = 'ok' AND NOT EXISTS "
            "(SELECT 1 FROM story_articles sa WHERE sa.article_id = a.id) "
            "AND coalesce(a.text, '') != ''")
        gone = self.db.execute(
            "SELECT sa.article_id FROM story_articles sa LEFT JOIN articles a "
            "ON a.id = sa.article_id WHERE a.id IS NULL OR a.extraction_status != 'ok'")
        updated = self.db.execute(
            "SELECT DISTINCT article_id FROM pages WHERE fetched_at >= ? "
            "AND article_id IS NOT NULL", [built_at])
        return {r[0] for q in (new, gone, updated) for r in q}

    def _queued(self) -> set[str] | None:
        """The ids the story_changes triggers queued, or None when the queue is not in use yet."""
        on = self.db.execute("SELECT value FROM framing_settings "
                             "WHERE key = 'stories_changes'").fetchone()
        if not on or on[0] != "1":
            return None
        return {r[0] for r in self.db.execute("SELECT article_id FROM story_changes")}

    def story_scope(self, seeds: set[str], params: StoryParams) -> set[str]:
        """Article ids to re-cluster for changed `seeds` (StoryStore.scope in crawler.archive.stories)."""
        return self._story_store().scope(seeds, params)

    def _write_stories(self, params: StoryParams | None, seeds: set[str] | None,
                       vocab: Vocabulary | None = None) -> StoryUpdate:
        """Cluster everything (seeds None) or the scope of `seeds`; record the build."""
        from crawler.archive.story_rows import params_json
        from crawler.framing import CODE_VERSION
        from crawler.framing.stories import StoryParams

        params = params or StoryParams()
        store = self._story_store()
        started = utcnow()  # articles stored while this runs are picked up next time
        # What the triggers queued so far is handled by this build (read before it starts,
        # so an id queued while it runs stays for the next one).
        handled = [r[0] for r in self.db.execute("SELECT article_id FROM story_changes")]
        if seeds is None or vocab is None:
            done = store.rebuild(params, started)
        else:
            done = store.update(params, seeds, started, vocab)
        with self.transaction():
            for key, value in (("stories_built_at", started),
                               ("stories_params",
                                params_json(params, self.framing_lexicon(), CODE_VERSION))):
                self.db.execute("UPDATE framing_settings SET value = ? WHERE key = ?",
                                [value, key])
            self._dequeue(handled)
        return done

    def _dequeue(self, handled: list[str]) -> None:
        """Take the ids a build handled off the queue; updates read the queue from now on."""
        from crawler.archive.story_rows import chunks, in_list

        self.db.execute("INSERT OR REPLACE INTO framing_settings (key, value, note) VALUES "
                        "('stories_changes', '1', 'story updates read story_changes')")
        for chunk in chunks(handled):
            self.db.execute("DELETE FROM story_changes WHERE article_id IN "
                            f"({in_list(len(chunk))})", chunk)
        self._backlog = None

    def store_fw_run(self, run: dict[str, Any], terms: list[dict[str, Any]]) -> int:
        """Store one distinctive-vocabulary run and its top terms; return the run id."""
        with self.transaction():
            table = self.db.table("fw_runs").insert(run)
            run_id = table.last_rowid
            assert run_id is not None
            self.db.table("fw_terms").insert_all([{**t, "run_id": run_id} for t in terms])
        return run_id
