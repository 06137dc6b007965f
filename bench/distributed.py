"""`make bench`, distributed part: `crawl --redis` workers and the archiver on the bench web.

Side by side in one run, on the same loopback bench web (bench/benchweb.py, no delay):
1. one `mediawatch crawl` process (the reference);
2. one `crawl --redis` worker with `mediawatch archiver` running alongside;
3. two workers with the archiver;
4. the archiver alone, draining items that two workers queued while no archiver ran.
Pages/s is article pages stored per wall-clock second from the first process start until
the archive holds them all. On a 2-core machine the workers compete for the same cores,
so (3)/(2) shows the coordination overhead, not the scale-out a second machine gives.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from benchweb import BenchWeb  # noqa: E402

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
QUIET = ["-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "LOG_LEVEL=WARNING",
         "-s", "MEDIAWATCH_REDIS_IDLE_EXIT=1", "-s", "CONCURRENT_REQUESTS=40"]


def _redis(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp)],
                            stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, url


def _articles(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM articles").fetchone()[0])
    finally:
        conn.close()


def _archiver(url: str, prefix: str, db: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([MEDIAWATCH, "archiver", "--redis", url, "--redis-prefix", prefix,
                             "--db", str(db), "--drain", "--idle-exit", "0.5"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _workers(url: str, prefix: str, sources: Path, n: int) -> list[subprocess.Popen[bytes]]:
    return [subprocess.Popen([MEDIAWATCH, "crawl", "--sources", str(sources), "--redis", url,
                              "--redis-prefix", prefix, "--worker-id", f"{prefix}-w{i}", *QUIET],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for i in range(n)]


def _wait(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.wait(timeout=1800) != 0:
            raise RuntimeError(f"{proc.args} exited {proc.returncode}")


def run(per_outlet: int = 120) -> None:
    """Print the distributed figures (skipped with a reason when redis-server is missing)."""
    print("\n== Distributed crawl: `crawl --redis` workers + `mediawatch archiver` "
          f"(bench web, {per_outlet * 5} articles, no delay) ==")
    if shutil.which("redis-server") is None:
        print("redis-server is missing: `make redis` installs it; skipped")
        return
    with tempfile.TemporaryDirectory() as tmp_name, BenchWeb(per_outlet, first_host=40) as web:
        tmp = Path(tmp_name)
        web.warm()
        sources = web.write_sources(tmp / "sources.toml", concurrency=8)
        redis_proc, url = _redis(tmp)
        try:
            rows = []
            start = time.perf_counter()
            _wait([subprocess.Popen([MEDIAWATCH, "crawl", "--sources", str(sources), "--db",
                                     str(tmp / "single.db"), *QUIET],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)])
            rows.append(("one process (`mediawatch crawl`)", _articles(tmp / "single.db"),
                         time.perf_counter() - start))
            for n in (1, 2):
                db = tmp / f"w{n}.db"
                start = time.perf_counter()
                archiver = _archiver(url, f"b{n}", db)
                _wait(_workers(url, f"b{n}", sources, n))
                _wait([archiver])
                rows.append((f"{n} worker(s) + archiver", _articles(db),
                             time.perf_counter() - start))
            # The archiver alone: items queued by two workers while no archiver ran.
            _wait(_workers(url, "bq", sources, 2))
            import redis

            queued = redis.Redis.from_url(url).llen("bq:items")
            start = time.perf_counter()
            _wait([_archiver(url, "bq", tmp / "q.db")])
            drain_s = time.perf_counter() - start
        finally:
            redis_proc.terminate()
            redis_proc.wait()
        print(f"{'setup':38} {'articles':>8} {'seconds':>8} {'pages/s':>8} {'vs one':>7}")
        base = rows[0][1] / rows[0][2]
        for name, articles, seconds in rows:
            rate = articles / seconds
            print(f"{name:38} {articles:8d} {seconds:8.1f} {rate:8.1f} {rate / base:7.2f}")
        two, one = rows[2][1] / rows[2][2], rows[1][1] / rows[1][2]
        print(f"ratio 2 workers / 1 worker: {two / one:.2f} (same 2 cores: overhead, not scale-out)")
        print(f"archiver alone: {queued} queued items (pages, listings, run messages) written "
              f"in {drain_s:.1f}s = {queued / drain_s:.0f} items/s, including start-up")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-outlet", type=int, default=120)
    run(parser.parse_args().per_outlet)
