"""The copies development set (../shared/devsets/copies) and its fixed tune / held-out split.

The split was made before any threshold was tuned and never changes: whole connected
components (pages joined by a shared `group` or by a listed pair) go to one side, so no
labelled pair and no cluster straddles the halves. Components are sorted into three strata
(has a translation cluster, has a republication cluster, same-event reports only), ordered
within a stratum by the SHA-1 of their group names, and dealt alternately to `tune` and
`held`. Thresholds are chosen on `tune` only; `held` is what the figures are judged on.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DEVSETS = ROOT.parent / "shared" / "devsets"
HOW_TO_GET = ("the copies development set (real republications, translations and same-event "
              "reports, en/ru/hy) lives in ../shared/devsets/copies; pass --devsets PATH or set "
              "MEDIAWATCH_DEVSETS to a folder holding copies/copies.json")


@dataclass(frozen=True)
class Page:
    """One devset page."""

    key: str
    url: str
    outlet: str
    lang: str
    title: str | None
    published: str | None
    text: str
    group: str
    role: str


@dataclass(frozen=True)
class Pair:
    """One labelled pair: republication, translation or same-event-different-text."""

    a: str
    b: str
    label: str
    note: str = ""


def devsets_dir(arg: str | None = None) -> Path:
    """Where the development sets are: --devsets, MEDIAWATCH_DEVSETS, or ../shared/devsets."""
    return Path(arg or os.environ.get("MEDIAWATCH_DEVSETS") or DEFAULT_DEVSETS)


def load(devsets: Path) -> tuple[dict[str, Page], list[Pair]] | None:
    """The pages and pairs of copies/copies.json, or None when it is not there."""
    path = devsets / "copies" / "copies.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    pages = {p["key"]: Page(p["key"], p["url"], p["outlet"], p["lang"], p.get("title"),
                            p.get("published"), p["text"], p["group"], p["role"])
             for p in data["pages"]}
    pairs = [Pair(p["a"], p["b"], p["label"], p.get("note", "")) for p in data["pairs"]]
    return pages, pairs


def components(pages: dict[str, Page], pairs: list[Pair]) -> list[list[str]]:
    """Pages joined by a shared group or a listed pair, each component sorted."""
    parent = {k: k for k in pages}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    first: dict[str, str] = {}
    for key, page in sorted(pages.items()):
        parent[find(key)] = find(first.setdefault(page.group, key))
    for pair in pairs:
        parent[find(pair.a)] = find(pair.b)
    out: dict[str, list[str]] = {}
    for key in sorted(pages):
        out.setdefault(find(key), []).append(key)
    return sorted(out.values())


def split(pages: dict[str, Page], pairs: list[Pair]) -> dict[str, set[str]]:
    """{'tune': page keys, 'held': page keys}: whole components, dealt by stratum."""
    strata: dict[str, list[tuple[str, list[str]]]] = {"tr": [], "rep": [], "ev": []}
    for comp in components(pages, pairs):
        groups = sorted({pages[k].group for k in comp})
        name = "+".join(groups)
        kind = ("tr" if any(g.startswith("tr_") for g in groups)
                else "rep" if any(g.startswith("rep_") for g in groups) else "ev")
        strata[kind].append((hashlib.sha1(name.encode()).hexdigest(), comp))
    halves: dict[str, set[str]] = {"tune": set(), "held": set()}
    turn = 0
    for kind in ("tr", "rep", "ev"):
        for _, comp in sorted(strata[kind]):
            halves["tune" if turn % 2 == 0 else "held"].update(comp)
            turn += 1
    return halves
