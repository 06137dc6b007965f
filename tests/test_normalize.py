"""extract.normalize: the one spelling used for indexing, matching and queries."""

from __future__ import annotations

import pytest

from extract.normalize import fold, normalize

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # Russian ё is written as е in most news copy; both must index the same.
        ("Пётр Толстой в Кремлёвском дворце", "Петр Толстой в Кремлевском дворце"),
        ("Ёлка", "Елка"),
        # Decomposed ё (е + combining diaeresis) is first composed by NFKC, then mapped.
        ("вс\u0435\u0308", "все"),
        # Armenian ligature և: reformed (Երևան) and classical (Երեւան) spellings meet.
        ("Երևան", "Երեւան"),
        ("Երեւան", "Երեւան"),
        ("և", "եւ"),
        # Armenian in-word question, emphasis and exclamation marks.
        ("Հայաստա՞ն", "Հայաստան"),
        ("Փաշինյա՛նը", "Փաշինյանը"),
        ("Մոսկվա՜", "Մոսկվա"),
        # Soft hyphen (CMS hyphenation) and zero-width characters (copy-paste).
        ("Паши\u00adнян", "Пашинян"),
        ("Ара\u200bрат", "Арарат"),
        ("Syu\u200cnik\u200d", "Syunik"),
        ("\ufeffЕреван\u2060", "Ереван"),
        # Curly apostrophes and the modifier-letter apostrophe.
        ("Putin’s", "Putin's"),
        ("‘Zangezur corridor’", "'Zangezur corridor'"),
        ("Pashinyanʼs", "Pashinyan's"),
        # NFKC: full-width letters and compatibility ligatures.
        ("ＣＳＴＯ", "CSTO"),
        ("ﬁle", "file"),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_normalize_keeps_case_and_plain_text() -> None:
    text = "Премьер-министр Армении Никол Пашинян — Yerevan, ՀԱՊԿ"
    assert normalize(text) == text


def test_normalize_is_idempotent() -> None:
    text = "Кремлёвский Երևան Հայաստա՞ն Паши\u00adнян Putin’s"
    once = normalize(text)
    assert normalize(once) == once


def test_zero_width_between_letter_and_mark_still_composes() -> None:
    # Deleting the invisible character must happen before NFKC composes the pair.
    assert normalize("е\u200b\u0308") == "е"


def test_fold_casefolds_after_normalising() -> None:
    assert fold("ЁЛКА") == "елка"
    assert fold("ԵՐԵՎԱՆ") == "երեվան"
    assert fold("ՀԱՊԿ") == "հապկ"
    assert fold("Երևան") == fold("ԵՐԵՒԱՆ") == "երեւան"
    assert fold("PUTIN’S") == "putin's"


def test_normalize_equals_its_translation_tables_on_mixed_text() -> None:
    # normalize() finds the characters to delete or replace with a regex scan; on every
    # mix of them with letters, marks and CJK it must give what the tables say.
    import random

    from extract.normalize import normalize_by_tables

    alphabet = ("aéЁёеЕԵւև\u0308\u0301\u00ad\u200b\u200c\u200d\u2060\ufeff\u055e\u055b\u055c"
                "\u2019\u2018\u02bcﬁＣ朝 -'")
    rng = random.Random(7)
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        assert normalize(text) == normalize_by_tables(text), repr(text)
