"""Attention pages at scale: /-/attention for two queries on the demo and 1M-article archives.

Goal (issue 16): an attention page for two queries over the million-article bench archive
renders in under 1 s p95 on this machine. Real HTTP: `mediawatch serve` on loopback, one
server per archive, every page fetched `--reps` times after one warm-up fetch, interleaved
across archives. Classes: the page for two queries (the default range: the twelve months
up to the newest article; by outlet, per month), the same by language per week, its JSON,
a whole-archive range (ten years, per month), the distinctive terms fetched after the
page, and the front page. The 1M archive is bench/scale_build.py's (bench/.cache/, built
once in ~10 minutes and reused; this migrates it in place like search_scale.py does);
the demo archive is `mediawatch demo --no-serve`'s. Not a test: no thresholds, only figures.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from search_scale import _free_port, _get, _pct, _serve  # noqa: E402

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
PAIRS = (("Artsakh", "Нагорный Карабах"), ("Pashinyan", "Putin"), ("CSTO", "EAEU"),
         ("Syunik", "Zangezur"), ("Armenia", "Russia"))


def pages(pair: tuple[str, str]) -> list[tuple[str, str]]:
    """(class, path) for one pair of queries."""
    qs = [("q", pair[0]), ("q", pair[1])]
    return [
        ("page, 2 queries, 12 months by outlet", "/-/attention?" + urlencode(qs)),
        ("page, by language per week", "/-/attention?" + urlencode(
            qs + [("by", "language"), ("interval", "week")])),
        ("json, 2 queries", "/-/attention.json?" + urlencode(qs)),
        ("page, whole archive (10 years)", "/-/attention?" + urlencode(
            qs + [("from", "2016-01-01"), ("to", "2025-12-31")])),
        ("distinctive terms (after the page)", "/-/attention/terms?" + urlencode(
            qs + [("i", "0")])),
    ]


def demo_archive(folder: Path) -> Path:
    """The demo archive, built as `make demo` builds it (without serving)."""
    subprocess.run([MEDIAWATCH, "demo", "--no-serve", "--dir", str(folder)], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return folder / "archive.db"


def migrate(path: Path) -> float:
    """Apply pending migrations (0010's indexes on an archive built before it); seconds."""
    import sqlite_utils
    from mediawatch_schema.migrations import migrations

    start = time.perf_counter()
    db = sqlite_utils.Database(path)
    migrations.apply(db)
    db.conn.close()
    return time.perf_counter() - start


def measure(archives: dict[str, Path], reps: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per class and archive; every URL fetched once first, untimed."""
    samples: dict[str, dict[str, list[float]]] = {}
    servers = {name: (_serve(path, port := _free_port()), port)
               for name, path in archives.items()}
    try:
        for rep in range(reps + 1):
            for pair in PAIRS:
                for name, (_proc, port) in servers.items():
                    for cls, path in [*pages(pair), ("front page", "/")]:
                        start = time.perf_counter()
                        status = _get(f"http://127.0.0.1:{port}{path}")
                        elapsed = 1000 * (time.perf_counter() - start)
                        if status != 200:
                            raise RuntimeError(f"{name} {path}: HTTP {status}")
                        if rep:
                            samples.setdefault(cls, {}).setdefault(name, []).append(elapsed)
    finally:
        for proc, _port in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    return samples


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Measure and print; return {class: {archive: {p50, p95, n}}} plus the archives used."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="the large archive (default: the cached 1M)")
    parser.add_argument("--size", type=int, default=1_000_000,
                        help="articles in the cached bench archive (bench/scale_build.py)")
    parser.add_argument("--reps", type=int, default=4, help="timed rounds (x5 query pairs)")
    parser.add_argument("--no-large", action="store_true", help="the demo archive only")
    args = parser.parse_args(argv)
    archives: dict[str, Path] = {}
    info: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        archives["demo"] = demo_archive(Path(tmp) / "demo")
        if not args.no_large:
            if args.db:
                large = args.db
            else:
                from scale_build import cached_archive

                large, meta = cached_archive(args.size)
                info["build"] = meta
            info["migrate_seconds"] = round(migrate(large), 1)
            archives[f"{args.size // 1000}k" if not args.db else large.stem] = large
        for name, path in archives.items():
            import sqlite3

            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            info[f"articles {name}"] = conn.execute("select count(*) from articles").fetchone()[0]
            conn.close()
        samples = measure(archives, args.reps)
    result: dict[str, Any] = {"info": info, "classes": {}}
    names = list(archives)
    print(f"{'class':42} " + " ".join(f"{n + ' p50/p95 (ms)':>22}" for n in names))
    for cls, per in samples.items():
        row = {n: {"p50": round(_pct(v, 0.5)), "p95": round(_pct(v, 0.95)), "n": len(v)}
               for n, v in per.items()}
        result["classes"][cls] = row
        print(f"{cls:42} " + " ".join(f"{row[n]['p50']:>12,} / {row[n]['p95']:<7,}"
                                      for n in names))
    print(json.dumps(result, ensure_ascii=False))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
