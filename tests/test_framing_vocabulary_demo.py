"""Distinctive words that are words: the demo archive's vocabulary runs, top 20 of each side."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from conftest import query, run_mediawatch
from helpers.archive import copy_db

from crawler.framing.fightin import log_odds_dirichlet
from crawler.framing.stopwords import function_words, stopwords
from crawler.framing.tokenize import stem, words
from crawler.framing.wirelead import wire_lead

pytestmark = pytest.mark.e2e

# The words the issue found at the top of the demo's run before (function words and
# wire-report verbs), independent of the stop-word file that now removes them.
REPORTED = {"на", "до", "но", "их", "из", "это", "как", "того", "только", "сообщили", "заявил"}


@pytest.fixture(scope="module")
def demo(demo_archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mediawatch demo --no-serve`: the demo crawl and its vocabulary run, plus one more."""
    db = copy_db(demo_archive, tmp_path_factory.mktemp("vocab") / "archive.db")
    done = run_mediawatch("fightin", "--db", str(db), "--lang", "ru", "-a", "rusagency",
                          "-b", "exile", "--min-count", "2")
    assert done.returncode == 0, done.stderr
    return db


def test_no_stop_word_among_the_top_20_of_any_run(demo: Path) -> None:
    runs = query(demo, "SELECT id, lang, min_count, min_docs, stopwords FROM fw_runs")
    assert len(runs) >= 2
    for run_id, lang, min_count, min_docs, listed in runs:
        assert listed and listed.startswith("stopwords.toml")
        stop = stopwords(lang)
        stop_stems = {stem(w, lang) for w in function_words(lang)}
        for side in ("a", "b"):
            top = query(demo, "SELECT surface, term, count_a, count_b, docs_a, docs_b "
                        "FROM fw_terms WHERE run_id = ? AND favours = ? AND rank <= 20 "
                        "ORDER BY rank", (run_id, side))
            assert len(top) >= 10, (run_id, side)
            for surface, term, count_a, count_b, docs_a, docs_b in top:
                assert surface not in stop and surface not in REPORTED, (run_id, surface)
                assert term not in stop_stems or surface not in function_words(lang), surface
                own, own_docs = (count_a, docs_a) if side == "a" else (count_b, docs_b)
                assert own >= min_count and own_docs >= min_docs, (surface, own, own_docs)


def test_the_vocabulary_page_shows_counts_beside_z(demo: Path) -> None:
    import urllib.request

    from conftest import serve

    with serve(demo) as base:
        with urllib.request.urlopen(f"{base}/-/framing/vocabulary/1", timeout=30) as resp:
            page = resp.read().decode()
    assert "uses A" in page and "uses B" in page and "articles A / B" in page
    assert "stopwords.toml" in page


def test_the_minimum_holds_in_the_corpus_a_term_is_distinctive_of() -> None:
    a = Counter({"corridor": 6, "ceasefire": 2, "shared": 20})
    b = Counter({"ceasefire": 7, "shared": 18, "once": 3})
    docs_a = Counter({"corridor": 1, "ceasefire": 2, "shared": 5})
    docs_b = Counter({"ceasefire": 4, "shared": 5, "once": 3})
    scored = {s.term: s for s in log_odds_dirichlet(a, b, a + b, 100.0, 3, (docs_a, docs_b), 2)}
    # "corridor": six uses in A, but all in one article of A: not A's vocabulary.
    assert "corridor" not in scored
    assert scored["ceasefire"].z < 0 and scored["ceasefire"].docs_b == 4
    assert scored["once"].count_a == 0 and scored["once"].count_b == 3
    # Pooled A+B is not the test: 2 uses in A would not list a term for A.
    few = {s.term for s in log_odds_dirichlet(Counter({"x": 2, "y": 40}),
                                                Counter({"x": 1, "y": 40}), None, 100.0, 3)}
    assert "x" not in few


def test_an_agency_name_in_its_datelines_is_not_its_vocabulary(demo: Path) -> None:
    # The demo's state agency opens every report "МОСКВА, 10 ноября. /ФВ/." as TASS does; its
    # tag topped the run (7 uses in 7 of 7 articles, none elsewhere) before the leads were left out.
    texts = [t for (t,) in query(demo, "SELECT text FROM articles WHERE source_id = 'rusagency'")]
    assert texts and all(wire_lead(t) > 0 for t in texts)
    tags = {w for t in texts for w in words(t[:wire_lead(t)])}
    assert "фв" in tags
    listed = {surface for (surface,) in query(demo, "SELECT surface FROM fw_terms JOIN fw_runs r "
                                                     "ON r.id = run_id WHERE r.lang = 'ru'")}
    assert listed and "фв" not in listed
    assert all(t.endswith("+no-wire-lead") for (t,) in query(demo, "SELECT tokenizer FROM fw_runs"))
