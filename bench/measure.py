"""Measuring a crawl from outside: CPU and RSS of a process tree over time, text quality
against the bench web's ground truth (used by bench/throughput.py)."""

from __future__ import annotations

import collections
import os
import re
import subprocess
import threading
import time
from typing import Any

from benchweb import BenchWeb, Truth


class TreeWatch:
    """Peak RSS and CPU time of a process and all its descendants, sampled from /proc every
    0.1 s (CPU: the last sample of each process, so up to 0.1 s of it may be missed)."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_kb, self.main_kb, self.procs = pid, 0, 0, 0
        self.cpu: dict[int, float] = {}
        self.history: list[tuple[float, float, float]] = []  # (time, main CPU, tree CPU)
        self._tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._page_kb = os.sysconf("SC_PAGE_SIZE") // 1024
        self._thread.start()

    def _tree(self) -> list[int]:
        out, todo = [], [self.pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            try:
                for task in os.listdir(f"/proc/{pid}/task"):
                    with open(f"/proc/{pid}/task/{task}/children") as handle:
                        todo += [int(c) for c in handle.read().split()]
            except OSError:
                continue
        return out

    def _rss(self, pid: int) -> int:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                return int(handle.read().split()[1]) * self._page_kb
        except (OSError, IndexError, ValueError):
            return 0

    def _cpu(self, pid: int) -> None:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            self.cpu[pid] = (int(fields[11]) + int(fields[12])) / self._tick  # utime + stime
        except (OSError, IndexError, ValueError):
            pass

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = self._tree()
            for pid in pids:
                self._cpu(pid)
            self.history.append((time.time(), self.cpu.get(self.pid, 0.0),
                                 sum(self.cpu.values())))
            sizes = [self._rss(pid) for pid in pids]
            self.peak_kb = max(self.peak_kb, sum(sizes))
            self.main_kb = max(self.main_kb, sizes[0] if sizes else 0)
            self.procs = max(self.procs, len(pids))
            self._stop.wait(0.1)

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()
        self._thread.join()


def run_watched(cmd: list[str], web: BenchWeb | None = None,
                env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a command to its end; wall seconds, peak tree/main RSS (MB), requests served."""
    served, cpu, load = web.requests if web else 0, time.process_time(), os.getloadavg()[0]
    began, start = time.time(), time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env)
    watch = TreeWatch(proc.pid)
    out, err = proc.communicate()
    seconds = time.perf_counter() - start
    watch.stop()
    return {"seconds": seconds, "rc": proc.returncode, "stdout": out, "stderr": err,
            "peak_mb": watch.peak_kb / 1024, "main_mb": watch.main_kb / 1024,
            "procs": watch.procs, "requests": (web.requests - served) if web else 0,
            "main_cpu": watch.cpu.get(proc.pid, 0.0),
            "other_cpu": sum(v for k, v in watch.cpu.items() if k != proc.pid),
            "web_cpu": time.process_time() - cpu, "load": load,  # this process: the web server
            "began": began, "history": watch.history}


def cpu_at(history: list[tuple[float, float, float]], when: float) -> tuple[float, float]:
    """(main, whole tree) CPU seconds used by a watched run up to a time."""
    before = [h for h in history if h[0] <= when]
    return (before[-1][1], before[-1][2]) if before else (0.0, 0.0)


def words(text: str | None) -> collections.Counter[str]:
    """Lower-cased word tokens (Unicode \\w+), as a multiset."""
    return collections.Counter(re.findall(r"\w+", (text or "").lower()))


def token_f1(got: str | None, truth: str) -> float:
    """Bag-of-words F1 of an extracted text against the ground-truth body."""
    a, b = words(got), words(truth)
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def quality(found: dict[str, tuple[str, str, str]], truths: list[Truth]) -> dict[str, float]:
    """Coverage, mean text F1, date and title accuracy; a page not stored counts as a miss."""
    f1 = dates = titles = 0.0
    for t in truths:
        title, day, text = found.get(t.url, ("", "", ""))
        f1 += token_f1(text, t.text)
        dates += bool(day) and str(day)[:10] == t.published[:10]
        titles += " ".join((title or "").split()) == t.title
    n = len(truths) or 1
    stored = sum(t.url in found for t in truths)
    return {"stored": stored, "text F1": f1 / n, "date acc": dates / n, "title acc": titles / n}


def goal(label: str, value: float, target: float, more: bool = True, note: str = "") -> str:
    """One goal line: the figure, its goal, met or not, the load average now."""
    met = value >= target if more else value <= target
    sign = ">=" if more else "<="
    return (f"  {label:52s}{value:6.2f}   goal {sign} {target:<4}  {'met' if met else 'NOT met'}"
            f"   (load {os.getloadavg()[0]:.2f}){note}")
