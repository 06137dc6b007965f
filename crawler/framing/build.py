"""Rows for the framing tables, computed from clustering results (pure: the archive writes them)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crawler.framing.lexicon import Lexicon
from crawler.framing.stories import Membership

INDEPENDENT = ("original", "report")  # roles that count as a story's own reporting
STORY_COLUMNS = ("headline", "first_published", "last_published", "n_articles",
                 "n_independent", "n_outlets", "languages", "outlets", "concepts", "on_topic")


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


def link_row(m: Membership) -> dict[str, Any]:
    """One `story_articles` row, with the evidence of a copy decision (migration 0009)."""
    row: dict[str, Any] = {"story_id": m.story_id, "article_id": m.article_id, "role": m.role,
                           "copy_of": m.copy_of, "score": m.score}
    e = m.evidence
    row.update({
        "copy_basis": e.basis if e else None,
        "containment": e.containment if e and e.basis != "canonical" else None,
        "containment_other": e.containment_other if e and e.basis != "canonical" else None,
        "shared_shingles": e.shared if e and e.basis != "canonical" else None,
        "aligned": e.aligned if e and e.basis == "aligned" else None,
        "coverage": e.coverage if e and e.basis == "aligned" else None,
        "align_order": e.order if e and e.basis == "aligned" else None,
        "anchors": json.dumps(list(e.matched), ensure_ascii=False) if e and e.matched else None,
        "canonical_url": e.canonical_url if e else None,
    })
    return row


def story_row(sid: str, members: list[dict[str, Any]], concepts: Iterable[str],
              built_at: str, code_version: str) -> dict[str, Any]:
    """One `stories` row from its members in clustering order (role, source, lang, dates...)."""
    independent = [a for a in members if a["role"] in INDEPENDENT]
    dated = sorted(a["published"] for a in members if a.get("published"))
    return {
        "id": sid,
        "headline": (independent or members)[0].get("title"),
        "first_published": dated[0] if dated else None,
        "last_published": dated[-1] if dated else None,
        "n_articles": len(members),
        "n_independent": len(independent),
        "n_outlets": len({a["source_id"] for a in members}),
        "languages": ",".join(sorted({a.get("lang") or "?" for a in members})),
        "outlets": ",".join(sorted({a["source_id"] for a in members})),
        "concepts": ",".join(sorted(set(concepts))),
        "on_topic": int(any(a.get("on_topic") for a in members)),
        "built_at": built_at,
        "code_version": code_version,
    }


@dataclass
class StoryUpdate:
    """What one story build did: articles re-clustered and story rows replaced."""

    full: bool  # the whole archive was re-clustered
    loaded: list[str] = field(default_factory=list)  # ids whose text was read and clustered
    stories: int = 0  # stories written (new or changed)
    links: int = 0  # story_articles rows written
    dropped: int = 0  # stories deleted (changed or gone)
    unchanged: int = 0  # re-clustered stories whose rows were already right: left as they were
