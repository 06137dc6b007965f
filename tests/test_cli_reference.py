"""docs/cli.md is generated from the commands' help and cannot drift."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from crawler.cli import cli
from crawler.cli.reference import render

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.unit


def _paths(group: click.Group, prefix: list[str]) -> list[list[str]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append([*prefix, name])
        if isinstance(command, click.Group):
            found += _paths(command, [*prefix, name])
    return found


def test_committed_cli_reference_is_current() -> None:
    committed = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == render(cli), \
        "docs/cli.md is stale: run `make docs-cli` and commit the result"


def test_reference_names_every_command() -> None:
    text = render(cli)
    for path in _paths(cli, []):
        assert f"`mediawatch {' '.join(path)}`" in text
