"""Ground truth about the fixture web: which articles exist and which hazards it plants."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from demoweb.server import FixtureWeb


@dataclass(frozen=True)
class ExpectedArticle:
    """An article as a correct crawler should archive it in a given epoch."""

    outlet: str
    url: str
    title: str
    lead: str
    language: str
    author: str
    published: datetime
    modified: datetime
    on_topic: bool
    status: int
    encoding: str


@dataclass(frozen=True)
class Hazard:
    """A planted trap: its name (e.g. "robots-disallowed"), absolute URL and a note."""

    outlet: str
    name: str
    url: str
    note: str


def expected_articles(
    web: FixtureWeb, epoch: int | None = None, include_hazards: bool = False
) -> list[ExpectedArticle]:
    """Every article file of every outlet (including removed ones, with their status).

    Hostile outlets are not in the default registry, so their articles are only expected
    with `include_hazards=True`.
    """
    epoch = web.epoch if epoch is None else epoch
    out = []
    for oid, site in web.sites.items():
        if site.outlet.conf.get("hostile", False) and not include_hazards:
            continue
        base = web.base_urls.get(oid, "")
        for art in site.outlet.articles:
            v = art.version(epoch)
            out.append(
                ExpectedArticle(
                    outlet=oid,
                    url=base + art.path,
                    title=v.title,
                    lead=v.lead,
                    language=str(art.meta.get("lang", site.outlet.language)),
                    author=str(art.meta["author"]),
                    published=art.date,
                    modified=v.modified,
                    on_topic=art.on_topic,
                    status=v.status,
                    encoding=str(art.meta.get("encoding", "utf-8")),
                )
            )
    return out


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every dict (at any depth) that carries a `hazard` key."""
    if isinstance(node, dict):
        if isinstance(node.get("hazard"), str) and ("path" in node or "href" in node):
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def hazards(web: FixtureWeb) -> list[Hazard]:
    """Hazards declared in site.toml files and article front matter (`hazard = "..."`)."""
    out = []
    for oid, site in web.sites.items():
        base = web.base_urls.get(oid, "")
        found = list(_walk(site.outlet.conf))
        for art in site.outlet.articles:
            if isinstance(art.meta.get("hazard"), str):
                found.append({**art.meta, "path": art.path})
            found += list(_walk([v for k, v in art.meta.items() if k != "hazard"]))
        for spec in found:
            where = str(spec.get("path", spec.get("href", "")))
            url = base + where if where.startswith("/") else where
            out.append(Hazard(oid, str(spec["hazard"]), url, str(spec.get("note", ""))))
    return out
