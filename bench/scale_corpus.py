"""Sentence pools for the search-at-scale archives (bench/search_scale.py, bench/scale_build.py).

Generated articles are sequences of *pieces* (sentences) and a title drawn from pools built
here, once, from the repository's fixture corpus (demoweb/sites/**, tests/framing_fixture/**,
tests/pages/**) plus filler sentences of a synthetic Zipf vocabulary per language (so the
FTS index holds a realistic number of distinct terms, not one fixture's words a million
times). Every piece is analysed here with the real code (crawler.framing.kwic.analyse, the
registry's TopicMatcher, extract.normalize) and an article's rows are assembled from those
results. That is exact, not an approximation, because of how pieces are cut and joined:

- pieces are the sentences of crawler.framing.kwic's own sentence splitter, each ending in a
  sentence-final mark, joined by one space (or a newline between paragraphs), so every
  lexicon/topic match, every exclusion and every KWIC context stays inside its piece;
- NFKC normalisation, word counts and term counts are additive across such joins.

tests/test_search_scale.py checks it: the same articles written through Archive.record
(which analyses whole texts) give identical rows.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import random
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from crawler.framing.kwic import _SENTENCE_END, analyse  # noqa: E402
from crawler.framing.lexicon import Lexicon, load_lexicon  # noqa: E402
from crawler.registry.model import Registry, load_registry  # noqa: E402
from crawler.registry.topic import TopicMatcher  # noqa: E402
from extract.normalize import normalize  # noqa: E402

# Bump when generated archives change (pools, recipe, rows): cached archives are keyed by it.
GENERATOR_VERSION = "3"
LANGS = ("en", "ru", "hy")
CACHE_DIR = ROOT / "bench" / ".cache"
SOURCES = ROOT / "sources.toml"
FILLER_PER_LANG = 12_000  # filler sentences per language (each analysed once)
SYNTHETIC_VOCAB = 60_000  # synthetic words per language, drawn Zipf (s = 1.05)
ANALYSIS_CODE = [ROOT / p for p in ("crawler/framing/kwic.py", "crawler/framing/lexicon.py",
                                    "crawler/registry/topic.py", "crawler/search/query.py",
                                    "crawler/search/columns.py",
                                    "extract/normalize.py")]
_END = re.compile(r"(?:[.!?…։]|[\u0531-\u0587]:)$")
_TAG = re.compile(r"<[^>]+>")
_SYLLABLES = {
    "en": ("bcdfghjklmnprstvwz", "aeiou"),
    "ru": ("бвгджзклмнпрстфхцчшщ", "аеиоуыэюя"),
    "hy": ("բգդզթժլխծկհձղճմյնշչպջռսվտրցփքֆ", "աեէըիոօ"),
}


@dataclass(frozen=True)
class Piece:
    """One sentence (or title) with everything its article rows need, from the real code."""

    text: str
    norm: str  # extract.normalize.normalize(text)
    words: int  # len(text.split())
    mentions: tuple[tuple[str, str, str, str, int], ...]  # kind, concept, variant, naming, n
    kwic: tuple[tuple[Any, ...], ...]  # kind, concept, variant, naming, field, l, hit, r, offset
    topic: tuple[tuple[str, int], ...]  # registry topic term -> matches

    @property
    def topical(self) -> bool:
        """Whether the piece names anything the lexicon or the topic counts."""
        return bool(self.mentions or self.topic)


@dataclass
class Pools:
    """Per language: corpus pieces with and without lexicon/topic hits, filler, titles."""

    digest: str
    topical: dict[str, list[Piece]] = field(default_factory=dict)
    plain: dict[str, list[Piece]] = field(default_factory=dict)
    filler: dict[str, list[Piece]] = field(default_factory=dict)
    titles_topical: dict[str, list[Piece]] = field(default_factory=dict)
    titles_plain: dict[str, list[Piece]] = field(default_factory=dict)


def registry() -> Registry:
    """The outlet registry the generated outlets and the topic come from."""
    return load_registry(SOURCES)


def _front_matter(path: Path) -> tuple[dict[str, Any], str]:
    front, body = path.read_text(encoding="utf-8").split("+++", 2)[1:]
    return tomllib.loads(front), body


def fixture_documents() -> list[tuple[str, str, list[str]]]:
    """(lang, title, paragraphs) of every usable fixture article, in a fixed order."""
    docs: list[tuple[str, str, list[str]]] = []
    for site in sorted((ROOT / "demoweb" / "sites").iterdir()):
        if not (site / "site.toml").exists():
            continue
        lang = tomllib.loads((site / "site.toml").read_text(encoding="utf-8"))["source"]["language"]
        lang = lang[0] if isinstance(lang, list) else lang
        for path in sorted((site / "articles").glob("*.md")):
            if "xss" in path.name:  # hostile markup probes: escaping tests, not prose
                continue
            meta, body = _front_matter(path)
            docs.append((lang, meta["title"], _paragraphs(body)))
    fixture = ROOT / "tests" / "framing_fixture"
    outlets = tomllib.loads((fixture / "labels.toml").read_text(encoding="utf-8"))["outlets"]
    for path in sorted((fixture / "articles").rglob("*.md")):
        meta, body = _front_matter(path)
        docs.append((outlets[path.parent.name]["lang"], meta["title"], _paragraphs(body)))
    from extract import extract_article

    for case in sorted((ROOT / "tests" / "pages").iterdir()):
        expected = case / "expected.json"
        if not expected.exists():
            continue
        facts = json.loads(expected.read_text(encoding="utf-8"))
        if facts.get("lang") not in LANGS:
            continue
        result = extract_article((case / "input.html").read_bytes(), facts.get("url"))
        if result.status == "ok" and result.title:
            docs.append((facts["lang"], result.title, _paragraphs(result.text)))
    return docs


def _paragraphs(body: str) -> list[str]:
    lines = (_TAG.sub("", line).removeprefix("## ").strip() for line in body.splitlines())
    return [line for line in lines if line and "{{" not in line]


def split_pieces(paragraph: str) -> list[str]:
    """The paragraph's sentences as kwic's splitter sees them, each ending a sentence."""
    out = []
    for part in _SENTENCE_END.split(paragraph):
        part = " ".join(part.split())
        if len(part) < 2:
            continue
        out.append(part if _END.search(part) else part + ".")
    return out


def analyse_piece(lexicon: Lexicon, matcher: TopicMatcher, text: str, lang: str,
                  title: bool = False) -> Piece:
    """One piece through the real framing analysis, topic matcher and normalisation."""
    mentions, lines = (analyse(lexicon, text, None, lang) if title
                       else analyse(lexicon, None, text, lang))
    topic = matcher.match(text, None) if title else matcher.match(None, text)
    return Piece(
        text=text, norm=normalize(text), words=len(text.split()),
        mentions=tuple((m["kind"], m["concept"], m["variant"], m["naming"], m["n"])
                       for m in mentions),
        kwic=tuple((k["kind"], k["concept"], k["variant"], k["naming"], k["field"], k["left"],
                    k["hit"], k["right"], k["offset"]) for k in lines),
        topic=tuple(sorted(topic.terms.items())))


def _synthetic_words(lang: str, rng: random.Random) -> list[str]:
    consonants, vowels = _SYLLABLES[lang]
    seen: dict[str, None] = {}
    while len(seen) < SYNTHETIC_VOCAB:
        n = rng.choice((1, 2, 2, 3, 3, 3, 4))
        word = "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(n))
        seen[word + (rng.choice(consonants) if rng.random() < 0.3 else "")] = None
    return list(seen)


def filler_sentences(lang: str, corpus_words: list[str], n: int, seed: int) -> list[str]:
    """Sentences mixing the corpus's own words with a synthetic Zipf vocabulary."""
    rng = random.Random(seed)
    vocab = _synthetic_words(lang, rng)
    cum, total = [], 0.0
    for rank in range(1, len(vocab) + 1):
        total += rank ** -1.05
        cum.append(total)
    out = []
    for _ in range(n):
        words = [rng.choice(corpus_words) if rng.random() < 0.4 else
                 rng.choices(vocab, cum_weights=cum)[0] for _ in range(rng.randint(6, 22))]
        sentence = " ".join(words)
        out.append(sentence[:1].upper() + sentence[1:] + rng.choice((".", ".", ".", "?")))
    return out


def _digest(lexicon: Lexicon, reg: Registry) -> str:
    """What the pools depend on besides the fixture files: generator, lexicon, topic."""
    h = hashlib.sha1(f"{GENERATOR_VERSION}|{lexicon.version}|{reg.topic.require}".encode())
    for path in sorted([*ROOT.glob("demoweb/sites/*/articles/*.md"),
                        *ROOT.glob("tests/framing_fixture/**/*.md"),
                        *ROOT.glob("tests/pages/*/expected.json")]):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def build_pools(filler_per_lang: int = FILLER_PER_LANG) -> Pools:
    """Analyse every fixture sentence, title and filler sentence (cached under bench/.cache)."""
    lexicon, reg = load_lexicon(), registry()
    digest = _digest(lexicon, reg)
    # The analysis code is part of the pools' key (not of the archives'): a change in it must
    # never leave tests comparing stale pieces with the real path.
    code = hashlib.sha1(b"".join(p.read_bytes() for p in ANALYSIS_CODE)).hexdigest()[:8]
    cache = CACHE_DIR / f"pools-v{GENERATOR_VERSION}-{digest}-{code}-{filler_per_lang}.pickle"
    if cache.exists():
        pools: Pools = pickle.loads(cache.read_bytes())
        return pools
    matcher = TopicMatcher(reg.topic)
    pools = Pools(digest)
    docs = fixture_documents()
    for lang in LANGS:
        texts = sorted({p for d in docs if d[0] == lang for para in d[2] for p in split_pieces(para)})
        pieces = [analyse_piece(lexicon, matcher, t, lang) for t in texts]
        pools.topical[lang] = [p for p in pieces if p.topical]
        pools.plain[lang] = [p for p in pieces if not p.topical]
        words = [w.strip(".,;:!?«»\"()–—") for p in pools.plain[lang] for w in p.text.split()]
        words = [w.lower() for w in words if len(w) > 1 and w.isalpha()]
        filler = filler_sentences(lang, words, filler_per_lang, seed=LANGS.index(lang))
        pools.filler[lang] = [analyse_piece(lexicon, matcher, s, lang) for s in filler]
        titles = {d[1] for d in docs if d[0] == lang}
        # Headlines are also cut from sentences, so there are many more than fixture titles.
        for p in pieces + pools.filler[lang][:2000]:
            cut = " ".join(p.text.split()[:random.Random(p.text).randint(5, 11)])
            titles.add(cut.rstrip(".,;:!?։"))
        analysed = [analyse_piece(lexicon, matcher, t, lang, title=True) for t in sorted(titles)]
        pools.titles_topical[lang] = [p for p in analysed if p.topical]
        pools.titles_plain[lang] = [p for p in analysed if not p.topical]
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(pickle.dumps(pools))
    return pools


_CACHED = re.compile(r"scale-v\d+-([0-9a-f]+)-(\d+)(?:-stories)?(?:\.building)?"
                     r"(?:\.db(?:-wal|-shm|\.lock)?|\.json|-warc)")


def prune_stale(cache: Path, size: int, digest: str) -> int:
    """Delete the cached archives of `size` built from other fixtures or generator code (and
    their story copies): they are never read again, and at 1M articles each pair is ~28 GB.
    Returns the bytes freed."""
    import shutil

    freed = 0
    for entry in sorted(cache.glob("scale-v*")):
        match = _CACHED.fullmatch(entry.name)
        if not match or int(match[2]) != size or match[1] == digest:
            continue
        if entry.is_dir():
            freed += sum(f.stat().st_size for f in entry.rglob("*") if f.is_file())
            shutil.rmtree(entry)
        else:
            freed += entry.stat().st_size
            entry.unlink()
    if freed:
        print(f"removed stale {size:,}-article archives from {cache} ({freed / 2**30:.1f} GiB)",
              flush=True)
    return freed
