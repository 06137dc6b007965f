"""Crawl throughput on the bench web, measured side by side in one run (not a test).

    .venv/bin/python bench/throughput.py [--per-outlet 240] [--sample 400] [--no-newsplease]

1. extract_article vs bare trafilatura.bare_extraction(with_metadata=True), one process,
   interleaved page by page (the order alternates) on the same bench-web pages.
2. extract_article alone on all cores (a spawned process pool of os.cpu_count()).
3. `mediawatch crawl` of the whole bench web as a subprocess: articles stored per second of
   wall time (process start to exit, the first story build of the fresh archive included),
   requests/s (as the server counted them), peak RSS of the process tree (crawler +
   extraction workers, sampled from /proc), CPU per stored article, ratio to 2.
4. bench/naive_crawler.py, the simplest crawler that works (serial urllib +
   trafilatura.bare_extraction, one SQLite table), on the same web.
5. news-please (bench/.venv-newsplease, made by `make bench`) on the same web with the same
   concurrency and no delay (bench/newsplease_run.py): the same figures, and text/date
   quality of both against the ground truth on the same pages.
6. Peak RSS of a crawl whose frontier holds 10k and 100k queued URLs, next to a small one.

Each ratio is printed with its goal (issue 14) and the load average when it was measured:
the machine is shared, so only figures of one run compare. `main(argv)` returns them.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sqlite3
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent)]

import trafilatura  # noqa: E402
from benchweb import OUTLETS, BenchWeb, Truth  # noqa: E402
from measure import cpu_at, goal, quality, run_watched  # noqa: E402

from extract import extract_article  # noqa: E402

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
NEWSPLEASE_PY = HERE / ".venv-newsplease" / "bin" / "python"
BARE = {"include_comments": False, "include_tables": True, "include_formatting": False,
        "with_metadata": True}  # the settings of bench/extraction.py
HTML = "text/html; charset=utf-8"


# -- 1 and 2: extraction alone ------------------------------------------------------------


def bodies(web: BenchWeb) -> list[tuple[Truth, bytes]]:
    """Every article page as served (the identity body), with its ground truth."""
    return [(t, web.sites[t.outlet].routes[t.url[len(web.sites[t.outlet].base):]].body)
            for t in web.truths]


def one_process(pages: list[tuple[Truth, bytes]]) -> dict[str, dict[str, float]]:
    """extract_article and bare trafilatura on the same pages, interleaved, order alternating:
    pages/s of wall time and CPU ms per page (this process: nothing else runs in it)."""
    elapsed = {"extract_article": 0.0, "bare trafilatura": 0.0}
    cpu = dict.fromkeys(elapsed, 0.0)
    found: dict[str, dict[str, tuple[str, str, str]]] = {k: {} for k in elapsed}
    for i, (truth, body) in enumerate(pages):
        for name in sorted(elapsed, reverse=bool(i % 2)):
            start, began = time.perf_counter(), time.process_time()
            if name == "extract_article":
                res = extract_article(body, truth.url, content_type=HTML)
                got = (res.title or "", res.date or "", res.text or "")
            else:
                try:
                    doc = trafilatura.bare_extraction(body, url=truth.url, **BARE)
                except Exception:  # a crash is a miss, as in bench/extraction.py
                    doc = None
                got = (getattr(doc, "title", "") or "", getattr(doc, "date", "") or "",
                       getattr(doc, "text", "") or "")
            elapsed[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - began
            found[name][truth.url] = got
    truths = [t for t, _ in pages]
    return {name: {"pages/s": len(pages) / elapsed[name], "cpu ms": 1000 * cpu[name] / len(pages),
                   **quality(found[name], truths)} for name in elapsed}


def _extract_status(item: tuple[bytes, str]) -> tuple[str, float]:
    """Pool worker: one page through extract_article (module level): status, CPU seconds."""
    start = time.process_time()
    status = extract_article(item[0], item[1], content_type=HTML).status
    return status, time.process_time() - start


def all_cores(pages: list[tuple[Truth, bytes]]) -> dict[str, float]:
    """extract_article on every page, a spawned process per core (as the crawler's pool)."""
    workers = os.cpu_count() or 1
    items = [(body, t.url) for t, body in pages]
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        list(pool.map(_extract_status, items[: workers * 2]))  # imports, caches: not timed
        start = time.perf_counter()
        done = list(pool.map(_extract_status, items, chunksize=4))
        seconds = time.perf_counter() - start
    # CPU a page with every core busy, as in a crawl (cores share caches and memory bandwidth).
    return {"pages/s": len(items) / seconds, "workers": workers, "seconds": seconds,
            "ok": sum(s == "ok" for s, _ in done),
            "cpu ms": 1000 * sum(c for _, c in done) / max(len(done), 1)}


# -- 3, 4, 5: crawls --------------------------------------------------------------------


def crawl_mediawatch(web: BenchWeb, tmp: Path, concurrency: int, outlets: list[str] | None = None,
                     max_requests: int | None = None, tree: Path | None = None
                     ) -> dict[str, Any]:
    """`mediawatch crawl` of the web (or of some outlets) as a user runs it; with `tree`,
    the mediawatch of another source tree (e.g. an older commit) in this venv."""
    tmp = tmp / (tree.name if tree else "mediawatch")
    tmp.mkdir(exist_ok=True)
    sources = web.write_sources(tmp / "sources.toml", concurrency, outlets, max_requests)
    db = tmp / "archive.db"
    slots = concurrency * len(outlets or OUTLETS)
    command, env = [MEDIAWATCH], None
    if tree is not None:  # -P: its packages, not the current directory's, come first on
        # sys.path (and spawned workers inherit that path)
        command = [sys.executable, "-P", "-c", "from crawler.cli import cli; cli()"]
        env = {**os.environ, "PYTHONPATH": str(tree)}
    out = run_watched([*command, "crawl", "--sources", str(sources), "--db", str(db),
                       "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "LOG_LEVEL=WARNING",
                       "-s", f"CONCURRENT_REQUESTS={slots}"], web, env)
    if out["rc"] != 0:
        raise RuntimeError(f"mediawatch crawl failed: {out['stderr'][-2000:]}")
    conn = sqlite3.connect(db)
    out["found"] = {url: (title, day, text) for url, title, day, text in conn.execute(
        "SELECT url, title, published, text FROM articles")}
    first, last = conn.execute("SELECT min(fetched_at), max(fetched_at) FROM pages "
                               "WHERE kind = 'article'").fetchone()
    out["steady_s"] = out["head_s"] = out["tail_s"] = out["tail_cpu"] = 0.0
    if first:  # the fetch phase, and what comes before it (start-up) and after (closing)
        first_ts, last_ts = (datetime.fromisoformat(x).timestamp() for x in (first, last))
        out["steady_s"] = last_ts - first_ts
        out["head_s"] = first_ts - out["began"]
        out["tail_s"] = out["began"] + out["seconds"] - last_ts
        # fetched_at has whole seconds: the fetch phase ends within the second after it.
        main, tree = cpu_at(out["history"], last_ts + 1)
        out["tail_cpu"] = out["main_cpu"] + out["other_cpu"] - tree
        out["tail_main_cpu"] = out["main_cpu"] - main
    stats = json.loads(conn.execute("SELECT stats FROM crawl_runs ORDER BY id DESC LIMIT 1")
                       .fetchone()[0] or "{}")  # the workers' CPU by step (crawler/pipelines.py)
    out["worker_us"] = {k.rsplit("/", 1)[1]: v for k, v in stats.items()
                        if k.startswith("mediawatch/worker_cpu_us/")}
    out["queued"], out["fetched"] = conn.execute(
        "SELECT count(*), count(last_fetched) FROM url_state WHERE kind = 'article'").fetchone()
    conn.close()
    return out


def crawl_naive(web: BenchWeb, tmp: Path) -> dict[str, Any]:
    """bench/naive_crawler.py of the same web, in this venv (trafilatura is a dependency)."""
    db = tmp / "naive.db"
    out = run_watched([sys.executable, str(HERE / "naive_crawler.py"), "--db", str(db),
                       *(web.base_urls[o.id] + "/" for o in OUTLETS)], web)
    if out["rc"] != 0:
        raise RuntimeError(f"naive crawler failed: {out['stderr'][-2000:]}")
    conn = sqlite3.connect(db)
    out["found"] = {url: (title, day, text) for url, title, day, text in conn.execute(
        "SELECT url, title, date, text FROM articles")}
    conn.close()
    return out


def crawl_newsplease(web: BenchWeb, tmp: Path, concurrency: int) -> dict[str, Any] | str:
    """The same web through news-please in its own venv; a reason string when it cannot run."""
    if not NEWSPLEASE_PY.exists():
        return "news-please venv missing: run `make bench`"
    if any(":" in base.split("//", 1)[1] for base in web.base_urls.values()):
        return ("news-please skipped: its offsite filter needs the default port 80 (it puts "
                "host:port into Scrapy's allowed_domains), and port 80 could not be bound here")
    out = run_watched([str(NEWSPLEASE_PY), str(HERE / "newsplease_run.py"), "--out",
                       str(tmp / "newsplease"), "--concurrency", str(concurrency),
                       *(web.base_urls[o.id] + "/" for o in OUTLETS)], web)
    results = tmp / "newsplease" / "results.json"
    if not results.exists():
        return f"news-please failed (exit {out['rc']}): {out['stderr'][-1500:]}"
    data = json.loads(results.read_text(encoding="utf-8"))
    # news-please's own crawler processes, start to exit (its start-up included, as for
    # mediawatch); not this runner's config writing and JSON collecting.
    out.update(version=data["version"], runner_s=out["seconds"], seconds=data["seconds"])
    out["found"] = {a["url"]: (a.get("title") or "", a.get("date_publish") or "",
                               a.get("maintext") or "") for a in data["articles"]}
    return out


def frontier_rss(sizes: tuple[int, ...], concurrency: int) -> list[dict[str, Any]]:
    """Crawls capped at 60 requests whose sitemaps list `size` URLs: the rest stay queued."""
    rows = []
    for size in sizes:
        with BenchWeb(per_outlet=12, frontier=size) as web, \
                tempfile.TemporaryDirectory() as tmp:
            out = crawl_mediawatch(web, Path(tmp), concurrency, ["frontier"], max_requests=60)
            rows.append({"listed": size, **{k: out[k] for k in (
                "queued", "fetched", "peak_mb", "main_mb", "seconds")}})
    return rows


# -- the report ---------------------------------------------------------------------------


def start_web(per_outlet: int) -> tuple[BenchWeb, str]:
    """The bench web on port 80 when it can be bound (news-please needs it), else any port."""
    try:
        return BenchWeb(per_outlet=per_outlet, port=80).start(), "port 80"
    except OSError as exc:
        return BenchWeb(per_outlet=per_outlet).start(), f"free ports ({exc.strerror} on 80)"


def run(per_outlet: int = 240, sample: int = 400, concurrency: int = 8,
        newsplease: bool = True, frontier: tuple[int, ...] = (100, 10_000, 100_000),
        naive: bool = True, baseline: Path | None = None) -> dict[str, Any]:
    """Measure and print every figure of this section; return them."""
    web, where = start_web(per_outlet)
    summary: dict[str, Any] = {}
    try:
        web.warm()
        pages = bodies(web)
        sizes = sorted(len(b) for _, b in pages)
        print(f"\n== Crawl throughput: bench web of {len(pages)} article pages "
              f"({sizes[0] // 1024}-{sizes[-1] // 1024} KB, median {sizes[len(sizes) // 2] // 1024}"
              f" KB) on {len(OUTLETS)} loopback outlets, {where}; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.2f} ==", flush=True)
        step = max(1, len(pages) // sample)
        single = one_process(pages[::step])
        cores = all_cores(pages)
        with tempfile.TemporaryDirectory() as tmp:
            base = crawl_mediawatch(web, Path(tmp), concurrency, tree=baseline) \
                if baseline else None
            mw = crawl_mediawatch(web, Path(tmp), concurrency)
            nv: dict[str, Any] | str = crawl_naive(web, Path(tmp)) if naive else \
                "naive crawler not run (--no-naive)"
            np = crawl_newsplease(web, Path(tmp), concurrency) if newsplease else \
                "news-please not run (--no-newsplease)"
        mw_rate = len(mw["found"]) / mw["seconds"]
        ours, bare = single["extract_article"], single["bare trafilatura"]
        print(f"\n{'':34s}{'pages/s':>9s}{'req/s':>8s}{'stored':>8s}{'wall s':>8s}"
              f"{'peak RSS tree/main MB':>24s}   web CPU s, load before")
        print(f"{'extract_article, 1 process':34s}{ours['pages/s']:9.1f}   ({len(pages[::step])}"
              f" pages, interleaved with bare trafilatura; {ours['cpu ms']:.1f} ms CPU a page)")
        print(f"{'bare_extraction(with_metadata)':34s}{bare['pages/s']:9.1f}   "
              f"({bare['cpu ms']:.1f} ms CPU a page)")
        label = f"extract_article, {cores['workers']} processes"
        print(f"{label:34s}{cores['pages/s']:9.1f}"
              f"{'':16s}{cores['seconds']:8.1f}   (all {len(pages)} pages; "
              f"{cores['cpu ms']:.1f} ms CPU a page, every core busy)")

        def row(name: str, r: dict[str, Any], rate: float) -> None:
            print(f"{name:34s}{rate:9.1f}{r['requests'] / r['seconds']:8.1f}"
                  f"{len(r['found']):8d}{r['seconds']:8.1f}{r['peak_mb']:13.0f} /{r['main_mb']:5.0f}"
                  f" ({r['procs']} procs)  {r['web_cpu']:5.1f}, {r['load']:.2f}")

        def cpu_ms(r: dict[str, Any]) -> float:
            return (r["main_cpu"] + r["other_cpu"]) * 1000 / max(len(r["found"]), 1)

        if base is not None:
            base_rate = len(base["found"]) / base["seconds"]
            row(f"mediawatch crawl of {baseline}", base, base_rate)
            per = 1000 / max(len(base["found"]), 1)
            print(f"{'  CPU per article stored':34s}main process {base['main_cpu'] * per:.1f} ms, "
                  f"extraction workers {base['other_cpu'] * per:.1f} ms, all {cpu_ms(base):.1f} "
                  f"ms; {base['tail_s']:.1f} s and {base['tail_cpu'] * per:.1f} ms CPU per article "
                  "after the last article fetch")
            summary.update({f"baseline_{k}": round(v, 1) for k, v in (
                ("crawl", base_rate), ("cpu_ms", cpu_ms(base)), ("tail_s", base["tail_s"]),
                ("main_cpu_ms", base["main_cpu"] * per), ("worker_cpu_ms", base["other_cpu"] * per),
                ("tail_cpu_ms", base["tail_cpu"] * per))})
        row("mediawatch crawl", mw, mw_rate)
        per = 1000 / max(len(mw["found"]), 1)
        print(f"{'  CPU per article stored':34s}main process {mw['main_cpu'] * per:.1f} ms, "
              f"extraction workers {mw['other_cpu'] * per:.1f} ms, all {cpu_ms(mw):.1f} ms; "
              f"after the last article fetch {mw['tail_cpu'] * per:.1f} ms")
        if split := {k: v / 1000 / max(len(mw["found"]), 1) for k, v in mw["worker_us"].items()}:
            x, a, p, rest = (split["extract"], split["analyse"], split["prepare"],
                             mw["other_cpu"] * per - sum(split.values()))
            print(f"{'  of which in the workers':34s}extract_article {x:.1f} ms (in the all-core "
                  f"run {cores['cpu ms']:.1f}), topic and framing {a:.1f}, archive prep {p:.1f}, "
                  f"the rest (pool, pipes, start-up) {rest:.1f}")
            summary.update({f"crawl_worker_{k}_ms": round(v, 1) for k, v in split.items()})
        steady = len(mw["found"]) / max(mw["steady_s"], 1.0)  # fetched_at: whole seconds
        print(f"{'  first to last article fetch':34s}{steady:9.1f}{'':16s}{mw['steady_s']:8.1f}"
              f"   (+ {mw['head_s']:.1f} s before the first, {mw['tail_s']:.1f} s after the "
              "last: start-up; closing, with the first story build)")
        summary.update(extract_article=round(ours["pages/s"], 1),
                       extract_article_cpu_ms=round(ours["cpu ms"], 1),
                       bare_trafilatura=round(bare["pages/s"], 1),
                       extract_all_cores=round(cores["pages/s"], 1),
                       crawl=round(mw_rate, 1), crawl_fetch_phase=round(steady, 1),
                       crawl_tail_s=round(mw["tail_s"], 1), crawl_cpu_ms=round(cpu_ms(mw), 1),
                       crawl_main_cpu_ms=round(mw["main_cpu"] * per, 1),
                       crawl_worker_cpu_ms=round(mw["other_cpu"] * per, 1),
                       crawl_tail_cpu_ms=round(mw["tail_cpu"] * per, 1),
                       crawl_peak_mb=round(mw["peak_mb"]))
        if isinstance(nv, dict):
            nv_rate = len(nv["found"]) / nv["seconds"]
            row("naive serial crawler", nv, nv_rate)
            print(f"{'  CPU per article stored':34s}{cpu_ms(nv):.1f} ms")
            summary.update(naive=round(nv_rate, 1), naive_cpu_ms=round(cpu_ms(nv), 1))
        if isinstance(np, dict):
            np_rate = len(np["found"]) / np["seconds"]
            row(f"news-please {np['version']} crawl", np, np_rate)
            print(f"{'  CPU per article stored':34s}all processes {cpu_ms(np):.1f} ms")
            summary.update(newsplease=round(np_rate, 1), newsplease_peak_mb=round(np["peak_mb"]),
                           newsplease_cpu_ms=round(cpu_ms(np), 1))

        print("\nGoals (issue 14), ratios of figures measured above in this run:")
        ratios = {"extract_vs_bare": (ours["pages/s"] / bare["pages/s"], 0.9, True,
                                      "extract_article / bare_extraction, 1 process (pages/s)"),
                  "crawl_vs_extract": (mw_rate / cores["pages/s"], 0.8, True,
                                       "crawl / extract_article on all cores (articles/s)"),
                  "cpu_vs_extract": (cpu_ms(mw) / ours["cpu ms"], 1.3, False,
                                     "crawl CPU per article / extract_article CPU per page")}
        if isinstance(nv, dict):
            ratios["crawl_vs_naive"] = (mw_rate / nv_rate, 1.6, True,
                                        "crawl / naive serial crawler (articles/s)")
        if isinstance(np, dict):
            ratios["crawl_vs_newsplease"] = (mw_rate / np_rate, 3.0, True,
                                             "crawl / news-please (articles/s)")
        for key, (value, target, more, text) in ratios.items():
            print(goal(text, value, target, more))
            summary[key] = round(value, 3)
        # The machine's bounds: a crawl stores no faster than all-core extraction, and
        # spends at least its CPU per page with every core busy.
        top = f"; most any crawl could reach here (all-core extract / naive): " \
              f"{cores['pages/s'] / nv_rate:.2f}" if isinstance(nv, dict) else ""
        summary.update(extract_all_cores_cpu_ms=round(cores["cpu ms"], 1),
                       cpu_vs_extract_all_cores=round(cpu_ms(mw) / cores["cpu ms"], 3))
        print(f"  (CPU ratio against extract_article with every core busy, {cores['cpu ms']:.1f}"
              f" ms a page: {cpu_ms(mw) / cores['cpu ms']:.2f}{top})")
        print(f"  (fetch phase alone / extract_article on all cores: "
              f"{steady / cores['pages/s']:.2f}; the crawl's wall time includes "
              f"{mw['head_s']:.1f} s of start-up and {mw['tail_s']:.1f} s of closing)")

        truths = web.truths
        crawls = [(name, r["found"]) for name, r in (("mediawatch", mw), ("naive", nv),
                                                      ("news-please", np)) if isinstance(r, dict)]
        common = [t for t in truths if all(t.url in found for _, found in crawls)]
        print(f"\nQuality against the ground truth ({len(truths)} pages; a page not stored "
              f"is a miss) | on the {len(common)} pages all stored:")
        for name, found in crawls:
            a, b = quality(found, truths), quality(found, common)
            print(f"  {name:12s} stored {a['stored']:5d}  text F1 {a['text F1']:.3f}  date "
                  f"{a['date acc']:.3f}  title {a['title acc']:.3f} | text F1 "
                  f"{b['text F1']:.3f}  date {b['date acc']:.3f}  title {b['title acc']:.3f}")
            summary.update({f"{name}_text_f1": round(a["text F1"], 3),
                            f"{name}_date_acc": round(a["date acc"], 3),
                            f"{name}_title_acc": round(a["title acc"], 3)})
        for reason in (x for x in (nv, np) if isinstance(x, str)):
            print(f"  {reason}")
        if isinstance(np, dict):
            missed = collections.Counter(t.template for t in truths if t.url not in np["found"])
            if missed:
                print("  not stored by news-please, by page layout: " + ", ".join(
                    f"{case} {n}" for case, n in missed.most_common()))
        print(f"  extractors alone on the {len(pages[::step])} sampled pages: " + "; ".join(
            f"{n} text F1 {r['text F1']:.3f} date {r['date acc']:.3f} title {r['title acc']:.3f}"
            for n, r in single.items()))
    finally:
        web.stop()
    if frontier:
        print("\nFrontier memory: crawls capped at 60 requests (max_requests) whose sitemaps "
              "list N article URLs; the rest stays queued in url_state", flush=True)
        print(f"  {'listed':>8s}{'in url_state':>14s}{'fetched':>9s}{'peak RSS tree':>15s}"
              f"{'main':>7s}{'wall s':>8s}")
        for r in frontier_rss(frontier, concurrency):
            print(f"  {r['listed']:8d}{r['queued']:14d}{r['fetched']:9d}{r['peak_mb']:12.0f} MB"
                  f"{r['main_mb']:7.0f}{r['seconds']:8.1f}")
            summary[f"frontier_{r['listed']}_main_mb"] = round(r["main_mb"])
    print(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Command line: sizes and which parts to run; returns the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-outlet", type=int, default=240, help="articles per outlet (x5)")
    parser.add_argument("--sample", type=int, default=400, help="pages for the 1-process race")
    parser.add_argument("--concurrency", type=int, default=8, help="requests per outlet")
    parser.add_argument("--no-newsplease", action="store_true")
    parser.add_argument("--no-naive", action="store_true")
    parser.add_argument("--baseline", type=Path, help="also crawl with the mediawatch of this "
                        "source tree (e.g. `git archive <commit>` unpacked), for before/after")
    parser.add_argument("--frontier", type=int, nargs="*", default=[100, 10_000, 100_000])
    args = parser.parse_args(argv)
    return run(args.per_outlet, args.sample, args.concurrency, not args.no_newsplease,
               tuple(args.frontier), not args.no_naive, args.baseline)


if __name__ == "__main__":
    main()
