"""An item pipeline that raises on chosen pages: a bug or a broken disk in one pipeline."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def importable_env() -> dict[str, str]:
    """Environment for a `mediawatch` subprocess that must import these pipelines
    (-s ITEM_PIPELINES='{"helpers.failing_pipeline.FailOn": 200, ...}')."""
    tests = str(Path(__file__).resolve().parents[1])
    return {"PYTHONPATH": os.pathsep.join([tests, os.environ.get("PYTHONPATH", "")])}


class FailOn:
    """Raise on article pages whose URL contains the setting's marker (before extraction)."""

    marker_setting = "TEST_FAIL_BEFORE"

    def __init__(self, marker: str) -> None:
        self.marker = marker

    @classmethod
    def from_crawler(cls, crawler: Any) -> FailOn:
        """The marker comes from the settings, like any component's configuration."""
        return cls(crawler.settings.get(cls.marker_setting, "") or "\0")

    def process_item(self, item: Any, spider: Any = None) -> Any:
        """Raise for the chosen URLs; pass everything else on."""
        if self.marker in getattr(item, "url", ""):
            raise RuntimeError(f"boom in {type(self).__name__}")
        return item


class FailAfter(FailOn):
    """The same, placed after extraction and before the archive."""

    marker_setting = "TEST_FAIL_AFTER"


class FailLast(FailOn):
    """The same, placed after the archive (a user's own export pipeline, say)."""

    marker_setting = "TEST_FAIL_LAST"
