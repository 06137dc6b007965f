"""Datasette plugin: the `settings:` block of metadata.yaml, applied at startup.

Datasette 0.65 reads settings only from `--setting` (or a configuration directory), while
`mediawatch serve` passes a fixed few; the settings that keep large archives fast
(suggested facets off: on a million articles they run a query per column on every table
page) live in metadata.yaml with the rest of the publishing configuration. A value given on
the command line wins: only settings still at Datasette's default are changed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from datasette.app import DEFAULT_SETTINGS

from datasette import hookimpl

METADATA = Path(__file__).resolve().parents[1] / "metadata.yaml"


@lru_cache(maxsize=1)
def metadata_settings() -> dict[str, Any]:
    """The `settings:` mapping of metadata.yaml (empty when there is none)."""
    data = yaml.safe_load(METADATA.read_text(encoding="utf-8")) or {}
    settings = data.get("settings") or {}
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"{METADATA}: unknown Datasette settings {sorted(unknown)}")
    return dict(settings)


@hookimpl
def startup(datasette: Any) -> None:
    """Apply metadata.yaml's settings where the command line left the default."""
    for key, value in metadata_settings().items():
        if datasette.setting(key) == DEFAULT_SETTINGS[key]:
            # Datasette 0.65 has no public setter; the dict is what --setting fills.
            datasette._settings[key] = value
