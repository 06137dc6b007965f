"""Options and helpers shared by every `mediawatch` command (defined once, used everywhere)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from crawler.archive.core import Archive, WriterLock
    from crawler.registry.model import Registry

F = TypeVar("F", bound=Callable[..., Any])

# -h works everywhere: child contexts inherit the help option names from the group.
CONTEXT_SETTINGS: dict[str, Any] = {"help_option_names": ["-h", "--help"]}

db_option = click.option(
    "--db", "db", default="archive.db", show_default=True, envvar="MEDIAWATCH_DB",
    type=click.Path(dir_okay=False), help="The archive (created and migrated if missing).",
)


def _existing(ctx: click.Context, param: click.Parameter, value: str) -> str:
    if not ctx.resilient_parsing and not Path(value).exists():
        raise click.ClickException(f"{value} does not exist: run `mediawatch crawl` first, or "
                                   "`mediawatch demo` for an offline example")
    return value


# For commands that read or re-derive an archive: a mistyped path is an error, never a new
# empty archive (`warc export` of one wrote an empty WARC file and said nothing was wrong).
existing_db_option = click.option(
    "--db", "db", default="archive.db", show_default=True, envvar="MEDIAWATCH_DB",
    type=click.Path(dir_okay=False), callback=_existing,
    help="The archive (an existing one: a missing file is an error, not a new archive).",
)
sources_option = click.option(
    "--sources", "sources", default="sources.toml", show_default=True,
    envvar="MEDIAWATCH_SOURCES", type=click.Path(dir_okay=False), help="The outlet registry.",
)
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print JSON instead of a table.")


def source_ids_option(what: str = "Only this outlet") -> Callable[[F], F]:
    """--source ID (repeatable): narrow a command to some outlets of the registry."""
    return click.option("--source", "source_ids", multiple=True, metavar="ID",
                        help=f"{what} (an id from sources.toml; repeatable). "
                             "Default: every enabled outlet.")


def overrides_option(example: str = "-s DOWNLOAD_TIMEOUT=10") -> Callable[[F], F]:
    """-s KEY=VALUE (repeatable): override a Scrapy or MEDIAWATCH_* setting for this run."""
    return click.option("-s", "overrides", multiple=True, metavar="KEY=VALUE",
                        help=f"Override a setting, e.g. {example} (repeatable).")


def alert_options(func: F) -> F:
    """--alerts-jsonl and --alert-webhook (also from MEDIAWATCH_ALERTS_JSONL / _ALERT_WEBHOOK)."""
    func = click.option("--alert-webhook", "alert_webhook", envvar="MEDIAWATCH_ALERT_WEBHOOK",
                        metavar="URL", help="POST every alert raised or cleared here as JSON "
                        "(default: [alerts] webhook in the registry).")(func)
    return click.option("--alerts-jsonl", "alerts_jsonl", envvar="MEDIAWATCH_ALERTS_JSONL",
                        type=click.Path(dir_okay=False), help="Append alert events to this "
                        "JSON lines file (default: <archive>-alerts.jsonl).")(func)


def lexicon_path() -> str | None:
    """The framing lexicon chosen by MEDIAWATCH_LEXICON (None: the bundled one)."""
    return os.environ.get("MEDIAWATCH_LEXICON") or None


def load_registry(path: str) -> Registry:
    """The registry at `path`, or a click error listing every problem with its fix."""
    from crawler.registry.model import RegistryError
    from crawler.registry.model import load_registry as load

    try:
        return load(path)
    except RegistryError as exc:
        raise click.ClickException(str(exc)) from exc


def open_archive(db: str, lock: WriterLock | None = None) -> Archive:
    """The archive at `db` (created and migrated if needed), or a click error saying why not."""
    from crawler.archive.core import Archive, ArchiveError

    try:
        return Archive(db, lexicon_path=lexicon_path(), lock=lock or True)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc


@contextmanager
def writer_lock_for_scrapy(db: str, settings: Any) -> Iterator[WriterLock]:
    """Hold the archive's writer lock for a whole command that runs Scrapy on it: taken (and
    the archive opened once, to fail fast on an unusable file) here, handed to Scrapy's
    pipeline through the settings, released at the end; a click error names its holder."""
    from crawler.archive.core import ArchiveError, WriterLock

    try:
        lock = WriterLock(db)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        open_archive(db, lock).close()
        settings.set("MEDIAWATCH_WRITER_LOCK_HELD", True, priority="cmdline")
        yield lock
    finally:
        lock.release()


def contact_pairs(pairs: dict[str, str]) -> dict[str, str]:
    """Add the operator's User-Agent contact from MEDIAWATCH_CONTACT unless -s set it."""
    contact = os.environ.get("MEDIAWATCH_CONTACT", "").strip()
    if contact:
        pairs.setdefault("MEDIAWATCH_CONTACT", contact)
    return pairs


def contact_warning(contact: str | None = None) -> str | None:
    """A warning while the User-Agent still carries the project's placeholder contact
    (`contact`: the one a command was given, else MEDIAWATCH_CONTACT's)."""
    from crawler.settings import CONTACT_PLACEHOLDER

    if contact is None:
        contact = os.environ.get("MEDIAWATCH_CONTACT", "")
    contact = contact.strip()
    if contact and contact != CONTACT_PLACEHOLDER:
        return None
    return ("the User-Agent names the placeholder contact " + CONTACT_PLACEHOLDER + ", not "
            "yours: site operators must be able to reach whoever runs the crawler — set "
            "MEDIAWATCH_CONTACT=https://your-site/contact (or mailto:you@example.org) in the "
            "crawler's environment, or pass -s MEDIAWATCH_CONTACT=... to crawl")


def restarts_note(n: int) -> str:
    """A bulk command's summary note on extraction workers that died (their pages are
    listed as failed); nothing when none did."""
    return f"; extraction workers died and were restarted {n} times (see the log)" if n else ""


def read_only(db: str) -> Any:
    """The archive opened read-only (never created, never migrated)."""
    import sqlite3

    import sqlite_utils

    return sqlite_utils.Database(sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True))


def table_width() -> int | None:
    """Width for a rich table: the terminal's, else 200, so that pipes, cron mail and logs do
    not get every cell folded at 80 columns (rich's default, and often an inherited $COLUMNS)."""
    return None if sys.stdout.isatty() else 200


def warn_before_live_contact(pairs: dict[str, str], urls: Iterable[str]) -> None:
    """Before a command contacts outlets that are not on this machine, say so on stderr if
    the User-Agent still names the placeholder contact (`sources check` alone said it)."""
    from crawler.web.urls import is_loopback

    warning = contact_warning(pairs.get("MEDIAWATCH_CONTACT", ""))
    if warning and not all(is_loopback(u) for u in urls):
        click.echo(f"warning: {warning}", err=True)
