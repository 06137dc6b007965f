"""`make bench`: every figure measured side by side in one run (not a test; no thresholds).

Each part is a script of its own (run alone: `.venv/bin/python bench/<part>.py`), printing its
figures next to their baselines and goals. This runner runs them one after another, shows
their output, and writes all of it, headed by the date, the machine and the load average
before and after each part, to `bench/results/<date>.md` (and `bench/results/latest.md`):
numbers live in that file, never in prose. Development sets are an optional input
(`--devsets PATH` or MEDIAWATCH_DEVSETS, default ../shared/devsets): parts that need them say
so and skip when they are absent. `--only a,b` runs some parts; `--quick` the small sizes.

Parts: extraction quality and speed on both halves of every development set (extraction,
fields); URL patterns; WARC input and re-extraction; the end-to-end crawl against a naive
crawler and news-please (throughput) and what Scrapy alone costs (scrapy_floor); batched writes; distributed workers; search and
attention at scale; search, copy and story quality (search_eval, copies, framing_eval);
stories at scale.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
# (name, script, takes --devsets, extra arguments in --quick mode)
PARTS: list[tuple[str, str, bool, list[str]]] = [
    ("extraction", "extraction.py", True, []),
    ("fields", "fields.py", True, []),
    ("url_patterns", "url_patterns.py", True, []),
    ("warc_import", "warc_import.py", True, []),
    ("throughput", "throughput.py", False, []),
    ("scrapy_floor", "scrapy_floor.py", False, []),
    ("batching", "batching.py", False, []),
    ("distributed", "distributed.py", False, []),
    ("search_scale", "search_scale.py", False, ["--sizes", "10000,100000"]),
    ("search_eval", "search_eval.py", False, []),
    ("framing_eval", "framing_eval.py", False, []),
    ("attention_scale", "attention_scale.py", False, []),
    ("copies", "copies.py", True, []),
    ("stories_scale", "stories_scale.py", False, ["--skip-large"]),
]


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def _machine() -> str:
    return (f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"{platform.platform()}")


def main(argv: list[str] | None = None) -> int:
    """Run the parts, print their figures and write the dated results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devsets", default=os.environ.get("MEDIAWATCH_DEVSETS"),
                        help="The development sets (default: ../shared/devsets when present).")
    parser.add_argument("--only", default="", help="Comma-separated part names to run.")
    parser.add_argument("--quick", action="store_true", help="Smaller sizes where a part has them.")
    parser.add_argument("--reuse-full", action="store_true",
                        help="stories_scale: keep the 1M copy's last `stories --full`.")
    args = parser.parse_args(argv)
    only = {p for p in args.only.split(",") if p}
    unknown = only - {name for name, *_ in PARTS}
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}; known: {[n for n, *_ in PARTS]}")
    now = dt.datetime.now(dt.UTC)
    lines = [f"# mediawatch bench, {now:%Y-%m-%d %H:%M} UTC", "",
             f"- machine: {_machine()}", f"- at start: {_load()}",
             "- compare figures only within one run; the load shows how busy the machine was", ""]
    codes = []
    for name, script, devsets, quick in PARTS:
        if only and name not in only:
            continue
        cmd = [sys.executable, str(HERE / script)]
        if devsets and args.devsets:
            cmd += ["--devsets", args.devsets]
        if args.quick:
            cmd += quick
        if args.reuse_full and name == "stories_scale":
            cmd += ["--reuse-full"]
        print(f"\n## {name} (bench/{script}); {_load()}", flush=True)
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        sys.stdout.write(done.stdout)
        codes.append(done.returncode)
        lines += [f"## {name}", "", f"`bench/{script}`, exit {done.returncode}; before: "
                  f"{_load()}", "", "```text", done.stdout.rstrip(), "```", ""]
    RESULTS.mkdir(exist_ok=True)
    text = "\n".join(lines) + "\n"
    latest = RESULTS / "latest.md"
    if only:  # some parts: their own file, and only their sections of latest.md replaced
        dated = _unused(RESULTS / f"{now:%Y-%m-%d}-{'+'.join(sorted(only))}.md")
        if latest.exists():
            text = merge(latest.read_text(encoding="utf-8"), text,
                         f"- re-run since: {', '.join(sorted(only))} at {now:%Y-%m-%d %H:%M} "
                         f"UTC ({dated.name}); the other parts are from the run above")
    else:
        dated = _unused(RESULTS / f"{now:%Y-%m-%d}.md")
    dated.write_text("\n".join(lines) + "\n", encoding="utf-8")
    latest.write_text(text, encoding="utf-8")
    print(f"\nfigures written to {dated} and {latest}")
    # A part killed by a signal has a negative code: any non-zero code fails the run.
    return 1 if any(codes) else 0


def _sections(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """A results file as its header lines and its parts' sections (code blocks kept whole)."""
    head: list[str] = []
    parts: dict[str, list[str]] = {}
    current = head
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("## "):
            current = parts.setdefault(line[3:].strip(), [])
        current.append(line)
    return head, parts


def _unused(path: Path) -> Path:
    """`path`, or the first of path-b, path-c, ... not taken: a second run of the same parts
    on the same day never overwrites the record of the first (latest.md names each)."""
    for suffix in ["", *"bcdefghijklmnopqrstuvwxyz"]:
        candidate = path.with_stem(f"{path.stem}-{suffix}") if suffix else path
        if not candidate.exists():
            return candidate
    raise SystemExit(f"too many result files named like {path.name} today")


def merge(old: str, new: str, note: str) -> str:
    """`old` results with the sections of `new` in place of theirs, and `note` in the header."""
    head, parts = _sections(old)
    _, fresh = _sections(new)
    parts.update(fresh)
    while head and not head[-1].strip():
        head.pop()
    head += [note, ""]
    order = [name for name, *_ in PARTS if name in parts] + \
        [name for name in parts if name not in {n for n, *_ in PARTS}]
    return "\n".join(head + [line for name in order for line in parts[name]]) + "\n"


if __name__ == "__main__":
    sys.exit(main())
