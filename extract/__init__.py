"""Pure extraction library: page bytes in, ArticleResult out (no crawler, CLI or DB imports).

The extractor (trafilatura, htmldate, jusText) loads on first use of a name below, not on
``import extract``: the archive, search and Datasette import ``extract.normalize`` alone, and
every command would otherwise pay a quarter of a second for an extractor it never runs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .article import ArticleResult, extract_article, fingerprint
    from .dates import DateCandidate
    from .decode import decode_html
    from .options import EXTRACTOR_VERSION

_WHERE = {"ArticleResult": ".article", "extract_article": ".article", "fingerprint": ".article",
          "DateCandidate": ".dates", "decode_html": ".decode", "EXTRACTOR_VERSION": ".options"}

__all__ = [
    "EXTRACTOR_VERSION",
    "ArticleResult",
    "DateCandidate",
    "decode_html",
    "extract_article",
    "fingerprint",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first asked for (PEP 562)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value
