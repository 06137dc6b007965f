"""Crawl extraction workers leave with the process that started them, however it ends.

Crawl workers are forked by multiprocessing's fork server (crawler.ingest.extraction), so
their parent is that server, not the crawl; SIGKILL the crawl and both must go: the server
at once, the workers when they notice they were re-parented.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import os, sys, time
from crawler.ingest.extraction import start_crawl_workers, worker_pool
start_crawl_workers()
pool = worker_pool(2)
pids = set()
while len(pids) < 2:  # both workers, each asked for its pid
    pids |= {f.result() for f in [pool.submit(os.getpid) for _ in range(8)]}
print(" ".join(map(str, sorted(pids))), flush=True)
time.sleep(600)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not collected it


def _parent(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_sigkill_of_the_crawl_takes_its_workers_and_their_fork_server() -> None:
    with subprocess.Popen([sys.executable, "-c", SCRIPT], cwd=ROOT, stdout=subprocess.PIPE,
                          text=True) as proc:
        try:
            assert proc.stdout is not None
            workers = [int(p) for p in proc.stdout.readline().split()]
            assert len(workers) == 2 and all(_running(p) for p in workers)
            servers = {_parent(p) for p in workers}
            assert proc.pid not in servers  # forked by the server, not by the crawl
            assert all(_parent(s) == proc.pid for s in servers)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
        finally:
            if proc.poll() is None:
                proc.kill()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(map(_running, [*workers, *servers])):
        time.sleep(0.2)
    assert not [p for p in [*workers, *servers] if _running(p)]


def test_without_a_fork_server_workers_are_spawned(monkeypatch: pytest.MonkeyPatch) -> None:
    import crawler.ingest.extraction as extraction

    assert extraction._crawl_context().get_start_method() == "forkserver"  # Linux
    monkeypatch.setattr(extraction, "get_all_start_methods", lambda: ["spawn"])  # Windows
    assert extraction._crawl_context().get_start_method() == "spawn"
    extraction.start_crawl_workers()  # nothing to start, and no error
