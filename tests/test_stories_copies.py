"""Copies on real coverage: recorded cases from the copies devset (tests/data/copies, with
their sources in MANIFEST.tsv), the anchors they rest on, and the candidate indexes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from crawler.framing.anchors import anchors, phonetic_key, same_key
from crawler.framing.candidates import CopyIndex, KeyIndex, minhash
from crawler.framing.copies import CopyParams, compare, copy_text
from crawler.framing.features import Vocabulary, featurize
from crawler.framing.lexicon import load_lexicon
from crawler.framing.stories import Clusterer, StoryDoc, StoryParams, cluster

pytestmark = pytest.mark.unit

CASES = Path(__file__).resolve().parent / "data" / "copies" / "cases.json"
LEXICON = load_lexicon()


@pytest.fixture(scope="module")
def judged() -> dict[frozenset[str], object]:
    """Every recorded pair through the decision a story build makes (weights from the set)."""
    data = json.loads(CASES.read_text(encoding="utf-8"))
    docs = {p["key"]: StoryDoc(p["key"], p["outlet"], p["lang"], p["published"],
                               p["title"] or "", p["text"]) for p in data["pages"]}
    feats = {k: featurize(d.title, d.text, d.lang, LEXICON) for k, d in docs.items()}
    clusterer = Clusterer(LEXICON, StoryParams(), Vocabulary.build(f.terms()
                                                                   for f in feats.values()))
    nodes = {k: clusterer.node(d, feats[k]) for k, d in docs.items()}
    out = {}
    for pair in data["pairs"]:
        a, b = nodes[pair["a"]], nodes[pair["b"]]
        shared = clusterer.shared_anchors(a, b)
        out[frozenset((pair["a"], pair["b"]))] = (
            pair["label"], clusterer.copy_evidence(a, b, shared)
            or clusterer.copy_evidence(b, a, shared))
    return out


def test_republications_are_found_from_the_body_with_containment_both_ways(judged) -> None:
    label, e = judged[frozenset(("r06_pm_en", "r06_aravot_en"))]
    assert label == "republication" and e and e.kind == "republication" and e.basis == "text"
    assert e.containment > 0.9 and e.containment_other > 0.9 and e.shared > 100
    # Lightly edited Armenian copies: low containment, but long shared passages.
    _, e = judged[frozenset(("r10_infocom_hy", "r10_armlife_hy"))]
    assert e and e.kind == "republication" and 0.2 < max(e.containment, e.containment_other)


def test_translations_are_found_from_facts_in_the_same_order(judged) -> None:
    for pair in (("t02_newsam_en", "t02_vestiam_ru"), ("t02_newsam_en", "t02_armlur_hy"),
                 ("t02_armlur_hy", "t02_vestiam_ru")):
        label, e = judged[frozenset(pair)]
        assert label == "translation" and e and e.kind == "translation", pair
        assert e.basis == "aligned" and e.aligned >= 12 and e.order >= 0.72
    _, e = judged[frozenset(("t02_newsam_en", "t02_vestiam_ru"))]
    matched = " ".join(e.matched)
    assert any(name in matched for name in ("Kocharyan", "Кочарян")), matched
    assert any(name in matched for name in ("Peskov", "Песков")), matched


def test_independent_reports_of_one_event_are_not_copies(judged) -> None:
    for pair in (("n05_lenta_ru", "n05_sputnik_ru"), ("n15_reportaz_en", "n15_newsaz_en")):
        label, e = judged[frozenset(pair)]
        assert label == "same-event-different-text" and e is None, (pair, e)


def test_names_are_one_key_across_scripts_and_cases() -> None:
    same = [("pashinyan", "en"), ("pashinian", "en"), ("пашинян", "ru"),
            ("пашиняном", "ru"), ("փաշինյան", "hy")]
    assert len({phonetic_key(w, lang) for w, lang in same}) == 1
    assert phonetic_key("оверчуком", "ru") == phonetic_key("օվերչուկը", "hy") == \
        phonetic_key("overchuk", "en")
    assert phonetic_key("lavrov") != phonetic_key("aliyev")
    assert same_key("p:" + phonetic_key("պուտին", "hy"), "p:" + phonetic_key("путиным", "ru"))
    assert phonetic_key("of") == ""  # too short to name anyone


def test_anchors_read_numbers_dates_entities_and_quotes() -> None:
    en = anchors('On October 31 trade reached 12.4 billion dollars, Putin said: "We agreed".',
                 "en", LEXICON)
    ru = anchors("31 октября товарооборот достиг 12,4 млрд долларов, сказал Путин: «Мы "
                 "договорились».", "ru", LEXICON)
    keys_en, keys_ru = [a.key for a in en], [a.key for a in ru]
    assert "d:10-31" in keys_en and "d:10-31" in keys_ru
    assert "n:124" in keys_en and "n:124" in keys_ru
    assert "e:putin" in keys_en and "e:putin" in keys_ru
    assert "q" in keys_en and "q" in keys_ru
    assert keys_en.index("n:124") < keys_en.index("e:putin")  # in order of appearance


def test_a_shared_quote_alone_is_not_a_republication() -> None:
    quote = ("«Думаю, руководитель государства не поехал бы в Москву, если бы такая встреча не "
             "была запланирована», — сказал он.")
    a = copy_text("Спикер парламента Армении сообщил о визите премьера. " + quote +
                  " Визит проходит на фоне охлаждения отношений двух стран.", "ru", LEXICON)
    b = copy_text("Премьер-министр планирует встречу в Москве, заявил спикер. " + quote +
                  " Он не уточнил, о чем пойдет речь на переговорах.", "ru", LEXICON)
    assert len(a.quoted) and len(np.intersect1d(a.quoted, b.quoted))
    evidence = compare(a, b, CopyParams(), lambda _k: 1.0, aligned=False)
    assert evidence.kind is None and evidence.shared < CopyParams().min_shared


def test_minhash_lsh_proposes_copies_and_forgets_old_articles() -> None:
    text = " ".join(f"word{i}" for i in range(200))
    base = copy_text(text, "en", None)
    trimmed = copy_text(" ".join(text.split()[:150]) + " and an added closing line here",
                        "en", None)
    other = copy_text(" ".join(f"other{i}" for i in range(200)), "en", None)
    assert (minhash(base.shingles) == minhash(copy_text(text, "en", None).shingles)).all()
    index = CopyIndex()
    index.add(1, 10.0, minhash(base.shingles))
    index.add(2, 10.0, minhash(other.shingles))
    assert index.query(minhash(trimmed.shingles)) == [1]
    index.expire(11.0)
    assert index.query(minhash(trimmed.shingles)) == []
    keys = KeyIndex()
    keys.add(1, 1.0, ["n:124", "p:ptn"])
    keys.add(2, 5.0, ["p:ptn"])
    assert keys.query(["n:124", "p:ptn"], since=0.0, min_shared=2) == {1: 2}
    assert keys.query(["p:ptn"], since=2.0) == {2: 1}


def test_a_declared_canonical_link_decides_and_is_recorded() -> None:
    docs = [StoryDoc("orig", "a", "en", "2024-01-01", "Talks", "Completely different words."),
            StoryDoc("copy", "b", "ru", "2024-03-30", "Переговоры", "Совсем другой текст.",
                     republication_of="orig", canonical_url="https://a.example/orig")]
    links = {m.article_id: m for m in cluster(docs, LEXICON)}
    assert links["copy"].role == "translation" and links["copy"].copy_of == "orig"
    assert links["copy"].evidence and links["copy"].evidence.basis == "canonical"
    assert links["copy"].evidence.canonical_url == "https://a.example/orig"
    assert links["orig"].role == "original" and links["orig"].story_id == links["copy"].story_id
