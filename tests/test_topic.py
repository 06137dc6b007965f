"""crawler.registry.topic: term matching in English, Russian and Armenian."""

from __future__ import annotations

from pathlib import Path

import pytest

from crawler.registry.model import Topic, load_registry
from crawler.registry.topic import TopicMatch, TopicMatcher, compile_term

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]


def matcher(*groups: tuple[str, ...]) -> TopicMatcher:
    return TopicMatcher(Topic(id="t", name="test", require=tuple(groups)))


def terms(term: str, text: str) -> dict[str, int]:
    """Counts for a single-term topic."""
    return matcher((term,)).match(None, text).terms


@pytest.mark.parametrize(
    ("term", "text", "count"),
    [
        # Prefix terms match inflected and derived forms...
        ("Armenia*", "Armenians in Armenia's capital", 2),
        ("Пашинян*", "встреча Пашиняна с Путиным; Пашиняном, Пашиняну", 3),
        ("Փաշինյան*", "Փաշինյանը հանդիպեց, Փաշինյանի խոսքով", 2),
        # ...but only at the start of a word.
        ("Russia*", "Belarussian delegation", 0),
        ("Армени*", "Румынии и Словении", 0),
        ("Մոսկվա*", "ՊատՄոսկվա", 0),
        # Whole-word terms do not match inside longer words...
        ("Moscow", "Moscowitz wrote from Moscow's suburbs", 1),
        ("ОДКБ", "ОДКБшный саммит, саммит ОДКБ", 1),
        ("ՀԱՊԿ", "ՀԱՊԿական, ՀԱՊԿ-ի գագաթնաժողով", 1),
        ("Gyumri", "Gyumri-based base in Gyumrian hills", 1),
        # ...and punctuation (Armenian full stop, hyphens) is a boundary.
        ("Syunik", "Syunik։ Zangezur", 1),
        ("Армян*", "российско-армянские отношения", 1),
    ],
)
def test_prefix_and_whole_word(term: str, text: str, count: int) -> None:
    assert terms(term, text).get(term, 0) == count


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("Kremlin", "THE KREMLIN SAID"),
        ("Лавров*", "ЛАВРОВ ЗАЯВИЛ"),
        ("ԵԱՏՄ", "եատմ երկրներ"),
        ("Հայաստան*", "ՀԱՅԱՍՏԱՆԻ ԿԱՌԱՎԱՐՈՒԹՅՈՒՆ"),
        ("csto", "CSTO summit"),
    ],
)
def test_case_insensitive(term: str, text: str) -> None:
    assert terms(term, text) == {term: 1}


@pytest.mark.parametrize(
    ("term", "text"),
    [
        ("Кремл*", "кремлёвский источник"),  # ё in text, е in term
        ("Пётр*", "Петр Первый"),  # ё in term, е in text
        ("Երևան*", "Երեւանում"),  # ligature in term, classical spelling in text
        ("Երեւան*", "Երևանի"),  # and the other way round
        ("Пашинян*", "Паши\u00adняна"),  # soft hyphen inside the word
        ("Putin's", "Putin’s visit"),  # curly apostrophe
        ("Հայաստան*", "Հայաստա՞նը"),  # Armenian question mark inside the word
        ("Arme\u200bnia", "Armenia"),  # zero-width character in the term itself
    ],
)
def test_normalised_spellings_match(term: str, text: str) -> None:
    assert terms(term, text) == {term: 1}


def test_phrase_with_flexible_whitespace() -> None:
    term = "Eurasian Economic Union"
    text = "the Eurasian\n  economic\tunion and the Eurasian Economic Unionist"
    assert terms(term, text) == {term: 1}


def test_on_topic_needs_every_group() -> None:
    m = matcher(("Armenia*", "Ереван*"), ("Russia*", "Путин*"))
    both = m.match("Armenia and Russia", "Путин прибыл в Ереван. Russian troops.")
    assert both.on_topic
    assert both.terms == {"Armenia*": 1, "Ереван*": 1, "Russia*": 2, "Путин*": 1}


def test_one_group_only_is_off_topic_but_terms_are_recorded() -> None:
    m = matcher(("Armenia*", "Ереван*"), ("Russia*", "Путин*"))
    only_russia = m.match("Russian ballet tours Europe", "Russia's ballet; Путин не приехал")
    assert not only_russia.on_topic
    assert only_russia.terms == {"Russia*": 2, "Путин*": 1}
    assert m.match(None, None) == TopicMatch(on_topic=False, terms={})


def test_title_and_text_are_both_counted_but_not_joined() -> None:
    m = matcher(("Yerevan",), ("Moscow",), ("Eurasian Economic Union",))
    result = m.match("Yerevan and Moscow", "Moscow hosts the Eurasian Economic Union")
    assert result.on_topic
    assert result.terms == {"Yerevan": 1, "Moscow": 2, "Eurasian Economic Union": 1}
    # A phrase split between title and text is not a mention.
    split = matcher(("Eurasian Economic Union",)).match("Eurasian", "Economic Union")
    assert not split.on_topic


def test_term_in_two_groups_counts_once() -> None:
    m = matcher(("Moscow", "Yerevan"), ("Moscow",))
    assert m.match(None, "Moscow").terms == {"Moscow": 1}


@pytest.mark.parametrize("bad", ["*", "Arm*enia", "  ", "**"])
def test_unusable_terms_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError):
        compile_term(bad)


@pytest.fixture(scope="module")
def shipped() -> TopicMatcher:
    return TopicMatcher(load_registry(ROOT / "sources.toml").topic)


@pytest.mark.parametrize(
    "title,text",
    [
        ("Pashinyan and Putin meet in Moscow", "Talks on the CSTO and the Gyumri base."),
        ("Пашинян заявил о заморозке участия в ОДКБ", "Ереван ждёт ответа Кремля."),
        ("Փաշինյանը և Պուտինը հանդիպեցին", "ՀԱՊԿ-ի հարցը քննարկվեց Մոսկվայում։"),
        ("Zangezur corridor", "Russian border guards in Syunik, said Armenia’s minister."),
    ],
)
def test_shipped_topic_on_topic(shipped: TopicMatcher, title: str, text: str) -> None:
    assert shipped.match(title, text).on_topic


@pytest.mark.parametrize(
    "title,text",
    [
        # Russia-only and Armenia-only stories.
        ("Russian ballet in Moscow", "The Bolshoi premiere was sold out, Putin attended."),
        ("Armenian apricot harvest", "Farmers in Ararat valley expect a record year."),
        # հայտնել ("to announce") starts with Հայ but is no mention of Armenia.
        ("ԱՄՆ նախագահը հայտնեց", "Ռուսաստանի և Չինաստանի մասին հայտնեցին։"),
    ],
)
def test_shipped_topic_off_topic(shipped: TopicMatcher, title: str, text: str) -> None:
    assert not shipped.match(title, text).on_topic
