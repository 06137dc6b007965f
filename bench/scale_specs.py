"""What the search-at-scale archives contain: the recipe for generated articles.

Articles come in *events* over ten years (2016-2025, volume growing with time): most events
are one article, topical ones are covered by up to six outlets, with wire republications
(same text, canonical link to the original outlet) and translations (another language).
Outlets, languages, licences and kinds are the real registry's (sources.toml, ~30 outlets in
en/ru/hy, bigger and smaller ones). Texts are 3-90 sentences (median 14) from
bench/scale_corpus.py's pools: topical articles mostly fixture sentences that name the
lexicon's concepts, the rest mostly filler. 1.5 % of article pages extract empty and 1 % are
not articles. Everything is seeded per chunk of CHUNK articles, so chunks can be generated
in parallel and give the same archive every time.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from functools import cached_property

from scale_corpus import LANGS, Piece, Pools

from crawler.registry.model import Registry, Source
from crawler.web.urls import article_id, clean_url

CHUNK = 2000
START = datetime(2016, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 1, tzinfo=UTC)
P_TOPICAL = 0.15  # events about the topic (the rest is everything else an outlet publishes)
P_EMPTY, P_NOT_ARTICLE = 0.015, 0.01
_TZ = {"AM": 4, "RU": 3}  # outlet country -> UTC offset of its datelines (others: +00:00)
_DATE_SOURCES = ("json-ld", "json-ld", "meta:article:published_time", "dateline", "htmldate")


@dataclass
class Spec:
    """One generated article page: what extraction would have returned, and its story."""

    source: Source
    lang: str
    url: str
    fetched_at: str
    status: str = "ok"  # ok | empty | not_article
    title: Piece | None = None
    paragraphs: list[list[Piece]] = field(default_factory=list)
    published: str | None = None
    published_source: str | None = None
    modified: str | None = None
    author: str | None = None
    description: str | None = None
    canonical_url: str | None = None
    republication_of: str | None = None
    discovered_via: str = "feed"
    discovered_from: str | None = None
    candidates: list[tuple[str, str, str]] = field(default_factory=list)
    story: str | None = None  # story key: the first member's URL
    role: str = "report"
    copy_of: str | None = None  # URL of the original, for copies
    score: float = 0.0

    @cached_property
    def id(self) -> str:
        """The article id the real path derives from this URL."""
        return article_id(clean_url(self.url))

    @property
    def text(self) -> str:
        """The extracted text: sentences joined by spaces, paragraphs by newlines."""
        return "\n".join(" ".join(p.text for p in para) for para in self.paragraphs)


class Recipe:
    """Deterministic article specs, chunk by chunk, for an archive of `size` articles."""

    def __init__(self, size: int, pools: Pools, registry: Registry, seed: int = 8) -> None:
        self.size, self.pools, self.seed = size, pools, seed
        self.sources = list(registry.sources)
        rng = random.Random(seed)
        weights = [1 / (rank + 1) ** 0.8 for rank in range(len(self.sources))]
        rng.shuffle(weights)  # which outlet is big does not follow registry order
        self.weights = weights
        self.authors = {s.id: [_name(rng, s.language[0] if s.language[0] in LANGS else "en")
                               for _ in range(25)] for s in self.sources}

    @property
    def chunks(self) -> int:
        """How many chunks make the archive."""
        return math.ceil(self.size / CHUNK)

    def _when(self, fraction: float) -> datetime:
        # Volume grows over the decade: more articles per day in later years.
        return START + (END - START) * fraction ** 0.75

    def chunk(self, index: int) -> list[Spec]:
        """The specs of one chunk, in the order a crawl would have stored them."""
        rng = random.Random(f"{self.seed}:{index}")
        n = min(CHUNK, self.size - index * CHUNK)
        t0, t1 = self._when(index / self.chunks), self._when((index + 1) / self.chunks)
        specs: list[Spec] = []
        while len(specs) < n:
            specs.extend(self._event(rng, t0 + (t1 - t0) * rng.random(), f"{index}-{len(specs)}"))
        specs = specs[:n]
        _assign_roles(specs)
        specs.sort(key=lambda s: (s.fetched_at, s.url))
        return specs

    def _outlet(self, rng: random.Random, lang: str | None = None,
                avoid: str | None = None) -> tuple[Source, str]:
        while True:
            source = rng.choices(self.sources, weights=self.weights)[0]
            langs = [x for x in source.language if x in LANGS] or ["en"]
            pick = langs[0] if rng.random() < 0.7 or len(langs) == 1 else rng.choice(langs[1:])
            if lang is not None:
                if lang not in langs:
                    continue
                pick = lang
            if source.id != avoid:
                return source, pick

    def _event(self, rng: random.Random, when: datetime, key: str) -> list[Spec]:
        topical = rng.random() < P_TOPICAL
        n = min(6, 1 + int(rng.expovariate(1 / 1.6))) if topical else (
            1 if rng.random() < 0.9 else 2)
        source, lang = self._outlet(rng)
        first = self._article(rng, source, lang, when, topical, f"{key}-0")
        members = [first]
        for k in range(1, n):
            later = when + timedelta(hours=rng.uniform(1, 72))
            r = rng.random()
            if r < 0.2 and first.status == "ok":  # a wire or syndicated reprint
                other, _ = self._outlet(rng, lang, avoid=source.id)
                copy = self._article(rng, other, lang, later, topical, f"{key}-{k}", True)
                copy.title, copy.paragraphs = first.title, first.paragraphs
                copy.canonical_url = copy.republication_of = first.url
                copy.role, copy.copy_of, copy.score = "republication", first.url, 1.0
                members.append(copy)
            elif r < 0.3 and first.status == "ok":  # a translation
                other_lang = rng.choice([x for x in LANGS if x != lang])
                other, _ = self._outlet(rng, other_lang)
                copy = self._article(rng, other, other_lang, later, topical, f"{key}-{k}", True)
                copy.role, copy.copy_of, copy.score = "translation", first.url, 1.0
                members.append(copy)
            else:
                other, other_lang = self._outlet(rng)
                report = self._article(rng, other, other_lang, later, topical, f"{key}-{k}")
                report.score = round(rng.uniform(1.0, 3.0), 4)
                members.append(report)
        for m in members:
            m.story = first.url
        return members

    def _article(self, rng: random.Random, source: Source, lang: str, when: datetime,
                 topical: bool, key: str, copy: bool = False) -> Spec:
        when = when.replace(microsecond=0)  # datelines and metadata give seconds at most
        local = when.astimezone(timezone(timedelta(hours=_TZ.get(source.country, 0))))
        slug = hashlib.sha1(key.encode()).hexdigest()[:10]
        url = f"{source.homepage.rstrip('/')}/news/{local:%Y/%m/%d}/{slug}"
        fetched = (when + timedelta(minutes=rng.uniform(5, 360))).replace(microsecond=0)
        via = rng.choices(("feed", "sitemap", "section"), weights=(5, 4, 1))[0]
        spec = Spec(source=source, lang=lang, url=url, fetched_at=fetched.isoformat(),
                    discovered_via=via, canonical_url=url,
                    discovered_from=(source.feeds or [source.homepage])[0])
        r = 1.0 if copy else rng.random()  # copies are of extracted texts
        if r < P_NOT_ARTICLE:
            spec.status = "not_article"
            return spec
        pools = self.pools
        titles = (pools.titles_topical[lang] if topical and rng.random() < 0.7
                  else pools.titles_plain[lang])
        spec.title = rng.choice(titles)
        if r < P_NOT_ARTICLE + P_EMPTY:
            spec.status = "empty"
        else:
            spec.paragraphs = self._paragraphs(rng, lang, topical)
        self._dates(rng, spec, local)
        if rng.random() < 0.7:
            spec.author = rng.choice(self.authors[source.id])
        if spec.paragraphs and rng.random() < 0.6:
            spec.description = spec.paragraphs[0][0].text
        return spec

    def _paragraphs(self, rng: random.Random, lang: str, topical: bool) -> list[list[Piece]]:
        pools = self.pools
        n = max(3, min(90, int(rng.lognormvariate(math.log(14), 0.5))))
        pieces = []
        for _ in range(n):
            r = rng.random()
            if topical:
                pool = pools.topical if r < 0.5 else pools.plain if r < 0.7 else pools.filler
            else:
                pool = pools.plain if r < 0.25 else pools.filler
            pieces.append(rng.choice(pool[lang]))
        paragraphs, i = [], 0
        while i < len(pieces):
            k = rng.randint(1, 4)
            paragraphs.append(pieces[i:i + k])
            i += k
        return paragraphs

    def _dates(self, rng: random.Random, spec: Spec, local: datetime) -> None:
        r = rng.random()
        if r < 0.05:
            return  # no date found anywhere: flagged no-date
        spec.published = local.date().isoformat() if r < 0.15 else local.isoformat()
        spec.published_source = rng.choice(_DATE_SOURCES)
        spec.candidates.append(("published", spec.published, spec.published_source))
        if rng.random() < 0.5:
            day = local.date() - timedelta(days=3 if rng.random() < 0.04 else 0)
            spec.candidates.append(("published", day.isoformat(), "url"))
        if rng.random() < 0.2:
            spec.modified = (local + timedelta(hours=rng.uniform(1, 48))).replace(
                microsecond=0).isoformat()
            spec.candidates.append(("modified", spec.modified, "json-ld"))


def _assign_roles(specs: list[Spec]) -> None:
    """Stories hold extracted texts only; an original is a first copy that has copies.

    A chunk is cut to size at the end of an event, so a copy never loses its original.
    """
    originals = {s.copy_of for s in specs if s.copy_of}
    for s in specs:
        if s.status != "ok":
            s.story, s.role, s.copy_of = None, "report", None
        elif s.url in originals:
            s.role = "original"


def _name(rng: random.Random, lang: str) -> str:
    consonants, vowels = {"en": ("bdgklmnprstv", "aeiou"), "ru": ("бвдклмнпрст", "аеиоу"),
                          "hy": ("բգդկլմնպստր", "աեիո")}[lang]
    part = lambda: "".join(rng.choice(consonants) + rng.choice(vowels)  # noqa: E731
                           for _ in range(rng.randint(2, 3))).capitalize()
    return f"{part()} {part()}"
