"""Build Scrapy settings from the registry and CLI flags, and run one crawl in this process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawler.sources import Registry


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
    return settings


def check_source_ids(registry: Registry, source_ids: list[str]) -> None:
    """Refuse unknown outlet ids, listing the known ones."""
    known = {s.id for s in registry.sources}
    unknown = [i for i in source_ids if i not in known]
    if unknown:
        raise UsageError(
            f"unknown outlet id(s): {', '.join(unknown)}. Known ids: {', '.join(sorted(known))} "
            "(see `mediawatch sources list`)."
        )


def run_crawl(settings: Settings) -> None:
    """Run the registry spider to completion in this process."""
    from crawler.spiders.outlet import OutletSpider

    process = CrawlerProcess(settings)
    process.crawl(OutletSpider)
    process.start()
