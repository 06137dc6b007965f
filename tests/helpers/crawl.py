"""Real crawls of the fixture web and a served Datasette, as a user runs them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from demoweb import FixtureWeb
from helpers.processes import MEDIAWATCH, free_port, run_mediawatch, wait_for_http


@dataclass
class Crawl:
    """One finished crawl of the fixture web."""

    web: FixtureWeb
    db: Path
    sources: Path
    result: subprocess.CompletedProcess[str]
    requests: list  # the web's request log for this crawl


def crawl_web(web: FixtureWeb, workdir: Path, *extra: str) -> Crawl:
    """Crawl the whole fixture web into workdir/archive.db, loopback-only."""
    workdir.mkdir(parents=True, exist_ok=True)
    sources = workdir / "sources.toml"
    if not sources.exists():
        web.write_sources(sources)
    db = workdir / "archive.db"
    web.clear_requests()
    result = run_mediawatch("crawl", "--sources", str(sources), "--db", str(db),
                            "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", *extra)
    return Crawl(web, db, sources, result, list(web.requests))


@contextmanager
def serve(db: Path) -> Iterator[str]:
    """`mediawatch serve` on an archive, over real HTTP on loopback; yields its base URL."""
    port = free_port()
    proc = subprocess.Popen([MEDIAWATCH, "serve", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(base + "/-/versions.json")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def load_bench(name: str) -> ModuleType:
    """Import a bench/ script as a module (the framing tests reuse its fixture loader)."""
    folder = Path(__file__).resolve().parents[2] / "bench"
    if str(folder) not in sys.path:
        sys.path.append(str(folder))  # bench scripts import their sibling modules by name
    path = folder / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
