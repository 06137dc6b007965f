"""The registry's article_url_pattern against the real example URLs each entry carries."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest
from conftest import run_mediawatch

from crawler.registry.examples import check_examples, example_problems, variant_handled
from crawler.registry.model import RegistryError, load_registry, parse_registry
from crawler.web.urls import article_id, clean_url

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "sources.toml"


def _entry(**extra: object) -> dict:
    base = {"id": "x", "name": "X", "homepage": "https://x.example/", "language": "en",
            "country": "AM", "kind": "private"}
    return {**base, **extra}


def _registry(*entries: dict) -> dict:
    return {"topic": {"id": "t", "name": "T", "require": [["Armenia*"]]},
            "source": list(entries)}


def test_shipped_registry_passes_sources_check() -> None:
    result = run_mediawatch("sources", "check", "--sources", str(SHIPPED))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid: 32 outlets" in result.stdout


def test_every_outlet_with_article_examples_has_a_pattern_that_fits_them() -> None:
    registry = load_registry(SHIPPED)
    with_examples = [s for s in registry.sources if s.examples]
    # Every outlet whose article URLs are public carries them (all but asbarez and mediamax,
    # whose evidence has no article URL in the tuning half).
    assert len(with_examples) >= 28
    for source in with_examples:
        assert source.article_url_pattern, source.id
        result = check_examples(source.article_url_pattern, source.examples,
                                source.not_articles, source.variants)
        assert result.ok, (source.id, result)


def test_shipped_header_names_no_machine_path() -> None:
    text = SHIPPED.read_text(encoding="utf-8")
    assert "/work/" not in text and "../shared" not in text
    assert "tuning half" in text  # the examples' provenance is stated


def _write_shipped_with(tmp_path: Path, source_id: str, pattern: str) -> Path:
    """The shipped registry with one outlet's pattern replaced (file otherwise unchanged)."""
    text = SHIPPED.read_text(encoding="utf-8")
    block_start = text.index(f'id = "{source_id}"')
    line = re.compile(r"^article_url_pattern = .*$", re.M).search(text, block_start)
    assert line is not None
    path = tmp_path / "sources.toml"
    path.write_text(text[:line.start()] + f"article_url_pattern = '{pattern}'" +
                    text[line.end():], encoding="utf-8")
    return path


def test_pattern_rejecting_an_example_article_fails_the_check(tmp_path: Path) -> None:
    # Novaya Gazeta Europe's old pattern: YYYY-MM-DD, while its real URLs use YYYY/MM/DD.
    path = _write_shipped_with(tmp_path, "novaya-gazeta-europe",
                               r"^https?://[^/]+/articles/\d{4}-\d{2}-\d{2}/[^/?#]+")
    result = run_mediawatch("sources", "check", "--sources", str(path))
    assert result.returncode != 0
    err = result.stderr
    assert "id=novaya-gazeta-europe" in err
    assert ("rejects the example article "
            "https://novayagazeta.eu/articles/2022/11/30/russkii-kovcheg") in err
    assert "widen the pattern" in err  # the fix
    assert err.count("rejects the example article") == 2  # every problem, not the first


def test_pattern_accepting_a_non_article_fails_the_check(tmp_path: Path) -> None:
    # Interfax without the section/gallery guard: /world/ and /russia/ listings get through
    # once the id becomes optional.
    path = _write_shipped_with(tmp_path, "interfax", r"^https?://[^/]+/[a-z]+/(?:\d+)?")
    result = run_mediawatch("sources", "check", "--sources", str(path))
    assert result.returncode != 0
    assert "accepts the non-article https://www.interfax.ru/russia/" in result.stderr
    assert "tighten the pattern" in result.stderr


def test_loader_reports_pattern_problems_with_every_other_problem() -> None:
    bad = _entry(article_url_pattern=r"/news/\d+$", examples=["https://x.example/news/12/"],
                 not_articles=["https://x.example/news/12"], country="XX")
    with pytest.raises(RegistryError) as info:
        parse_registry(_registry(bad))
    text = str(info.value)
    assert "rejects the example article https://x.example/news/12/" in text
    assert "accepts the non-article https://x.example/news/12" in text
    assert "is not an ISO 3166-1" in text


def test_examples_must_be_urls_and_need_a_pattern() -> None:
    with pytest.raises(RegistryError) as info:
        parse_registry(_registry(_entry(examples=["x.example/a/1"])))
    assert "not an absolute http(s) URL" in str(info.value)
    with pytest.raises(RegistryError) as info:
        parse_registry(_registry(_entry(examples=["https://x.example/a/1"])))
    assert "has examples but no article_url_pattern" in str(info.value)
    assert "sources discover" in str(info.value)


def test_examples_off_the_outlets_hosts_are_a_warning() -> None:
    reg = parse_registry(_registry(_entry(article_url_pattern=r"/a/\d+",
                                          examples=["https://elsewhere.example/a/1"])))
    assert any("elsewhere.example/a/1 is on none of the outlet's hosts" in w
               for w in reg.warnings)


# -- variants: AMP copies are rejected, tracking copies normalised: never stored twice ----

AMP = "https://armenpress.am/en/article/1251728/amp"
TRACKED = "https://www.bbc.com/russian/articles/cy49nr72wmvo?at_medium=RSS&at_campaign=rss"


def test_shipped_patterns_reject_amp_copies_and_accept_cleaned_tracking_copies() -> None:
    registry = load_registry(SHIPPED)
    armenpress = re.compile(registry.get("armenpress").article_url_pattern or "")
    bbc = re.compile(registry.get("bbc-russian").article_url_pattern or "")
    assert armenpress.search(AMP) is None
    assert armenpress.search(AMP.removesuffix("/amp"))
    assert bbc.search(TRACKED)  # the raw feed link is taken...
    assert clean_url(TRACKED) == "https://www.bbc.com/russian/articles/cy49nr72wmvo"
    assert article_id(TRACKED) == article_id(clean_url(TRACKED))  # ...as the one article
    assert variant_handled(armenpress, AMP) and variant_handled(bbc, TRACKED)


def test_a_pattern_that_would_store_an_amp_copy_fails() -> None:
    problems = example_problems(r"/article/\d+", ["https://x.example/en/article/1"], [],
                                ["https://x.example/en/article/1/amp"])
    assert len(problems) == 1
    what, fix = problems[0]
    assert "accepts the variant https://x.example/en/article/1/amp" in what
    assert "/amp" in fix
    assert example_problems(r"/article/\d+/?$", ["https://x.example/en/article/1"], [],
                            ["https://x.example/en/article/1/amp"]) == []


def test_a_variant_whose_parameter_is_not_tracking_fails() -> None:
    # ?from= is kept by clean_url (some CMSs select content with it): the copy would be stored.
    result = check_examples(r"/doc/\d+", [], [], ["https://x.example/doc/1?from=main"])
    assert result.stored_variants == ("https://x.example/doc/1?from=main",)


def test_shipped_examples_parse_as_toml_lists() -> None:
    data = tomllib.loads(SHIPPED.read_text(encoding="utf-8"))
    keys = {k for s in data["source"] for k in s}
    assert {"examples", "not_articles", "variants"} <= keys


# -- the URL-pattern bench (bench/url_patterns.py) on a small devset of its own ----------

def test_url_pattern_bench_scores_both_halves(tmp_path: Path, capsys) -> None:
    from conftest import load_bench

    bench = load_bench("url_patterns")
    articles = [f"https://x.example/a/{n}.html" for n in range(1, 21)]
    devset = {"x": {"articles": articles, "non_articles": ["https://x.example/a/",
                                                           "https://x.example/tag/a/"],
                    "articles_variant": ["https://x.example/a/7.html?utm_source=rss"]}}
    (tmp_path / "outlet-urls.json").write_text(json.dumps(devset), encoding="utf-8")
    sources = tmp_path / "sources.toml"
    sources.write_text('[topic]\nid = "t"\nname = "T"\nrequire = [["A*"]]\n\n[[source]]\n'
                       'id = "x"\nname = "X"\nhomepage = "https://x.example/"\nlanguage = "en"\n'
                       'country = "AM"\nkind = "private"\n'
                       "article_url_pattern = '/a/[1-9]\\.html$'\n", encoding="utf-8")
    out = bench.main(["--devsets", str(tmp_path), "--sources", str(sources)])
    halves = {bench.split_half(u) for u in articles}
    assert halves == {"tune", "held"}  # the hash splits even this small set
    tune, held = out["registry"]["tune"], out["registry"]["held"]
    singles = {h: sum(1 for u in articles if bench.split_half(u) == h and
                      re.search(r"/a/[1-9]\.html$", u)) for h in ("tune", "held")}
    assert tune["articles"] + held["articles"] == 20
    assert tune["recall_micro"] == round(singles["tune"] / tune["articles"], 3)
    assert "recall macro" in capsys.readouterr().out
    assert out["learned"]["recall_micro"] == 1.0  # /a/{id}.html is learnt from either half


def test_url_pattern_bench_without_devsets_says_how_to_get_them(tmp_path: Path, capsys) -> None:
    from conftest import load_bench

    assert load_bench("url_patterns").main(["--devsets", str(tmp_path / "none")]) == {}
    assert "MEDIAWATCH_DEVSETS" in capsys.readouterr().out


def test_contact_placeholder_warning(tmp_path: Path) -> None:
    import os
    import subprocess

    from conftest import MEDIAWATCH

    env = {k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONTACT"}
    plain = subprocess.run([MEDIAWATCH, "sources", "check", "--sources", str(SHIPPED)],
                           capture_output=True, text=True, env=env)
    assert plain.returncode == 0 and "placeholder contact" in plain.stdout
    assert "MEDIAWATCH_CONTACT=" in plain.stdout  # how to set it
    mine = subprocess.run([MEDIAWATCH, "sources", "check", "--sources", str(SHIPPED)],
                          capture_output=True, text=True,
                          env={**env, "MEDIAWATCH_CONTACT": "mailto:desk@example.org"})
    assert mine.returncode == 0 and "placeholder" not in mine.stdout


def test_contact_reaches_the_user_agent() -> None:
    from crawler.runner import crawl_settings

    registry = load_registry(SHIPPED)
    ua = crawl_settings(registry, "x.db", [], {"MEDIAWATCH_CONTACT": "mailto:desk@example.org"})
    assert "(+mailto:desk@example.org;" in ua.get("USER_AGENT")
    assert "mediawatch-archive" in crawl_settings(registry, "x.db", [], {}).get("USER_AGENT")
