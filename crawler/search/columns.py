"""The index columns: normalised copies of title and text that `articles_fts` indexes.

`SEARCH_VERSION` names the normalisation. Every article row carries the version its
`search_*` columns were built with; when it changes, the archive re-builds the stale rows
(and with them the FTS index) the next time a writer opens it, so old and new rows never
split a query. Bump it whenever `search_columns` output changes (tests/test_search_version.py
fails until you do).
"""

from __future__ import annotations

from extract.normalize import normalize

SEARCH_VERSION = "search 1 / normalize 1"


def search_columns(title: str | None, text: str | None) -> dict[str, str]:
    """The normalised copies of title and text that articles_fts indexes, with their version."""
    return {"search_title": normalize(title or ""), "search_text": normalize(text or ""),
            "search_version": SEARCH_VERSION}
