"""`mediawatch watch add|list|remove`: saved searches that notify after each crawl."""

from __future__ import annotations

import json

import click

from crawler.cli.options import (
    db_option,
    existing_db_option,
    json_option,
    open_archive,
    source_ids_option,
)


@click.group()
def watch() -> None:
    """Saved searches: their new matches go to the alert channels after every crawl, and each
    has an Atom feed at /-/watch/NAME.atom on `mediawatch serve`."""


@watch.command("add")
@db_option
@click.argument("name")
@click.argument("query")
@click.option("--lang", "langs", multiple=True, metavar="xx",
              help="Only articles in this language (repeatable).")
@source_ids_option("Only this outlet's articles")
@click.option("--literal", is_flag=True, help="Search literally: no aliases, no word endings.")
@click.option("--on-topic", is_flag=True, help="Only articles on the registry's topic.")
@click.option("--replace", is_flag=True, help="Replace a saved search of the same name.")
def watch_add(db: str, name: str, query: str, langs: tuple[str, ...],
              source_ids: tuple[str, ...],
              literal: bool, on_topic: bool, replace: bool) -> None:
    """Save QUERY as NAME (expanded across en/ru/hy like /search). Only articles archived
    from now on are notified; the feed shows the newest matches of the whole archive."""
    from crawler.archive.watches import Watch, WatchError
    from crawler.clock import utcnow
    from crawler.ops.watch import expression

    try:
        spec = Watch(name, query.strip(), literal, tuple(dict.fromkeys(langs)),
                     tuple(dict.fromkeys(source_ids)), on_topic)
        expression(spec)
    except WatchError as exc:
        raise click.ClickException(str(exc)) from exc
    archive = open_archive(db)
    try:
        known = {r[0] for r in archive.db.execute("SELECT id FROM sources")}
        unknown = [s for s in spec.sources if s not in known]
        if unknown:
            raise click.ClickException(
                f"unknown outlet(s) {', '.join(unknown)}; the archive has: "
                f"{', '.join(sorted(known)) or 'none yet (crawl first)'}")
        try:
            archive.watches.add(spec, utcnow(), replace=replace)
        except WatchError as exc:
            raise click.ClickException(str(exc)) from exc
    finally:
        archive.close()
    click.echo(f"saved {name!r}: {query!r}; new matches are notified after each crawl; "
               f"feed: /-/watch/{name}.atom")


@watch.command("list")
@existing_db_option
@json_option
def watch_list(db: str, as_json: bool) -> None:
    """Every saved search with its filters and how many matches it has notified."""
    archive = open_archive(db)
    try:
        rows = archive.watches.all()
    finally:
        archive.close()
    if not rows:
        click.echo("no saved searches: `mediawatch watch add NAME \"QUERY\"` adds one")
        return
    for w, info in rows:
        if as_json:
            click.echo(json.dumps({"name": w.name, "query": w.query, "literal": w.literal,
                                   "lang": list(w.langs), "source": list(w.sources),
                                   "on_topic": w.on_topic, "created_at": info["created_at"],
                                   "checked_at": info["checked_at"], "notified": info["hits"],
                                   "feed": f"/-/watch/{w.name}.atom"}, ensure_ascii=False))
            continue
        filters = [f"lang={','.join(w.langs)}"] * bool(w.langs) + [
            f"source={','.join(w.sources)}"] * bool(w.sources) + ["literal"] * w.literal + [
            "on topic"] * w.on_topic
        click.echo(f"{w.name}\t{w.query!r}{' [' + '; '.join(filters) + ']' if filters else ''}"
                   f"\tsaved {info['created_at']}\tlast checked {info['checked_at'] or 'never'}"
                   f"\t{info['hits']} notified\t/-/watch/{w.name}.atom")


@watch.command("remove")
@existing_db_option
@click.argument("name")
def watch_remove(db: str, name: str) -> None:
    """Forget the saved search NAME and what it has notified."""
    archive = open_archive(db)
    try:
        removed = archive.watches.remove(name)
    finally:
        archive.close()
    if not removed:
        raise click.ClickException(f"no saved search named {name!r} (`mediawatch watch list`)")
    click.echo(f"removed {name!r}")
