"""docs/cli.md, generated from the commands' own help: `python -m crawler.cli.reference`.

The help text is the documentation (each command's docstring and options), so the reference
cannot say something the command does not; tests/test_cli_reference.py fails when the
committed file differs from what this prints.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import click

WIDTH = 100  # fixed, so the file does not depend on the terminal that generated it

HEADER = """# Command reference

Generated from `mediawatch --help` and each command's help by `make docs-cli`
(`python -m crawler.cli.reference > docs/cli.md`); do not edit by hand.
Every command also takes `-h`.
"""


def _walk(command: click.Command, path: list[str],
          parent: click.Context | None) -> Iterator[tuple[list[str], click.Context]]:
    settings = {"terminal_width": WIDTH, "max_content_width": WIDTH, **command.context_settings}
    ctx = click.Context(command, info_name=path[-1], parent=parent, **settings)
    yield path, ctx
    if isinstance(command, click.Group):
        for name in sorted(command.list_commands(ctx)):
            sub = command.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, [*path, name], ctx)


def render(group: click.Command) -> str:
    """The whole reference as Markdown: one section per command, its help verbatim."""
    parts = [HEADER]
    for path, ctx in _walk(group, ["mediawatch"], None):
        title = " ".join(path)
        depth = "##" if len(path) <= 2 else "###"
        parts.append(f"{depth} `{title}`\n\n```text\n{ctx.command.get_help(ctx).rstrip()}\n```\n")
    return "\n".join(parts)


def main() -> None:
    """Print the reference for the installed `mediawatch` group."""
    from crawler.cli.main import cli

    sys.stdout.write(render(cli))


if __name__ == "__main__":
    main()
