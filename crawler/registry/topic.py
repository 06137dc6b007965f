"""Topic relevance: does an article mention every side the registry's [topic] requires?

Terms are matched on fold()-ed text so spelling variants (ё/е, և/եւ, soft hyphens,
curly apostrophes, letter case) cannot hide a mention. Word boundaries use
Unicode-aware lookarounds because \\b-style ASCII assumptions fail for Cyrillic
and Armenian.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from crawler.registry.model import Topic
from crawler.textscan import finditer
from extract.normalize import fold


@dataclass(frozen=True)
class TopicMatch:
    """Verdict plus evidence: registry term as written -> matches (only terms that matched)."""

    on_topic: bool
    terms: dict[str, int]


def compile_term(term: str) -> re.Pattern[str]:
    """Compile a registry term: trailing '*' = word prefix, else whole word; any whitespace."""
    body = fold(term).strip()
    prefix = body.endswith("*")
    if prefix:
        body = body[:-1].rstrip()
    if not body or "*" in body:
        raise ValueError(f"unusable topic term {term!r}: '*' is only allowed at the end")
    phrase = r"\s+".join(re.escape(word) for word in body.split())
    return re.compile(r"(?<!\w)" + phrase + ("" if prefix else r"(?!\w)"))


class TopicMatcher:
    """Match titles and texts against one Topic; terms are compiled once, here."""

    def __init__(self, topic: Topic) -> None:
        """Compile every term of topic.require (ValueError on an unusable term)."""
        self.topic = topic
        self._groups = tuple(tuple(dict.fromkeys(group)) for group in topic.require)
        # A term listed in two groups is compiled and counted once.
        self._patterns = {t: compile_term(t) for group in self._groups for t in group}
        # Every match starts with the term's first word, verbatim in the folded text.
        self._prefixes = {t: fold(t).strip().rstrip("*").split()[0] for t in self._patterns}

    def match(self, title: str | None, text: str | None) -> TopicMatch:
        """Count term matches in title and text; on topic when every group has a match."""
        # Title and text are searched separately so a phrase cannot straddle them.
        parts = [fold(p) for p in (title, text) if p]
        counts: dict[str, int] = {}
        for term, pattern in self._patterns.items():
            prefix = self._prefixes[term]
            n = sum(1 for part in parts for _ in finditer(pattern, prefix, part))
            if n:
                counts[term] = n
        on_topic = all(any(t in counts for t in group) for group in self._groups)
        return TopicMatch(on_topic=on_topic, terms=counts)
