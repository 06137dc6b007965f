"""The rows of story builds: links with their copy evidence, story rows, sketches, vocabulary.

Used by crawler.archive.stories (StoryStore), inside its transaction: rows that are still
right are left alone, so an update writes only what changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawler.framing.build import INDEPENDENT, story_row
from crawler.framing.candidates import signature_bytes
from crawler.framing.stories import StoryDoc, StoryParams, parse_when
from crawler.framing.storydocs import published_order

if TYPE_CHECKING:
    import sqlite_utils

    from crawler.framing.features import Features, Vocabulary
    from crawler.framing.lexicon import Lexicon

_CHUNK = 500  # ids per IN (...): under SQLite's bound-parameter limit


def chunks(ids: Iterable[str], size: int = _CHUNK) -> Iterator[list[str]]:
    """Ids in slices small enough for one IN (...) list (order kept)."""
    batch: list[str] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def in_list(n: int) -> str:
    """n placeholders for an IN (...) list."""
    return ", ".join("?" * n)


class FeatureKeep:
    """Which articles' features a build keeps (story_features): those published on or after
    `since`, a copy window before the newest article, where a later update's candidates
    come from. Collects the ones a build computed; queued ones are copied in SQL."""

    def __init__(self, since: str) -> None:
        self.since = since  # YYYY-MM-DD
        self.rows: list[tuple[str, str, str, bytes]] = []

    @classmethod
    def before(cls, newest: datetime | None, started: str, days: float) -> FeatureKeep | None:
        """Keep `days` (and one more) before `newest`, never counted from after `started`
        (a mistyped date in the future would otherwise make every kept row look old)."""
        if newest is None:
            return None
        ceiling = parse_when(started)
        if ceiling is not None:
            newest = min(newest, ceiling + timedelta(days=1))
        return cls((newest - timedelta(days=days + 1)).date().isoformat())

    def computed(self, doc: StoryDoc, feats: Features, lexicon_version: str) -> None:
        """Features a build computed: kept when the article is recent enough."""
        from crawler.framing.featblob import encode, features_key

        if doc.published and doc.published[:10] >= self.since:
            self.rows.append((doc.id, doc.published, features_key(
                doc.title, doc.text, doc.lang, lexicon_version), encode(feats)))


class StoryRows:
    """Writes stories, story_articles, story_sketches, story_vocab and story_features rows."""

    def __init__(self, db: sqlite_utils.Database, code_version: str) -> None:
        self.db, self.code_version = db, code_version

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        """Insert rows in batches (nothing for none)."""
        if rows:
            self.db.table(table).insert_all(rows, batch_size=2000)

    def write_sketches(self, rows: list[tuple[Any, ...]]) -> None:
        """Store (and clear) a batch of story_sketches rows."""
        if rows:
            self.db.conn.executemany("INSERT OR REPLACE INTO story_sketches VALUES (?, ?, ?, ?, ?, ?)",
                                rows)
            rows.clear()

    def keep_features(self, keep: FeatureKeep | None) -> None:
        """Keep the recent articles' features for the next update (those workers queued,
        then those this build computed so far: they win where both exist); drop older ones."""
        if keep is None:
            return
        self.db.execute(
            "INSERT OR REPLACE INTO story_features (article_id, published, features_key, "
            "features) SELECT c.article_id, a.published, c.features_key, c.features "
            "FROM story_changes c JOIN articles a ON a.id = c.article_id "
            "WHERE c.features IS NOT NULL AND a.published >= ?", [keep.since])
        self.write_kept(keep)
        self.db.execute("DELETE FROM story_features WHERE published < ?", [keep.since])

    def write_kept(self, keep: FeatureKeep | None) -> None:
        """Store (and clear) the features a build computed and keeps."""
        if keep is not None and keep.rows:
            self.db.conn.executemany("INSERT OR REPLACE INTO story_features (article_id, "
                                     "published, features_key, features) VALUES (?, ?, ?, ?)",
                                     keep.rows)
            keep.rows.clear()

    def write_vocab(self, vocab: Vocabulary, keys: set[str] | None = None) -> None:
        """Replace the stored vocabulary (only `keys`, when an update counted just those)
        and its article count."""
        if keys is None:
            self.db.execute("DELETE FROM story_vocab")
        self.db.conn.executemany("INSERT OR REPLACE INTO story_vocab VALUES (?, ?)", sorted(
            vocab.df.items() if keys is None else ((k, vocab.df[k]) for k in keys)))
        self.db.execute("UPDATE framing_settings SET value = ? WHERE key = 'stories_vocab_n'",
                        [str(vocab.n)])

    def sketched(self, ids: set[str]) -> set[str]:
        """Which of `ids` have a stored sketch."""
        return {r[0] for c in chunks(sorted(ids)) for r in self.db.execute(
            f"SELECT article_id FROM story_sketches WHERE article_id IN ({in_list(len(c))})", c)}

    def context_rows(self, since: str, until: str, targets: list[str]) -> list[tuple[Any, ...]]:
        """Sketch and story link of every article published from `since` to `until` (ISO
        days), and of the declared originals `targets` (no sketch): an update's context."""
        rows = self.db.execute(
            "SELECT s.article_id, s.lang, s.published, s.minhash, s.story_keys, s.copy_keys, "
            "sa.story_id, sa.copy_of FROM story_sketches s "
            "JOIN story_articles sa ON sa.article_id = s.article_id "
            "WHERE s.published >= ? AND s.published <= ?", [since, until + "~"]).fetchall()
        for chunk in chunks(targets):
            rows += self.db.execute(
                "SELECT sa.article_id, a.lang, a.published, NULL, '', '', sa.story_id, "
                "sa.copy_of FROM story_articles sa JOIN articles a ON a.id = sa.article_id "
                f"WHERE sa.article_id IN ({in_list(len(chunk))})", chunk).fetchall()
        return rows

    def links(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        """The stored story_articles rows of `ids`, by article id."""
        out = {}
        for chunk in chunks(sorted(ids)):
            cur = self.db.execute(
                f"SELECT * FROM story_articles WHERE article_id IN ({in_list(len(chunk))})", chunk)
            names = [d[0] for d in cur.description]
            out.update({r[1]: dict(zip(names, r, strict=True)) for r in cur})
        return out

    def apply_links(self, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]
                     ) -> tuple[set[str], int]:
        """Write the links that changed (story, role, copy link or evidence); return the
        stories they touch and how many links were written."""
        write = []
        for aid, link in new.items():
            before = old.get(aid)
            if link.get("original"):  # a stored article (scope or context) that is now copied
                # Its story's row stays: reports and originals both count as independent.
                self.db.execute("UPDATE story_articles SET role = 'original' "
                                "WHERE article_id = ? AND role = 'report'", [aid])
                continue
            if before and _same_link(before, link):
                continue
            write.append(link)
        drop = [aid for aid in old if aid not in new]
        # Every story the scope was or is in is re-checked (rows kept when still right).
        touched = {link["story_id"] for link in old.values()}
        touched.update(link["story_id"] for link in new.values() if "story_id" in link)
        for chunk in chunks(sorted(drop) + [w["article_id"] for w in write]):
            self.db.execute(
                f"DELETE FROM story_articles WHERE article_id IN ({in_list(len(chunk))})", chunk)
        self.insert("story_articles", write)
        return touched, len(write)

    def unmark_originals(self, ids: set[str]) -> None:
        """`original` becomes `report` for those of `ids` that nothing copies any more."""
        for aid in sorted(ids):
            if not self.db.execute("SELECT 1 FROM story_articles WHERE copy_of = ? LIMIT 1",
                                   [aid]).fetchone():
                self.db.execute("UPDATE story_articles SET role = 'report' "
                                "WHERE article_id = ? AND role = 'original'", [aid])

    def story_keys(self, story_ids: set[str]) -> dict[str, tuple[Any, ...]]:
        """The stored stories' column values, to leave unchanged rows alone."""
        from crawler.framing.build import STORY_COLUMNS

        out = {}
        for chunk in chunks(sorted(story_ids)):
            for r in self.db.execute(f"SELECT id, {', '.join(STORY_COLUMNS)} FROM stories "
                                     f"WHERE id IN ({in_list(len(chunk))})", chunk):
                out[r[0]] = tuple(r[1:])
        return out

    def write_story_rows(self, story_ids: set[str], started: str,
                          before: dict[str, tuple[Any, ...]] | None = None,
                          delta: StoryDelta | None = None) -> tuple[int, int]:
        """(Re)write the rows of `story_ids`, leaving rows that are still right; return
        (rows written, stored rows replaced or deleted). With `delta` (an update), a stored
        story that only gained later articles is updated from its row and theirs: a story
        can have thousands of members, and reading them all was most of an update."""
        from crawler.framing.build import STORY_COLUMNS

        written = removed = 0
        if before is not None and delta is not None:
            story_ids = set(story_ids)
            grown = self._grown_rows(story_ids, before, delta, started)
            story_ids -= {row["id"] for row in grown}
            changed = [row for row in grown
                       if before[row["id"]] != tuple(row[c] for c in STORY_COLUMNS)]
            for chunk in chunks([row["id"] for row in changed]):
                self.db.execute(f"DELETE FROM stories WHERE id IN ({in_list(len(chunk))})",
                                chunk)
            self.insert("stories", changed)
            written, removed = len(changed), len(changed)
            # Stored stories whose members only changed roles within their kind (a report
            # now copied is an `original`) or copy evidence keep their rows.
            story_ids -= {sid for sid in story_ids if sid in before and sid not in delta.full
                          and sid not in delta.added}
        for chunk in chunks(sorted(story_ids)):
            members: dict[str, list[dict[str, Any]]] = {sid: [] for sid in chunk}
            cur = self.db.execute(
                "SELECT sa.story_id, sa.role, a.id, a.source_id, a.lang, a.published, a.title, "
                "a.on_topic FROM story_articles sa JOIN articles a ON a.id = sa.article_id "
                f"WHERE sa.story_id IN ({in_list(len(chunk))})", chunk)
            for sid, role, *rest in cur:
                members[sid].append(dict(zip(("role", "id", "source_id", "lang", "published",
                                              "title", "on_topic"), (role, *rest), strict=True)))
            concepts: dict[str, set[str]] = {}
            for sid, concept in self.db.execute(
                    "SELECT DISTINCT sa.story_id, m.concept FROM story_articles sa "
                    "JOIN mentions m ON m.article_id = sa.article_id "
                    f"WHERE m.kind = 'naming' AND sa.story_id IN ({in_list(len(chunk))})", chunk):
                concepts.setdefault(sid, set()).add(concept)
            rows = []
            for sid, arts in members.items():
                if not arts:
                    if before and sid in before:
                        self.db.execute("DELETE FROM stories WHERE id = ?", [sid])
                        removed += 1
                    continue
                # story_row reads the order only for the headline: its holder goes first.
                independent = [a for a in arts if a["role"] in INDEPENDENT]
                first = min(independent or arts, key=_order)
                arts.remove(first)
                arts.insert(0, first)
                row = story_row(sid, arts, concepts.get(sid, set()), started, self.code_version)
                if before is not None and before.get(sid) == tuple(row[c] for c in STORY_COLUMNS):
                    continue
                rows.append(row)
            if before is not None:
                for row in rows:
                    if row["id"] in before:
                        self.db.execute("DELETE FROM stories WHERE id = ?", [row["id"]])
                        removed += 1
            self.insert("stories", rows)
            written += len(rows)
        return written, removed

    def _grown_rows(self, story_ids: set[str], before: dict[str, tuple[Any, ...]],
                    delta: StoryDelta, started: str) -> list[dict[str, Any]]:
        """New rows of the stored stories that only gained articles, all published after
        their last member and none undated before (so the headline's holder stays first)."""
        from crawler.framing.build import STORY_COLUMNS

        grown = {sid: aids for sid, aids in delta.added.items()
                 if sid in story_ids and sid in before and sid not in delta.full}
        ids = sorted({aid for aids in grown.values() for aid in aids})
        arts: dict[str, dict[str, Any]] = {}
        for chunk in chunks(ids):
            for r in self.db.execute(
                    "SELECT id, source_id, lang, published, title, on_topic FROM articles "
                    f"WHERE id IN ({in_list(len(chunk))})", chunk):
                arts[r[0]] = dict(zip(("id", "source_id", "lang", "published", "title",
                                       "on_topic"), r, strict=True))
        concepts: dict[str, set[str]] = {}
        for chunk in chunks(ids):
            for aid, concept in self.db.execute(
                    "SELECT DISTINCT article_id, concept FROM mentions WHERE kind = 'naming' "
                    f"AND article_id IN ({in_list(len(chunk))})", chunk):
                concepts.setdefault(aid, set()).add(concept)
        rows = []
        for sid, aids in sorted(grown.items()):
            old = dict(zip(STORY_COLUMNS, before[sid], strict=True))
            added = [{**arts[a], "role": delta.roles[a]} for a in aids if a in arts]
            last = parse_when(old["last_published"])
            if len(added) != len(aids) or last is None or any(
                    (parse_when(a["published"]) or last) <= last for a in added):
                continue  # not simply later: recomputed from all members
            new_indep = sorted((a for a in added if a["role"] in INDEPENDENT), key=_order)
            if old["n_independent"] and not self._dated_independent(sid):
                continue  # the first independent may be undated: it would move
            outlets = set(old["outlets"].split(",")) | {a["source_id"] for a in added}
            dated = [p for p in (old["first_published"], old["last_published"],
                                 *(a["published"] for a in added)) if p]
            rows.append({
                "id": sid,
                "headline": old["headline"] if old["n_independent"] or not new_indep
                else new_indep[0]["title"],
                "first_published": min(dated), "last_published": max(dated),
                "n_articles": old["n_articles"] + len(added),
                "n_independent": old["n_independent"] + len(new_indep),
                "n_outlets": len(outlets),
                "languages": ",".join(sorted(set(old["languages"].split(",")) |
                                             {a["lang"] or "?" for a in added})),
                "outlets": ",".join(sorted(outlets)),
                "concepts": ",".join(sorted({c for c in (old["concepts"] or "").split(",") if c}
                                            .union(*(concepts.get(a, set()) for a in aids)))),
                "on_topic": int(bool(old["on_topic"]) or any(a["on_topic"] for a in added)),
                "built_at": started, "code_version": self.code_version})
        return rows

    def _dated_independent(self, sid: str) -> bool:
        return self.db.execute(
            "SELECT 1 FROM story_articles sa JOIN articles a ON a.id = sa.article_id "
            f"WHERE sa.story_id = ? AND sa.role IN ({in_list(len(INDEPENDENT))}) "
            "AND a.published IS NOT NULL LIMIT 1", [sid, *INDEPENDENT]).fetchone() is not None


@dataclass
class StoryDelta:
    """What an update changed per story: the articles each gained (with their roles), and
    the stories that lost members, saw one change kind or hold a changed article."""

    added: dict[str, list[str]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]],
           changed: set[str]) -> StoryDelta:
        """From the scope's links before and after, and the articles that changed."""
        delta = cls()
        for aid, link in new.items():
            if "story_id" not in link:
                continue  # an `original` in place: still independent
            was = old.get(aid)
            if was is None or was["story_id"] != link["story_id"]:
                delta.added.setdefault(link["story_id"], []).append(aid)
                delta.roles[aid] = link["role"]
            elif aid in changed or (was["role"] in INDEPENDENT) != (link["role"] in INDEPENDENT):
                delta.full.add(link["story_id"])
        for aid, was in old.items():
            if aid not in new or "story_id" not in new[aid] or aid in changed \
                    or new[aid]["story_id"] != was["story_id"]:
                delta.full.add(was["story_id"])
        return delta


def _order(article: dict[str, Any]) -> tuple[datetime, str]:
    """Clustering order (crawler.framing.storydocs.order_key) of a member row."""
    return published_order(article["published"], article["id"])


def _same_link(before: dict[str, Any], link: dict[str, Any]) -> bool:
    keys = ("story_id", "role", "copy_of", "copy_basis", "canonical_url")
    return all(before.get(k) == link.get(k) for k in keys)


def sketch_row(aid: str, published: str | None, lang: str, sig: Any,
               story_keys: list[str], copy_keys: list[str]) -> tuple[Any, ...]:
    """One story_sketches row."""
    return (aid, published, lang, signature_bytes(sig), " ".join(story_keys),
            " ".join(copy_keys))


def params_json(params: StoryParams, lexicon: Lexicon, code_version: str) -> str:
    """What a story build depends on besides the articles: parameters, lexicon and code."""
    from dataclasses import asdict

    return json.dumps({**asdict(params), "lexicon_version": lexicon.version,
                       "code_version": code_version}, sort_keys=True)
