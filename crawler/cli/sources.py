"""`mediawatch sources check|list`: the outlet registry."""

from __future__ import annotations

import json

import click

from crawler.cli.options import json_option, load_registry, sources_option


@click.group()
def sources() -> None:
    """Check or list the outlet registry (sources.toml)."""


@sources.command("check")
@sources_option
def sources_check(sources: str) -> None:
    """Validate the registry; list every problem with its fix, or say it is valid."""
    registry = load_registry(sources)
    for warning in registry.warnings:
        click.echo(f"warning: {warning}")
    enabled = len(registry.enabled())
    click.echo(f"{sources}: valid: {len(registry.sources)} outlets ({enabled} enabled), "
               f"topic {registry.topic.id!r}")


@sources.command("list")
@sources_option
@json_option
def sources_list(sources: str, as_json: bool) -> None:
    """Print the registry: one outlet per line with its languages, kind and discovery paths."""
    from crawler.registry.model import registry_rows

    registry = load_registry(sources)
    if as_json:
        click.echo(json.dumps(registry_rows(registry), ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{registry.path}: {len(registry.sources)} outlets")
    for col in ("id", "lang", "cc", "kind", "feeds", "sitemaps", "sections", "urls", "on", "live"):
        table.add_column(col)
    for s in registry.sources:
        table.add_row(
            s.id, ",".join(s.language), s.country, s.kind, str(len(s.feeds)),
            str(len(s.sitemaps)), str(len(s.sections)), str(len(s.urls)),
            "yes" if s.enabled else "no", "yes" if s.verified_live else "never",
        )
    Console().print(table)
