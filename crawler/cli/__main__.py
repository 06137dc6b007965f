"""`python -m crawler.cli …` runs the `mediawatch` command."""

from crawler.cli.main import cli

if __name__ == "__main__":
    cli()
