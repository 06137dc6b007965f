"""Stories that scale: the first story build of a fresh crawl, `stories --full` at 1M articles,
and the story update after a crawl that adds 1,000 articles to the 1M archive.

1. First build: the 1,200 articles of the bench web (bench/benchweb.py, the pages
   `make bench` crawls) stored as a crawl stores them (text, mentions, KWIC), then the
   story update a crawl runs at its end, timed (goal: under 2 s).
2. `mediawatch stories --full` on a copy of the 1M-article search-at-scale archive
   (bench/scale_build.py, cached in bench/.cache; the copy too), timed with its peak RSS.
3. 1,000 new articles (the archive's own texts, re-dated after its last day under new
   URLs) stored into that copy, then the story update, timed (goal: under 5 s); they are
   removed again afterwards (that story update timed too) so the next run starts from the
   same archive.
4. 200 articles dated across the archive's past (a new outlet's archive), the same way:
   what the story update re-clusters and how long it takes.

`python bench/stories_scale.py [--size N] [--skip-large] [--reuse-full]`; `make bench` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

from crawler.archive.core import Archive  # noqa: E402

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
FETCHED = "2026-01-01T00:00:00+00:00"


def store(archive: Archive, rows: list[dict[str, Any]], worker_features: bool = True) -> None:
    """Articles as a crawl leaves them: the article row, its mentions and KWIC lines, and
    (`worker_features`) the story features its extraction worker computed (untimed here, as
    in a crawl, where the workers compute them while pages download)."""
    from crawler.ingest.extraction import framing_analysis

    lexicon = archive.framing.framing_lexicon()
    with archive.transaction():
        for outlet in sorted({r["source_id"] for r in rows}):
            archive.db.table("sources").insert(
                {"id": outlet, "name": outlet, "homepage": f"https://{outlet}.invalid/",
                 "language": "[]", "country": "", "kind": "news"}, ignore=True)
        for r in rows:
            archive.db.table("articles").insert({
                "first_seen_at": FETCHED, "fetched_at": FETCHED, "extraction_status": "ok",
                "on_topic": 1, "published_month": (r.get("published") or "")[:7], **r})
            archive.framing.store_mentions(r["id"], framing_analysis(
                lexicon, r.get("title"), r.get("text"), r.get("lang"),
                features=worker_features))


def first_build() -> dict[str, Any]:
    """The bench web's 1,200 articles: the story update a fresh crawl ends with, with the
    features its extraction workers queued, and (for comparison, in the same run) with the
    build featurizing every text itself (an archive written before migration 0014)."""
    from benchweb import BenchWeb

    web = BenchWeb()
    web.start()
    truths = list(web.truths)
    web.stop()
    rows = [{"id": f"bench-{i}", "source_id": t.outlet, "url": t.url, "title": t.title,
             "text": t.text, "lang": t.lang, "published": t.published}
            for i, t in enumerate(truths)]
    out: dict[str, Any] = {"articles": len(truths), "cores": os.cpu_count()}
    for name, queued in (("featurizing", False), ("", True)):
        with tempfile.TemporaryDirectory() as tmp:
            archive = Archive(Path(tmp) / "archive.db")
            try:
                store(archive, rows, worker_features=queued)
                cpu, start = _cpu(), time.perf_counter()
                done = archive.framing.update_stories()
                seconds, cpu = time.perf_counter() - start, _cpu() - cpu
                stories = archive.db.execute("SELECT count(*) FROM stories").fetchone()[0]
            finally:
                archive.close()
        prefix = f"{name}_" if name else ""
        out.update({f"{prefix}seconds": round(seconds, 2), f"{prefix}cpu_seconds": round(cpu, 2),
                    f"{prefix}stories": stories, f"{prefix}full": done.full})
    out["load"] = round(os.getloadavg()[0], 1)
    return out


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the feature workers)."""
    import resource

    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _copy(src: Path, dst: Path) -> None:
    """A consistent copy of an SQLite archive (WAL folded in)."""
    tmp = dst.with_suffix(".copying")
    tmp.unlink(missing_ok=True)
    with sqlite3.connect(src) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def _timed(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MiB) and exit code of a child process, and its output."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out, _ = proc.communicate()
    _, status, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, 0, None)
    import resource

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    del status, usage
    return time.perf_counter() - start, peak, proc.returncode, out


def large(size: int, reuse_full: bool = False) -> dict[str, Any]:
    """`stories --full` on a copy of the cached scale archive, then +1,000 articles.

    `reuse_full`: keep the copy's last full build (an update first catches up with what an
    interrupted run left) and time only the +1,000 update and the removal.
    """
    from scale_build import cached_archive

    src, meta = cached_archive(size)
    work = src.with_name(src.stem + "-stories.db")
    if not work.exists():
        _copy(src, work)
        reuse_full = False
    if reuse_full:
        archive = Archive(work)
        try:
            caught_up = archive.framing.update_stories()
            remove_added(archive)
        finally:
            archive.close()
        if not caught_up.full:
            print(f"stories --full not re-run: the copy's last full build is reused "
                  f"({meta['articles']:,} articles)", flush=True)
            return {"size": size, "articles": meta["articles"], "full_reused": True,
                    **add_thousand(work), **add_backdated(work)}
    archive = Archive(work)
    try:
        remove_added(archive, rebuild_follows=True)  # left by an interrupted run
    finally:
        archive.close()
    seconds, peak, code, out = _timed([MEDIAWATCH, "stories", "--full", "--db", str(work)])
    result: dict[str, Any] = {"size": size, "articles": meta["articles"],
                              "full_seconds": round(seconds, 1), "full_peak_rss_mib":
                              round(peak), "full_exit": code, "full_output": out.strip()[-300:]}
    print(f"stories --full on {result['articles']:,} articles: {seconds:.0f} s, peak RSS "
          f"{peak:,.0f} MiB (exit {code}: {out.strip()[-120:]})", flush=True)
    if code == 0:
        result.update(add_thousand(work))
        result.update(add_backdated(work))
    return result


def _new_rows(rows: list[tuple[Any, ...]], kind: str, label: str, times: list[float]
              ) -> list[dict[str, Any]]:
    """New articles with the texts of stored ones `rows` (source, lang, title, text), published
    at `times` (epoch seconds), with ids that `remove_added` finds again."""
    return [{"id": f"bench-new-{kind}-{i}" if kind != "new" else f"bench-new-{i}",
             "source_id": s, "lang": lang, "url": f"https://bench.invalid/{kind}/{i}",
             "title": f"{title} ({label}{i})", "text": text,
             "published": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(when))}
            for i, ((s, lang, title, text), when) in enumerate(zip(rows, times, strict=True))]


def _stored_and_updated(archive: Archive, new: list[dict[str, Any]]) -> tuple[float, Any]:
    """Store `new` as a crawl leaves it, then time the story update: (seconds, its result)."""
    store(archive, new)
    start = time.perf_counter()
    done = archive.framing.update_stories()
    return time.perf_counter() - start, done


def add_thousand(db: Path, n: int = 1000) -> dict[str, Any]:
    """Store `n` new articles after the archive's last day, time the story update, undo."""
    archive = Archive(db)
    try:
        last = archive.db.execute("SELECT max(published) FROM articles "
                                  "WHERE extraction_status = 'ok'").fetchone()[0]
        rows = archive.db.execute(
            "SELECT source_id, lang, title, text FROM articles WHERE extraction_status = 'ok' "
            "AND coalesce(text, '') != '' ORDER BY published DESC LIMIT ?", [n]).fetchall()
        base = time.mktime(time.strptime(last[:10], "%Y-%m-%d")) + 86400
        new = _new_rows(rows, "new", "", [base + i * 86.4 for i in range(len(rows))])
        seconds, done = _stored_and_updated(archive, new)
        result = {"added": len(new), "update_seconds": round(seconds, 2),
                  "update_loaded": len(done.loaded), "update_full": done.full}
        print(f"a crawl adding {len(new):,} articles: stories update {seconds:.2f} s, "
              f"{len(done.loaded):,} articles re-clustered (goal < 5 s)", flush=True)
        start = time.perf_counter()
        removed = remove_added(archive)
        result["remove_seconds"] = round(removed, 2)
        print(f"taking them out again: stories update {removed:.2f} s "
              f"(all: {time.perf_counter() - start:.1f} s with deleting their rows)", flush=True)
    finally:
        archive.close()
    return result


def add_backdated(db: Path, n: int = 200) -> dict[str, Any]:
    """Store `n` articles dated across the archive's past (as a new outlet's sitemap lists its
    archive: texts of stored articles, so most have candidates), time the story update, undo."""
    import random

    archive = Archive(db)
    try:
        first, last = archive.db.execute(
            "SELECT min(published), max(published) FROM articles "
            "WHERE extraction_status = 'ok' AND published >= '1995'").fetchone()
        rows = archive.db.execute(
            "SELECT source_id, lang, title, text FROM articles WHERE extraction_status = 'ok' "
            "AND coalesce(text, '') != '' ORDER BY id LIMIT ?", [20 * n]).fetchall()
        rnd = random.Random(7)
        lo = time.mktime(time.strptime(first[:10], "%Y-%m-%d"))
        hi = time.mktime(time.strptime(last[:10], "%Y-%m-%d")) - 90 * 86400
        picked = rnd.sample(rows, n)
        new = _new_rows(picked, "past", "past ", [lo + rnd.random() * (hi - lo) for _ in picked])
        seconds, done = _stored_and_updated(archive, new)
        result = {"backdated": len(new), "backdated_seconds": round(seconds, 2),
                  "backdated_loaded": len(done.loaded)}
        print(f"a crawl adding {len(new):,} articles dated across {first[:4]}-{last[:4]}: "
              f"stories update {seconds:.2f} s, {len(done.loaded):,} articles re-clustered",
              flush=True)
        result["backdated_remove_seconds"] = round(remove_added(archive), 2)
    finally:
        archive.close()
    return result


def remove_added(archive: Archive, rebuild_follows: bool = False) -> float:
    """Take the bench's added articles out again (their stories first), as a re-run expects;
    return the seconds of the story update that takes them out of their stories.

    With `rebuild_follows` (a full story build comes next) their links are simply deleted.
    """
    ids = [r[0] for r in archive.db.execute(
        "SELECT id FROM articles WHERE id LIKE 'bench-new-%'")]
    seconds = 0.0
    if not ids:
        return seconds
    marks = ", ".join("?" * len(ids))
    if rebuild_follows:
        with archive.transaction():
            archive.db.execute(f"DELETE FROM story_articles WHERE article_id IN ({marks})", ids)
    else:
        with archive.transaction():
            archive.db.execute(f"UPDATE articles SET extraction_status = 'error' WHERE id IN "
                               f"({marks})", ids)
        start = time.perf_counter()
        archive.framing.update_stories()  # gone from the stories
        seconds = time.perf_counter() - start
    with archive.transaction():
        for table, col in (("kwic", "article_id"), ("mentions", "article_id"),
                           ("story_sketches", "article_id"), ("articles", "id")):
            archive.db.execute(f"DELETE FROM {table} WHERE {col} IN ({marks})", ids)
        archive.db.execute(f"DELETE FROM story_changes WHERE article_id IN ({marks})", ids)
    return seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Print the story-scaling figures; return them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--reuse-full", action="store_true",
                    help="keep the last `stories --full` of the 1M copy; time the update only")
    args = ap.parse_args(argv)
    print("\n== Stories that scale (bench/stories_scale.py) ==", flush=True)
    out: dict[str, Any] = {"first_build": first_build()}
    fb = out["first_build"]
    print(f"first story build of a fresh {fb['articles']}-article crawl: {fb['seconds']:.2f} s "
          f"({fb['cpu_seconds']:.1f} CPU-s on {fb['cores']} cores, load average {fb['load']}; "
          f"{fb['stories']} stories; goal < 2 s)\n"
          f"  the same build featurizing every text itself (no worker features queued): "
          f"{fb['featurizing_seconds']:.2f} s ({fb['featurizing_cpu_seconds']:.1f} CPU-s; "
          f"{fb['featurizing_stories']} stories)", flush=True)
    if not args.skip_large:
        big = out["large"] = large(args.size, args.reuse_full)
        del big  # printed as measured
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
