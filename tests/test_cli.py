"""The CLI: every command has help; domain errors are messages, never tracebacks."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crawler.cli import cli
from crawler.registry.model import load_registry

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = []
    for name, cmd in group.commands.items():
        out.append((*prefix, name))
        if isinstance(cmd, click.Group):
            out.extend(all_commands(cmd, (*prefix, name)))
    return out


COMMANDS = all_commands(cli)


def test_the_contract_commands_exist() -> None:
    names = {" ".join(c) for c in COMMANDS}
    assert {"init-db", "crawl", "sources", "sources check", "sources list", "retopic",
            "serve", "demo"} <= names


@pytest.mark.parametrize("flag", ["-h", "--help"])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: tuple[str, ...], flag: str) -> None:
    result = CliRunner().invoke(cli, [*command, flag], prog_name="mediawatch")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: mediawatch {' '.join(command)}")
    assert "-h, --help" in result.output
    summary = result.output.split("\n\n")[1].strip()
    assert len(summary) > 15  # the docstring, not an empty help


def test_init_db_creates_and_migrates(tmp_path: Path) -> None:
    db = tmp_path / "sub" / "archive.db"
    result = CliRunner().invoke(cli, ["init-db", "--db", str(db)])
    assert result.exit_code == 0, result.output
    tables = {r[0] for r in sqlite3.connect(db).execute(
        "select name from sqlite_master where type = 'table'")}
    assert {"articles", "pages", "crawl_runs", "sources"} <= tables


def test_sources_check_accepts_the_shipped_registry() -> None:
    result = CliRunner().invoke(cli, ["sources", "check", "--sources", str(ROOT / "sources.toml")])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_sources_list_prints_every_outlet() -> None:
    result = CliRunner().invoke(cli, ["sources", "list", "--json", "--sources",
                                      str(ROOT / "sources.toml")])
    assert result.exit_code == 0, result.output
    listed = [row["id"] for row in json.loads(result.output)]
    registry = load_registry(ROOT / "sources.toml")
    assert listed == [s.id for s in registry.sources] and len(listed) >= 30


BROKEN = """
[topic]
id = "t"
name = "T"
require = [["Armenia*"]]

[[source]]
id = "a"
name = "A"
homepage = "ftp://nowhere"
language = "en"
country = "AM"
kind = "independent"
article_url_pattern = "(unclosed"

[[source]]
id = "a"
name = "A again"
homepage = "https://a.example/"
language = "en"
country = "AM"
kind = "independent"
feed = ["https://a.example/feed"]
download_delay = "2"
"""


def test_crawl_with_a_bad_registry_lists_every_problem_and_records_the_refusal(
        tmp_path: Path) -> None:
    sources = tmp_path / "sources.toml"
    sources.write_text(BROKEN)
    db = tmp_path / "archive.db"
    result = CliRunner().invoke(cli, ["crawl", "--sources", str(sources), "--db", str(db)])
    assert result.exit_code != 0
    # A handled error (click exits with SystemExit), never an uncaught exception.
    assert isinstance(result.exception, SystemExit), result.exception
    out = result.output
    for needle in ("duplicate", "homepage", "article_url_pattern", "feed", "download_delay"):
        assert needle in out, needle
    assert "feeds" in out  # the fix: the closest known key
    row = sqlite3.connect(db).execute(
        "select finish_reason, requests from crawl_runs").fetchone()
    assert row[0].startswith("invalid registry") and row[1] == 0


def test_crawl_with_unknown_outlet_or_bad_setting_is_a_message(tmp_path: Path) -> None:
    args = ["crawl", "--sources", str(ROOT / "sources.toml"), "--db", str(tmp_path / "a.db")]
    result = CliRunner().invoke(cli, [*args, "--source", "no-such-outlet"])
    assert result.exit_code != 0 and "unknown outlet id" in result.output
    result = CliRunner().invoke(cli, [*args, "-s", "NOEQUALS"])
    assert result.exit_code != 0 and "KEY=VALUE" in result.output


def test_unusable_archive_is_a_message(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 1000)
    result = CliRunner().invoke(cli, ["init-db", "--db", str(bad)])
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit), result.exception
    assert "cannot open archive" in result.output


# Commands that read or re-derive an archive. A mistyped --db made most of them create an
# empty archive and report on it: `warc export` wrote an empty WARC and exited 0.
READERS = [["serve"], ["status"], ["publish", "OUT"], ["warc", "export", "--out", "OUT"],
           ["reextract"], ["retopic"], ["reframe"], ["stories"],
           ["fightin", "--lang", "ru", "-a", "kind:x", "-b", "kind:y"], ["watch", "list"],
           ["watch", "remove", "x"]]


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c[:2]))
def test_commands_that_read_an_archive_refuse_a_missing_one(tmp_path: Path,
                                                            command: list[str]) -> None:
    missing = tmp_path / "typo.db"
    args = [str(tmp_path / "out") if a == "OUT" else a for a in command]
    result = CliRunner().invoke(cli, [*args, "--db", str(missing)])
    assert result.exit_code == 1, result.output
    assert f"{missing} does not exist: run `mediawatch crawl` first" in result.output
    assert list(tmp_path.iterdir()) == []  # no archive, no output file
