"""The archive's framing writes: mentions, KWIC lines, stories, vocabulary runs.

A mixin of crawler.archive.core.Archive (still the one writer of archive.db): crawler/framing
computes the rows, only these methods write them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.archive.rows import insert_rows
from crawler.clock import utcnow

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.framing.build import StoryUpdate
    from crawler.framing.lexicon import Lexicon
    from crawler.framing.stories import StoryParams

_CHUNK = 500  # ids per IN (...): under SQLite's bound-parameter limit


def _chunks(ids: Iterable[str]) -> Iterator[list[str]]:
    """Sorted ids in slices small enough for one IN (...) list."""
    ordered = sorted(ids)
    for i in range(0, len(ordered), _CHUNK):
        yield ordered[i:i + _CHUNK]


def _params_json(params: StoryParams, lexicon: Lexicon) -> str:
    """What a story build depends on besides the articles: parameters and lexicon version."""
    from dataclasses import asdict

    return json.dumps({**asdict(params), "lexicon_version": lexicon.version})


class FramingMixin:
    """Framing tables, kept in step with the lexicon version."""

    db: sqlite_utils.Database
    lexicon_path: Path
    transaction: Callable[[], AbstractContextManager[None]]  # Archive's one-write scope


    def framing_lexicon(self) -> Lexicon:
        """The lexicon in use; mentions are rebuilt first if they came from another version."""
        lexicon: Lexicon | None = getattr(self, "_lexicon", None)
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
        from crawler.framing.kwic import analysis_key

        if computed and computed.get("lexicon") == lexicon.version and \
                computed.get("key") == analysis_key(row[0], row[1], row[2]):
            mentions, lines = computed["mentions"], computed["kwic"]
        else:
            from crawler.framing.kwic import analyse

            mentions, lines = analyse(lexicon, row[0], row[1], row[2])
        extra = {"article_id": aid, "lexicon_version": lexicon.version}
        insert_rows(self.db, "mentions", [{**m, **extra} for m in mentions])
        insert_rows(self.db, "kwic", [{**k, **extra} for k in lines])
        return len(mentions)

    def reframe(self, lexicon: Lexicon | None = None) -> tuple[int, int]:
        """Rebuild every article's mentions and KWIC lines; return (articles, mention rows)."""
        from crawler.framing.lexicon import load_lexicon

        lexicon = lexicon or load_lexicon(self.lexicon_path)
        with self.transaction():
            return self._reframe(lexicon)

    def _reframe(self, lexicon: Lexicon) -> tuple[int, int]:
        from crawler.framing import CODE_VERSION
        from crawler.framing.build import lexicon_rows

        self._lexicon = lexicon
        self.db.execute("DELETE FROM mentions")
        self.db.execute("DELETE FROM kwic")
        self.db.execute("DELETE FROM lexicon_variants")
        self.db.execute("DELETE FROM lexicon_concepts")
        concepts, variants = lexicon_rows(lexicon)
        self.db.table("lexicon_concepts").insert_all(concepts)
        self.db.table("lexicon_variants").insert_all(variants)
        ids = [r[0] for r in self.db.execute("SELECT id FROM articles ORDER BY id").fetchall()]
        total = sum(self.store_mentions(aid) for aid in ids)
        for key, value in (("lexicon_version", lexicon.version), ("code_version", CODE_VERSION)):
            self.db.execute("UPDATE framing_settings SET value = ? WHERE key = ?", [value, key])
        return len(ids), total

    def rebuild_stories(self, params: StoryParams | None = None) -> tuple[int, int]:
        """Re-cluster every extracted article into stories (idempotent); return (stories, links)."""
        from crawler.framing.stories import StoryParams

        params = params or StoryParams()
        self._write_stories(params, None)
        counts = self.db.execute(
            "SELECT (SELECT count(*) FROM stories), (SELECT count(*) FROM story_articles)"
        ).fetchone()
        return counts[0], counts[1]

    def update_stories(self, params: StoryParams | None = None,
                       changed: Iterable[str] = ()) -> StoryUpdate:
        """Re-cluster only what articles stored since the last build can affect (after a crawl).

        `changed` adds ids the caller knows it wrote. Nothing new since the last build costs
        three scans of narrow indexes (no article text) and writes nothing; other parameters,
        another lexicon or no build yet mean a full rebuild.
        """
        # Not bit-for-bit a full rebuild: TF-IDF weights come from the re-clustered articles
        # only (scores drift, memberships near a threshold could too), and a decision beyond
        # reach_days that hinged on a rebuilt story is not revisited. `stories --full` is
        # the reference; tests/test_stories_incremental.py checks they agree on the fixture.
        from crawler.framing.build import StoryUpdate
        from crawler.framing.stories import StoryParams

        params = params or StoryParams()
        lexicon = self.framing_lexicon()
        settings = dict(self.db.execute(
            "SELECT key, value FROM framing_settings "
            "WHERE key IN ('stories_built_at', 'stories_params')").fetchall())
        built_at = settings.get("stories_built_at")
        if not built_at or settings.get("stories_params") != _params_json(params, lexicon):
            return self._write_stories(params, None)
        seeds = self._changed_since(built_at) | set(changed)
        if not seeds:
            return StoryUpdate(full=False)
        return self._write_stories(params, self.story_scope(seeds, params))

    def _changed_since(self, built_at: str) -> set[str]:
        """Articles new to the stories, gone from them, or fetched as a new capture since."""
        new = self.db.execute(
            "SELECT a.id FROM articles a WHERE a.extraction_status = 'ok' AND NOT EXISTS "
            "(SELECT 1 FROM story_articles sa WHERE sa.article_id = a.id) "
            "AND coalesce(a.text, '') != ''")
        gone = self.db.execute(
            "SELECT sa.article_id FROM story_articles sa LEFT JOIN articles a "
            "ON a.id = sa.article_id WHERE a.id IS NULL OR a.extraction_status != 'ok'")
        # A changed body is a new pages row (capture_key includes its hash); an identical
        # re-fetch or a 304 only moves last_fetched_at, so re-checks cost nothing here.
        updated = self.db.execute(
            "SELECT DISTINCT article_id FROM pages WHERE fetched_at >= ? "
            "AND article_id IS NOT NULL", [built_at])
        return {r[0] for q in (new, gone, updated) for r in q}

    def story_scope(self, seeds: set[str], params: StoryParams) -> set[str]:
        """Article ids to re-cluster for changed `seeds`: their time reach, whole stories."""
        from datetime import timedelta

        from crawler.framing.stories import parse_when
        from crawler.web.urls import article_id

        scope = set(seeds)
        spans: list[tuple[datetime, datetime]] = []
        urls: set[str] = set()
        for chunk in _chunks(seeds):
            marks = ", ".join("?" * len(chunk))
            for published, canonical, url, reprint in self.db.execute(
                    "SELECT published, canonical_url, url, republication_of FROM articles "
                    f"WHERE id IN ({marks})", chunk):
                when = parse_when(published)
                if when:
                    spans.append((when, when))
                urls.update(u for u in (canonical, url) if u)
                if reprint:  # a declared copy joins its original whatever the date gap
                    scope.add(article_id(reprint))
            # The story a changed article left spans its old dates: re-cluster around those.
            for first, last in self.db.execute(
                    "SELECT DISTINCT s.first_published, s.last_published FROM stories s "
                    "JOIN story_articles sa ON sa.story_id = s.id "
                    f"WHERE sa.article_id IN ({marks})", chunk):
                lo, hi = parse_when(first), parse_when(last)
                if lo and hi:
                    spans.append((lo, hi))
        reach = timedelta(days=params.reach_days())
        merged: list[list[datetime]] = []
        for lo, hi in sorted(spans):
            if merged and lo - reach <= merged[-1][1] + reach:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        day = timedelta(days=1)  # published keeps its own offset: compare strings loosely
        for lo, hi in merged:
            for aid, published in self.db.execute(
                    "SELECT id, published FROM articles WHERE published >= ? AND published < ? "
                    "AND extraction_status = 'ok'",
                    [(lo - reach - day).date().isoformat(), (hi + reach + day).date().isoformat()]):
                when = parse_when(published)
                if when and lo - reach <= when <= hi + reach:
                    scope.add(aid)
        for chunk in _chunks(urls):
            scope.update(r[0] for r in self.db.execute(
                "SELECT id FROM articles WHERE republication_of IN "
                f"({', '.join('?' * len(chunk))})", chunk))
        # Whole stories: a story is rebuilt with all its members or not at all.
        for chunk in _chunks(set(scope)):
            scope.update(r[0] for r in self.db.execute(
                "SELECT sa2.article_id FROM story_articles sa "
                "JOIN story_articles sa2 ON sa2.story_id = sa.story_id "
                f"WHERE sa.article_id IN ({', '.join('?' * len(chunk))})", chunk))
        return scope

    def _write_stories(self, params: StoryParams, scope: set[str] | None) -> StoryUpdate:
        """Cluster `scope` (None: every article), replace only the stories that changed."""
        from crawler.framing.build import StoryUpdate, story_key, story_tables

        lexicon = self.framing_lexicon()
        started = utcnow()  # articles stored while this runs are picked up next time
        cols = "id, source_id, lang, published, title, text, on_topic, republication_of"
        where = "extraction_status = 'ok' AND coalesce(text, '') != ''"
        parts = [(f"SELECT {cols} FROM articles WHERE {where}", [])] if scope is None else [
            (f"SELECT {cols} FROM articles WHERE {where} "
             f"AND id IN ({', '.join('?' * len(c))})", c) for c in _chunks(scope)]
        articles = [dict(zip(cols.split(", "), r, strict=True))
                    for sql, args in parts for r in self.db.execute(sql, args).fetchall()]
        concepts: dict[str, set[str]] = {}
        mention_sql = "SELECT DISTINCT article_id, concept FROM mentions WHERE kind = 'naming'"
        for sql, args in ([(mention_sql, [])] if scope is None else [
                (f"{mention_sql} AND article_id IN ({', '.join('?' * len(c))})", c)
                for c in _chunks(scope)]):
            for aid, concept in self.db.execute(sql, args):
                concepts.setdefault(aid, set()).add(concept)
        stories, links = story_tables(articles, concepts, lexicon, params, started)
        new_links: dict[str, list[dict[str, Any]]] = {}
        for link in links:
            new_links.setdefault(link["story_id"], []).append(link)
        old = self._old_stories(scope)
        keep = {s["id"] for s in stories if s["id"] in old
                and old[s["id"]] == story_key(s, new_links[s["id"]], scope is None)}
        drop = [sid for sid in old if sid not in keep]
        add = [s for s in stories if s["id"] not in keep]
        with self.transaction():
            for chunk in _chunks(drop):
                marks = ", ".join("?" * len(chunk))
                self.db.execute(f"DELETE FROM story_articles WHERE story_id IN ({marks})", chunk)
                self.db.execute(f"DELETE FROM stories WHERE id IN ({marks})", chunk)
            self.db.table("stories").insert_all(add)
            self.db.table("story_articles").insert_all(
                [m for s in add for m in new_links[s["id"]]])
            for key, value in (("stories_built_at", started),
                               ("stories_params", _params_json(params, lexicon))):
                self.db.execute("UPDATE framing_settings SET value = ? WHERE key = ?",
                                [value, key])
        return StoryUpdate(full=scope is None, loaded=sorted(a["id"] for a in articles),
                           stories=len(add), links=sum(len(new_links[s["id"]]) for s in add),
                           dropped=len(drop), unchanged=len(keep))

    def _old_stories(self, scope: set[str] | None) -> dict[str, tuple[Any, ...]]:
        """The stored stories touching `scope` (None: all), keyed as story_key makes them."""
        from crawler.framing.build import STORY_COLUMNS, story_key

        if scope is None:
            ids = [r[0] for r in self.db.execute(
                "SELECT id FROM stories UNION SELECT story_id FROM story_articles")]
        else:
            ids = sorted({r[0] for c in _chunks(scope) for r in self.db.execute(
                "SELECT story_id FROM story_articles "
                f"WHERE article_id IN ({', '.join('?' * len(c))})", c)})
        out = {}
        for chunk in _chunks(ids):
            marks = ", ".join("?" * len(chunk))
            rows = {r[0]: dict(zip(STORY_COLUMNS, r[1:], strict=True)) for r in self.db.execute(
                f"SELECT id, {', '.join(STORY_COLUMNS)} FROM stories WHERE id IN ({marks})",
                chunk)}
            links: dict[str, list[dict[str, Any]]] = {}
            for sid, aid, role, copy_of, score in self.db.execute(
                    "SELECT story_id, article_id, role, copy_of, score FROM story_articles "
                    f"WHERE story_id IN ({marks})", chunk):
                links.setdefault(sid, []).append(
                    {"article_id": aid, "role": role, "copy_of": copy_of, "score": score})
            # Links without a story row get an impossible key, so they are dropped too.
            out.update({sid: story_key(rows[sid], links.get(sid, []), scope is None)
                        if sid in rows else () for sid in chunk})
        return out

    def store_fw_run(self, run: dict[str, Any], terms: list[dict[str, Any]]) -> int:
        """Store one distinctive-vocabulary run and its top terms; return the run id."""
        with self.transaction():
            table = self.db.table("fw_runs").insert(run)
            run_id = table.last_rowid
            assert run_id is not None
            self.db.table("fw_terms").insert_all([{**t, "run_id": run_id} for t in terms])
        return run_id
