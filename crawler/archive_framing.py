"""The archive's framing writes: mentions, KWIC lines, stories, vocabulary runs.

A mixin of crawler.archive.Archive (still the one writer of archive.db): crawler/framing
computes the rows, only these methods write them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crawler.clock import utcnow

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.framing.lexicon import Lexicon
    from crawler.framing.stories import StoryParams

LEXICON_PATH = Path(__file__).resolve().parent / "framing" / "lexicon.toml"


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

    def store_mentions(self, aid: str) -> int:
        """(Re)compute one article's mentions and KWIC lines from its stored text."""
        lexicon = self.framing_lexicon()
        row = self.db.execute("SELECT title, text, lang FROM articles WHERE id = ?",
                              [aid]).fetchone()
        self.db.execute("DELETE FROM mentions WHERE article_id = ?", [aid])
        self.db.execute("DELETE FROM kwic WHERE article_id = ?", [aid])
        if row is None:
            return 0
        from crawler.framing.kwic import analyse

        mentions, lines = analyse(lexicon, row[0], row[1], row[2])
        extra = {"article_id": aid, "lexicon_version": lexicon.version}
        self.db.table("mentions").insert_all([{**m, **extra} for m in mentions])
        self.db.table("kwic").insert_all([{**k, **extra} for k in lines])
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
        from dataclasses import asdict

        from crawler.framing.build import story_tables
        from crawler.framing.stories import StoryParams

        params = params or StoryParams()
        lexicon = self.framing_lexicon()
        cols = "id, source_id, lang, published, title, text, on_topic, republication_of"
        articles = [dict(zip(cols.split(", "), r, strict=True)) for r in self.db.execute(
            f"SELECT {cols} FROM articles WHERE extraction_status = 'ok' "
            "AND coalesce(text, '') != ''").fetchall()]
        concepts: dict[str, set[str]] = {}
        for aid, concept in self.db.execute(
                "SELECT DISTINCT article_id, concept FROM mentions WHERE kind = 'naming'"):
            concepts.setdefault(aid, set()).add(concept)
        stories, links = story_tables(articles, concepts, lexicon, params, utcnow())
        with self.transaction():
            self.db.execute("DELETE FROM story_articles")
            self.db.execute("DELETE FROM stories")
            self.db.table("stories").insert_all(stories)
            self.db.table("story_articles").insert_all(links)
            for key, value in (("stories_built_at", utcnow()),
                               ("stories_params", json.dumps(asdict(params)))):
                self.db.execute("UPDATE framing_settings SET value = ? WHERE key = ?",
                                [value, key])
        return len(stories), len(links)

    def store_fw_run(self, run: dict[str, Any], terms: list[dict[str, Any]]) -> int:
        """Store one distinctive-vocabulary run and its top terms; return the run id."""
        with self.transaction():
            table = self.db.table("fw_runs").insert(run)
            run_id = table.last_rowid
            assert run_id is not None
            self.db.table("fw_terms").insert_all([{**t, "run_id": run_id} for t in terms])
        return run_id
