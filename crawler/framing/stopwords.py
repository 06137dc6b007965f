"""Stop words per language, from the reviewed file stopwords.toml (sources and licences there)."""

from __future__ import annotations

import hashlib
import tomllib
from functools import cache
from pathlib import Path

STOPWORDS_PATH = Path(__file__).with_name("stopwords.toml")


@cache
def _table() -> dict[str, dict[str, frozenset[str]]]:
    data = tomllib.loads(STOPWORDS_PATH.read_text(encoding="utf-8"))
    return {lang: {part: frozenset(entry.get(part, "").split())
                   for part in ("function", "reporting")}
            for lang, entry in data.items()}


def stopwords(lang: str) -> frozenset[str]:
    """Function words and neutral reporting verbs of a language (empty for others)."""
    entry = _table().get(lang)
    return entry["function"] | entry["reporting"] if entry else frozenset()


def function_words(lang: str) -> frozenset[str]:
    """Only the closed-class words of a language (what similarity must never count)."""
    entry = _table().get(lang)
    return entry["function"] if entry else frozenset()


def stopwords_version() -> str:
    """A short hash of the file, stored with every vocabulary run."""
    return hashlib.sha256(STOPWORDS_PATH.read_bytes()).hexdigest()[:12]
