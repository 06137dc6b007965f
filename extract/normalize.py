"""The single text normalisation shared by indexing, topic matching and queries.

Everything that compares text (the topic matcher, the full-text index, search
queries) must go through the same function, otherwise a spelling variant that
one side folds and the other does not silently stops matching. Pure stdlib.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Invisible or in-word characters that split a word without changing it:
# soft hyphen and zero-width characters come from CMS hyphenation and copy-paste;
# the Armenian question/emphasis/exclamation marks sit *inside* the word they
# modify (Հայաստա՞ն), so keeping them breaks whole-word matching.
_DELETE = dict.fromkeys(
    map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff\u055e\u055b\u055c"), None
)

# Applied after NFKC because NFKC leaves these alone (ё is a canonical composite)
# or, for U+0587, already expands it; the entry is kept so the mapping is explicit.
_REPLACE = str.maketrans(
    {
        "ё": "е",
        "Ё": "Е",
        # Reformed orthography writes the ligature (Երևան), classical and
        # diaspora spelling writes ech + yiwn (Երեւան); index one spelling.
        "\u0587": "\u0565\u0582",
        "\u2019": "'",
        "\u2018": "'",
        "\u02bc": "'",
    }
)


# The same two tables as character classes: str.translate looks every character up in a
# dict (about 0.1 ms for a 4,000-character article, and every article is normalised several
# times), while a regex scan finds the few characters to change in C.
_DELETE_RE = re.compile("[" + "".join(map(chr, _DELETE)) + "]")
_REPLACE_CHARS = {chr(k): v for k, v in _REPLACE.items()}
_REPLACE_RE = re.compile("[" + "".join(_REPLACE_CHARS) + "]")


def _replace(match: re.Match[str]) -> str:
    return _REPLACE_CHARS[match.group()]


# An article's text is normalised for its topic match, its framing analysis, its story
# features and its search columns, one after the other in the same worker: the last few
# results are kept (0.3 ms an article of NFKC and casefolding, measured on the bench pages).
@lru_cache(maxsize=16)
def normalize(text: str) -> str:
    """Return text in the one canonical spelling used for indexing, matching and queries."""
    # Deleting first lets NFKC recompose a base letter and a combining mark that
    # a zero-width character had separated (е + U+200B + U+0308 -> ё -> е).
    if _DELETE_RE.search(text):
        text = _DELETE_RE.sub("", text)
    text = unicodedata.normalize("NFKC", text)
    if _REPLACE_RE.search(text):
        text = _REPLACE_RE.sub(_replace, text)
    return text


def normalize_by_tables(text: str) -> str:
    """normalize() as the two translation tables state it (the reference its tests use)."""
    return unicodedata.normalize("NFKC", text.translate(_DELETE)).translate(_REPLACE)


@lru_cache(maxsize=16)
def fold(text: str) -> str:
    """Return normalize(text) casefolded, for case-insensitive comparison."""
    return normalize(text).casefold()
