"""The naming/frame lexicon: every example sentence, matching rules, offsets and KWIC lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_bench

from crawler.framing.kwic import analyse, kwic_line
from crawler.framing.lexicon import (
    LexiconError,
    compile_pattern,
    find_hits,
    fold_with_offsets,
    load_lexicon,
)
from extract.normalize import fold

pytestmark = pytest.mark.unit

LEXICON = load_lexicon()
ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = [(v.id, v.lang, s, True) for v in LEXICON.variants() for s in v.match] + [
    (v.id, v.lang, s, False) for v in LEXICON.variants() for s in v.no_match]


def test_every_variant_has_positive_and_negative_examples() -> None:
    assert len(LEXICON.variants()) >= 40
    for v in LEXICON.variants():
        assert v.match and v.no_match, v.id
    assert {v.lang for v in LEXICON.variants()} == {"en", "ru", "hy"}
    frames = {c.id for c in LEXICON.concepts if c.kind == "frame"}
    assert {"betrayal", "security-dependence", "sovereignty", "alliance", "economic-leverage",
            "anti-russian-label"} <= frames
    for frame in frames:  # every frame has cues in all three languages
        assert {v.lang for v in LEXICON.concept(frame).variants} == {"en", "ru", "hy"}


@pytest.mark.parametrize(("variant", "lang", "sentence", "should"), EXAMPLES)
def test_lexicon_examples(variant: str, lang: str, sentence: str, should: bool) -> None:
    hits = {h.variant for h in find_hits(LEXICON, sentence, lang)}
    assert (variant in hits) is should, f"{variant} on {sentence!r}: {sorted(hits)}"


def test_karabakh_prefix_does_not_swallow_the_adjective() -> None:
    hits = find_hits(LEXICON, "Карабахские армяне покинули Карабах, а карабахский вопрос закрыт.", "ru")
    variants = [h.variant for h in hits if h.concept == "karabakh"]
    assert variants == ["karabakh-adj-ru", "karabakh-ru", "karabakh-adj-ru"]


def test_overlapping_variants_count_once_longest_first() -> None:
    hits = [h for h in find_hits(LEXICON, "The Nagorno-Karabakh war; Karabakh Armenians.", "en")
            if h.concept == "karabakh"]
    assert [h.variant for h in hits] == ["nagorno-karabakh-en", "karabakh-en"]


def test_matching_uses_the_shared_fold() -> None:
    # ё/е, soft hyphen, case and the Armenian ligature do not hide a hit.
    assert find_hits(LEXICON, "АРЦА\u00adХ и Армия обороны Арцаха", "ru")[0].variant == "artsakh-ru"
    assert [h.variant for h in find_hits(LEXICON, "Երևանը և Արցախը", "hy")] == ["artsakh-hy"]
    assert compile_pattern("Карабах{|а}").search(fold("КАРАБАХА"))


def test_offsets_point_into_the_original_text() -> None:
    text = "Со\u00adобщение: в Нагорном Карабахе и в Арца\u00adхе — миротворцы."
    for hit in find_hits(LEXICON, text, "ru"):
        original = text[hit.start:hit.end]
        assert fold(original) in {fold(original)}  # a real slice of the text
        assert compile_pattern(next(
            t for v in LEXICON.variants("ru") if v.id == hit.variant for t in v.terms
        )).search(fold(original))


def test_fold_with_offsets_agrees_with_fold_on_the_fixture() -> None:
    docs, _ = load_bench("framing_eval").load_fixture()
    assert len(docs) >= 40
    for doc in docs:
        folded, offsets = fold_with_offsets(doc.text)
        assert folded == fold(doc.text), doc.id
        assert len(offsets) == len(folded) + 1


@pytest.mark.parametrize("text", [
    "Straße ﬁnal ＡＢＣ", "Ёлка е\u0308 Երևան Հայաստա՞ն Со\u00adобщение", "e\u0301te\u200b\u0308",
    "ß" * 3 + "İ", "", "plain ascii only"])
def test_fold_with_offsets_maps_every_folded_character_back(text: str) -> None:
    folded, offsets = fold_with_offsets(text)
    assert folded == fold(text)
    assert len(offsets) == len(folded) + 1 and offsets[-1] == len(text)
    assert offsets == sorted(offsets) and all(0 <= o <= len(text) for o in offsets)
    # Each folded character comes from the source cluster its offset names.
    for k, o in enumerate(offsets[:-1]):
        end = next((p for p in offsets[k:] if p > o), len(text))
        assert folded[k] in fold(text[o:end])


def test_fold_with_offsets_of_widening_characters_equal_a_per_character_walk() -> None:
    # Offsets are built from ranges between the characters that fold to several (ß, և, ﬁ,
    # İ, ㎞); a walk over every character must give the same list.
    import random

    rng = random.Random(3)
    alphabet = "abc Ерեւ.-]^\\ßևﬁİ㎞"
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30)))
        folded, offsets = fold_with_offsets(text)
        walk = [i for i, ch in enumerate(text) for _ in fold(ch)] + [len(text)]
        assert folded == fold(text) and offsets == walk, repr(text)


def test_kwic_lines_show_the_sentence_and_counts_match_lines() -> None:
    text = ("Fighting stopped. Russian peacekeepers will deploy in Artsakh within hours. "
            "Later, the peacekeepers left.")
    mentions, lines = analyse(LEXICON, "Peacekeepers for Artsakh", text, "en")
    counts = {(m["variant"]): m["n"] for m in mentions}
    assert counts["artsakh-en"] == 2 and counts["peacekeepers-en"] == 3
    assert sum(m["n"] for m in mentions) == len(lines)
    line = next(k for k in lines if k["field"] == "text" and k["variant"] == "artsakh-en")
    assert (line["left"], line["hit"], line["right"]) == (
        "Russian peacekeepers will deploy in ", "Artsakh", " within hours.")
    assert text[line["offset"]:line["offset"] + len(line["hit"])] == "Artsakh"


def test_kwic_line_trims_long_context() -> None:
    text = "word " * 100 + "Artsakh" + " word" * 100 + "."
    hit = find_hits(LEXICON, text, "en")[0]
    left, matched, right = kwic_line(text, hit, width=40)
    assert matched == "Artsakh" and left.startswith("…") and right.endswith("…")
    assert len(left) <= 42 and len(right) <= 42


def test_malformed_lexicon_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "lexicon.toml"
    bad.write_text('version = "x"\n[[concept]]\nid = "c"\nnamings = { a = "A" }\n'
                   '[[concept.variant]]\nid = "v"\nlang = "en"\nnaming = "b"\nterms = ["x"]\n')
    with pytest.raises(LexiconError, match="naming 'b' is not declared"):
        load_lexicon(bad)
    with pytest.raises(LexiconError):
        compile_pattern("bad*term")


def test_lexicon_version_changes_with_content(tmp_path: Path) -> None:
    copy = tmp_path / "lexicon.toml"
    source = (ROOT / "crawler" / "framing" / "lexicon.toml").read_text(encoding="utf-8")
    copy.write_text(source, encoding="utf-8")
    same = load_lexicon(copy).version
    copy.write_text(source + "\n# a reviewer's note\n", encoding="utf-8")
    assert same == LEXICON.version and load_lexicon(copy).version != same


def test_sentence_bounds_by_bisection_equal_a_scan_of_the_sentence_ends() -> None:
    # The bounds come from the text's sentence breaks, found once; the first and last
    # sentence, a hit across a break and Armenian stops must bound as a plain scan does.
    import random

    from crawler.framing.kwic import _SENTENCE_END, sentence_bounds

    def scan(text: str, start: int, end: int) -> tuple[int, int]:
        begin, finish = 0, len(text)
        for m in _SENTENCE_END.finditer(text):
            if m.end() <= start:
                begin = m.end()
            elif m.start() >= end:
                finish = m.start()
                break
        return begin, finish

    rng = random.Random(5)
    pieces = ["Word", " ", ". ", "! ", "\n\n", "։ ", "Հայ: ", "x", "… "]
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 25)))
        start = rng.randrange(len(text))
        end = rng.randint(start + 1, len(text))
        assert sentence_bounds(text, start, end) == scan(text, start, end), (text, start, end)


def test_fold_with_offsets_equals_fold_on_random_mixtures_of_special_characters() -> None:
    # The fast path casefolds the whole text after replacing the characters whose fold is
    # not their casefold (quotes, dashes, ё, ligatures, no-break spaces...): any mixture
    # must fold as fold() does.
    import random

    rng = random.Random(5)
    fast = "aZ Ёё Ее ß ﬁ İ և Երևան «»„“”‘’ —–‐- \u00a0\u2009 ＡＢ ½ ™ Ⅻ ǅ ΣΑΣ ς µ ㎞ 1,5 Ŀ"
    slow = fast + "\u00ad\u200b e\u0301"  # invisible and combining marks: clusters
    for pool in [fast] * 400 + [slow] * 100:
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 40)))
        fold_with_offsets.cache_clear()
        folded, offsets = fold_with_offsets(text)
        assert folded == fold(text), repr(text)
        assert len(offsets) == len(folded) + 1 and offsets[-1] == len(text)
