"""Mentions and keyword-in-context lines for one article (pure: rows for the archive to write).

A KWIC line is the hit with the rest of its sentence on either side, cut to a readable
width, so a reader can audit every counted hit without opening the article. Offsets are
character offsets into the original title or text as archived.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_left, bisect_right
from collections import Counter
from typing import Any

from crawler.framing.lexicon import Hit, Lexicon, find_hits

CONTEXT_CHARS = 160
# Sentence ends: Latin/Cyrillic punctuation, the Armenian full stop (։) and its common
# stand-in, the colon used as a full stop in Armenian typing, followed by a space; or a newline.
_SENTENCE_END = re.compile(r"(?<=[.!?…։])\s+|(?<=[\u0531-\u0587]:)\s+|\n+")


def sentence_breaks(text: str) -> tuple[list[int], list[int]]:
    """Where the sentence ends of a text start and end (found once per text, not per hit)."""
    starts: list[int] = []
    ends: list[int] = []
    for m in _SENTENCE_END.finditer(text):
        starts.append(m.start())
        ends.append(m.end())
    return starts, ends


def sentence_bounds(text: str, start: int, end: int,
                    breaks: tuple[list[int], list[int]] | None = None) -> tuple[int, int]:
    """The [begin, finish) of the sentence around text[start:end] (`breaks`: the text's
    sentence_breaks, when the caller has them)."""
    starts, ends = breaks if breaks is not None else sentence_breaks(text)
    i = bisect_right(ends, start)
    j = bisect_left(starts, end)
    return (ends[i - 1] if i else 0), (starts[j] if j < len(starts) else len(text))


def kwic_line(text: str, hit: Hit, width: int = CONTEXT_CHARS,
              breaks: tuple[list[int], list[int]] | None = None) -> tuple[str, str, str]:
    """(left, hit, right): the hit inside its sentence, each side at most `width` characters."""
    begin, finish = sentence_bounds(text, hit.start, hit.end, breaks)
    left = text[begin:hit.start]
    right = text[hit.end:finish]
    if len(left) > width:
        left = "…" + left[-width:].split(" ", 1)[-1]
    if len(right) > width:
        right = right[:width].rsplit(" ", 1)[0] + "…"
    return left, text[hit.start:hit.end], right


def analyse(lexicon: Lexicon, title: str | None, text: str | None, lang: str | None
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Mention counts and KWIC lines of one article, in the language it was written in.

    An article whose language is unknown is matched against every language's variants:
    a Russian term cannot match English text, so this only loses nothing.
    """
    use_lang = lang if lang in {v.lang for v in lexicon.variants()} else None
    counts: Counter[tuple[str, str, str, str]] = Counter()
    lines: list[dict[str, Any]] = []
    for field_name, value in (("title", title), ("text", text)):
        if not value:
            continue
        breaks = None
        for hit in find_hits(lexicon, value, use_lang):
            counts[(hit.kind, hit.concept, hit.variant, hit.naming)] += 1
            breaks = breaks or sentence_breaks(value)
            left, matched, right = kwic_line(value, hit, breaks=breaks)
            lines.append({
                "kind": hit.kind, "concept": hit.concept, "variant": hit.variant,
                "naming": hit.naming, "field": field_name, "left": left, "hit": matched,
                "right": right, "offset": hit.start,
            })
    mentions = [
        {"kind": k, "concept": c, "variant": v, "naming": nm, "n": n}
        for (k, c, v, nm), n in sorted(counts.items())
    ]
    return mentions, lines


def analysis_key(title: str | None, text: str | None, lang: str | None) -> str:
    """What a framing analysis was computed from: the archive reuses it only for the same."""
    return hashlib.sha1("\x1f".join((title or "", text or "", lang or "")).encode()).hexdigest()
