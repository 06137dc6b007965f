"""The offline fixture web: discovery endpoints, hazards, validators, epochs, sources.toml."""

from __future__ import annotations

import gzip
import html
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
import urllib.robotparser
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from http.client import HTTPConnection, HTTPResponse, IncompleteRead
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from demoweb import FixtureWeb
from demoweb.model import SITES_DIR

pytestmark = pytest.mark.e2e

SEED = "/tms/?p=294863"
SEED_SLUG = "/tms/2025/05/putin-and-pashinyan-a-tumultuous-alliance-marked-by-risk-and-paradox/"
EDITED = "/en/news/1222/armenia-russia-trade-record-re-exports/"
REMOVED = "/obschestvo/23071822"
GONE = "/news/2024/05/14/emigrantskiy-teatr-v-berline"
ADDED = "/en/news/1240/pashinyan-and-putin-discuss-gas-prices-by-phone/"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Surface 3xx responses instead of following them."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_RAW = urllib.request.build_opener(_NoRedirect)


def fetch(
    url: str, headers: dict[str, str] | None = None, follow: bool = True, method: str = "GET"
) -> tuple[int, dict[str, str], bytes, str]:
    """(status, headers, body, final url) without raising on HTTP errors."""
    req = urllib.request.Request(url, headers=headers or {}, method=method)
    opener = urllib.request.build_opener() if follow else _RAW
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers.items()), r.read(), r.url
    except urllib.error.HTTPError as e:
        with e:  # an HTTPError holds the response open
            return e.code, dict(e.headers.items()), e.read(), url


@pytest.fixture(scope="module")
def web() -> Iterator[FixtureWeb]:
    """One running fixture web for the module (epoch reset after each epoch test)."""
    with FixtureWeb() as w:
        yield w


def u(web: FixtureWeb, outlet: str, path: str) -> str:
    """Absolute URL on an outlet."""
    return web.url(outlet, path)


def test_each_outlet_has_its_own_loopback_ip(web: FixtureWeb) -> None:
    hosts = [urlsplit(b).hostname for b in web.base_urls.values()]
    assert set(web.base_urls) >= {"tms", "armnews", "rusagency", "hynews", "exile"}
    assert len(set(hosts)) == len(hosts)
    assert all(h and h.startswith("127.0.0.") and h != "127.0.0.1" for h in hosts)


def test_robots(web: FixtureWeb) -> None:
    for oid in web.base_urls:
        status, headers, body, _ = fetch(u(web, oid, "/robots.txt"))
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
    rp = urllib.robotparser.RobotFileParser(u(web, "armnews", "/robots.txt"))
    rp.read()
    assert not rp.can_fetch("mediawatch", u(web, "armnews", "/private/drafts/"))
    assert rp.can_fetch("mediawatch", u(web, "armnews", "/en/politics/"))
    robots = fetch(u(web, "rusagency", "/robots.txt"))[2].decode()
    assert "Disallow: /search" in robots
    assert "Crawl-delay: 1" in fetch(u(web, "exile", "/robots.txt"))[2].decode()
    hy = fetch(u(web, "hynews", "/robots.txt"))[2].decode()
    assert f"Sitemap: {u(web, 'hynews', '/sitemap-arm-news.xml')}" in hy


def test_feeds_parse_and_cp1251_decodes_to_cyrillic(web: FixtureWeb, tmp_path: Path) -> None:
    sources = tomllib.loads(web.write_sources(tmp_path / "s.toml").read_text("utf-8"))
    for src in sources["source"]:
        for feed in src["feeds"]:
            status, headers, body, _ = fetch(feed)
            assert status == 200 and "xml" in headers["Content-Type"], feed
            root = ET.fromstring(body)
            assert root.tag in ("rss", "{http://www.w3.org/2005/Atom}feed")
    status, headers, body, _ = fetch(u(web, "rusagency", "/rss/v2.xml"))
    assert "charset=windows-1251" in headers["Content-Type"]
    assert body.startswith(b'<?xml version="1.0" encoding="windows-1251"?>')
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    titles = [t.text or "" for t in ET.fromstring(body).iter("title")]
    assert any("Пашинян" in t for t in titles)


def test_gzipped_child_sitemap_has_news_fields(web: FixtureWeb) -> None:
    index = ET.fromstring(fetch(u(web, "rusagency", "/sitemap.xml"))[2])
    child = next(loc.text for loc in index.iter(f"{SM}loc") if loc.text)
    assert child.endswith(".xml.gz")
    status, headers, body, _ = fetch(child, {"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Type"] == "application/gzip"
    assert "Content-Encoding" not in headers
    urlset = ET.fromstring(gzip.decompress(body))
    dates = [d.text for d in urlset.iter(f"{NEWS}publication_date")]
    titles = [t.text or "" for t in urlset.iter(f"{NEWS}title")]
    assert dates and len(dates) == len(titles)
    assert any("Зангезурском" in t for t in titles)


def test_seed_page(web: FixtureWeb) -> None:
    status, headers, body, _ = fetch(u(web, "tms", SEED))
    html = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "<title>Putin and Pashinyan: A Tumultuous Alliance Marked by Risk and Paradox" in html
    assert '<link rel="canonical" href="https://www.transcend.org/tms/?p=294863">' in html
    assert 'content="2025-05-12T06:00:00+00:00"' in html  # article:published_time
    assert '"datePublished": "2025-05-12T06:00:00+00:00"' in html
    assert "Diran Noubar – TRANSCEND Media Service" in html and "12 May 2025" in html
    assert "https://creativecommons.org/licenses/by-nc/4.0/" in html
    assert "March 29, 2025" in html and '<html lang="en"' in html
    assert "wearemenia.org" in html and "Join the discussion!" in html


def test_redirects(web: FixtureWeb) -> None:
    status, headers, _, _ = fetch(u(web, "tms", SEED_SLUG), follow=False)
    assert status == 301 and headers["Location"] == u(web, "tms", SEED)
    status, headers, _, _ = fetch(u(web, "armnews", "/news/1001.html"), follow=False)
    assert status == 301
    status, headers2, _, _ = fetch(headers["Location"], follow=False)
    assert status == 301
    status, _, body, final = fetch(u(web, "armnews", "/news/1001.html"))
    assert status == 200 and final == headers2["Location"]
    assert b"Russian peacekeepers" in body


def test_errors_are_linked_from_discovery(web: FixtureWeb) -> None:
    feed = fetch(u(web, "armnews", "/en/feed/"))[2].decode()
    dead = "/en/news/1231/armenian-delegation-heads-to-moscow/"
    assert dead in feed and fetch(u(web, "armnews", dead))[0] == 404
    section = fetch(u(web, "rusagency", "/politika/"))[2].decode()
    assert 'href="/politika/19999999"' in section
    assert fetch(u(web, "rusagency", "/politika/19999999"))[0] == 500
    assert 'href="/private/drafts/"' in fetch(u(web, "armnews", "/en/politics/"))[2].decode()


def test_conditional_requests(web: FixtureWeb) -> None:
    url = u(web, "armnews", "/en/news/1203/russian-border-guards-leave-zvartnots/")
    status, headers, body, _ = fetch(url)
    assert status == 200 and int(headers["Content-Length"]) == len(body)
    etag, lm = headers["ETag"], headers["Last-Modified"]
    assert lm == "Thu, 01 Aug 2024 12:45:00 GMT"
    web.clear_requests()
    assert fetch(url, {"If-None-Match": etag})[0] == 304
    assert fetch(url, {"If-Modified-Since": lm})[0] == 304
    assert fetch(url, {"If-Modified-Since": "Mon, 01 Jan 2024 00:00:00 GMT"})[0] == 200
    assert fetch(url, {"If-None-Match": '"other"'})[0] == 200
    assert [r.status for r in web.requests] == [304, 304, 200, 200]
    feed = fetch(u(web, "tms", "/tms/feed/"))[1]
    assert fetch(u(web, "tms", "/tms/feed/"), {"If-None-Match": feed["ETag"]})[0] == 304


def test_gzip_and_head(web: FixtureWeb) -> None:
    url = u(web, "hynews", "/arm/news/742310.html")
    plain = fetch(url)[2]
    status, headers, body, _ = fetch(url, {"Accept-Encoding": "gzip"})
    assert headers["Content-Encoding"] == "gzip" and gzip.decompress(body) == plain
    status, headers, body, _ = fetch(url, method="HEAD")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) == len(plain)


def test_legacy_encodings(web: FixtureWeb) -> None:
    status, headers, body, _ = fetch(u(web, "rusagency", "/politika/9954120"))
    assert headers["Content-Type"] == "text/html"
    assert b'<meta charset="windows-1251">' in body
    assert "российские миротворцы" in body.decode("cp1251").lower()
    status, headers, body, _ = fetch(u(web, "rusagency", "/politika/20870215"))
    assert headers["Content-Type"] == "text/html; charset=koi8-r"
    assert b"<meta charset" not in body and "Звартноц" in body.decode("koi8-r")


def test_other_hazards(web: FixtureWeb) -> None:
    feed = fetch(u(web, "armnews", "/en/feed/"))[2].decode()
    clean = "/en/news/1187/armenia-freezes-csto-participation/"
    assert f"{clean}?utm_source=rss&amp;utm_medium=feed" in feed
    assert f'href="{clean}"' in fetch(u(web, "armnews", "/en/politics/"))[2].decode()
    assert (
        fetch(u(web, "armnews", clean + "?utm_source=rss&utm_medium=feed"))[2]
        == fetch(u(web, "armnews", clean))[2]
    )
    status, _, body, _ = fetch(u(web, "armnews", clean.rstrip("/")))
    assert status == 200 and f'rel="canonical" href="{u(web, "armnews", clean)}"'.encode() in body
    status, headers, body, _ = fetch(u(web, "armnews", "/en/news/1188/csto-background-note/"))
    assert headers["Content-Type"] == "application/pdf" and body.startswith(b"%PDF-")
    politics = fetch(u(web, "armnews", "/en/politics/"))[2].decode()
    assert '<link rel="next" href="' + u(web, "armnews", "/en/politics/page/2/") in politics
    assert b'rel="prev"' in fetch(u(web, "armnews", "/en/politics/page/2/"))[2]
    assert fetch(u(web, "armnews", "/en/politics/page/3/"))[0] == 404
    reprint = fetch(u(web, "tms", "/tms/?p=287410"))[2].decode()
    assert f'rel="canonical" href="{u(web, "armnews", "/en/news/1203/")}' in reprint
    malformed = fetch(u(web, "hynews", "/arm/news/719077.html"))[2].decode()
    assert malformed.count("<p>") > malformed.count("</p>")
    assert "Գլխավոր լուրեր" in malformed and "Տեսանյութեր" in malformed


def test_sources_toml(web: FixtureWeb, tmp_path: Path) -> None:
    data = tomllib.loads(web.write_sources(tmp_path / "sources.toml").read_text("utf-8"))
    assert data["topic"]["id"] == "am-ru" and "Ռուս*" in data["topic"]["require"][1]
    by_id = {s["id"]: s for s in data["source"]}
    assert by_id["tms"]["licence"] == "CC BY-NC 4.0" and by_id["tms"]["public_full_text"]
    assert by_id["tms"]["kind"] == "peace journalism / NGO"
    assert by_id["hynews"]["sitemaps"] == ["robots"]
    assert by_id["tms"]["urls"][0] == u(web, "tms", SEED)
    for src in by_id.values():
        assert src["download_delay"] == 0 and src["concurrency"] == 2
        assert src["enabled"] is True and src["verified_live"] is False
        assert len(src["country"]) == 2 and src["homepage"].startswith("http://127.0.0.")
        for url in (
            src["feeds"] + src["sitemaps"] + src["sections"] + src["urls"] + [src["homepage"]]
        ):
            if url != "robots":
                assert fetch(url)[0] == 200, url
        for url in src["urls"]:
            assert re.search(src["article_url_pattern"], url), url


def test_every_article_reachable_and_counts(web: FixtureWeb) -> None:
    arts = [a for a in web.expected_articles(0) if a.status == 200]
    patterns = {oid: s.outlet.conf["source"]["article_url_pattern"] for oid, s in web.sites.items()}
    for a in arts:
        status, _, body, _ = fetch(a.url)
        assert status == 200, a.url
        word = a.title.split()[0]
        assert word in body.decode(a.encoding) or html.escape(word) in body.decode(), a.url
        assert re.search(patterns[a.outlet], a.url), a.url
    on = [a for a in arts if a.on_topic and not a.url.endswith(SEED)]
    assert len(on) >= 18
    assert sum(a.language == "ru" for a in on) >= 4 and sum(a.language == "hy" for a in on) >= 4
    assert len([a for a in arts if not a.on_topic]) >= 5
    live = u(web, "exile", "/news/2023/09/19/karabakh-live")
    assert re.search(patterns["exile"], live) and fetch(live)[0] == 200


def test_request_log(web: FixtureWeb) -> None:
    web.clear_requests()
    fetch(u(web, "exile", "/rss/all.atom"), {"User-Agent": "mediawatch-test"})
    (rec,) = web.requests
    assert (rec.outlet, rec.method, rec.path, rec.status) == ("exile", "GET", "/rss/all.atom", 200)
    assert rec.headers["User-Agent"] == "mediawatch-test" and rec.host in web.base_urls["exile"]


def test_epochs(web: FixtureWeb) -> None:
    try:
        web.set_epoch(1)
        html = fetch(u(web, "armnews", EDITED))[2].decode()
        assert "as re-exports face scrutiny" in html and "Update (February 17, 2025)" in html
        assert fetch(u(web, "rusagency", REMOVED))[0] == 404
        assert fetch(u(web, "exile", GONE))[0] == 410
        assert fetch(u(web, "armnews", ADDED))[0] == 200
        assert REMOVED.encode() not in fetch(u(web, "rusagency", "/rss/v2.xml"))[2]
    finally:
        web.set_epoch(0)
    html = fetch(u(web, "armnews", EDITED))[2].decode()
    assert "face scrutiny" not in html and "Update" not in html
    assert fetch(u(web, "rusagency", REMOVED))[0] == 200
    assert fetch(u(web, "exile", GONE))[0] == 200
    assert fetch(u(web, "armnews", ADDED))[0] == 404


def test_links_stay_inside_the_web(web: FixtureWeb) -> None:
    """Crawl everything: each link is a loopback outlet or an explicit external host."""
    bases = set(web.base_urls.values())
    hostile = {web.base_urls[o] for o in web.sites if web.is_hostile(o)}
    planted = {h.url for h in web.hazards()}
    tame = [o for o in web.sites if not web.is_hostile(o)]  # hazards has its own tests
    todo = [web.base_urls[o] + "/robots.txt" for o in tame] + [
        web.base_urls[o] + web.sites[o].outlet.conf["source"]["homepage"] for o in tame
    ]
    seen: dict[str, int] = {}
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        status, headers, body, _ = fetch(url, follow=False)
        seen[url] = status
        ctype = headers.get("Content-Type", "")
        if status in (301, 302):
            todo.append(urljoin(url, headers["Location"]))
        if ctype == "application/gzip":
            body = gzip.decompress(body)
        if "pdf" in ctype:
            continue
        text = body.decode("latin-1")  # links are ASCII; the body charset does not matter
        links = re.findall(r'(?:href|src|action)="([^"]*)"', text)
        links += re.findall(r"<(?:loc|link)>([^<]+)</", text)
        links += re.findall(r"^Sitemap: (\S+)", text, re.M)
        for link in links:
            target = urljoin(url, link.replace("&amp;", "&")).split("#")[0]
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https"):
                continue  # javascript: probes and the like lead nowhere
            if f"{parts.scheme}://{parts.netloc}" in bases:
                assert f"{parts.scheme}://{parts.netloc}" not in hostile, (url, link)
                todo.append(target)
            else:
                assert parts.hostname in web.external_hosts, (url, link)
    bad = {
        k: v
        for k, v in seen.items()
        if v not in (200, 301, 302) and k.split("?utm_")[0] not in planted
    }
    assert not bad, bad
    assert len([s for s in seen.values() if s == 200]) > 60


def test_data_driven_route_kinds(tmp_path: Path) -> None:
    """slow, reset, status (429 + Retry-After) and redirect loops come from site.toml alone."""
    sites = tmp_path / "sites"
    shutil.copytree(SITES_DIR, sites)
    with (sites / "exile" / "site.toml").open("a", encoding="utf-8") as fh:
        fh.write(
            '\n[[routes]]\npath = "/t/slow"\nkind = "slow"\nbody = "abcdefgh"\n'
            "chunk = 2\ndelay = 0.05\n"
            '\n[[routes]]\npath = "/t/reset"\nkind = "reset"\n'
            '\n[[routes]]\npath = "/t/busy"\nkind = "status"\nstatus = 429\n'
            'headers = { "Retry-After" = "7" }\n'
            '\n[[routes]]\npath = "/t/a"\nkind = "redirect"\nlocation = "/t/b"\n'
            '\n[[routes]]\npath = "/t/b"\nkind = "redirect"\nlocation = "/t/a"\n'
        )
    with FixtureWeb(sites_dir=sites, first_host=40) as w:
        assert fetch(u(w, "exile", "/t/slow"))[2] == b"abcdefgh"
        with pytest.raises((ConnectionError, urllib.error.URLError, OSError)), \
                urllib.request.urlopen(u(w, "exile", "/t/reset"), timeout=5) as broken:
            broken.read()  # the server resets the connection mid-body
        status, headers, _, _ = fetch(u(w, "exile", "/t/busy"))
        assert status == 429 and headers["Retry-After"] == "7"
        status, headers, _, _ = fetch(u(w, "exile", "/t/a"), follow=False)
        assert status == 301 and headers["Location"].endswith("/t/b")


def test_python_m_demoweb(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "demoweb", "--write-sources", str(tmp_path / "s.toml")],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("serving"):
                break
        url = next(line.split()[1] for line in lines if line.startswith("tms "))
        assert fetch(url)[0] == 200
        assert tomllib.loads((tmp_path / "s.toml").read_text("utf-8"))["source"]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 0 and "stopped" in out


def test_topic_labels_agree_with_the_topic_table(web: FixtureWeb) -> None:
    """`topic = "on"` in the data iff the text matches both [topic] term groups."""
    groups = tomllib.loads(web.conf["topic_toml"])["topic"]["require"]

    def hits(words: set[str], terms: list[str]) -> bool:
        for term in terms:
            t = term.lower()
            if any(w.startswith(t[:-1]) if t.endswith("*") else w == t for w in words):
                return True
        return False

    for site in web.sites.values():
        for art in site.outlet.articles:
            text = " ".join([art.meta["title"], art.meta.get("lead", ""), art.body])
            words = {w.lower() for w in re.findall(r"\w+", re.sub(r"<[^>]+>", " ", text))}
            matched = all(hits(words, g) for g in groups)
            assert matched == art.on_topic, (site.outlet.id, art.key)


# -- the hostile `hazards` outlet (crawled by tests/test_hostile.py) --------------------

H = "hazards"
MIB = 1 << 20


def stream(web: FixtureWeb, path: str, within: float = 30) -> tuple[HTTPResponse, int, bytes]:
    """(response, body bytes read within `within` s, last block): never holds the whole body."""
    conn = HTTPConnection(urlsplit(web.base_urls[H]).netloc, timeout=10)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        total, last, deadline = 0, b"", time.monotonic() + within
        while time.monotonic() < deadline and (block := resp.read1(MIB)):
            total, last = total + len(block), block
        resp.close()
    finally:
        conn.close()  # also when the server breaks the connection mid-body
    return resp, total, last


def test_hazards_outlet_is_opt_in(web: FixtureWeb, tmp_path: Path) -> None:
    default = web.write_sources(tmp_path / "a.toml").read_text("utf-8")
    tame = ["tms", "armnews", "rusagency", "hynews", "exile"]
    assert [s["id"] for s in tomllib.loads(default)["source"]] == tame
    assert "max_requests" not in default and H not in default
    full = tomllib.loads(web.write_sources(tmp_path / "b.toml", include_hazards=True).read_text())
    by_id = {s["id"]: s for s in full["source"]}
    assert list(by_id) == [*tame, H]
    assert [by_id[o] for o in tame] == tomllib.loads(default)["source"]
    hz = by_id[H]
    assert (hz["download_delay"], hz["concurrency"], hz["max_requests"], hz["enabled"]) == (
        0,
        4,
        150,
        True,
    )
    hosts = {urlsplit(b).hostname for o, b in web.base_urls.items() if o != H}
    assert urlsplit(hz["homepage"]).hostname not in hosts
    assert all(re.search(hz["article_url_pattern"], url) for url in hz["urls"])
    assert H not in {a.outlet for a in web.expected_articles(0)}
    assert H in {a.outlet for a in web.expected_articles(0, include_hazards=True)}
    # Every planted trap is on a discovery path (seed, feed, sitemap, section) or the home page.
    listed = set(hz["urls"] + hz["feeds"] + hz["sitemaps"] + hz["sections"])
    planted = [h for h in web.hazards() if h.outlet == H]
    assert len({h.name for h in planted}) >= 24
    linked = (
        fetch(hz["homepage"])[2].decode()
        + fetch(u(web, H, "/hazards/news/moved-here/"))[2].decode()
    )
    for h in planted:
        path = urlsplit(h.url).path
        assert h.url.split("#")[0].split("?")[0] in listed or path in linked, h


def test_gzip_bomb_inflates_past_a_gigabyte(web: FixtureWeb) -> None:
    status, headers, body, _ = fetch(u(web, H, "/hazards/news/gzip-bomb/"))  # no gzip asked
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert int(headers["Content-Length"]) == len(body) < 2 * MIB
    inflater, data, total = zlib.decompressobj(wbits=31), body, 0
    while data:
        out = inflater.decompress(data, 16 * MIB)  # bounded memory, like a careful client
        assert not out.strip(b"\0")
        total, data = total + len(out), inflater.unconsumed_tail
    assert inflater.eof and total + len(inflater.flush()) == 1024 * MIB >= 10**9


def test_oversize_pages_stream_twelve_mebibytes(web: FixtureWeb) -> None:
    resp, total, last = stream(web, "/hazards/news/oversize/")
    assert resp.status == 200 and int(resp.headers["Content-Length"]) == total == 12 * MIB
    resp, total, last = stream(web, "/hazards/news/oversize-chunked/")
    assert resp.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in resp.headers
    assert total == 12 * MIB and last.endswith(b"</html>\n")


def test_reset_mid_body_and_slow_drip(web: FixtureWeb) -> None:
    with pytest.raises((ConnectionError, IncompleteRead)):
        stream(web, "/hazards/news/connection-reset/")
    resp, got, _ = stream(web, "/hazards/news/slow-drip/", within=2)  # a 2 s download timeout
    assert resp.status == 200 and 0 < got < int(resp.headers["Content-Length"]) // 4


def test_throttled_routes_serve_after_retry_after(web: FixtureWeb) -> None:
    busy, unavailable = u(web, H, "/hazards/news/busy/"), u(web, H, "/hazards/news/unavailable/")
    status, headers, _, _ = fetch(busy)
    opened = time.time()
    assert (status, headers["Retry-After"]) == (429, "2")
    status, headers, _, _ = fetch(unavailable)
    deadline = parsedate_to_datetime(headers["Retry-After"]).timestamp()
    assert status == 503 and 1.5 <= deadline - time.time() <= 3.5
    assert fetch(busy)[0] == 429  # still inside the window
    time.sleep(max(opened + 2, deadline) - time.time() + 0.05)
    status, _, body, _ = fetch(busy)
    assert status == 200 and f'rel="canonical" href="{busy}"'.encode() in body
    assert fetch(unavailable)[0] == 200
    assert fetch(busy)[0] == 429  # serving closed the window: the next crawl meets it again


def test_unbounded_families_feed_trap_and_self_index(web: FixtureWeb) -> None:
    items = ET.fromstring(fetch(u(web, H, "/hazards/feed/firehose.xml"))[2]).iter("item")
    links = {i.findtext("link") for i in items}
    pattern = re.escape(web.base_urls[H]) + r"/hazards/bulk/[1-9]\d*/"
    assert len(links) == 10_000 and all(re.fullmatch(pattern, x or "") for x in links)
    status, _, body, _ = fetch(u(web, H, "/hazards/bulk/10000/"))
    assert status == 200 and b"Wire bulletin No. 10000" in body
    assert fetch(u(web, H, "/hazards/bulk/0/"))[0] == 404
    assert (
        'rel="next" href="/hazards/trap/page/2/"' in fetch(u(web, H, "/hazards/trap/"))[2].decode()
    )
    far = fetch(u(web, H, "/hazards/trap/page/987654/"))[2].decode()
    assert '<link rel="next" href="/hazards/trap/page/987655/">' in far
    index = ET.fromstring(fetch(u(web, H, "/hazards/sitemap.xml"))[2])
    assert u(web, H, "/hazards/sitemap.xml") in [x.text for x in index.iter(f"{SM}loc")]


def test_hostile_pages_and_redirects(web: FixtureWeb) -> None:
    status, headers, body, _ = fetch(u(web, H, "/hazards/feed/broken.xml"))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    with pytest.raises(ET.ParseError):
        ET.fromstring(body)
    shell = fetch(u(web, H, "/hazards/news/app-shell/"))[2].decode()
    visible = re.sub(r"<script.*?</script>|<[^>]+>", " ", shell, flags=re.S)
    assert shell.count("<script") >= 3 and len(visible.split()) < 30
    assert (
        "<title>Just a moment...</title>"
        in fetch(u(web, H, "/hazards/news/checking-browser/"))[2].decode()
    )
    paywall = fetch(u(web, H, "/hazards/news/paywalled/"))[2].decode()
    assert "Subscribe to read the full article" in paywall and paywall.count("<p>") <= 4
    assert fetch(u(web, H, "/hazards/news/report-pdf/"))[2].startswith(b"%PDF-")
    status, headers, body, _ = fetch(u(web, H, "/hazards/news/infographic/"))
    assert headers["Content-Type"] == "image/png" and body.startswith(b"\x89PNG\r\n\x1a\n")
    moved = fetch(u(web, H, "/hazards/news/moved-here/"))[2].decode()
    assert 'http-equiv="refresh" content="0; url=/hazards/news/moved-target/"' in moved
    assert fetch(u(web, H, "/hazards/news/moved-target/"))[0] == 200
    assert fetch(u(web, H, "/hazards/news/server-error/"))[0] == 500
    status, headers, _, _ = fetch(u(web, H, "/hazards/news/elsewhere/"), follow=False)
    assert status == 302 and headers["Location"].startswith(web.base_urls["tms"])
    for a, b in (("loop-a", "loop-b"), ("loop-b", "loop-a")):
        status, headers, _, _ = fetch(u(web, H, f"/hazards/news/{a}/"), follow=False)
        assert status == 302 and headers["Location"] == u(web, H, f"/hazards/news/{b}/")
    clean = u(web, H, "/hazards/news/tracked-story/")
    assert fetch(clean + "?utm_source=x&fbclid=y")[2] == fetch(clean)[2]
    home = fetch(u(web, H, "/hazards/"))[2].decode()
    assert "tracked-story/?fbclid=" in home and "tracked-story/#comments" in home


def test_legacy_bytes_with_missing_or_wrong_charset(web: FixtureWeb) -> None:
    status, headers, body, _ = fetch(u(web, H, "/hazards/news/cp1251-undeclared/"))
    assert headers["Content-Type"] == "text/html" and b"charset" not in body.lower()
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "Министры сельского хозяйства Армении и России" in body.decode("cp1251")
    status, headers, body, _ = fetch(u(web, H, "/hazards/news/cp1251-declared-utf8/"))
    assert headers["Content-Type"] == "text/html; charset=utf-8" and b"<meta charset" not in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    assert "В городском музее Гюмри" in body.decode("cp1251")
