"""Build a database to publish from an archive: a private copy, or a public build.

The private build is a consistent snapshot of everything (VACUUM INTO). The public build
keeps metadata, a short excerpt and statistics for every article, but the full text only
for outlets whose registry entry says `public_full_text = true` (their licence allows it,
e.g. CC BY-NC for TMS). For every other article the whole build exposes a bounded amount
of its text, counted over every table together: an excerpt of EXCERPT_WORDS words, at most
KWIC_LINES keyword-in-context lines cut to KWIC_WORDS words either side of the hit, and
fewer lines when title, excerpt and lines together would let a reader rebuild more than
EXPOSURE_WORDS words (or EXPOSURE_SHARE of a long article). Raw response bodies, stored
versions of the text, the story sketches and the search index of the withheld text never
leave the archive. The build says what it withholds in a `public_build` table, in its own
metadata file (`<out>.metadata.yaml`) and on its front page.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

import sqlite_utils

from crawler.archive.rows import article_slices
from crawler.archive.triggers import triggers_aside
from crawler.search.columns import search_columns
from extract.normalize import fold

EXCERPT_WORDS = 25
KWIC_WORDS = 3  # words kept on each side of a KWIC hit
KWIC_LINES = 5  # KWIC lines kept per withheld article
# Words of a withheld article a reader may rebuild from what is published about it, or this
# share of a long article: below the promise (60 words or 15 %), so that the phrases any
# other text shares with it by chance still fit.
EXPOSURE_WORDS = 50
EXPOSURE_SHARE = 0.12
RUN = 4  # consecutive words that count as rebuilt text
# Tables that hold response bodies, raw captures or what is computed from whole texts (story
# features hold every stem of a text, in order): never in a public build.
RAW_TABLES = ("bodies", "story_sketches", "story_vocab", "story_features")
# Columns of the same kind in tables a public build keeps (the story queue).
RAW_COLUMNS = {"story_changes": ("features", "features_key")}
# Columns that may carry article text in tables other engineers add (versions, diffs...).
TEXT_COLUMNS = ("text", "body", "html", "content", "search_text", "diff")
_WORDS = re.compile(r"\w+")


class PublishError(Exception):
    """The build cannot be made; the message says why."""


def excerpt(text: str | None, words: int = EXCERPT_WORDS) -> str:
    """The first words of a text, marked as cut when it is longer."""
    parts = (text or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def tokens(text: str | None) -> list[str]:
    """Folded words, as a reader comparing strings with the article would see them."""
    return _WORDS.findall(fold(text or ""))


def _runs(strings: Iterable[str]) -> Iterator[tuple[str, ...]]:
    """Each run of RUN consecutive words of the strings, one at a time."""
    return (tuple(t[i:i + RUN]) for s in strings for t in [tokens(s)]
            for i in range(len(t) - RUN + 1))


def grams(strings: Iterable[str]) -> set[tuple[str, ...]]:
    """Every run of RUN consecutive words of the strings."""
    return set(_runs(strings))


def gram_hashes(strings: Iterable[str]) -> set[int]:
    """The hashes of grams(strings): what every article's text is compared with, held as
    integers (a million headlines' runs as tuples of words would take gigabytes). A hash
    collision only counts a run as public, which makes the build stricter, never looser."""
    return {hash(run) for run in _runs(strings)}


_RUN_ONES = b"\x01" * RUN


class Exposure:
    """How many words of one article some published strings expose (see `exposed`). The
    article's runs are read once: each candidate excerpt or KWIC line then costs only its
    own words, not another pass over the article."""

    def __init__(self, article: list[str], public: set[int] | frozenset[int] = frozenset()):
        self.base = bytearray(len(article))  # words the public runs cover already
        self.at: dict[tuple[str, ...], list[int]] = {}
        for i in range(len(article) - RUN + 1):
            run = tuple(article[i:i + RUN])
            if hash(run) in public:
                self.base[i:i + RUN] = _RUN_ONES
            else:
                self.at.setdefault(run, []).append(i)

    def count(self, strings: list[str]) -> int:
        """Words of the article in a run of RUN words that `strings` or the public repeat."""
        covered = bytearray(self.base)
        for run in grams(strings):
            for i in self.at.get(run, ()):
                covered[i:i + RUN] = _RUN_ONES
        return covered.count(1)


def exposed(article: list[str], strings: list[str],
            public: set[int] | frozenset[int] = frozenset()) -> int:
    """How many words of `article` lie in a run of RUN or more consecutive words that some
    string (or a run whose hash is in `public`, see gram_hashes) repeats: what a reader
    could rebuild from them."""
    return Exposure(article, public).count(strings)


def budget(n_words: int) -> int:
    """Words of a withheld article of `n_words` words the public build may expose."""
    return max(EXPOSURE_WORDS, int(EXPOSURE_SHARE * n_words))


def statement(withheld_outlets: list[str]) -> str:
    """What the public build withholds, in a sentence a reader can check."""
    outlets = ", ".join(withheld_outlets) or "none"
    return (f"Full texts are published only for outlets whose licence allows it. For the "
            f"others ({outlets}) this public archive keeps each article's metadata, an excerpt "
            f"of at most {EXCERPT_WORDS} words and at most {KWIC_LINES} keyword-in-context "
            f"lines of {KWIC_WORDS} words either side, no more than {EXPOSURE_WORDS} words of "
            f"any article ({int(EXPOSURE_SHARE * 100)} % of a long one) in all; its search "
            f"index covers only that. Counts and statistics are computed on the full texts. "
            f"Read the articles at their original URLs.")


def build(src: str | Path, out: str | Path, public: bool = False) -> str:
    """Write the private or public build of an archive to `out`; return a summary line."""
    src, out = Path(src), Path(out)
    if not src.exists():
        raise PublishError(f"{src} does not exist: crawl first (mediawatch crawl --db {src})")
    if out.resolve() == src.resolve():
        raise PublishError("the output must be a new file, not the archive itself")
    for stale in (out, Path(f"{out}-wal"), Path(f"{out}-shm")):
        stale.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(src)
    try:
        conn.execute("VACUUM INTO ?", [str(out)])
    except sqlite3.DatabaseError as exc:
        raise PublishError(f"cannot read {src}: {exc}") from exc
    finally:
        conn.close()
    db = sqlite_utils.Database(out)
    try:
        if not public:
            n = db.execute("select count(*) from articles").fetchone()[0]
            db.execute("PRAGMA journal_mode = DELETE")
            return f"{out}: private build, {n} articles with full text"
        summary = _make_public(db, out)
    finally:
        db.conn.close()
    from crawler.ingest.publish_meta import write_metadata

    write_metadata(out)
    return summary


def _make_public(db: sqlite_utils.Database, out: Path) -> str:
    with db.conn:
        for table in RAW_TABLES:
            if db.table(table).exists():
                db.table(table).drop()
        for table, columns in RAW_COLUMNS.items():
            if db.table(table).exists():
                db.execute(f"UPDATE {table} SET " + ", ".join(f"{c} = NULL" for c in columns))
        articles = db.table("articles")
        if "text_withheld" not in articles.columns_dict:
            articles.add_column("text_withheld", int)
        free = {r[0] for r in db.execute(
            "select id from sources where coalesce(public_full_text, 0) = 1")}
        marks = ", ".join("?" * len(free))
        # What is public anyway, whatever this build withholds: headlines, the lexicon's
        # phrases and the texts published in full (a licensed reprint shares sentences).
        public = gram_hashes([*_lexicon_phrases(db), *(r[0] or "" for r in db.execute(
            "select title from articles")), *(r[0] for r in db.execute(
                f"select text from articles where source_id in ({marks}) "
                "and text is not null", sorted(free)))])
        # The index is rebuilt from what is published below, and a public build queues no
        # story work: the triggers that would re-index (and queue) each rewritten article
        # are set aside during the rewrite and put back as they were.
        with triggers_aside(db, "articles"):
            withheld = _rewrite(db, free, public)
        outlets = sorted({r[0] for r in db.execute(
            "select distinct source_id from articles where text_withheld = 1")})
        _record(db, outlets, len(withheld))
        total = db.execute("select count(*) from articles").fetchone()[0]
    db.execute("VACUUM")
    db.execute("PRAGMA journal_mode = DELETE")
    kept = total - len(withheld)
    return (f"{out}: public build, {total} articles ({kept} with full text, "
            f"{len(withheld)} metadata and excerpt only)")


def _rewrite(db: sqlite_utils.Database, free: set[str], public: set[int]) -> list[str]:
    """Withhold the texts of articles of outlets not in `free`: an excerpt and a few KWIC
    lines within each article's exposure budget, and a search index of only that."""
    marks = ", ".join("?" * len(free))
    db.execute(f"update articles set text_withheld = coalesce(source_id, '') "
               f"not in ({marks})", sorted(free))
    has_kwic = db.table("kwic").exists()
    withheld: list[str] = []
    for rows in article_slices(db, "id, title, text, description",
                               f"coalesce(source_id, '') not in ({marks})", sorted(free)):
        for rowid, aid, title, text, description in rows:
            withheld.append(aid)
            words = tokens(text)
            article, limit = Exposure(words, public), budget(len(words))
            lead = _excerpt_within(description or text, article, limit)
            db.execute(
                "update articles set text = null, description = ?, search_text = ? "
                "where rowid = ?", [lead, search_columns(title, lead)["search_text"], rowid])
            if has_kwic:
                _bound_kwic(db, aid, article, limit, [lead])
    _scrub_other_tables(db, withheld)
    # Rebuild the index from what is published: no withheld token survives in it.
    db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    return withheld


def _excerpt_within(text: str | None, article: Exposure, limit: int) -> str:
    """The longest excerpt (EXCERPT_WORDS words at most) within the article's budget."""
    for words in range(EXCERPT_WORDS, -1, -5):
        lead = excerpt(text, words) if words else ""
        if article.count([lead]) <= limit:
            return lead
    return ""


def _lexicon_phrases(db: sqlite_utils.Database) -> list[str]:
    """The lexicon's terms (published in lexicon_variants): phrases any text may contain."""
    import json

    if not db.table("lexicon_variants").exists():
        return []
    return [t for (terms,) in db.execute("select terms from lexicon_variants")
            for t in json.loads(terms or "[]")]


def _cut(value: str | None, keep: int, tail: bool) -> str:
    """The `keep` words of a KWIC side next to the hit (its end for the left side)."""
    parts = (value or "").split()
    part = parts[-keep:] if tail else parts[:keep]
    cut = len(parts) > keep
    text = " ".join(part)
    return ("… " + text if tail else text + " …") if cut and text else text


def _bound_kwic(db: sqlite_utils.Database, aid: str, article: Exposure, limit: int,
                own: list[str]) -> None:
    """Cut one withheld article's KWIC lines to a few words, and keep only as many as the
    article's exposure budget allows (title and excerpt counted)."""
    lines = db.execute('select id, "left", hit, "right" from kwic where article_id = ? '
                       'order by field desc, "offset"', [aid]).fetchall()
    keep: list[tuple[int, str, str, str]] = []
    for line_id, left, hit, right in lines:
        if len(keep) == KWIC_LINES:
            break
        short = (line_id, _cut(left, KWIC_WORDS, True), hit, _cut(right, KWIC_WORDS, False))
        strings = own + [" ".join(k[1:]) for k in [*keep, short]]
        if article.count(strings) <= limit:
            keep.append(short)
    kept = {k[0] for k in keep}
    db.conn.executemany("delete from kwic where id = ?",
                        [(line[0],) for line in lines if line[0] not in kept])
    db.conn.executemany('update kwic set "left" = ?, hit = ?, "right" = ? where id = ?',
                        [(left, hit, right, line_id) for line_id, left, hit, right in keep])


def _scrub_other_tables(db: sqlite_utils.Database, withheld: list[str]) -> None:
    """Clear text-like columns of any table keyed by article_id (versions and the like)."""
    if not withheld:
        return
    for name in db.table_names():
        table = db.table(name)
        if name in ("articles", "kwic") or name.startswith("articles_fts") or \
                table.virtual_table_using:
            continue
        cols = set(table.columns_dict)
        if "article_id" not in cols:
            continue
        for col in TEXT_COLUMNS:
            if col in cols:
                db.conn.executemany(f"update [{name}] set [{col}] = null where article_id = ?",
                                    [(aid,) for aid in withheld])


def _record(db: sqlite_utils.Database, outlets: list[str], articles: int) -> None:
    """The `public_build` table: what this build withholds, for its pages and readers."""
    db.execute("CREATE TABLE IF NOT EXISTS public_build (key TEXT PRIMARY KEY, value TEXT)")
    rows = {"statement": statement(outlets), "withheld_outlets": ",".join(outlets),
            "withheld_articles": str(articles), "excerpt_words": str(EXCERPT_WORDS),
            "kwic_words": str(KWIC_WORDS), "kwic_lines": str(KWIC_LINES),
            "exposure_words": str(EXPOSURE_WORDS), "exposure_share": str(EXPOSURE_SHARE)}
    db.conn.executemany("INSERT OR REPLACE INTO public_build VALUES (?, ?)", rows.items())
