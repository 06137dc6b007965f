"""crawler.textscan: the literal-first scan finds exactly what re's finditer finds.

Checked for every lexicon pattern (variants, exclusions, entities) and every topic term of
sources.toml, on the recorded real pages (en/ru/hy, tests/pages) and on strings built to
trip word boundaries, overlaps and repeats.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from lxml import html as lhtml

from crawler.framing.lexicon import load_lexicon, scan
from crawler.registry.model import parse_registry
from crawler.registry.topic import TopicMatch, TopicMatcher, compile_term
from crawler.textscan import finditer
from extract import decode_html
from extract.normalize import fold

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "tests" / "pages").glob("*/input.html"))
TRICKY = [
    "", "Армения", "Армениия армения-россия армянин,Армения.", "xАрмения Армения_ Армения1",
    "aaaa", "Russia Russia Russian Russias's", "Nagorno-Karabakh Nagorno‑Karabakh Nagorno Karabakh",
    "Երևան Երեւան Երևանում՝ Հայաստանի", "РФ РФРФ рф. ОДКБ-шный ՀՀ-ում",
    "Eurasian  Economic\nUnion Eurasian Economic Unions",
]


def texts() -> list[str]:
    """Folded texts: the recorded pages' visible text (script and all), and TRICKY."""
    # lxml refuses a str that still carries its <?xml encoding=...?> declaration.
    pages = [lhtml.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "",
                                              decode_html(p.read_bytes(), None)[0]))
             .text_content() for p in PAGES]
    return [fold(" ".join(t.split())[:20_000]) for t in pages] + [fold(t) for t in TRICKY]


@pytest.fixture(scope="module")
def folded() -> list[str]:
    return texts()


def test_every_lexicon_pattern_scans_as_finditer(folded: list[str]) -> None:
    lexicon = load_lexicon()
    patterns = [p for c in lexicon.concepts for v in c.variants for p in (*v.patterns,
                                                                          *v.excludes)]
    patterns += [p for e in lexicon.entities for p in e.terms]
    assert len(patterns) > 100
    found = 0
    for text in folded:
        for pattern in patterns:
            want = [m.span() for m in pattern.finditer(text)]
            assert [m.span() for m in scan(pattern, text)] == want, (pattern.pattern, text[:80])
            found += len(want)
    assert found > 200  # the pages do mention the lexicon's names: the check is not vacuous


def test_topic_matches_count_as_with_finditer(folded: list[str]) -> None:
    registry = parse_registry(tomllib.loads((ROOT / "sources.toml").read_text("utf-8")))
    matcher = TopicMatcher(registry.topic)
    terms = {t for group in registry.topic.require for t in group}
    on_topic = 0
    for text in folded:
        half = len(text) // 2
        title, body = text[:half], text[half:]
        counts = {}
        for term in terms:  # the matcher as it was: every pattern over every part
            n = sum(1 for part in (fold(title), fold(body)) if part
                    for _ in compile_term(term).finditer(part))
            if n:
                counts[term] = n
        want = TopicMatch(all(any(t in counts for t in g) for g in registry.topic.require),
                          counts)
        assert matcher.match(title, body) == want
        on_topic += want.on_topic
    assert on_topic >= 5


def test_an_empty_prefix_falls_back_to_finditer() -> None:
    pattern = re.compile(r"(?<!\w)(?:ab|cd)(?!\w)")
    assert [m.span() for m in finditer(pattern, "", "ab cd xab cd")] == [(0, 2), (3, 5), (10, 12)]
    # A wrong (non-)prefix is the caller's bug; a right one finds every match.
    assert [m.span() for m in finditer(re.compile(r"(?<!\w)ab\w*"), "ab", "ab abab xab ab")] == \
        [(0, 2), (3, 7), (12, 14)]
