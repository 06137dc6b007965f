"""The extractor loads where pages are extracted, not wherever `extract` is imported."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def _loaded_after(code: str) -> set[str]:
    """Which of the extractor's heavy modules a fresh interpreter holds after `code`."""
    probe = (f"{code}\nimport sys\n"
             "print(' '.join(m for m in ('trafilatura', 'htmldate', 'justext', 'extract.article')"
             " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    return set(out.stdout.split())


def test_the_cli_and_the_crawl_process_do_not_load_the_extractor() -> None:
    # Every command imports the CLI; the crawl's main process only downloads and writes
    # (its workers extract): neither pays for trafilatura's import.
    assert _loaded_after("import crawler.cli, crawler.pipelines, crawler.archive.core") == set()


def test_the_public_names_load_it_on_first_use() -> None:
    assert _loaded_after("from extract import extract_article") >= {"trafilatura",
                                                                    "extract.article"}
    assert _loaded_after("import extract; extract.EXTRACTOR_VERSION") >= {"trafilatura"}
    import extract

    assert extract.extract_article(b"<html><body><p>x</p></body></html>").status in {
        "empty", "not_article", "ok"}
    with pytest.raises(AttributeError):
        extract.no_such_name  # noqa: B018
