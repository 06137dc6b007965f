"""crawler.ingest.publish.Exposure: the words a public build's strings expose, counted from an
index of the article's runs, equal a direct scan of the article (the definition)."""

from __future__ import annotations

import random

import pytest

from crawler.ingest.publish import RUN, Exposure, exposed, gram_hashes, grams, tokens

pytestmark = pytest.mark.unit


def _scan(article: list[str], strings: list[str], public: list[str]) -> int:
    """The definition: words of the article inside a run of RUN words some string repeats."""
    found = grams(strings) | grams(public)
    covered = [False] * len(article)
    for i in range(len(article) - RUN + 1):
        if tuple(article[i:i + RUN]) in found:
            covered[i:i + RUN] = [True] * RUN
    return sum(covered)


def test_indexed_exposure_equals_a_direct_scan() -> None:
    rng = random.Random(7)
    vocab = [f"w{i}" for i in range(12)]  # few words: runs repeat inside one article
    for _ in range(300):
        article = [rng.choice(vocab) for _ in range(rng.randint(0, 60))]
        pieces = [" ".join(article[i:i + rng.randint(1, 9)])
                  for i in rng.sample(range(max(len(article), 1)), k=min(3, len(article)))]
        noise = [" ".join(rng.choice(vocab) for _ in range(6)) for _ in range(2)]
        public = [" ".join(article[j:j + 5]) for j in rng.sample(range(max(len(article), 1)),
                                                                  k=min(1, len(article)))]
        index = Exposure(tokens(" ".join(article)), gram_hashes(public))
        want = _scan(article, pieces + noise, public)
        assert index.count(pieces + noise) == want
        assert exposed(article, pieces + noise, gram_hashes(public)) == want
        assert index.count([]) == _scan(article, [], public)  # the base is the public runs


def test_a_folded_excerpt_exposes_the_words_it_repeats() -> None:
    article = tokens("Ереван. Премьер-министр Армении Никол Пашинян встретился с президентом")
    # Case and script forms fold alike: the excerpt's first five words are exposed, no more.
    assert exposed(article, ["ЕРЕВАН. Премьер министр Армении"]) == 4
    assert exposed(article, ["Ереван премьер министр армении никол"]) == 5
    assert exposed(article, ["Ереван премьер"]) == 0  # shorter than a run
