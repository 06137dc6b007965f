"""The single trafilatura configuration used by every extraction.

Built once at import. Per-page values (the URL) go on a shallow copy so that the shared object
is never mutated, which keeps extraction safe to run from threads or a process pool.
"""

from __future__ import annotations

import copy

import trafilatura
from trafilatura.settings import Extractor

# No max_date here: trafilatura would freeze "today" at import time and a long-running crawler
# would then reject every article published after start-up. htmldate uses the call time instead.
DATE_PARAMS: dict[str, bool] = {"original_date": True, "extensive_search": True}

OPTIONS = Extractor(
    output_format="python",
    comments=False,
    tables=True,
    formatting=False,
    links=False,
    images=False,
    # Metadata comes from extract.trafmeta, which runs htmldate only when needed.
    with_metadata=False,
)

EXTRACTOR_VERSION = f"mediawatch-extract 10 / trafilatura {trafilatura.__version__}"


def options_for(url: str | None) -> Extractor:
    """Return the shared options with this page's URL set (a copy; the original stays intact)."""
    opts = copy.copy(OPTIONS)
    opts.url = url
    opts.source = url
    return opts
