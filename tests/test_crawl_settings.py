"""The Scrapy settings a crawl runs with, as Scrapy itself builds its components from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.unit

# A fresh interpreter: Scrapy's extension manager needs the asyncio reactor installed, and
# the test process must not keep one.
EXTENSIONS = """
import sys
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy import Spider
from scrapy.crawler import Crawler
from crawler.registry.model import load_registry
from crawler.runner import crawl_settings

class Probe(Spider):
    name = "probe"

settings = crawl_settings(load_registry(sys.argv[1]), sys.argv[2], [], dict(
    arg.split("=", 1) for arg in sys.argv[3:]))
crawler = Crawler(Probe, settings)
crawler._apply_settings()
print(settings.getint("CONCURRENT_ITEMS"))
print(" ".join(type(m).__name__ for m in crawler.extensions.middlewares))
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
DownloaderMiddlewareManager.from_crawler(crawler)
print(" ".join(m for m in ("aiohttp", "tldextract") if m in sys.modules) or "-")
"""


def _crawler(tmp_path: Path, *overrides: str) -> tuple[int, set[str], str]:
    out = subprocess.run([sys.executable, "-c", EXTENSIONS, str(ROOT / "sources.toml"),
                          str(tmp_path / "archive.db"), *overrides],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    items, names, imported = out.stdout.strip().splitlines()[-3:]
    return int(items), set(names.split()), imported


def test_no_code_execution_console_runs_in_a_crawl(tmp_path: Path) -> None:
    items, extensions, imported = _crawler(tmp_path)
    assert "CoreStats" in extensions and "LogStats" in extensions  # the manager was built
    assert "RemoteControl" not in extensions and "TelnetConsole" not in extensions
    assert items == 8
    # The remote control's and the cookies middleware's modules are not even loaded.
    assert imported == "-"


def test_scrapy_settings_stay_the_users_choice(tmp_path: Path) -> None:
    items, extensions, _ = _crawler(tmp_path, "CONCURRENT_ITEMS=50", "TELNETCONSOLE_ENABLED=True")
    assert items == 50 and "TelnetConsole" in extensions


def test_scrapys_reports_are_left_out_at_info_but_not_a_signal_or_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    import logging

    from scrapy.settings import Settings

    from crawler.runner import quiet_boilerplate

    def logged() -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.INFO):
            logging.getLogger("scrapy.crawler").info("Overridden settings:\n%(s)s", {"s": "{}"})
            logging.getLogger("scrapy.crawler").info(
                "Received %(signame)s, shutting down gracefully. Send again to force ",
                {"signame": "SIGTERM"})
            logging.getLogger("scrapy.statscollectors").info("Dumping Scrapy stats:\n%s", "{}")
            logging.getLogger("scrapy.middleware").warning("a component warns")
        return [r.getMessage().split("\n")[0] for r in caplog.records]

    try:
        quiet_boilerplate(Settings({"LOG_LEVEL": "INFO"}))
        assert logged() == ["Received SIGTERM, shutting down gracefully. Send again to force ",
                            "a component warns"]
    finally:
        quiet_boilerplate(Settings({"LOG_LEVEL": "DEBUG"}))  # filters off again
    assert logged() == ["Overridden settings:", "Received SIGTERM, shutting down gracefully. "
                        "Send again to force ", "Dumping Scrapy stats:", "a component warns"]
