"""Tests for crawler.web.urls: cleaning, identity normalisation, article ids and host helpers."""

from __future__ import annotations

import pytest

from crawler.web.urls import (
    TRACKING_PARAMS,
    TRACKING_PREFIXES,
    article_id,
    clean_url,
    host_key,
    is_http_url,
    is_loopback,
    is_section_page,
    normalize_url,
)

pytestmark = pytest.mark.unit


def test_tracking_tables_cover_the_usual_suspects() -> None:
    for name in ("fbclid", "gclid", "yclid", "mc_cid", "mc_eid", "_ga", "igshid", "ref_src"):
        assert name in TRACKING_PARAMS
    assert "maca" in TRACKING_PARAMS  # Deutsche Welle's feed campaign tag
    assert "utm_" in TRACKING_PREFIXES and "at_" in TRACKING_PREFIXES
    # Parameters that select content must never be treated as tracking.
    for name in ("p", "page", "id", "ref", "from", "q"):
        assert name not in TRACKING_PARAMS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("http://x.am/a/1/?utm_source=tw#c", "http://x.am/a/1/"),
        ("HTTPS://WWW.Example.COM:443/Path/?b=2&utm_medium=x&a=1", "https://www.example.com/Path/?b=2&a=1"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("https://www.dw.com/en/story/a-123?maca=en-rss-en-all-1573-rdf", "https://www.dw.com/en/story/a-123"),
        ("https://bbc.co.uk/news/1?at_medium=RSS&at_campaign=KARANGA", "https://bbc.co.uk/news/1"),
        ("https://x.am/?p=294863&fbclid=IwAR0", "https://x.am/?p=294863"),
        ("https://x.am/list?page=2&gclid=abc&yclid=1&_ga=2.1&UTM_Source=y", "https://x.am/list?page=2"),
        ("https://x.am/a?q=%D5%A1&mc_cid=1&mc_eid=2", "https://x.am/a?q=%D5%A1"),
        ("  https://x.am/a  ", "https://x.am/a"),
    ],
)
def test_clean_url(raw: str, expected: str) -> None:
    assert clean_url(raw) == expected


def test_clean_url_keeps_path_case_and_param_order() -> None:
    assert clean_url("https://x.am/News/Item?z=1&a=2") == "https://x.am/News/Item?z=1&a=2"


def test_clean_url_leaves_non_http_alone_and_never_raises() -> None:
    assert clean_url("mailto:a@b.c") == "mailto:a@b.c"
    assert clean_url("http://[::1") == "http://[::1"


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("http://x.am/a/1/?utm_source=tw#c", "https://www.x.am/a/1"),
        ("https://x.am/a?b=2&a=1", "https://x.am/a?a=1&b=2"),
        ("https://x.am/a?", "https://x.am/a"),
        ("https://x.am", "https://x.am/"),
        ("https://x.am:443/a", "http://x.am:80/a"),
        ("https://x.am/%7Euser/%61", "https://x.am/~user/a"),
        ("https://x.am/a%2fb", "https://x.am/a%2Fb"),
        ("https://news.am/arm/news/ամ", "https://news.am/arm/news/%D5%A1%D5%B4"),
        ("https://x.am/a/./b/../c", "https://x.am/a/c"),
        ("https://WWW.X.AM/a", "https://x.am/a"),
    ],
)
def test_equivalent_urls_share_identity(a: str, b: str) -> None:
    assert normalize_url(a) == normalize_url(b)
    assert article_id(a) == article_id(b)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("https://x.am/?p=294863", "https://x.am/?p=294864"),
        ("https://x.am/?p=294863", "https://x.am/"),
        ("https://x.am/news/1", "https://x.am/news/2"),
        ("https://x.am/news/1", "https://x.am/sport/1"),
        ("https://x.am/list?page=2", "https://x.am/list"),
        ("https://x.am/a%2Fb", "https://x.am/a/b"),
        ("https://x.am/A", "https://x.am/a"),
        ("https://x.am/a", "https://y.am/a"),
        ("https://x.am:8443/a", "https://x.am/a"),
    ],
)
def test_different_urls_keep_different_identity(a: str, b: str) -> None:
    assert normalize_url(a) != normalize_url(b)
    assert article_id(a) != article_id(b)


def test_normalize_url_shape() -> None:
    assert normalize_url("http://www.x.am/a/1/?utm_source=tw&b=2&a=1#c") == "//x.am/a/1?a=1&b=2"
    assert normalize_url("https://x.am/") == "//x.am/"


def test_article_id_format_and_stability() -> None:
    aid = article_id("https://x.am/a/1")
    assert len(aid) == 16 and int(aid, 16) >= 0
    assert aid == article_id("https://x.am/a/1")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://WWW.Example.com/a", "example.com"),
        ("http://example.com:8080/a", "example.com:8080"),
        ("https://example.com:443/a", "example.com"),
        ("https://news.am./x", "news.am"),
        ("http://[::1]:8000/", "[::1]:8000"),
        ("example.com/path", "example.com"),
        ("http://[::1", ""),
    ],
)
def test_host_key(url: str, expected: str) -> None:
    assert host_key(url) == expected


def test_is_http_url() -> None:
    assert is_http_url("https://x.am/a")
    assert is_http_url("HTTP://x.am")
    bad_urls = ("ftp://x.am/", "javascript:alert(1)", "mailto:a@x.am", "/relative", "http://")
    for bad in (*bad_urls, "http://x.am:99999/", ""):
        assert not is_http_url(bad), bad


def test_is_loopback() -> None:
    loopbacks = ("http://127.0.0.1:8000/", "http://127.9.9.9/", "http://[::1]/")
    for url in (*loopbacks, "http://localhost:5000/x", "http://LOCALHOST/"):
        assert is_loopback(url), url
    for url in ("http://10.0.0.1/", "https://x.am/", "http://localhost.example.com/", "http://128.0.0.1/"):
        assert not is_loopback(url), url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://x.am/news/page/2/", True),
        ("https://www.x.am/news/?page=3&utm_source=x", True),
        ("https://x.am/news/7", True),
        ("https://x.am/news/?PAGEN_1=2", True),
        ("https://x.am/news/", False),
        ("https://x.am/news/250976/", False),
        ("https://x.am/news/?p=2", False),
        ("https://x.am/sport/page/2/", False),
        ("https://x.am/news/politics/page/2/", False),
        ("https://y.am/news/page/2/", False),
    ],
)
def test_is_section_page(url: str, expected: bool) -> None:
    assert is_section_page(url, "https://x.am/news/") is expected
