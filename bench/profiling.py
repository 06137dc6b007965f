"""Profile the bench crawl: where the main process and an extraction worker spend their CPU.

    .venv/bin/python bench/profiling.py [--label after] [--per-outlet 240] [--rate 100]

Runs `mediawatch crawl` of the bench web (bench/benchweb.py, 1,200 real-size pages on
loopback) under py-spy (`record --subprocesses`, the `bench` extra), so the extraction
workers are sampled too. Writes into bench/profiles/:

- <label>-crawl.txt: every sample, collapsed stacks (py-spy's raw format; speedscope and
  flamegraph.pl open it as it is);
- <label>-main.speedscope.json and <label>-worker.speedscope.json: the main process and
  the busiest extraction worker, for https://www.speedscope.app (drag the file in);
- <label>-top.txt: the summary printed here (kept in git; the other files are ignored).

Prints, per process, the CPU it used (from /proc) and the seconds py-spy found it running
or runnable, per stored article, and the top 15 functions by self time. Sampling costs CPU too (py-spy runs beside the crawl): compare
profiles with each other, and take speed figures from bench/throughput.py.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

from benchweb import BenchWeb  # noqa: E402
from measure import TreeWatch  # noqa: E402

OUT = HERE / "profiles"
MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
# A process frame; its command line may hold ";" (spawn_main's `-c` code), never a quote.
_PROCESS = re.compile(r'process (\d+):"([^"]*)";?')


def py_spy() -> str | None:
    """The py-spy executable of this venv (the `bench` extra), or one on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def parse(raw: Path) -> dict[int, dict[str, object]]:
    """Samples per process from py-spy's collapsed stacks: {pid: {cmd, stacks: Counter}}."""
    procs: dict[int, dict[str, object]] = {}
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        # --subprocesses: the sampled process's frame stands above its own Python frames,
        # its parents' process frames above it; the innermost one names the process.
        pos, found, parent = 0, None, None
        while match := _PROCESS.match(stack, pos):
            parent = int(found[1]) if found else None
            pos, found = match.end(), match
        if found is None:
            continue
        frames = tuple(f for f in stack[pos:].split(";") if f)
        proc = procs.setdefault(int(found[1]), {"cmd": found[2], "parent": parent,
                                                "stacks": collections.Counter()})
        proc["stacks"][frames] += int(count)  # type: ignore[index]
    return procs


def top_self(stacks: collections.Counter[tuple[str, ...]], n: int = 15
             ) -> list[tuple[str, int, int]]:
    """(function, self samples, total samples) of the n functions with most self time."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    for frames, count in stacks.items():
        if frames:
            own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    return [(name, c, total[name]) for name, c in own.most_common(n)]


def speedscope(name: str, stacks: collections.Counter[tuple[str, ...]], rate: int) -> dict:
    """One process's samples as a speedscope 'sampled' profile (weights in seconds)."""
    index: dict[str, int] = {}
    samples, weights = [], []
    for frames, count in stacks.items():
        samples.append([index.setdefault(f, len(index)) for f in frames])
        weights.append(count / rate)
    return {"$schema": "https://www.speedscope.app/file-format-schema.json",
            "shared": {"frames": [{"name": f} for f in index]},
            "profiles": [{"type": "sampled", "name": name, "unit": "seconds", "startValue": 0,
                          "endValue": sum(weights), "samples": samples, "weights": weights}],
            "name": name, "exporter": "mediawatch bench/profiling.py"}


def role(cmd: str, pid: int, root: int, parent: object = None) -> str:
    """main | worker | server | other, from a sampled process's command line and parent:
    crawl workers are forked by multiprocessing's fork server, which the crawl started
    (both run the server's command line); spawned workers run spawn_main."""
    if pid == root:
        return "main"
    if "spawn_main" in cmd or ("forkserver" in cmd and parent not in (None, root)):
        return "worker"
    if "forkserver" in cmd:
        return "server"
    return "other"


def run(label: str, per_outlet: int, rate: int, concurrency: int,
        tree: Path | None = None) -> str:
    """Crawl under py-spy; write the files; return the printed summary."""
    spy = py_spy()
    if spy is None:
        raise SystemExit("py-spy not found: `make profile` installs it (the `bench` extra), "
                         "or `.venv/bin/pip install -e '.[bench]'`")
    OUT.mkdir(exist_ok=True)
    raw = OUT / f"{label}-crawl.txt"
    with BenchWeb(per_outlet=per_outlet) as web, tempfile.TemporaryDirectory() as tmp:
        web.warm()
        sources = web.write_sources(Path(tmp) / "sources.toml", concurrency)
        db = Path(tmp) / "archive.db"
        slots = concurrency * len(web.sites)
        load = os.getloadavg()
        start = time.perf_counter()
        command, env = [MEDIAWATCH], None
        if tree is not None:  # another source tree's mediawatch (its workers inherit the path)
            command = [sys.executable, "-P", "-c", "from crawler.cli import cli; cli()"]
            env = {**os.environ, "PYTHONPATH": str(tree)}
        proc = subprocess.Popen(
            [spy, "record", "--subprocesses", "--function", "-r", str(rate), "-f", "raw",
             "-o", str(raw), "--", *command, "crawl", "--sources", str(sources), "--db",
             str(db), "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "LOG_LEVEL=WARNING",
             "-s", f"CONCURRENT_REQUESTS={slots}"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env)
        watch = TreeWatch(proc.pid)  # CPU time each process really used (/proc), by pid
        _, err = proc.communicate()
        watch.stop()
        seconds = time.perf_counter() - start
        if proc.returncode != 0 or not raw.exists():
            raise SystemExit(f"profiled crawl failed ({proc.returncode}): {err[-2000:]}")
        conn = sqlite3.connect(db)
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
        conn.close()
    meta = {"pages": len(web.truths), "articles": articles, "seconds": seconds,
            "rate": rate, "load": load, "cpu": {str(pid): cpu for pid, cpu in watch.cpu.items()
                                                  if pid != proc.pid}}
    (OUT / f"{label}-meta.json").write_text(json.dumps(meta))
    return summarise(label)


def summarise(label: str) -> str:
    """The summary of a recorded profile (<label>-crawl.txt and -meta.json); writes the
    per-process speedscope files and <label>-top.txt."""
    raw = OUT / f"{label}-crawl.txt"
    meta = json.loads((OUT / f"{label}-meta.json").read_text())
    rate, articles, load = meta["rate"], meta["articles"], meta["load"]
    procs = parse(raw)
    first = _PROCESS.match(raw.read_text(encoding="utf-8", errors="replace"))
    root = int(first[1]) if first else min(procs)
    lines = [f"# bench/profiling.py --label {label}: `mediawatch crawl` of the bench web "
             f"({meta['pages']} article pages), {articles} articles stored in "
             f"{meta['seconds']:.1f} s "
             f"under py-spy at {rate} Hz; {os.cpu_count()} cores, load average "
             f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} before"]
    workers = sorted((p for p in procs
                      if role(str(procs[p]["cmd"]), p, root, procs[p]["parent"]) == "worker"),
                     key=lambda p: -sum(procs[p]["stacks"].values()))  # type: ignore[attr-defined]
    for pid in procs:
        kind = role(str(procs[pid]["cmd"]), pid, root, procs[pid]["parent"])
        busy = sum(procs[pid]["stacks"].values()) / rate  # type: ignore[attr-defined]
        used = meta.get("cpu", {}).get(str(pid))
        real = (f"{used:6.1f} s CPU ({used * 1000 / max(articles, 1):5.1f} ms per stored "
                "article); " if used is not None else "")
        lines.append(f"#   {kind:6s} pid {pid}: {real}{busy:6.1f} s sampled "
                     f"({busy * 1000 / max(articles, 1):5.1f} ms per stored article)")
    total = sum(sum(p["stacks"].values()) for p in procs.values()) / rate  # type: ignore[attr-defined]
    used = sum(meta.get("cpu", {}).get(str(pid), 0.0) for pid in procs)
    lines.append(f"#   all processes: {used:.1f} s CPU ({used * 1000 / max(articles, 1):.1f} ms "
                 f"per stored article); {total:.1f} s sampled. Sampled = running or waiting "
                 "for a core: on a loaded machine it exceeds the CPU used")
    for kind, pid in (("main", root), ("worker", workers[0] if workers else None)):
        if pid is None:
            lines.append(f"\n## {kind}: no samples (MEDIAWATCH_EXTRACT_WORKERS=0?)")
            continue
        stacks = procs[pid]["stacks"]
        n = sum(stacks.values())  # type: ignore[attr-defined]
        (OUT / f"{label}-{kind}.speedscope.json").write_text(json.dumps(
            speedscope(f"{label} {kind} (pid {pid})", stacks, rate)))  # type: ignore[arg-type]
        lines.append(f"\n## {kind} process (pid {pid}): top 15 functions by self time "
                     f"({n} samples = {n / rate:.1f} s)")
        lines.append(f"{'self %':>7s}{'total %':>8s}  function")
        for name, own, tot in top_self(stacks):  # type: ignore[arg-type]
            lines.append(f"{100 * own / n:7.1f}{100 * tot / n:8.1f}  {name}")
    text = "\n".join(lines) + "\n"
    (OUT / f"{label}-top.txt").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> str:
    """Command line: profile one crawl and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="latest", help="file name prefix in bench/profiles")
    parser.add_argument("--per-outlet", type=int, default=240, help="articles per outlet (x5)")
    parser.add_argument("--rate", type=int, default=100, help="samples per second")
    parser.add_argument("--concurrency", type=int, default=8, help="requests per outlet")
    parser.add_argument("--tree", type=Path, help="profile the mediawatch of this source "
                        "tree (e.g. `git archive <commit>` unpacked) instead of this one")
    parser.add_argument("--summarise", action="store_true",
                        help="no crawl: summarise the profile recorded under --label again")
    args = parser.parse_args(argv)
    text = summarise(args.label) if args.summarise else run(
        args.label, args.per_outlet, args.rate, args.concurrency, args.tree)
    print(text, end="")
    return text


if __name__ == "__main__":
    main()
