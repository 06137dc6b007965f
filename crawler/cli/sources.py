"""`mediawatch sources check|list|probe|discover`: the outlet registry."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.cli.options import (
    contact_warning,
    json_option,
    load_registry,
    read_only,
    sources_option,
    table_width,
)
from crawler.cli.registry import discover, probe


@click.group()
def sources() -> None:
    """Check or list the outlet registry (sources.toml)."""


@sources.command("check")
@sources_option
def sources_check(sources: str) -> None:
    """Validate the registry; list every problem with its fix, or say it is valid."""
    registry = load_registry(sources)
    for warning in (*registry.warnings, contact_warning()):
        if warning:
            click.echo(f"warning: {warning}")
    enabled = len(registry.enabled())
    click.echo(f"{sources}: valid: {len(registry.sources)} outlets ({enabled} enabled), "
               f"topic {registry.topic.id!r}")


@sources.command("list")
@sources_option
@click.option("--db", "db", default="archive.db", show_default=True, envvar="MEDIAWATCH_DB",
              type=click.Path(dir_okay=False),
              help="The archive whose probe verdicts to show (read only; may be absent).")
@json_option
def sources_list(sources: str, db: str, as_json: bool) -> None:
    """Print the registry: one outlet per line with its languages, kind, discovery paths and
    the verdict of its last `sources probe --write`."""
    from crawler.archive.probes import probe_verdicts
    from crawler.registry.model import registry_rows

    registry = load_registry(sources)
    probes = probe_verdicts(read_only(db)) if Path(db).exists() else {}
    if as_json:
        rows = registry_rows(registry)
        for row in rows:
            row["probe"] = probes.get(row["id"])
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"{registry.path}: {len(registry.sources)} outlets"))
    for col in ("id", "lang", "cc", "kind", "feeds", "sitemaps", "sections", "urls", "on", "live",
                "probe"):
        table.add_column(col)
    for s in registry.sources:
        probe = probes.get(s.id)
        verdict = "never" if probe is None else \
            f"{'ok' if probe['ok'] else 'FAILED'} {probe['probed_at'][:10]}"
        table.add_row(
            s.id, ",".join(s.language), s.country, s.kind, str(len(s.feeds)),
            str(len(s.sitemaps)), str(len(s.sections)), str(len(s.urls)),
            "yes" if s.enabled else "no", "yes" if s.verified_live else "never", verdict,
        )
    Console(width=table_width()).print(table)


sources.add_command(probe)
sources.add_command(discover)
