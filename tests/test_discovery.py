"""Tests for crawler.web.discovery and the shared date parser on inline samples and real legacy feeds."""

from __future__ import annotations

import gzip
import re
import time
from pathlib import Path

import pytest

from crawler.web.discovery import (
    MAX_XML_BYTES,
    DiscoveryError,
    Feed,
    parse_feed,
    parse_sitemap,
    robots_sitemaps,
    sniff,
)
from crawler.web.links import Link, article_links, page_links, pagination_links
from extract.dateparse import parse_date

pytestmark = pytest.mark.unit

FEEDS = Path(__file__).parent / "data" / "feeds"

# --------------------------------------------------------------------------------------------
# dates


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Mon, 12 May 2025 23:30:00 +0400", "2025-05-12T23:30:00+04:00"),
        ("Mon, 12 May 2025 23:30:00 GMT", "2025-05-12T23:30:00+00:00"),
        ("Mon, 12 May 2025 23:30:00 -0500", "2025-05-12T23:30:00-05:00"),
        ("Tue, 3 Jan 2006 19:57:00 +0300", "2006-01-03T19:57:00+03:00"),
        ("Wed, 04 Jan 2006 05:45 MSK", "2006-01-04T05:45:00+03:00"),
        ("12 May 2025 08:00 EDT", "2025-05-12T08:00:00-04:00"),
        ("Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37+00:00"),
        ("Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37+00:00"),
        ("2025-05-12T23:30:00Z", "2025-05-12T23:30:00+00:00"),
        ("2025-05-12T23:30:00+04:00", "2025-05-12T23:30:00+04:00"),
        ("2025-05-12T23:30:00.5-03:30", "2025-05-12T23:30:00-03:30"),  # fractions dropped
        ("2025-05-12T23:30+0400", "2025-05-12T23:30:00+04:00"),
        ("2025-05-12 23:30:00", "2025-05-12T23:30:00"),
        ("2025-05-12", "2025-05-12"),
        ("  2025-05-12\n", "2025-05-12"),
        ("12 мая 2025", "2025-05-12"),
        ("3 января 2024 г., 14:05", "2024-01-03T14:05:00"),
        ("12 մայիսի 2025, 10:15", "2025-05-12T10:15:00"),
        ("1 December 2024", "2024-12-01"),
    ],
)
def test_parse_date_keeps_written_offset(raw: str, expected: str) -> None:
    assert parse_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [None, "", "yesterday", "2025-13-01", "2025-02-30", "Mon, 32 May 2025 10:00:00 GMT", "2025-05"],
)
def test_parse_date_rejects_garbage(raw: str | None) -> None:
    assert parse_date(raw) is None


# --------------------------------------------------------------------------------------------
# feeds

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:atom="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/">
<channel>
  <title>Armenpress &amp;
     News</title>
  <link>https://armenpress.am/</link>
  <atom:link href="https://armenpress.am/rss" rel="self"/>
  <item>
    <title><![CDATA[Pashinyan &amp; Aliyev   meet in
      Abu Dhabi]]></title>
    <link>https://armenpress.am/en/article/1217001?utm_source=rss&amp;utm_medium=feed</link>
    <guid isPermaLink="false">1217001</guid>
    <pubDate>Mon, 12 May 2025 23:30:00 +0400</pubDate>
    <media:title>not the title</media:title>
  </item>
  <item>
    <title>Relative &#171;link&#187;</title>
    <link>/en/article/1217002</link>
    <dc:date>2025-05-12T10:00:00+04:00</dc:date>
  </item>
  <item>
    <title>Guid only</title>
    <guid>https://armenpress.am/en/article/1217003</guid>
  </item>
  <item><title>No link at all</title></item>
  <item>
    <title>Feedburner</title>
    <link>https://feeds.feedburner.com/~r/x/~3/abc/</link>
    <feedburner:origLink xmlns:feedburner="http://rssnamespace.org/feedburner/ext/1.0">https://armenpress.am/en/article/1217005</feedburner:origLink>
    <pubDate>not a date</pubDate>
  </item>
</channel>
</rss>"""


def test_rss2() -> None:
    feed = parse_feed(RSS2, "https://armenpress.am/rss")
    assert isinstance(feed, Feed) and feed.kind == "rss2"
    assert feed.title == "Armenpress & News"
    urls = [e.url for e in feed.entries]
    assert urls == [
        "https://armenpress.am/en/article/1217001?utm_source=rss&utm_medium=feed",
        "https://armenpress.am/en/article/1217002",
        "https://armenpress.am/en/article/1217003",
        "https://armenpress.am/en/article/1217005",
    ]
    first = feed.entries[0]
    assert first.title == "Pashinyan & Aliyev meet in Abu Dhabi"
    assert first.published == "2025-05-12T23:30:00+04:00"
    assert first.published_raw == "Mon, 12 May 2025 23:30:00 +0400"
    assert first.guid == "1217001"
    assert feed.entries[1].title == "Relative «link»"
    assert feed.entries[1].published == "2025-05-12T10:00:00+04:00"
    # position is the item's index in the feed, so the skipped link-less item leaves a gap.
    assert [e.position for e in feed.entries] == [0, 1, 2, 4]
    assert feed.entries[3].published is None and feed.entries[3].published_raw == "not a date"


def test_rss_with_undeclared_html_entities_keeps_ampersands() -> None:
    body = (
        b'<rss version="0.91"><channel><title>T</title><item>'
        b"<title>&laquo;Quoted&raquo;&nbsp;AT&amp;T &amp;amp; co</title>"
        b"<link>http://x.ru/news/?id=1&amp;from=rss</link></item>"
        b"<item><title>Bare & ampersand</title><link>http://x.ru/?a=1&b=2</link></item>"
        b"</channel></rss>"
    )
    feed = parse_feed(body, "http://x.ru/rss")
    assert feed.entries[0].title == "«Quoted» AT&T & co"
    assert feed.entries[0].url == "http://x.ru/news/?id=1&from=rss"
    assert feed.entries[1].title == "Bare & ampersand"
    assert feed.entries[1].url == "http://x.ru/?a=1&b=2"


RDF = """<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="https://www.dw.com/">
    <title>DW &#8212; Russian</title>
    <link>https://www.dw.com/ru</link>
  </channel>
  <item rdf:about="https://www.dw.com/ru/a-1">
    <title>Первая</title>
    <link>https://www.dw.com/ru/a-1?maca=rus-rss</link>
    <dc:date>2025-05-12T08:00:00Z</dc:date>
  </item>
  <item rdf:about="https://www.dw.com/ru/a-2">
    <title>Вторая</title>
  </item>
</rdf:RDF>""".encode()


def test_rss1_rdf() -> None:
    feed = parse_feed(RDF, "https://www.dw.com/rdf")
    assert feed.kind == "rss1"
    assert feed.title == "DW — Russian"
    assert [(e.url, e.title, e.guid) for e in feed.entries] == [
        ("https://www.dw.com/ru/a-1?maca=rus-rss", "Первая", "https://www.dw.com/ru/a-1"),
        ("https://www.dw.com/ru/a-2", "Вторая", "https://www.dw.com/ru/a-2"),
    ]
    assert feed.entries[0].published == "2025-05-12T08:00:00+00:00"


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://civilnet.am/">
  <title type="html">CivilNet &lt;b&gt;English&lt;/b&gt;</title>
  <link rel="self" href="https://civilnet.am/feed.atom"/>
  <entry>
    <title>One</title>
    <id>urn:uuid:1</id>
    <link rel="edit" href="/api/1"/>
    <link rel="enclosure" href="/audio/1.mp3"/>
    <link rel="alternate" type="text/html" href="news/2025/05/12/one/"/>
    <published>2025-05-12T09:15:00+04:00</published>
    <updated>2025-05-13T00:00:00Z</updated>
  </entry>
  <entry xml:base="https://civilnet.am/en/">
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Two <em>words</em></div></title>
    <link href="two"/>
    <updated>2025-05-11T21:00:00-07:00</updated>
  </entry>
</feed>"""


def test_atom() -> None:
    feed = parse_feed(ATOM, "https://civilnet.am/feed.atom")
    assert feed.kind == "atom"
    assert feed.title == "CivilNet English"
    one, two = feed.entries
    assert one.url == "https://civilnet.am/news/2025/05/12/one/"
    assert one.guid == "urn:uuid:1"
    assert one.published == "2025-05-12T09:15:00+04:00"
    assert two.url == "https://civilnet.am/en/two"
    assert two.title == "Two words"
    assert two.published == "2025-05-11T21:00:00-07:00"


@pytest.mark.parametrize(
    ("name", "codec", "kind", "min_entries"),
    [
        ("newsru.com.windows-1251.xml", "cp1251", "rss2", 30),
        ("newsru.com.koi8-r.xml", "koi8_r", "rss2", 30),
        ("kapranoff.ru.windows-1251.rdf", "cp1251", "rss1", 15),
        ("janulalife.blogspot.com.koi8-r.atom", "koi8_r", "atom", 7),
        ("susu.ac.ru.koi8-r.xml", "koi8_r", "rss2", 10),
        ("money.rin.ru.windows-1251.xml", "cp1251", "rss2", 15),
    ],
)
def test_real_legacy_feeds_decode_cyrillic(
    name: str, codec: str, kind: str, min_entries: int
) -> None:
    body = (FEEDS / name).read_bytes()
    # Independently decode the file to find the first item title the parser must reproduce.
    text = body.decode(codec)
    block = re.search(r"<(?:item|entry)[\s>].*?</(?:item|entry)>", text, re.S)
    assert block is not None
    title = re.search(r"<title[^>]*>(.*?)</title>", block.group(0), re.S)
    assert title is not None
    expected = " ".join(title.group(1).split())
    assert re.search("[а-яА-Я]", expected)

    feed = parse_feed(body, "http://example.ru/rss")
    assert feed.kind == kind
    assert len(feed.entries) >= min_entries
    assert feed.entries[0].title == expected
    assert all(e.url.startswith("http") for e in feed.entries)


def test_real_feed_details() -> None:
    newsru = parse_feed((FEEDS / "newsru.com.koi8-r.xml").read_bytes(), "http://www.newsru.com/")
    first = newsru.entries[0]
    assert first.url == "http://www.newsru.com/world/03jan2006/ankara.html"
    assert "Минюста" in (first.title or "")
    assert first.published == "2006-01-03T19:57:00+03:00"
    assert newsru.entries == parse_feed(
        (FEEDS / "newsru.com.windows-1251.xml").read_bytes(), "http://www.newsru.com/"
    ).entries

    money = parse_feed((FEEDS / "money.rin.ru.windows-1251.xml").read_bytes(), "http://money.rin.ru/")
    assert money.title == "Экономика и финансы"
    assert money.entries[0].url == "http://money.rin.ru/content/news/?id=106325&from=rss"

    atom = parse_feed((FEEDS / "janulalife.blogspot.com.koi8-r.atom").read_bytes(), "http://x/")
    assert atom.entries[0].url == "http://janulalife.blogspot.com/2005/11/blog-post_20.html"
    assert atom.entries[0].title == "Первый снег... в этом году"
    assert atom.entries[0].published == "2005-11-20T18:50:00+02:00"  # <issued>, Atom 0.3

    susu = parse_feed((FEEDS / "susu.ac.ru.koi8-r.xml").read_bytes(), "http://susu.ac.ru/")
    assert susu.title == "Новости ЮУрГУ"  # the channel's title, not the <image> one
    assert susu.entries[0].published == "2005-12-29T00:00:00+05:00"


def test_undeclared_legacy_encoding_falls_back_to_cp1251() -> None:
    body = "<rss><channel><item><title>Новости Еревана</title><link>http://x.ru/1</link></item></channel></rss>"
    feed = parse_feed(body.encode("cp1251"), "http://x.ru/")
    assert feed.entries[0].title == "Новости Еревана"


def test_utf16_and_bom_feeds() -> None:
    xml = '<?xml version="1.0" encoding="utf-16"?><rss><channel><item><title>Հայաստան</title><link>http://x.am/1</link></item></channel></rss>'
    assert parse_feed(xml.encode("utf-16"), "http://x.am/").entries[0].title == "Հայաստան"
    utf8 = b"\xef\xbb\xbf  \n" + xml.replace("utf-16", "utf-8").encode()
    assert parse_feed(utf8, "http://x.am/").entries[0].title == "Հայաստան"


@pytest.mark.parametrize(
    "body",
    [
        b"<!DOCTYPE html><html><head><title>Not found</title></head><body>&nbsp;404</body></html>",
        b"<html><body><p>Feed moved</p></body></html>",
        b'{"items": []}',
        b"",
        b"   ",
        b"<?xml version='1.0'?><urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'/>",
    ],
)
def test_non_feeds_raise(body: bytes) -> None:
    with pytest.raises(DiscoveryError, match="not a feed"):
        parse_feed(body, "https://x.am/rss")


def test_external_entities_are_not_resolved() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        b'<!ENTITY net SYSTEM "http://127.0.0.1:9/evil.dtd"><!ENTITY greet "hello">]>'
        b"<rss><channel><title>T &greet;</title><item><title>a &xxe; &net; b</title>"
        b"<link>http://x.am/1</link></item></channel></rss>"
    )
    feed = parse_feed(body, "http://x.am/")
    title = feed.entries[0].title or ""
    assert "root:" not in title and "&xxe;" in title
    assert feed.title == "T &greet;"  # even harmless internal entities stay unexpanded


def _laughs() -> str:
    decls = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    return f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY l0 "lol">{decls}]>'


@pytest.mark.parametrize(
    "doc",
    [
        "<rss><channel><title>t &l9;</title><item><link>http://x.am/1</link></item></channel></rss>",
        '<rss a="&l9;"><channel><item><link>http://x.am/1</link></item></channel></rss>',
    ],
)
def test_billion_laughs_is_refused_quickly(doc: str) -> None:
    started = time.monotonic()
    with pytest.raises(DiscoveryError):
        parse_feed((_laughs() + doc).encode(), "http://x.am/")
    assert time.monotonic() - started < 2


def test_ten_thousand_item_feed() -> None:
    items = "".join(
        f"<item><title>Item {i}</title><link>https://x.am/news/{i}</link>"
        f"<pubDate>Mon, 12 May 2025 10:{i % 60:02d}:00 +0400</pubDate></item>"
        for i in range(10_000)
    )
    body = f"<rss version='2.0'><channel><title>Big</title>{items}</channel></rss>".encode()
    feed = parse_feed(body, "https://x.am/rss")
    assert len(feed.entries) == 10_000
    assert feed.entries[-1].url == "https://x.am/news/9999"
    assert feed.entries[-1].position == 9999
    assert feed.entries[-1].published == "2025-05-12T10:39:00+04:00"


def test_gzipped_feed_is_accepted() -> None:
    assert parse_feed(gzip.compress(RSS2), "https://armenpress.am/rss.gz").kind == "rss2"


# --------------------------------------------------------------------------------------------
# sitemaps

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc> https://x.am/a/1 </loc>
    <lastmod>2025-05-12T10:00:00+04:00</lastmod>
    <image:image><image:loc>https://x.am/img/1.jpg</image:loc></image:image>
  </url>
  <url><loc>https://x.am/a/2?x=1&amp;y=2</loc><lastmod>2025-05-11</lastmod></url>
  <url><loc>/relative/3</loc></url>
  <url><loc>ftp://x.am/nope</loc></url>
  <url><lastmod>2025-05-11</lastmod></url>
</urlset>"""

NEWS = """<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
  <url>
    <loc>https://ru.armenpress.am/news/1217001/</loc>
    <news:news>
      <news:publication><news:name>Арменпресс</news:name><news:language>ru</news:language></news:publication>
      <news:publication_date>2025-05-12T23:30:00+04:00</news:publication_date>
      <news:title>Пашинян  и Алиев &amp;amp; встреча</news:title>
    </news:news>
  </url>
</urlset>""".encode()

INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://x.am/sitemap-2025-05.xml.gz</loc><lastmod>2025-05-12T00:00:00Z</lastmod></sitemap>
  <sitemap><loc>https://x.am/sitemap-news.xml</loc></sitemap>
</sitemapindex>"""


def test_urlset() -> None:
    sitemap = parse_sitemap(URLSET, "https://x.am/sitemap.xml")
    assert sitemap.kind == "urlset"
    assert [e.loc for e in sitemap.entries] == [
        "https://x.am/a/1", "https://x.am/a/2?x=1&y=2", "https://x.am/relative/3",
    ]
    assert sitemap.entries[0].lastmod == "2025-05-12T10:00:00+04:00"
    assert sitemap.entries[1].lastmod == "2025-05-11"
    assert sitemap.entries[0].news_title is None


def test_news_sitemap_keeps_news_fields() -> None:
    (entry,) = parse_sitemap(NEWS, "https://ru.armenpress.am/sitemap-news.xml").entries
    assert entry.loc == "https://ru.armenpress.am/news/1217001/"
    assert entry.news_publication_date == "2025-05-12T23:30:00+04:00"
    assert entry.news_title == "Пашинян и Алиев & встреча"
    assert entry.news_language == "ru"
    assert entry.lastmod is None


def test_sitemap_index_and_gzip_by_magic_bytes() -> None:
    sitemap = parse_sitemap(gzip.compress(INDEX), "https://x.am/sitemap_index.xml")  # no .gz name
    assert sitemap.kind == "sitemapindex"
    assert [e.loc for e in sitemap.entries] == [
        "https://x.am/sitemap-2025-05.xml.gz", "https://x.am/sitemap-news.xml",
    ]
    assert sitemap.entries[0].lastmod == "2025-05-12T00:00:00+00:00"
    assert parse_sitemap(gzip.compress(URLSET), "https://x.am/s.xml.gz").entries[0].loc == "https://x.am/a/1"


def test_sitemap_without_namespace() -> None:
    body = b"<urlset><url><loc>https://x.am/1</loc></url></urlset>"
    assert parse_sitemap(body, "https://x.am/s.xml").entries[0].loc == "https://x.am/1"


def test_gzip_bomb_is_capped() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_XML_BYTES + 1024), compresslevel=9)
    assert len(bomb) < 200_000
    with pytest.raises(DiscoveryError, match="too large"):
        parse_sitemap(bomb, "https://x.am/sitemap.xml.gz")
    with pytest.raises(DiscoveryError, match="too large"):
        parse_feed(bomb, "https://x.am/rss")
    assert sniff(bomb) == "sitemap"  # sniffing only inflates the head


def test_corrupt_gzip_and_non_sitemaps_raise() -> None:
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"\x1f\x8b\x08\x00garbage", "https://x.am/s.xml.gz")
    with pytest.raises(DiscoveryError, match="not a sitemap"):
        parse_sitemap(RSS2, "https://x.am/s.xml")
    with pytest.raises(DiscoveryError, match="not a sitemap"):
        parse_sitemap(b"<html><body>hi</body></html>", "https://x.am/s.xml")


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (RSS2, "feed"),
        (RDF, "feed"),
        (ATOM, "feed"),
        (b"\xef\xbb\xbf\n<?xml version='1.0'?>\n<!-- c --><?xml-stylesheet href='a'?><rss/>",
         "feed"),
        (URLSET, "sitemap"),
        (gzip.compress(INDEX), "sitemap"),
        (b"<!DOCTYPE html>\n<html lang='hy'>", "html"),
        (b"\n\n<html><head>", "html"),
        (b'<?xml version="1.0"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0//EN" "x"><html>',
         "html"),
        (b'{"a": 1}', "other"),
        (b"https://x.am/1\nhttps://x.am/2\n", "other"),
        (b"", "other"),
        ("<rss/>".encode("utf-16"), "feed"),
    ],
)
def test_sniff(body: bytes, kind: str) -> None:
    assert sniff(body) == kind


def test_robots_sitemaps() -> None:
    robots = (
        "\ufeffUser-agent: *\nDisallow: /admin\n"
        "Sitemap: https://x.am/sitemap.xml\r\n"
        "sitemap:/news-sitemap.xml   # relative, comment\n"
        "  SITEMAP :  https://x.am/sitemap.xml\n"
        "Sitemap: ftp://x.am/no.xml\n"
        "# Sitemap: https://x.am/commented.xml\n"
    )
    expected = ["https://x.am/sitemap.xml", "https://x.am/news-sitemap.xml"]
    assert robots_sitemaps(robots, "https://x.am/robots.txt") == expected
    assert robots_sitemaps(robots.encode("utf-8"), "https://x.am/robots.txt") == expected
    assert robots_sitemaps("User-agent: *\n", "https://x.am/robots.txt") == []


# --------------------------------------------------------------------------------------------
# HTML links and pagination

PAGE = """<!DOCTYPE html><html><head>
<meta charset="utf-8">
<link rel="canonical" href="https://x.am/news/">
<link rel="next" href="/news/page/2/">
<link rel="stylesheet" href="/static/site.css">
</head><body>
<a href="/news/2025/05/12/first/">  First
   story </a>
<a href="/news/2025/05/12/first/#comments">Comments</a>
<a href="https://x.am/news/2025/05/12/second/?utm_source=x"><img alt="Second"></a>
<a href="javascript:void(0)">js</a><a href="mailto:ed@x.am">mail</a><a href="#top">top</a>
<a href="tel:+374">call</a><a href="">empty</a>
<a href="//cdn.x.am/file.pdf">pdf</a>
<a href="https://x.am/?p=294863">WordPress article</a>
<a href="/news/page/2/">2</a>
<a title="Next page" href="/news/page/3/"></a>
</body></html>"""


def test_page_links() -> None:
    links = page_links(PAGE.encode(), "https://x.am/news/")
    urls = [link.url for link in links]
    assert urls == [
        "https://x.am/news/",
        "https://x.am/news/page/2/",
        "https://x.am/static/site.css",
        "https://x.am/news/2025/05/12/first/",
        "https://x.am/news/2025/05/12/second/?utm_source=x",
        "https://cdn.x.am/file.pdf",
        "https://x.am/?p=294863",
        "https://x.am/news/page/3/",
    ]
    by_url = {link.url: link for link in links}
    assert by_url["https://x.am/news/2025/05/12/first/"].text == "First story"
    # The anchor and the <link rel=next> collapse into one Link that keeps both signals.
    assert by_url["https://x.am/news/page/2/"] == Link("https://x.am/news/page/2/", "2", "next")
    assert by_url["https://x.am/news/page/3/"].text == "Next page"
    assert by_url["https://x.am/news/"].rel == "canonical"


def test_page_links_honours_base_and_encodings() -> None:
    html = (
        '<html><head><base href="https://mirror.x.am/ru/"></head>'
        '<body><a href="a/1">Статья</a></body></html>'
    )
    (link,) = page_links(html, "https://x.am/")
    assert link.url == "https://mirror.x.am/ru/a/1" and link.text == "Статья"
    legacy = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
        '</head><body><a href="/1">Новости</a></body></html>'
    ).encode("cp1251")
    assert page_links(legacy, "http://x.ru/")[0].text == "Новости"
    xhtml = '<?xml version="1.0" encoding="utf-8"?><html><body><a href="/x">x</a></body></html>'
    assert page_links(xhtml, "http://x.ru/")[0].url == "http://x.ru/x"


@pytest.mark.parametrize(
    "junk",
    [b"", b"   ", b"\x00\x01\x02", "<a href='http://[::1'>x</a>", b"<<<>>>", b"\xff\xfe\x00"],
)
def test_page_links_never_raises(junk: bytes | str) -> None:
    assert isinstance(page_links(junk, "https://x.am/"), list)


def test_article_links() -> None:
    links = page_links(PAGE, "https://x.am/news/")
    assert article_links(links, re.compile(r"/news/\d{4}/\d{2}/\d{2}/")) == [
        "https://x.am/news/2025/05/12/first/",
        "https://x.am/news/2025/05/12/second/?utm_source=x",
    ]
    assert article_links(links, re.compile(r"[?&]p=\d+")) == ["https://x.am/?p=294863"]
    assert article_links(links, None) == []


def _links(*urls: str, rel: str = "") -> list[Link]:
    return [Link(u, "", rel) for u in urls]


def test_pagination_rel_next_and_wordpress_paths() -> None:
    links = page_links(PAGE, "https://x.am/news/")
    assert pagination_links(links, "https://x.am/news/", "https://x.am/news/") == [
        "https://x.am/news/page/2/",
        "https://x.am/news/page/3/",
    ]


def test_pagination_patterns() -> None:
    section = "https://www.x.am/news/"
    links = _links(
        "https://x.am/news/?page=2",
        "https://x.am/news?PAGEN_1=3",
        "https://x.am/news/page-4",
        "https://x.am/news/5/",
        "https://x.am/news/page/6/?utm_source=x",
        "https://x.am/news/",  # the section itself
        "https://x.am/sport/page/2/",  # another section
        "https://x.am/sport/?page=2",
        "https://x.am/?p=294863",  # WordPress article id
        "https://x.am/news/?p=2",  # ?p= is not pagination unless the section uses it
        "https://x.am/news/250976/",  # numeric article id, not a page number
        "https://x.am/news/2021/",  # year archive
        "https://x.am/news/politics/?page=2",  # subsection
        "https://other.am/news/page/2/",
        "https://x.am/news/?page=two",
    )
    assert pagination_links(links, section, section) == [
        "https://x.am/news/?page=2",
        "https://x.am/news?PAGEN_1=3",
        "https://x.am/news/page-4",
        "https://x.am/news/5/",
        "https://x.am/news/page/6/?utm_source=x",
    ]


def test_pagination_query_p_only_when_section_uses_it() -> None:
    section = "https://x.am/archive?p=1"
    links = _links("https://x.am/archive?p=2", "https://x.am/?p=294863", "https://x.am/archive?p=1")
    assert pagination_links(links, section, section) == ["https://x.am/archive?p=2"]
    root = "https://x.am/"
    links = _links("https://x.am/?p=294863", "https://x.am/?paged=2")
    assert pagination_links(links, root, root) == ["https://x.am/?paged=2"]


def test_pagination_keeps_section_filters_and_skips_current_page() -> None:
    section = "https://x.am/search?q=armenia"
    links = _links(
        "https://x.am/search?q=armenia&page=2",
        "https://x.am/search?q=russia&page=2",
        "https://x.am/search?page=3",
    )
    assert pagination_links(links, section, section) == ["https://x.am/search?q=armenia&page=2"]
    page2 = "https://x.am/news/page/2/"
    links = _links("https://x.am/news/page/2/", "https://x.am/news/page/3/", "https://x.am/news/")
    assert pagination_links(links, page2, "https://x.am/news/") == ["https://x.am/news/page/3/"]


def test_pagination_rel_next_must_stay_on_host() -> None:
    page = "https://x.am/tag/politics"
    links = _links("https://x.am/tag/politics?after=abc", "https://evil.example/next", rel="next")
    assert pagination_links(links, page, "https://x.am/news/") == ["https://x.am/tag/politics?after=abc"]
