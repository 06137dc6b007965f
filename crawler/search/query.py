"""Multilingual search queries: the concept alias table and query expansion.

SQLite's FTS5 has no Russian or Armenian stemming, so instead of a custom tokenizer (which
would make archive.db unreadable in plain sqlite3, sqlite-utils or a stock Datasette) the
archive indexes *normalised* copies of title and text (crawler/search/columns.py) with
the built-in `unicode61` tokenizer, and every query is rewritten here into a plain FTS5 expression: a reviewed table
of concepts (datasette/aliases.toml is not a package; the table lives in crawler/search/aliases.toml)
maps a name in any script or inflection to all its spellings, and words that are not
concepts get a light suffix-stripping prefix match. Pure: no Scrapy, no SQLite.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from extract.normalize import fold, normalize

ALIASES_PATH = Path(__file__).with_name("aliases.toml")
LANGS = ("en", "ru", "hy")

# What unicode61 treats as a token character, closely enough: letters, digits, marks.
_TOKEN = re.compile(r"[^\W_]+(?:\*)?|\*", re.UNICODE)
# Query syntax: "quoted phrase"*, -negated, OR, bare words (hyphenated words are phrases).
_QUERY = re.compile(r'(-?)"([^"]*)"(\*?)|(-?)([^\s"()]+)')
_NEAR = re.compile(r"\s*~(\d+)\s*$")

# Light stemming for words that are not concepts: strip one inflectional ending and search
# the stem as a prefix. Longest endings first; a stem keeps at least 4 letters.
_RU_ENDINGS = sorted(
    "ами ями ого его ому ему ыми ими ой ей ом ем ам ям ах ях ов ев ую юю ая яя ое ее ые ие "
    "ый ий а я ы и у ю е о ь".split(), key=len, reverse=True)
_HY_ENDINGS = sorted(
    "ներից ներում ներով ներին ներն ների ները երից երում երով երին երն երի երը ներ եր "
    "ում ից ով ին ն ի ը ու".split(), key=len, reverse=True)
_EN_ENDINGS = ["'s", "ies", "es", "s", "ing", "ed"]
_MIN_STEM = 4
_MAX_SPAN = 6  # the longest concept spelling, in words
# Function words that a researcher types between names but that other languages lack.
_STOP = frozenset(
    "a an and the of in on at to for with by from about vs versus "
    "и в во на с со о об по к из за для у от а "
    "և եւ ու ի է են որ հետ մասին համար".split())


class AliasError(ValueError):
    """The alias table is malformed; the message names the concept and the problem."""


@dataclass(frozen=True)
class Variant:
    """One spelling of a concept: a token, a phrase (tokens in a row) or a NEAR group."""

    tokens: tuple[str, ...]  # folded; a trailing "*" marks a prefix token
    near: int | None = None  # NEAR distance, when the tokens may be apart

    def fts(self) -> str:
        """This variant as an FTS5 expression."""
        quoted = [_quote(t) for t in self.tokens]
        if self.near is not None:
            return f"NEAR({' '.join(quoted)}, {self.near})"
        return " + ".join(quoted)

    def matches(self, words: tuple[str, ...]) -> bool:
        """Whether a user's words (folded, no operators) are a form of this variant."""
        words = tuple(w.rstrip("*") for w in words)
        if self.near is not None:
            # Any order; words too short to mean anything (102-я) may be left over.
            hit = [any(_form_of(w, t) for t in self.tokens) for w in words]
            return all(any(_form_of(w, t) for w in words) for t in self.tokens) and all(
                h or len(w) <= 2 for h, w in zip(hit, words, strict=True))
        return len(words) == len(self.tokens) and all(
            _form_of(w, t) for w, t in zip(words, self.tokens, strict=True))


def _form_of(word: str, token: str) -> bool:
    """A word is a form of a prefix token when it starts with it, else it must be equal."""
    return word.startswith(token[:-1]) if token.endswith("*") else word == token


@dataclass(frozen=True)
class Concept:
    """One thing people search for, with its spellings in every language."""

    id: str
    label: str
    variants: dict[str, tuple[Variant, ...]]

    def all_variants(self) -> list[Variant]:
        """Every variant in every language, without duplicates, in table order."""
        seen: dict[Variant, None] = {}
        for lang in sorted(self.variants, key=lambda x: (x not in LANGS, x)):
            seen.update(dict.fromkeys(self.variants[lang]))
        return list(seen)

    def fts(self) -> str:
        """The concept as one FTS5 disjunction."""
        return "(" + " OR ".join(v.fts() for v in self.all_variants()) + ")"


@dataclass(frozen=True)
class AliasTable:
    """The versioned concept table (crawler/search/aliases.toml)."""

    version: int
    concepts: tuple[Concept, ...] = field(default_factory=tuple)

    def lookup(self, words: tuple[str, ...]) -> Concept | None:
        """The concept whose variant the words are a form of (longest prefix wins)."""
        best: tuple[int, Concept] | None = None
        for concept in self.concepts:
            for v in concept.all_variants():
                if v.matches(words):
                    strength = sum(len(t.rstrip("*")) for t in v.tokens)
                    if best is None or strength > best[0]:
                        best = (strength, concept)
        return best[1] if best else None


def _quote(token: str) -> str:
    star = token.endswith("*")
    body = token.rstrip("*").replace('"', '""')
    return f'"{body}"' + ("*" if star else "")


def tokens(text: str) -> tuple[str, ...]:
    """Split normalised, folded text into index tokens (a trailing * is kept)."""
    return tuple(t for t in _TOKEN.findall(fold(text)) if t != "*")


def parse_variant(spec: str) -> Variant:
    """Parse one alias spelling: `Pashinyan*`, `Nagorno Karabakh`, `102 баз* ~4`."""
    near = _NEAR.search(spec)
    toks = tokens(_NEAR.sub("", spec))
    if not toks:
        raise AliasError(f"empty variant {spec!r}")
    return Variant(toks, int(near.group(1)) if near else None)


def load_aliases(path: str | Path = ALIASES_PATH) -> AliasTable:
    """Load and validate the concept alias table."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data.get("version"), int):
        raise AliasError(f"{path}: top-level `version = <int>` is required")
    concepts, seen = [], set()
    for entry in data.get("concept", []):
        cid = entry.get("id")
        if not cid or cid in seen:
            raise AliasError(f"{path}: concept id missing or duplicated: {cid!r}")
        seen.add(cid)
        unknown = set(entry) - {"id", "label", "note", *LANGS, "any"}
        if unknown:
            raise AliasError(f"{path}: concept {cid}: unknown keys {sorted(unknown)}")
        variants = {lang: tuple(parse_variant(s) for s in entry.get(lang, []))
                    for lang in (*LANGS, "any") if entry.get(lang)}
        if not variants:
            raise AliasError(f"{path}: concept {cid} has no variants")
        concepts.append(Concept(cid, str(entry.get("label", cid)), variants))
    return AliasTable(int(data["version"]), tuple(concepts))


@lru_cache(maxsize=1)
def default_aliases() -> AliasTable:
    """The repository's alias table, loaded once per process."""
    return load_aliases()


def stem(word: str) -> str:
    """A light stem for a word that is no concept: one inflectional ending stripped."""
    if re.search("[\u0531-\u058f]", word):
        endings = _HY_ENDINGS
    elif re.search("[\u0400-\u04ff]", word):
        endings = _RU_ENDINGS
    else:
        endings = _EN_ENDINGS
    for ending in endings:
        if ending == "s" and word.endswith("ss"):
            continue  # chess, press: not plurals
        if word.endswith(ending) and len(word) - len(ending) >= _MIN_STEM:
            return word[: -len(ending)]
    return word


@dataclass(frozen=True)
class Term:
    """One clause of a parsed query: words (a phrase when several), negated or not."""

    words: tuple[str, ...]
    negated: bool = False
    quoted: bool = False


@dataclass(frozen=True)
class Clause:
    """How one query term was searched: the words typed, the concept found, the FTS5 text."""

    words: tuple[str, ...]
    concept: Concept | None
    fts: str
    negated: bool


def parse_query(query: str) -> list[list[Term]]:
    """Parse a user query into AND-ed groups of OR-ed terms."""
    groups: list[list[Term]] = []
    join_next = False
    for m in _QUERY.finditer(normalize(query)):
        if m.group(5) == "OR" and groups:
            join_next = True
            continue
        if m.group(2) is not None:
            words = tokens(m.group(2))
            if words and m.group(3):
                words = (*words[:-1], words[-1].rstrip("*") + "*")
            term = Term(words, bool(m.group(1)), quoted=True)
        else:
            term = Term(tokens(m.group(5)), bool(m.group(4)))
        if not term.words:
            continue
        if join_next and not term.negated:
            groups[-1].append(term)
        else:
            groups.append([term])
        join_next = False
    return groups


def _literal_fts(words: tuple[str, ...]) -> str:
    return " + ".join(_quote(w) for w in words)


def _term_clause(term: Term, aliases: AliasTable, literal: bool) -> Clause:
    if literal:
        return Clause(term.words, None, _literal_fts(term.words), term.negated)
    concept = aliases.lookup(term.words)
    if concept is not None:
        return Clause(term.words, concept, concept.fts(), term.negated)
    if len(term.words) > 1:
        # A phrase that is no concept: its parts may each still be one (Pashinyan's visit).
        # Suffixes written after a hyphen (ՀԱՊԿ-ից, ОДКБ-шный) are not words of their own.
        parts = [_term_clause(Term((w,)), aliases, literal) for w in term.words
                 if len(w) > 3 or aliases.lookup((w,)) is not None]
        if len(parts) == 1 and parts[0].concept:
            return Clause(term.words, parts[0].concept, parts[0].fts, term.negated)
        if term.quoted or not any(p.concept for p in parts):
            words = tuple(w if w.endswith("*") else stem(w) + "*" if len(stem(w)) >= _MIN_STEM
                          else w for w in term.words)
            return Clause(term.words, None, _literal_fts(words), term.negated)
        return Clause(term.words, None, "(" + " AND ".join(p.fts for p in parts) + ")",
                      term.negated)
    word = term.words[0]
    if word.endswith("*"):
        return Clause(term.words, None, _quote(word), term.negated)
    stemmed = stem(word)
    fts = _quote(stemmed + "*") if len(stemmed) >= _MIN_STEM else _quote(word)
    return Clause(term.words, None, fts, term.negated)


def _merge_concepts(groups: list[list[Term]], aliases: AliasTable) -> list[list[Term]]:
    """Join adjacent plain words that together name a concept (Нагорный Карабах), drop
    stop words (Putin and Pashinyan) when anything else is left."""
    out: list[list[Term]] = []
    i = 0
    plain = [len(g) == 1 and not g[0].negated and not g[0].quoted for g in groups]
    while i < len(groups):
        for span in range(min(_MAX_SPAN, len(groups) - i), 1, -1):
            if all(plain[i:i + span]):
                words = tuple(w for g in groups[i:i + span] for w in g[0].words)
                if aliases.lookup(words) is not None:
                    out.append([Term(words)])
                    i += span
                    break
        else:
            out.append(groups[i])
            i += 1
    kept = [g for g in out if not (len(g) == 1 and g[0].words[0] in _STOP
                                   and len(g[0].words) == 1 and not g[0].quoted)]
    return kept or out


def _clauses(query: str, aliases: AliasTable, literal: bool) -> list[list[Clause]]:
    groups = parse_query(query)
    if not literal:
        groups = _merge_concepts(groups, aliases)
    return [[_term_clause(t, aliases, literal) for t in group] for group in groups]


def explain(query: str, aliases: AliasTable | None = None,
            literal: bool = False) -> list[Clause]:
    """How each term of a query is searched (for the search page's 'searching for')."""
    aliases = aliases or default_aliases()
    return [c for group in _clauses(query, aliases, literal) for c in group]


def expand_query(query: str, aliases: AliasTable | None = None,
                 literal: bool = False) -> str | None:
    """Rewrite a user query into an FTS5 expression over the normalised columns, or None."""
    aliases = aliases or default_aliases()
    positive, negative = [], []
    for clauses in _clauses(query, aliases, literal):
        if len(clauses) == 1 and clauses[0].negated:
            negative.append(clauses[0].fts)
            continue
        alternatives = [c.fts for c in clauses if not c.negated]
        positive.append(alternatives[0] if len(alternatives) == 1
                        else "(" + " OR ".join(alternatives) + ")")
    if not positive:
        return None
    expr = " AND ".join(positive)
    if negative:
        expr = f"({expr}) NOT ({' OR '.join(negative)})"
    return expr


def meta_token(kind: str, value: str) -> str:
    """The search_meta token (schema migration 0005) of a language, outlet or on_topic value."""
    if kind == "on_topic":
        return "mwtopic" + "".join(c for c in value if c.isalnum())
    prefix = {"lang": "mwlang", "source_id": "mwsrc"}[kind]
    return prefix + value.encode("utf-8").hex()


def filtered_query(expr: str, lang: str | Sequence[str] = "", source_id: str | Sequence[str] = "",
                   on_topic: str = "") -> str:
    """An FTS5 expression restricted to languages, outlets and/or on_topic (via search_meta).

    `lang` and `source_id` take one value or several (any of them matches)."""
    terms = []
    for kind, value in (("lang", lang), ("source_id", source_id), ("on_topic", on_topic)):
        values = [value] if isinstance(value, str) else list(value)
        tokens_ = [f"search_meta : {meta_token(kind, v)}" for v in values if v]
        if tokens_:
            terms.append(tokens_[0] if len(tokens_) == 1 else f"({' OR '.join(tokens_)})")
    return " AND ".join([f"({expr})", *terms]) if terms else expr


def plain_query(query: str) -> str | None:
    """What a stock Datasette would run for `?_search=`: each word quoted, AND-ed."""
    words = [w for w in re.findall(r'[^\s"]+', query)]
    return " ".join(f'"{w}"' for w in words) or None
