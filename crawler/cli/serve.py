"""`mediawatch init-db`, `serve` and `demo`: create, publish and try out an archive."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import click

from crawler.cli.options import db_option, existing_db_option, open_archive
from crawler.registry.model import load_registry as read_registry

DATASETTE_DIR = Path(__file__).resolve().parents[2] / "datasette"


@click.command("init-db")
@db_option
def init_db(db: str) -> None:
    """Create the archive (or bring an old one up to date) by applying every migration."""
    archive = open_archive(db)
    tables = archive.db.table_names()
    archive.close()
    click.echo(f"{db}: ready ({len(tables)} tables, WAL mode)")


def datasette_command(db: str, host: str, port: int) -> list[str]:
    """The Datasette command line that serves an archive read-only with our metadata."""
    return [
        sys.executable, "-m", "datasette", "serve", db,
        "--metadata", str(DATASETTE_DIR / "metadata.yaml"),
        "--template-dir", str(DATASETTE_DIR / "templates"),
        "--plugins-dir", str(DATASETTE_DIR / "plugins"),
        "--static", f"mediawatch:{DATASETTE_DIR / 'static'}",
        "--host", host, "--port", str(port),
        "--setting", "allow_download", "off",
        "--setting", "default_page_size", "50",
        "--setting", "sql_time_limit_ms", "3000",
    ]


@click.command()
@existing_db_option
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0 publishes it; it stays read-only).")
def serve(db: str, port: int, host: str) -> None:
    """Publish the archive read-only with Datasette (search, facets, canned queries)."""
    open_archive(db).close()  # migrate an old archive before publishing it
    click.echo(f"Serving {db} at http://{host}:{port}/ (read-only; Ctrl-C stops)")
    sys.stdout.flush()
    os.execv(sys.executable, datasette_command(db, host, port))


@click.command()
@click.option("--dir", "directory", default="demo", show_default=True,
              type=click.Path(file_okay=False), help="Where the demo registry and archive go.")
@click.option("--port", default=8001, show_default=True, type=int)
@click.option("--serve/--no-serve", default=True, help="Serve the archive when built.")
def demo(directory: str, port: int, serve: bool) -> None:
    """Build an archive offline from the bundled demo web on loopback, then serve it."""
    from demoweb import FixtureWeb

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "archive.db"
    for stale in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        stale.unlink(missing_ok=True)  # the demo web's ports change: start afresh
    with FixtureWeb() as web:
        sources_path = web.write_sources(out / "sources.toml")
        crawled = len(read_registry(sources_path).sources)
        click.echo(f"demo web: {crawled} outlets crawled from loopback (registry "
                   f"{sources_path}); the hostile-server test outlet is served but not crawled; "
                   "the others plant a few failures on purpose (a 500, gone pages, a page "
                   "robots.txt forbids), which /health and `mediawatch status` then show")
        cmd = [sys.executable, "-m", "crawler.cli", "crawl", "--sources", str(sources_path),
               "--db", str(db), "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", "-s", "LOG_LEVEL=WARNING"]
        done = subprocess.run(cmd, check=False)
    if done.returncode != 0:
        raise click.ClickException("the demo crawl failed; see the messages above")
    subprocess.run([sys.executable, "-m", "crawler.cli", "fightin", "--db", str(db), "--lang", "ru",
                    "-a", "kind:state agency", "-b", "exile", "--label-a", "Russian state agency",
                    "--label-b", "independent exile outlet"], check=False)  # a demo vocabulary run
    if serve:
        if shutil.which("datasette") is None and not DATASETTE_DIR.exists():
            raise click.ClickException("Datasette is not installed: run `make demo`.")
        click.echo(f"Serving the demo archive at http://127.0.0.1:{port}/ (Ctrl-C stops)")
        sys.stdout.flush()
        os.execv(sys.executable, datasette_command(str(db), "127.0.0.1", port))
