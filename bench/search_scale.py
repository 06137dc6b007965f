"""`make bench`: search, facets and framing views on archives of 10k, 100k and 1M articles.

Each archive is generated from the fixture corpus (bench/scale_corpus.py, scale_specs.py)
and written through the documented bulk path (bench/scale_build.py, identical to
Archive.record row for row), then cached under bench/.cache/ by generator version + size.
Every statement timed is the project's own: /search's SQL from the pages plugin (with the
query expansion of crawler/search/query.py), the canned searches of datasette/metadata.yaml,
Datasette's facet SQL over the articles table, the framing compare/KWIC statements and
views; then real HTTP pages from `mediawatch serve` on loopback, one server per archive.
Sizes are measured side by side (interleaved, same run), so machine load hits them alike;
the first round is a warm-up and is not counted.

    .venv/bin/python bench/search_scale.py --sizes 10000,100000 [--reps 5] [--explain]
"""

from __future__ import annotations

import argparse
import importlib.util
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for p in (str(ROOT), str(HERE)):
    if p not in sys.path:
        sys.path.insert(0, p)

import yaml  # noqa: E402
from mediawatch_schema.migrations import migrations  # noqa: E402
from scale_build import cached_archive  # noqa: E402

from crawler.search.query import expand_query  # noqa: E402

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
PLUGINS = ROOT / "datasette" / "plugins"
# (label, query, filters): concept aliases, light stemming, phrases, negation, filters.
SEARCHES = [
    ("en concept", "Pashinyan", {}), ("en stemmed", "peacekeepers", {}),
    ("en phrase", '"Zangezur corridor"', {}), ("ru inflected", "Пашиняном", {}),
    ("ru stemmed", "переговоры", {}), ("ru phrase", '"мирного договора"', {}),
    ("hy concept", "Սյունիք", {}), ("hy inflected", "Փաշինյանի", {}),
    ("negation", "Putin -Pashinyan", {}), ("lang filter", "Artsakh", {"lang": "ru"}),
    ("outlet filter", "CSTO", {"source": "tass"}), ("page 3", "Russia", {"page": 3}),
    ("literal", "Artsakh", {"literal": True}), ("rare word", "market", {}),
]
FACETS = ("source_id", "lang", "published_month")
CONCEPTS = ("karabakh", "syunik", "frames")


def plugin(name: str) -> ModuleType:
    """A Datasette plugin module of this repository, loaded by path as Datasette does."""
    spec = importlib.util.spec_from_file_location(f"mw_bench_{name}", PLUGINS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def connect(path: Path) -> sqlite3.Connection:
    """A read-only connection set up like Datasette's (plugins' prepare_connection hooks)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    for name in ("search_expand",):
        plugin(name).prepare_connection(conn)
    return conn


def _search_class(pages: ModuleType) -> list[tuple[str, Callable[[sqlite3.Connection], Any]]]:
    """/search: everything the page runs for each query (pages_archive.run_search and the
    form's lists of languages and outlets)."""
    out = []
    for label, q, f in SEARCHES:
        expr = expand_query(q, literal=bool(f.get("literal")))
        assert expr

        def run(conn: sqlite3.Connection, expr: str = expr, f: dict[str, Any] = f) -> Any:
            pages.run_search(conn, expr, lang=f.get("lang", ""), source=f.get("source", ""),
                             page=f.get("page", 1))
            conn.execute(pages.LANGUAGES_SQL).fetchall()
            return conn.execute("select id, name from sources order by name").fetchall()
        out.append((label, run))
    return out


def _canned_class() -> list[tuple[str, Callable[[sqlite3.Connection], Any]]]:
    """metadata.yaml's canned searches (snippets, best matches first)."""
    queries = yaml.safe_load((ROOT / "datasette" / "metadata.yaml").read_text())[
        "databases"]["archive"]["queries"]
    out = []
    for name in ("search_articles", "search_articles_literal"):
        for q in ("Pashinyan", "Սյունիք", "переговоры"):
            out.append((f"{name} {q}", lambda c, s=queries[name]["sql"], q=q:
                        c.execute(s, {"q": q}).fetchall()))
    return out


def _facet_class() -> list[tuple[str, Callable[[sqlite3.Connection], Any]]]:
    """Datasette's facet SQL on the articles table, unfiltered and within a search."""
    bases = {"all": ("select * from articles", {}),
             "search": ("select * from articles where rowid in (select rowid from articles_fts "
                        "where articles_fts match :search)",
                        {"search": expand_query("Pashinyan")})}
    out = []
    for base, (sql, params) in bases.items():
        for col in FACETS:
            facet = (f"select {col} as value, count(*) as count from ({sql}) where {col} is not "
                     f"null group by {col} order by count desc, value limit 31")
            out.append((f"{base} by {col}", lambda c, s=facet, p=params: c.execute(s, p).fetchall()))
    return out


def _framing_class(framing: ModuleType) -> list[tuple[str, Callable[[sqlite3.Connection], Any]]]:
    """The compare page's statements per concept and period, KWIC lines, the views."""
    out = []
    for concept in CONCEPTS:
        for period in (("", ""), ("2024-01", "2024-12")):
            p = {"concept": concept, "from": period[0], "to": period[1], "lang": ""}
            sql = framing.compare_sql(concept)
            out.append((f"compare {concept} {period[0] or 'all'}", lambda c, s=sql, p=p: [
                c.execute(x, p).fetchall() for x in s.values()]))
    for kwic in ({"concept": "karabakh", "source": "tass"},
                 {"concept": "syunik", "source": "rbc", "from": "2024-01", "to": "2024-06"},
                 {"concept": "karabakh", "naming": "international"}):
        out.append((f"kwic {kwic}", lambda c, k=kwic: c.execute(framing.kwic_sql(
            k, c.execute(framing.kwic_lines_sql(k["concept"]), k).fetchone()[0]), k).fetchall()))
    for view in ("naming_share", "naming_rate", "attention"):
        out.append((f"view {view}", lambda c, v=view: c.execute(
            f"select * from {v} where concept = 'karabakh' and source_id = 'tass'").fetchall()))
    return out


def _http_class(kind: str, ids: list[str], db: str) -> list[tuple[str, str]]:
    """Paths of real pages: the search page, article pages, the framing compare page,
    Datasette's table view of the articles (database `db`), searched and not, and the rest
    (outlets, an outlet, charts, a canned query)."""
    if kind == "http search":
        return [(q, "/search?" + urllib.parse.urlencode({"q": q, **f}))
                for _, q, f in SEARCHES[:9:2]]
    if kind == "http article":
        return [(aid, f"/article/{aid}") for aid in ids]
    if kind == "http compare":
        return [("karabakh", "/-/framing/compare?concept=karabakh"),
                ("syunik 2024", "/-/framing/compare?concept=syunik&from=2024-01&to=2024-12")]
    if kind == "http other pages":
        return [("outlets", "/outlets"), ("outlet", "/outlet/rbc"), ("charts", "/charts"),
                ("latest_on_topic", f"/{db}/latest_on_topic")]
    return [("search", f"/{db}/articles?" + urllib.parse.urlencode({"_search": "Pashinyan"})),
            ("all", f"/{db}/articles")]


def _serve(path: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([MEDIAWATCH, "serve", "--db", str(path), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/versions.json", timeout=5):
                return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.terminate()
                raise RuntimeError(f"mediawatch serve did not start on {path}") from None
            time.sleep(0.3)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=120) as resp:
            resp.read()
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(paths: dict[int, Path], reps: int) -> tuple[dict[str, dict[int, list[float]]],
                                                        list[str]]:
    """Every class on every archive, interleaved; returns samples (ms) and HTTP errors."""
    pages, framing = plugin("pages_archive"), plugin("framing_pages")
    conns = {n: connect(p) for n, p in paths.items()}
    classes = {"search (SQL)": _search_class(pages), "canned search": _canned_class(),
               "facets": _facet_class(), "framing (SQL)": _framing_class(framing)}
    ids = {n: [r[0] for r in conns[n].execute(
        "select id from articles where rowid in (?, ?, ?, ?, ?) and extraction_status = 'ok'",
        [max(1, n * k // 6) for k in range(1, 6)])] for n in paths}
    samples: dict[str, dict[int, list[float]]] = {k: {n: [] for n in paths} for k in classes}
    errors: list[str] = []
    servers = {n: (_serve(p, port := _free_port()), port) for n, p in paths.items()}
    try:
        http = ("http search", "http article", "http compare", "http table view",
                "http other pages")
        for kind in http:
            samples[kind] = {n: [] for n in paths}
        for rep in range(reps + 1):
            for cls, items in classes.items():
                for _label, run in items:
                    for n, conn in conns.items():
                        start = time.perf_counter()
                        run(conn)
                        if rep:
                            samples[cls][n].append(1000 * (time.perf_counter() - start))
            for kind in http:
                for n, (_proc, port) in servers.items():
                    for label, path in _http_class(kind, ids[n], paths[n].stem):
                        start = time.perf_counter()
                        status = _get(f"http://127.0.0.1:{port}{path}")
                        if rep:
                            samples[kind][n].append(1000 * (time.perf_counter() - start))
                        if status != 200 and rep == 1:
                            errors.append(f"{kind} {label} at {n:,}: HTTP {status}")
    finally:
        for proc, _port in servers.values():
            proc.terminate()
            proc.wait(timeout=30)
    return samples, errors


def explain(path: Path) -> None:
    """EXPLAIN QUERY PLAN of the key statements (for `--explain`)."""
    pages, framing = plugin("pages_archive"), plugin("framing_pages")
    conn = connect(path)
    sql = pages.search_sql(expand_query("Pashinyan"), lang="ru")
    params = sql["params"]
    statements = {"search window": (sql["window"], params), "search total": (sql["total"], params),
                  "search hits": (pages.hits_sql([1, 2, 3]), params)}
    p = {"concept": "karabakh", "from": "", "to": "", "lang": ""}
    statements.update({f"compare {k}": (v, p) for k, v in framing.compare_sql("karabakh").items()})
    statements["languages"] = (pages.LANGUAGES_SQL, {})
    for name, (statement, args) in statements.items():
        print(f"-- {name}")
        for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", args):
            print("   ", row[-1])


def run(sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000), reps: int = 5) -> None:
    """Build (or reuse) the archives, time every class side by side, print the figures."""
    print("\n== Search at scale (bench/search_scale.py) ==", flush=True)
    paths: dict[int, Path] = {}
    print(f"{'archive':>10} {'articles':>10} {'build (wall, CPU)':>28} {'file':>9} "
          f"{'bytes/article':>14}")
    for n in sizes:
        path, meta = cached_archive(n)
        db = sqlite3.connect(path)
        migrations.apply(_utils(db))  # an archive built before a new migration gets it here
        db.close()
        paths[n] = path
        size = sum(f.stat().st_size for f in path.parent.glob(path.name + "*") if f.is_file())
        build = f"{meta['build_seconds']:.0f} s" + (" (cached)" if meta["reused"] else "")
        if meta.get("cpu_seconds"):
            build += f", {meta['cpu_seconds']:.0f} s CPU"
        print(f"{n:>10,} {meta['articles']:>10,} {build:>28} {size / 1e6:>7,.0f}MB "
              f"{size / meta['articles']:>14,.0f}", flush=True)
    samples, errors = measure(paths, reps)
    lo, hi = min(sizes), max(sizes)
    head = "".join(f"{f'{n:,}: p50 / p95 ms':>26}" for n in sizes)
    print(f"{'class':<18}{head}{f'p95 {hi // 1000:,}k/{lo // 1000:,}k':>16}")
    for cls, by_size in samples.items():
        cells = "".join(f"{_pct(v, .5):>13.1f} /{_pct(v, .95):>10.1f}" for v in by_size.values())
        ratio = _pct(by_size[hi], .95) / max(_pct(by_size[lo], .95), 1e-9)
        print(f"{cls:<18}{cells}{ratio:>16.2f}")
    for e in errors:
        print("error:", e)
    n_samples = {cls: len(v[lo]) for cls, v in samples.items()}
    print(f"samples per class and size: {n_samples}; {reps} rounds after a warm-up; "
          "goal: /search under 200 ms at the largest size, p95 ratio <= 3")


def _utils(conn: sqlite3.Connection) -> Any:
    import sqlite_utils

    return sqlite_utils.Database(conn)


def main() -> None:
    """Command line: --sizes 10000,100000 --reps 5 --explain."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--explain", action="store_true",
                        help="print query plans on the largest archive instead of timing")
    args = parser.parse_args()
    sizes = tuple(int(s.replace("_", "")) for s in args.sizes.split(","))
    if args.explain:
        explain(cached_archive(max(sizes))[0])
        return
    run(sizes, args.reps)


if __name__ == "__main__":
    main()
