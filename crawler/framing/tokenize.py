"""Tokens and stems for vocabulary comparison and story clustering (en, ru, hy).

Tokens are words of fold()-ed text (letters only: numbers are handled separately by the
story linker), stemmed with the Snowball stemmer of the article's language, so that
Russian and Armenian case endings do not split one word into six. Stop words (function
words and neutral reporting verbs, stopwords.toml) are removed for clustering and for the
distinctive-vocabulary tables alike: a table of "distinctive words" must show words.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import cache

import snowballstemmer

from crawler.framing.stopwords import stopwords
from extract.normalize import fold

STEMMER_NAMES = {"en": "english", "ru": "russian", "hy": "armenian"}
WORD = _WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")

# Stop words come from the reviewed file stopwords.toml (sources and licences there).
STOPWORDS = {lang: stopwords(lang) for lang in STEMMER_NAMES}


def words(text: str) -> list[str]:
    """Folded word tokens (letters, with inner apostrophes and hyphens kept)."""
    return _WORD.findall(fold(text))


_STEMS: dict[str, dict[str, str]] = {}  # per language: word -> stem (a plain dict: fast)
_STEM_CACHE = 300_000


def stem(word: str, lang: str) -> str:
    """The Snowball stem of a folded word (the word itself for languages without a stemmer)."""
    cache_ = _STEMS.get(lang)
    if cache_ is None:
        cache_ = _STEMS[lang] = {}
    got = cache_.get(word)
    if got is None:
        name = STEMMER_NAMES.get(lang)
        got = word if name is None else str(_stemmer(name).stemWord(word))
        if len(cache_) >= _STEM_CACHE:
            cache_.clear()  # a bounded cache: long runs over many texts stay small
        cache_[word] = got
    return got


@cache
def _stemmer(name: str) -> snowballstemmer.Stemmer:
    return snowballstemmer.stemmer(name)


def tokenizer_id(lang: str) -> str:
    """A stable description of the tokenizer, stored with every vocabulary run."""
    return f"fold+unicode-words+snowball-{STEMMER_NAMES.get(lang, 'none')}"


def stem_counts(texts: Iterable[str], lang: str, stop: bool = False
                ) -> tuple[Counter[str], dict[str, Counter[str]]]:
    """Stem counts over texts, and for every stem the counts of its surface forms."""
    counts: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = {}
    drop: frozenset[str] = STOPWORDS.get(lang, frozenset()) if stop else frozenset()
    for text in texts:
        for w in words(text):
            if w in drop:
                continue
            s = stem(w, lang)
            counts[s] += 1
            surfaces.setdefault(s, Counter())[w] += 1
    return counts, surfaces


def doc_stem_counts(texts: Iterable[str], lang: str
                    ) -> tuple[Counter[str], Counter[str], dict[str, Counter[str]]]:
    """Stem counts over texts without stop words, the number of texts using each stem, and
    each stem's surface forms (for distinctive-vocabulary tables)."""
    counts: Counter[str] = Counter()
    docs: Counter[str] = Counter()
    surfaces: dict[str, Counter[str]] = {}
    drop = STOPWORDS.get(lang, frozenset())
    for text in texts:
        seen: set[str] = set()
        for w in words(text):
            if w in drop or len(w) < 2:
                continue
            s = stem(w, lang)
            counts[s] += 1
            seen.add(s)
            surfaces.setdefault(s, Counter())[w] += 1
        docs.update(seen)
    return counts, docs, surfaces


def content_stems(text: str, lang: str, folded: str | None = None) -> list[str]:
    """Stems without stop words or one-letter tokens, for similarity (`folded`: fold(text))."""
    drop = stopwords(lang)
    toks = _WORD.findall(fold(text) if folded is None else folded)
    return [stem(w, lang) for w in toks if len(w) > 1 and w not in drop]
