"""Rows for the framing tables, computed from article rows (pure: crawler.archive.core writes them)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from crawler.framing.lexicon import Lexicon
from crawler.framing.stories import Membership, StoryDoc, StoryParams, cluster
from crawler.web.urls import article_id


def lexicon_rows(lexicon: Lexicon) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The lexicon as published tables, so Datasette readers can see what was counted."""
    concepts = [
        {"id": c.id, "kind": c.kind, "label": c.label, "description": c.description,
         "namings": json.dumps(c.namings, ensure_ascii=False),
         "lexicon_version": lexicon.version}
        for c in lexicon.concepts
    ]
    variants = [
        {"id": v.id, "concept": v.concept, "kind": v.kind, "lang": v.lang, "naming": v.naming,
         "terms": json.dumps(v.terms, ensure_ascii=False),
         "exclude": json.dumps(v.exclude, ensure_ascii=False), "note": v.note}
        for v in lexicon.variants()
    ]
    return concepts, variants


def story_tables(
    articles: Iterable[dict[str, Any]],
    concepts_of: dict[str, set[str]],
    lexicon: Lexicon,
    params: StoryParams,
    built_at: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """`stories` and `story_articles` rows for a batch of article rows.

    Article rows need id, source_id, lang, published, title, text, on_topic and
    republication_of (the canonical URL on another outlet, resolved here to an archived id).
    """
    rows = {a["id"]: a for a in articles}
    docs = []
    for a in rows.values():
        target = article_id(a["republication_of"]) if a.get("republication_of") else None
        docs.append(StoryDoc(
            a["id"], a["source_id"], a.get("lang") or "", a.get("published"),
            a.get("title") or "", a.get("text") or "",
            republication_of=target if target in rows else None,
        ))
    members = cluster(docs, lexicon, params)
    by_story: dict[str, list[Membership]] = {}
    for m in members:
        by_story.setdefault(m.story_id, []).append(m)
    stories = []
    for sid, mem in by_story.items():
        arts = [rows[m.article_id] for m in mem]
        independent = [rows[m.article_id] for m in mem if m.role in ("original", "report")]
        dated = sorted(a["published"] for a in arts if a.get("published"))
        stories.append({
            "id": sid,
            "headline": (independent or arts)[0].get("title"),
            "first_published": dated[0] if dated else None,
            "last_published": dated[-1] if dated else None,
            "n_articles": len(arts),
            "n_independent": len(independent),
            "n_outlets": len({a["source_id"] for a in arts}),
            "languages": ",".join(sorted({a.get("lang") or "?" for a in arts})),
            "outlets": ",".join(sorted({a["source_id"] for a in arts})),
            "concepts": ",".join(sorted(set().union(*(concepts_of.get(a["id"], set())
                                                        for a in arts)))),
            "on_topic": int(any(a.get("on_topic") for a in arts)),
            "built_at": built_at,
        })
    links = [asdict(m) for m in members]
    return stories, links


@dataclass
class StoryUpdate:
    """What one story build did: articles re-clustered and story rows replaced."""

    full: bool  # the whole archive was re-clustered
    loaded: list[str] = field(default_factory=list)  # ids whose text was read and clustered
    stories: int = 0  # stories written (new or changed)
    links: int = 0  # story_articles rows written
    dropped: int = 0  # stories deleted (changed or gone)
    unchanged: int = 0  # re-clustered stories whose rows were already right: left as they were


def story_key(story: dict[str, Any], links: Iterable[dict[str, Any]],
              scores: bool = True) -> tuple[Any, ...]:
    """A story's rows minus built_at, to tell whether a re-clustered story changed at all.

    Without `scores`: a partial re-clustering weighs words over fewer articles (TF-IDF), so
    its similarity scores drift while the story, its members and their roles stay the same.
    """
    row = tuple(story.get(c) for c in STORY_COLUMNS)
    return row, tuple(sorted((m["article_id"], m["role"], m["copy_of"],
                              m["score"] if scores else None) for m in links))


STORY_COLUMNS = ("headline", "first_published", "last_published", "n_articles",
                 "n_independent", "n_outlets", "languages", "outlets", "concepts", "on_topic")
