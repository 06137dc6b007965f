"""The naming and frame lexicon: loading, compiling and matching (pure: no DB, no Scrapy).

The lexicon is reviewable data (`lexicon.toml`), not code. A variant lists terms in a
small pattern language that a researcher can read without knowing regular expressions:

- words are separated by whitespace (any run of whitespace matches);
- a hyphen matches a hyphen, a non-breaking hyphen or whitespace (Nagorno-Karabakh);
- `{a|b|}` is an alternation of endings (`Карабах{|а|у|ом|е}`); an empty branch is allowed;
- a trailing `*` on a word means "this word and any continuation" (`peacekeep*`).

Terms and texts are both compared after `extract.normalize.fold`, so ё/е, և/եւ, soft hyphens
and letter case never hide a hit. Offsets always point into the *original* text, so every
counted hit can be shown in its sentence exactly as published.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from crawler.textscan import finditer
from extract.normalize import fold

LEXICON_PATH = Path(__file__).with_name("lexicon.toml")
LANGS = ("en", "ru", "hy")


class LexiconError(ValueError):
    """The lexicon file is malformed; the message names the entry."""


@dataclass(frozen=True)
class Variant:
    """One way of naming a concept (or one cue of a frame) in one language."""

    id: str
    concept: str
    kind: str  # naming | frame
    lang: str
    naming: str  # the naming label (for frames: the frame id)
    terms: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()
    note: str = ""
    patterns: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)
    excludes: tuple[re.Pattern[str], ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Concept:
    """A thing with competing names (kind=naming) or a frame with cue terms (kind=frame)."""

    id: str
    kind: str
    label: str
    description: str
    namings: dict[str, str]
    variants: tuple[Variant, ...]


@dataclass(frozen=True)
class Entity:
    """A proper name written differently per language, used to link stories across languages."""

    id: str
    terms: tuple[re.Pattern[str], ...]
    leads: tuple[str, ...] = ()  # each term's first letters (see term_lead)


@dataclass(frozen=True)
class Hit:
    """One counted occurrence: where it is in the original string and what it matched."""

    concept: str
    variant: str
    naming: str
    kind: str
    start: int
    end: int


@dataclass(frozen=True)
class Lexicon:
    """The whole lexicon, compiled, with its version (declared + content hash)."""

    version: str
    concepts: tuple[Concept, ...]
    entities: tuple[Entity, ...]
    path: str = ""

    def variants(self, lang: str | None = None) -> list[Variant]:
        """Every variant, optionally only those of one language."""
        return [v for c in self.concepts for v in c.variants if lang is None or v.lang == lang]

    def concept(self, concept_id: str) -> Concept:
        """The concept (or frame) with this id."""
        for c in self.concepts:
            if c.id == concept_id:
                return c
        raise KeyError(concept_id)


_ALT = re.compile(r"\{([^{}]*)\}")


def compile_pattern(term: str) -> re.Pattern[str]:
    """Compile one lexicon term (see the module docstring) to a regex over folded text."""
    body = fold(term).strip()
    if not body:
        raise LexiconError(f"empty term {term!r}")
    words = []
    # What every match starts with: the first word up to an alternation or a hyphen.
    starts = re.split(r"[{\-*]", body.split()[0], maxsplit=1)[0]
    for word in body.split():
        prefix = word.endswith("*")
        word = word[:-1] if prefix else word
        if not word or "*" in word:
            raise LexiconError(f"term {term!r}: '*' is only allowed at the end of a word")
        out, pos = [], 0
        for m in _ALT.finditer(word):
            out.append(_literal(word[pos:m.start()]))
            out.append("(?:" + "|".join(_literal(b) for b in m.group(1).split("|")) + ")")
            pos = m.end()
        out.append(_literal(word[pos:]))
        words.append("".join(out) + (r"\w*" if prefix else ""))
    pattern = re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")
    _PREFIXES[pattern.pattern] = starts
    return pattern


# Pattern source -> the text every match starts with (compile_pattern fills it in).
_PREFIXES: dict[str, str] = {}


def scan(pattern: re.Pattern[str], folded: str) -> Iterator[re.Match[str]]:
    """pattern.finditer(folded), jumping to where the pattern's first letters are."""
    return finditer(pattern, _PREFIXES.get(pattern.pattern, ""), folded)


def term_lead(term: str) -> str:
    """The first (up to three) letters every match of a term starts with, folded; '' when
    the term starts with an alternation. A text whose words start with none of its terms'
    leads cannot match: scanning it is skipped (a regex per term per text is the cost of
    framing analysis)."""
    lead = ""
    for ch in fold(term).strip():
        if ch in "{}*- \t" or not (ch.isalnum() or ch == "_"):
            break
        lead += ch
    return lead[:3]


class TextLeads:
    """The first one, two and three letters of the words of a folded text, and where the
    words with a given start are (found on demand)."""

    def __init__(self, folded: str) -> None:
        self.folded = folded
        # The starts of the distinct three-letter starts: far fewer than the words.
        threes = set(_WORD_STARTS.findall(folded))
        self.present = threes | {w[:2] for w in threes} | {w[:1] for w in threes}
        self._at: dict[str, list[int]] = {}

    def __contains__(self, lead: object) -> bool:
        return lead in self.present

    def get(self, lead: str, default: list[int] | tuple[()] = ()) -> list[int] | tuple[()]:
        """Offsets of the words starting with `lead`, in order."""
        if lead not in self.present:
            return default
        found = self._at.get(lead)
        if found is None:
            found = []
            text, i = self.folded, self.folded.find(lead)
            while i >= 0:
                if i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_"):
                    found.append(i)
                i = text.find(lead, i + 1)
            self._at[lead] = found
        return found


@lru_cache(maxsize=4)
def text_leads(folded: str) -> TextLeads:
    """The word starts of a folded text (see TextLeads); the same text's again when asked
    twice (an article's framing analysis, then its story features, read the same text)."""
    return TextLeads(folded)


_WORDS = re.compile(r"\w+")
_WORD_STARTS = re.compile(r"\b\w{1,3}")  # the first three letters of each word: {w[:3]}


@lru_cache(maxsize=4096)
def _variant_leads(variant: Variant) -> tuple[str, ...]:
    return tuple(term_lead(t) for t in variant.terms)


def _literal(text: str) -> str:
    if "{" in text or "}" in text:
        raise LexiconError(f"unbalanced braces in {text!r}")
    return "".join(r"[-\u2010\u2011\s]" if ch == "-" else re.escape(ch) for ch in text)


@lru_cache(maxsize=4)  # an article's text is folded so for its mentions, then its anchors
def fold_with_offsets(text: str) -> tuple[str, list[int]]:
    """fold(text) plus, for each folded character, the index of its source character
    (the list is shared by every caller of the same text: read it, never change it).

    Folding works on clusters (a base character with the combining and invisible marks
    that follow it) so composition behaves as in fold() on the whole string; the list has
    one extra entry, len(text), so a match end maps back too. It runs over every stored
    article's text, so characters are folded once each, not NFKC per position.
    """
    n = len(text)
    folds = {ch: _fold_char(ch) for ch in set(text)}
    if not any(unicodedata.combining(ch) or not f for ch, f in folds.items()):
        # No cluster longer than one character (the usual case): fold in C. Most characters
        # fold to their casefold, so the text is casefolded whole once the few others
        # (quotes, dashes, ё, ligatures) are replaced: str.translate looks every character
        # up in a dict, the slowest step of an article's framing analysis.
        special = {ch: f for ch, f in folds.items() if f != ch.casefold()}
        if all(f.casefold() == f and not special.keys() & set(f) for f in special.values()):
            folded = text
            for ch, f in special.items():
                folded = folded.replace(ch, f)
            folded = folded.casefold()
        else:
            folded = text.translate({ord(ch): f for ch, f in folds.items()})
        if len(folded) == n:
            return folded, list(range(n + 1))
        return folded, _widened_offsets(text, {ch: len(f) for ch, f in folds.items()
                                               if len(f) != 1})
    out: list[str] = []
    offsets = []
    i = 0
    while i < n:
        j = i + 1
        while j < n and (unicodedata.combining(text[j]) or _fold_char(text[j]) == ""):
            j += 1
        piece = _fold_char(text[i]) if j == i + 1 else fold(text[i:j])
        out.append(piece)
        offsets.extend([i] * len(piece))
        i = j
    offsets.append(n)
    return "".join(out), offsets


def _widened_offsets(text: str, widths: dict[str, int]) -> list[int]:
    """fold_with_offsets' offsets where only the characters of `widths` fold to more than
    one character (և to եւ, ß to ss): runs between them are ranges, built in C."""
    offsets: list[int] = []
    start = 0
    for m in re.finditer("[" + "".join(sorted(map(re.escape, widths))) + "]", text):
        at = m.start()
        offsets.extend(range(start, at))
        offsets.extend([at] * widths[m.group()])
        start = at + 1
    offsets.extend(range(start, len(text) + 1))
    return offsets


@lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return fold(ch)


def match_variant(variant: Variant, folded: str, leads: TextLeads | None = None
                  ) -> list[tuple[int, int]]:
    """Spans (in folded text) of a variant's terms, minus those overlapping an exclusion.

    With `leads`, a term is tried only where a word starts with its lead (same matches).
    """
    vetoes = [m.span() for p in variant.excludes for m in scan(p, folded)]
    spans = []
    for pattern, lead in zip(variant.patterns, _variant_leads(variant), strict=True):
        for m in find_term(pattern, lead, folded, leads):
            s, e = m.span()
            if not any(vs < e and s < ve for vs, ve in vetoes):
                spans.append((s, e))
    return spans


def find_term(pattern: re.Pattern[str], lead: str, folded: str, leads: TextLeads | None
              ) -> Iterator[re.Match[str]]:
    """The matches of one compiled term, in order (at the word starts `leads` lists)."""
    if leads is None or not lead:
        yield from scan(pattern, folded)
        return
    end = -1
    for at in leads.get(lead, ()):
        if at < end:
            continue
        m = pattern.match(folded, at)
        if m:
            end = m.end()
            yield m


def find_hits(lexicon: Lexicon, text: str, lang: str | None,
              folded: tuple[str, list[int] | None, TextLeads] | None = None) -> list[Hit]:
    """Every counted hit in one string, offsets into the original string.

    Within a concept each stretch of text counts once: overlapping hits are resolved
    leftmost-longest, so "Nagorno-Karabakh" counts as that variant and not also as the
    bare "Karabakh" variant. Different concepts (and frames) may overlap.
    """
    if not text:
        return []
    if folded is None:
        folded_text, offsets = fold_with_offsets(text)
        leads = text_leads(folded_text)
    else:  # the caller folded it already (offsets None: positions unchanged)
        folded_text, known, leads = folded
        offsets = known if known is not None else list(range(len(text) + 1))
    hits: list[Hit] = []
    for concept in lexicon.concepts:
        found = [
            (s, -(e - s), e, v)
            for v in concept.variants
            if (lang is None or v.lang == lang)
            and any(not lead or lead in leads for lead in _variant_leads(v))
            for s, e in match_variant(v, folded_text, leads)
        ]
        found.sort(key=lambda t: (t[0], t[1], t[3].id))
        last_end = -1
        for s, _neg, e, v in found:
            if s < last_end:
                continue
            last_end = e
            hits.append(Hit(concept.id, v.id, v.naming, v.kind, offsets[s], offsets[e]))
    hits.sort(key=lambda h: (h.start, h.concept))
    return hits


def entities_in(lexicon: Lexicon, text: str) -> list[str]:
    """Entity ids in order of appearance (language-independent features for cross-language links)."""
    folded = fold(text)
    found = [(m.start(), e.id) for e in lexicon.entities for p in e.terms
             for m in p.finditer(folded)]
    return [eid for _, eid in sorted(found)]


def load_lexicon(path: str | Path = LEXICON_PATH) -> Lexicon:
    """Read and compile a lexicon file; LexiconError names every malformed entry."""
    raw = Path(path).read_bytes()
    data = tomllib.loads(raw.decode("utf-8"))
    version = f"{data.get('version', '0')}+{hashlib.sha256(raw).hexdigest()[:12]}"
    concepts = [_concept(c, "naming") for c in data.get("concept", [])]
    concepts += [_concept(c, "frame") for c in data.get("frame", [])]
    ids = [c.id for c in concepts] + [v.id for c in concepts for v in c.variants]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise LexiconError(f"duplicate ids in {path}: {', '.join(dupes)}")
    entities = tuple(
        Entity(e["id"], tuple(compile_pattern(t) for t in e["terms"]),
               tuple(term_lead(t) for t in e["terms"]))
        for e in data.get("entity", [])
    )
    return Lexicon(version, tuple(concepts), entities, str(path))


def _concept(data: dict, kind: str) -> Concept:
    cid = data.get("id")
    if not cid:
        raise LexiconError(f"a {kind} without an id: {data!r:.80}")
    namings = dict(data.get("namings", {})) if kind == "naming" else {cid: data.get("label", cid)}
    variants = []
    for v in data.get("variant", []):
        vid = v.get("id", "?")
        naming = v.get("naming", cid) if kind == "naming" else cid
        if kind == "naming" and naming not in namings:
            raise LexiconError(f"variant {vid}: naming {naming!r} is not declared in {cid}.namings")
        if v.get("lang") not in LANGS:
            raise LexiconError(f"variant {vid}: lang must be one of {LANGS}")
        if not v.get("terms"):
            raise LexiconError(f"variant {vid}: no terms")
        try:
            patterns = tuple(compile_pattern(t) for t in v["terms"])
            excludes = tuple(compile_pattern(t) for t in v.get("exclude", []))
        except LexiconError as exc:
            raise LexiconError(f"variant {vid}: {exc}") from exc
        variants.append(Variant(
            id=vid, concept=cid, kind=kind, lang=v["lang"], naming=naming,
            terms=tuple(v["terms"]), exclude=tuple(v.get("exclude", [])),
            match=tuple(v.get("match", [])), no_match=tuple(v.get("no_match", [])),
            note=v.get("note", ""), patterns=patterns, excludes=excludes,
        ))
    return Concept(cid, kind, data.get("label", cid), data.get("description", ""), namings,
                   tuple(variants))
