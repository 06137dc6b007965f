"""Build Scrapy settings from the registry and CLI flags, and run one crawl in this process."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.registry.model import Registry


class UsageError(ValueError):
    """A bad -s KEY=VALUE or outlet id; the message says what to fix."""


def parse_overrides(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Turn ["KEY=VALUE", ...] into a dict, refusing malformed pairs."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"-s {pair!r}: expected KEY=VALUE, e.g. -s DOWNLOAD_TIMEOUT=10")
        out[key.strip()] = value
    return out


def crawl_settings(
    registry: Registry,
    db: str | Path,
    source_ids: list[str],
    overrides: dict[str, str],
) -> Settings:
    """Scrapy settings for one crawl: defaults, per-outlet slots, then the user's -s overrides."""
    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    slots = {
        s.id: {"concurrency": s.concurrency, "delay": s.download_delay}
        for s in registry.sources
    }
    settings.set("DOWNLOAD_SLOTS", slots, priority="project")
    settings.set("MEDIAWATCH_SOURCES", registry.path, priority="cmdline")
    settings.set("MEDIAWATCH_DB", str(db), priority="cmdline")
    settings.set("MEDIAWATCH_SOURCE_IDS", source_ids, priority="cmdline")
    run: dict[str, Any] = {"source_ids": source_ids, "overrides": overrides}
    settings.set("MEDIAWATCH_RUN_SETTINGS", run, priority="cmdline")
    for key, value in overrides.items():
        settings.set(key, value, priority="cmdline")
    if "USER_AGENT" not in overrides:  # the operator's contact, however it was set
        from crawler.settings import user_agent

        settings.set("USER_AGENT", user_agent(settings.get("MEDIAWATCH_CONTACT")),
                     priority="cmdline")
    return settings


def worker_settings(settings: Settings, registry: Registry, redis_url: str, prefix: str,
                    worker: str) -> None:
    """Turn crawl settings into a `crawl --redis` worker's: shared queue, no database.

    Outlet delays move from this process's download slots into the shared frontier
    (crawler.distributed.frontier), so they hold across workers; concurrency stays per slot.
    """
    settings.set("MEDIAWATCH_REDIS_URL", redis_url, priority="cmdline")
    settings.set("REDIS_URL", redis_url, priority="cmdline")
    settings.set("MEDIAWATCH_REDIS_PREFIX", prefix, priority="cmdline")
    settings.set("MEDIAWATCH_WORKER_ID", worker, priority="cmdline")
    settings.set("SCHEDULER", "crawler.distributed.scheduler.WorkerScheduler", priority="cmdline")
    settings.set("DOWNLOAD_SLOTS", {s.id: {"concurrency": s.concurrency, "delay": 0}
                                    for s in registry.sources}, priority="cmdline")
    settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
    # The user's own pipelines stay (as in a one-process crawl); the archive's does not: a
    # worker has no database and hands every item to the archiver instead.
    pipelines = {k: v for k, v in settings.getdict("ITEM_PIPELINES").items()
                 if k != "crawler.pipelines.ArchivePipeline"}
    pipelines.update({"crawler.pipelines.ExtractPipeline": 300,
                      "crawler.distributed.worker.RedisItemPipeline": 800})
    settings.set("ITEM_PIPELINES", pipelines, priority="cmdline")
    # Closest to the engine: every request it counts reaches the scheduler (a middleware
    # nearer the spider, e.g. DepthMiddleware, may drop what it yields).
    settings.set("SPIDER_MIDDLEWARES", {"crawler.distributed.worker.LeaseMiddleware": 5},
                 priority="cmdline")
    # Closest to the downloader: the shared per-outlet gate is the last thing before the wire.
    middlewares = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    middlewares["crawler.distributed.politeness.SharedDelayMiddleware"] = 990
    settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority="cmdline")


def check_source_ids(registry: Registry, source_ids: list[str]) -> None:
    """Refuse unknown outlet ids, listing the known ones."""
    known = {s.id for s in registry.sources}
    unknown = [i for i in source_ids if i not in known]
    if unknown:
        raise UsageError(
            f"unknown outlet id(s): {', '.join(unknown)}. Known ids: {', '.join(sorted(known))} "
            "(see `mediawatch sources list`)."
        )


# Scrapy's start-up and closing reports at INFO: versions, every overridden setting, the lists
# of enabled components, the stats dump (kept in crawl_runs.stats). About 100 lines per run, so
# a crawl every 15 minutes wrote some 10,000 lines a day of them to its cron log. At the
# default level they are left out; the engine's opened/closed lines, the per-minute counts, a
# signal received, warnings and errors stay, and -s LOG_LEVEL=DEBUG brings everything back.
# Logger -> the INFO messages left out (None: all of them).
_BOILERPLATE: dict[str, tuple[str, ...] | None] = {
    "scrapy.utils.log": None, "scrapy.addons": None, "scrapy.middleware": None,
    "scrapy.statscollectors": None, "scrapy.crawler": ("Overridden settings",)}


class _LeaveOut(logging.Filter):
    """Drops records below WARNING (those whose message starts with one of `starts`, if
    given). A filter, not a logger level: Scrapy's logging set-up (dictConfig) resets the
    levels of the loggers under "scrapy", not their filters."""

    def __init__(self, starts: tuple[str, ...] | None) -> None:
        super().__init__()
        self.starts = starts

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep warnings and errors, and the INFO records not left out."""
        if record.levelno >= logging.WARNING:
            return True
        return self.starts is not None and not str(record.msg).startswith(self.starts)


class _GaveUpIsAWarning(logging.Filter):
    """Scrapy logs a request that failed its last retry as an ERROR. Here it is a fetch the
    outlet did not answer, recorded with its status in `pages` and counted in the run's
    summary, and fetched again when due: a WARNING, so that ERROR in a crawl's log means
    that something went wrong with the crawl itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep the record, a warning where it was an error."""
        if record.levelno == logging.ERROR and str(record.msg).startswith("Gave up retrying"):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def quiet_boilerplate(settings: Settings) -> None:
    """At LOG_LEVEL INFO, leave Scrapy's start-up report and stats dump out of the log; at any
    level, log a request that failed all its retries as a warning."""
    retry = logging.getLogger("scrapy.downloadermiddlewares.retry")
    if not any(isinstance(f, _GaveUpIsAWarning) for f in retry.filters):
        retry.addFilter(_GaveUpIsAWarning())
    quiet = settings.get("LOG_LEVEL") == "INFO"
    for name, starts in _BOILERPLATE.items():
        log = logging.getLogger(name)
        for old in [f for f in log.filters if isinstance(f, _LeaveOut)]:
            log.removeFilter(old)
        if quiet:
            log.addFilter(_LeaveOut(starts))


def run_crawl(settings: Settings) -> None:
    """Run the registry spider to completion in this process."""
    quiet_boilerplate(settings)
    if settings.getint("MEDIAWATCH_EXTRACT_WORKERS", -1) != 0:
        from crawler.ingest.extraction import start_crawl_workers

        start_crawl_workers()  # the workers' imports overlap Scrapy's start-up
    from crawler.spiders.outlet import OutletSpider

    process = CrawlerProcess(settings)
    process.crawl(OutletSpider)
    process.start()
