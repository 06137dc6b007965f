"""`mediawatch retopic`, `reframe`, `stories`, `fightin`: analysis over the archive."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from crawler.cli.options import existing_db_option, load_registry, open_archive, sources_option

if TYPE_CHECKING:
    from crawler.archive.core import WriterLock


def rebuild_stories(db: str, full: bool = True, lock: WriterLock | None = None) -> str:
    """Cluster the archive into stories: everything (full) or what changed since the last build."""
    archive = open_archive(db, lock)
    try:
        if full:
            stories, links = archive.framing.rebuild_stories()
            return f"stories: {stories} stories over {links} articles"
        done = archive.framing.update_stories()
    finally:
        archive.close()
    if not done.full and not done.loaded and not done.dropped:
        return "stories: up to date (nothing stored since the last build)"
    scope = "the whole archive" if done.full else "near what changed"
    return (f"stories: re-clustered {len(done.loaded)} articles ({scope}); {done.stories} "
            f"stories written, {done.dropped} replaced or gone, {done.unchanged} unchanged")


@click.command()
@sources_option
@existing_db_option
def retopic(sources: str, db: str) -> None:
    """Re-apply the registry's [topic] to every archived article, without re-crawling."""
    from crawler.registry.topic import TopicMatcher

    registry = load_registry(sources)
    archive = open_archive(db)
    try:
        changed, total = archive.retopic(TopicMatcher(registry.topic))
    finally:
        archive.close()
    click.echo(f"topic {registry.topic.id!r}: {changed} of {total} articles changed")


@click.command()
@existing_db_option
def reframe(db: str) -> None:
    """Rebuild naming/frame mentions and KWIC lines from the lexicon, then the stories."""
    archive = open_archive(db)
    try:
        articles, rows = archive.framing.reframe()
        version = archive.framing.framing_lexicon().version
    finally:
        archive.close()
    click.echo(f"lexicon {version}: {rows} mention rows over {articles} articles")
    click.echo(rebuild_stories(db))


@click.command()
@existing_db_option
@click.option("--full", is_flag=True,
              help="Re-cluster the whole archive, not only what changed since the last build.")
def stories(db: str, full: bool) -> None:
    """Cluster articles into stories with roles (idempotent; incremental unless --full)."""
    click.echo(rebuild_stories(db, full))


@click.command()
@existing_db_option
@click.option("--lang", required=True, help="One language (stems are compared within it).")
@click.option("-a", "group_a", multiple=True, required=True, metavar="ID|kind:KIND",
              help="Group A: outlet ids or kind:<outlet kind> (repeatable).")
@click.option("-b", "group_b", multiple=True, required=True, metavar="ID|kind:KIND",
              help="Group B, as for -a.")
@click.option("--label-a", default="", help="Display name of group A.")
@click.option("--label-b", default="", help="Display name of group B.")
@click.option("--from", "period_from", metavar="DATE", help="First day or month (inclusive).")
@click.option("--to", "period_to", metavar="DATE", help="Last day or month (inclusive).")
@click.option("--shared-stories", is_flag=True,
              help="Only stories both groups covered (wording, not choice of stories).")
@click.option("--prior-strength", default=1000.0, show_default=True, type=float,
              help="Total pseudo-count of the informative Dirichlet prior.")
@click.option("--min-count", default=3, show_default=True, type=int,
              help="Uses of a term in the group it is distinctive of.")
@click.option("--min-docs", default=2, show_default=True, type=int,
              help="Articles of that group using the term.")
@click.option("--top", default=40, show_default=True, type=int)
def fightin(db: str, lang: str, group_a: tuple[str, ...], group_b: tuple[str, ...],
            label_a: str, label_b: str, period_from: str | None, period_to: str | None,
            shared_stories: bool, prior_strength: float, min_count: int, min_docs: int,
            top: int) -> None:
    """Distinctive vocabulary of A vs B (log-odds, informative Dirichlet prior); store the run."""
    from crawler.clock import utcnow
    from crawler.framing.vocab import RunSpec, run_fightin

    archive = open_archive(db)
    try:
        spec = RunSpec(lang, list(group_a), list(group_b), label_a, label_b, period_from,
                       period_to, shared_stories, prior_strength, min_count, top,
                       archive.framing.framing_lexicon().version, min_docs=min_docs)
        run, terms = run_fightin(archive.db, spec, utcnow())
        if not run["docs_a"] or not run["docs_b"]:
            raise click.ClickException(
                f"nothing to compare: {run['docs_a']} articles in A, {run['docs_b']} in B "
                f"(language {lang!r})")
        run_id = archive.framing.store_fw_run(run, terms)
    finally:
        archive.close()
    click.echo(f"fightin' words run {run_id}: {run['label_a']} ({run['docs_a']} articles) vs "
               f"{run['label_b']} ({run['docs_b']} articles); see /-/framing/vocabulary/{run_id}")
    for t in terms[:10]:
        click.echo(f"  {t['favours']} {t['z']:+7.2f}  {t['surface']}  "
                   f"(A {t['count_a']}, B {t['count_b']})")
