"""Distributed crawling on scrapy-redis: `crawl --redis` workers and `mediawatch archiver`."""

from __future__ import annotations

from typing import Any

import click

from crawler.cli.options import db_option, open_archive, overrides_option

redis_option = click.option(
    "--redis", "redis_url", required=True, metavar="URL", envvar="MEDIAWATCH_REDIS_URL",
    help="The Redis the workers share, e.g. redis://127.0.0.1:6379/0.")
prefix_option = click.option(
    "--redis-prefix", "prefix", default="mediawatch", show_default=True,
    help="Key prefix: one crawl cluster (its queue, fingerprints, items) per prefix.")


def _connect(url: str) -> Any:
    import redis

    try:
        server = redis.Redis.from_url(url)
        server.ping()
    except (redis.RedisError, ValueError) as exc:
        raise click.ClickException(
            f"cannot reach Redis at {url}: {exc}. Start redis-server there, or pass the right "
            "--redis URL (redis://host:port/db, redis://:password@host:port/db).") from exc
    return server


def run_worker(settings: Any, registry: Any, redis_url: str, prefix: str,
               worker: str | None) -> None:
    """Run this process as one worker of the crawl cluster (no database)."""
    from crawler.distributed import worker_id
    from crawler.runner import run_crawl, worker_settings

    _connect(redis_url)
    name = worker_id(worker)
    worker_settings(settings, registry, redis_url, prefix, name)
    click.echo(f"worker {name}: crawling into Redis {redis_url} (prefix {prefix!r}); "
               "`mediawatch archiver` writes the archive", err=True)
    run_crawl(settings)


@click.command()
@redis_option
@db_option
@prefix_option
@click.option("--batch", "batch", default=200, show_default=True,
              help="Items written per transaction.")
@click.option("--drain", is_flag=True,
              help="Exit once a wave of worker runs has ended and its items are written "
                   "(waits for the first worker; default: keep running until SIGTERM/Ctrl-C, "
                   "as a service).")
@click.option("--idle-exit", "idle_exit", default=5.0, show_default=True,
              help="With --drain: seconds without new items, after the wave, before leaving.")
@overrides_option("-s MEDIAWATCH_REDIS_LOST_AFTER=30")
def archiver(redis_url: str, db: str, prefix: str, batch: int, drain: bool, idle_exit: float,
             overrides: tuple[str, ...]) -> None:
    """Write what `crawl --redis` workers fetch into the archive: the only writer of --db.

    Holds the archive's lock while it runs, like a crawl. Each wave of worker runs
    becomes one crawl_runs row, with health rows and alerts as after a normal crawl.
    """
    from scrapy.settings import Settings

    from crawler.distributed.archiver import Archiver
    from crawler.runner import UsageError, parse_overrides

    server = _connect(redis_url)
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    try:
        for key, value in parse_overrides(overrides).items():
            settings.set(key, value, priority="cmdline")
    except UsageError as exc:
        raise click.ClickException(str(exc)) from exc
    archive = open_archive(db)
    worker = Archiver(server, prefix, archive, settings, batch_size=batch)
    try:
        worker.claim()
        click.echo(f"archiver: {redis_url} (prefix {prefix!r}) -> {db}", err=True)
        worker.run(drain=drain, idle_exit=idle_exit)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        archive.close()
    click.echo(f"archiver: {worker.written} items written, {worker.store_errors} store errors")
