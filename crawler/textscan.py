"""Regex scans sped up by a literal every match starts with (pure).

The topic and lexicon patterns begin with a lookbehind (`(?<!\\w)`, a word boundary that
works for Cyrillic and Armenian), which stops `re` from searching for their first letters
itself: finditer() then tries the whole pattern at every position of the text. When each
match must start with a known literal, str.find() (in C) jumps straight to the candidates
and the pattern is only tried there; the matches are the same as finditer()'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator


def finditer(pattern: re.Pattern[str], prefix: str, text: str) -> Iterator[re.Match[str]]:
    """pattern.finditer(text), for a pattern whose every match starts with `prefix`."""
    if not prefix:
        yield from pattern.finditer(text)
        return
    at = text.find(prefix)
    while at != -1:
        # match() at a position still sees the text before it, so the lookbehind holds.
        found = pattern.match(text, at)
        if found is not None:
            yield found
            at = text.find(prefix, max(found.end(), at + 1))
        else:
            at = text.find(prefix, at + 1)
