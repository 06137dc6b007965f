"""The `mediawatch` command line: a click group (main.py) and one module per command family."""

from crawler.cli.main import cli

__all__ = ["cli"]
