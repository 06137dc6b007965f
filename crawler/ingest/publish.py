"""Build a database to publish from an archive: a private copy, or a public build.

The private build is a consistent snapshot of everything (VACUUM INTO). The public build
keeps metadata, a short excerpt and statistics for every article, but the full text only
for outlets whose registry entry says `public_full_text = true` (their licence allows it,
e.g. CC BY-NC for TMS). Raw response bodies never leave the archive, and the search index
of a withheld article covers only what is published, so its text cannot be rebuilt from it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlite_utils

from crawler.search.columns import search_columns

EXCERPT_WORDS = 40
# Tables that hold response bodies or other raw captures: never in a public build.
RAW_TABLES = ("bodies",)
# Columns that may carry article text in tables other engineers add (versions, diffs...).
TEXT_COLUMNS = ("text", "body", "html", "content", "search_text", "diff")


class PublishError(Exception):
    """The build cannot be made; the message says why."""


def excerpt(text: str | None, words: int = EXCERPT_WORDS) -> str:
    """The first words of a text, marked as cut when it is longer."""
    parts = (text or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


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
        return _make_public(db, out)
    finally:
        db.conn.close()


def _make_public(db: sqlite_utils.Database, out: Path) -> str:
    with db.conn:
        for table in RAW_TABLES:
            if db.table(table).exists():
                db.table(table).drop()
        articles = db.table("articles")
        if "text_withheld" not in articles.columns_dict:
            articles.add_column("text_withheld", int)
        free = {r[0] for r in db.execute(
            "select id from sources where coalesce(public_full_text, 0) = 1")}
        rows = db.execute("select rowid, id, source_id, title, text, description "
                          "from articles").fetchall()
        withheld = []
        for rowid, aid, source_id, title, text, description in rows:
            if source_id in free:
                db.execute("update articles set text_withheld = 0 where rowid = ?", [rowid])
                continue
            withheld.append(aid)
            lead = excerpt(description or text)
            db.execute(
                "update articles set text = null, description = ?, text_withheld = 1, "
                "search_text = ? where rowid = ?",
                [lead, search_columns(title, lead)["search_text"], rowid])
        _scrub_other_tables(db, withheld)
        # Rebuild the index from what is published: no withheld token survives in it.
        db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    db.execute("VACUUM")
    db.execute("PRAGMA journal_mode = DELETE")
    kept = len(rows) - len(withheld)
    return (f"{out}: public build, {len(rows)} articles ({kept} with full text, "
            f"{len(withheld)} metadata and excerpt only)")


def _scrub_other_tables(db: sqlite_utils.Database, withheld: list[str]) -> None:
    """Clear text-like columns of any table keyed by article_id (versions and the like)."""
    if not withheld:
        return
    for name in db.table_names():
        table = db.table(name)
        if name == "articles" or name.startswith("articles_fts") or table.virtual_table_using:
            continue
        cols = set(table.columns_dict)
        if "article_id" not in cols:
            continue
        for col in TEXT_COLUMNS:
            if col in cols:
                db.conn.executemany(f"update [{name}] set [{col}] = null where article_id = ?",
                               [(aid,) for aid in withheld])
