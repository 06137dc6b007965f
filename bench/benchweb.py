"""The bench web: 1,000+ real-size news pages on loopback, with ground truth, for `make bench`.

Each article page is a recorded real page from tests/pages (its nav, sidebars, comments,
scripts and styles: 40-130 KB of real boilerplate) with the article swapped for a generated
one: a new headline, date and 4-11 paragraphs drawn from the real texts in the repo
(tests/pages and demoweb/sites, en/ru/hy). The swap covers the headline wherever it recurs,
<title>, meta tags, JSON-LD, microdata, the visible dateline and the body container, so the
only article date left is the ground truth's (sidebars keep their own dates: realistic noise).
Links to the real sites become site-relative, so nothing reading these pages leaves loopback.

Five outlets (127.0.0.20-24) serve robots.txt (allow all, no Crawl-delay, a Sitemap line), a
sitemap index, RSS of the newest 100 and a home page from memory, with ETag/304, gzip and no
delay. With `frontier=N` a sixth (127.0.0.25) lists N URLs for the frontier-memory figures.
Deterministic: the same pages every run.
"""

from __future__ import annotations

import gzip
import html
import json
import random
import re
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from benchweb_pages import _headline, paragraph_pool, skeleton, template_date

from demoweb.server import KeepAliveHandler, etag_for, http_date, not_modified

ROOT = Path(__file__).resolve().parents[1]
PAGES, SITES = ROOT / "tests" / "pages", ROOT / "demoweb" / "sites"
CHILD = 10_000  # URLs per frontier sitemap file (the protocol allows 50,000)
_EXTERNAL = re.compile(r"(?:https?:)?//(?!(?:schema\.org|www\.w3\.org|ogp\.me|purl\.org|127\.)\b)"
                       r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:[A-Za-z]{2,}|\d{1,3}))")
_DATE_KEY = re.compile(r"date|time|publish|modif|created", re.I)
_XML = '<?xml version="1.0" encoding="UTF-8"?>\n'
_SM = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'


@dataclass(frozen=True)
class Outlet:
    """One bench outlet: its layouts (templates) and its article URL shape."""

    id: str
    lang: str
    templates: tuple[str, ...]
    path: str  # str.format with n, y, m, d, slug
    pattern: str  # article_url_pattern, after the base URL


OUTLETS = (
    Outlet("wire-en", "en", ("en-newsaz-counteroffensive", "en-sputnik-lockdowns",
                             "en-urdupoint-mishustin"),
           "/news/{y}/{m}/{d}/{slug}-{n}.html", r"/news/\d{4}/\d{2}/\d{2}/[a-z0-9-]+\.html$"),
    Outlet("daily-ru", "ru", ("ru-tass-8836033", "ru-inform-kz-a3725092"), "/politika/{n}",
           r"/politika/\d+$"),
    Outlet("agency-ru", "ru", ("ru-ukrinform-3103218", "ru-unn-1906059",
                               "ru-football-ua-podolski"),
           "/ru/news/{n}-novost.html", r"/ru/news/\d+-novost\.html$"),
    Outlet("news-hy", "hy", ("hy-a1plus-378866", "hy-newsam-615163"), "/hy/article/{n}",
           r"/hy/article/\d+$"),
    Outlet("daily-hy", "hy", ("hy-panarmenian-250976",), "/arm/news/{n}/", r"/arm/news/\d+/$"),
)


@dataclass(frozen=True)
class Truth:
    """Ground truth of one article page."""

    url: str
    outlet: str
    template: str
    lang: str
    title: str
    published: str  # ISO 8601 with the outlet's offset; compare days with [:10]
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        """The body, a paragraph per line."""
        return "\n".join(self.paragraphs)


# -- serving -----------------------------------------------------------------------------


@dataclass
class Resource:
    """One response, ready to send; the gzip variant is made once (on first use, or warm())."""

    body: bytes
    content_type: str
    modified: datetime | None = None
    gz: bytes | None = None

    def gzipped(self) -> bytes:
        """The gzip body (racing threads compute the same bytes)."""
        if self.gz is None:
            self.gz = gzip.compress(self.body, 6, mtime=0)
        return self.gz


@dataclass
class _Site:
    base: str = ""
    routes: dict[str, Resource] = field(default_factory=dict)
    frontier: int = 0


class _Handler(KeepAliveHandler):
    """From memory: 200 (gzip if asked), 304 on a matching validator, else 404."""

    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the bench prints its own figures."""

    def do_GET(self) -> None:
        """Serve one request."""
        web, site = self.server.web, self.server.site
        res = site.routes.get(self.path) or web.dynamic(site, self.path)
        web.count()
        if res is None:
            return self.send_error(404)
        req = {k.lower(): v for k, v in self.headers.items()}
        etag = etag_for(res.body)
        if not_modified(req, etag, res.modified):
            self.send_response(304)
            self.send_header("ETag", etag)
            return self.end_headers()
        body = res.body
        self.send_response(200)
        self.send_header("Content-Type", res.content_type)
        if res.modified is not None:
            self.send_header("Last-Modified", http_date(res.modified))
        if "gzip" in req.get("accept-encoding", ""):
            body, etag = res.gzipped(), etag[:-1] + '-gzip"'
            self.send_header("Content-Encoding", "gzip")
        self.send_header("ETag", etag)
        self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], web: BenchWeb, site: _Site) -> None:
        self.web, self.site = web, site
        super().__init__(addr, _Handler)


def _x(text: str) -> str:
    return html.escape(text, quote=True)


def _urlset(urls: list[str], lastmods: list[str] | None = None) -> bytes:
    mods = lastmods or [""] * len(urls)
    rows = "".join(f"<url><loc>{_x(u)}</loc>{f'<lastmod>{m}</lastmod>' if m else ''}</url>\n"
                   for u, m in zip(urls, mods, strict=True))
    return f"{_XML}<urlset {_SM}>\n{rows}</urlset>\n".encode()


def _index(children: list[str]) -> bytes:
    rows = "".join(f"<sitemap><loc>{_x(c)}</loc></sitemap>\n" for c in children)
    return f"{_XML}<sitemapindex {_SM}>\n{rows}</sitemapindex>\n".encode()


class BenchWeb:
    """The bench web. `with BenchWeb() as web:` serves it; `web.truths` is the ground truth."""

    def __init__(self, per_outlet: int = 240, port: int = 0, first_host: int = 20,
                 frontier: int = 0) -> None:
        self.per_outlet, self.port, self.first_host = per_outlet, port, first_host
        self.frontier = frontier
        self.truths: list[Truth] = []
        self.sites: dict[str, _Site] = {}
        self.requests = 0
        self._lock = threading.Lock()
        self._servers: list[_Server] = []

    def start(self) -> BenchWeb:
        """Bind each outlet to its own loopback IP (port 0: a free one), then render it all."""
        ids = [o.id for o in OUTLETS] + (["frontier"] if self.frontier else [])
        try:
            for i, oid in enumerate(ids):
                site = self.sites[oid] = _Site(frontier=self.frontier if oid == "frontier" else 0)
                server = _Server((f"127.0.0.{self.first_host + i}", self.port), self, site)
                self._servers.append(server)
                host, port = server.server_address[:2]
                site.base = f"http://{host!s}" + ("" if port == 80 else f":{port}")
                threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                 name=f"benchweb-{oid}", daemon=True).start()
        except OSError:
            self.stop()
            raise
        self._render()
        return self

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    def __enter__(self) -> BenchWeb:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def count(self) -> None:
        """One more request served (the bench reads web.requests)."""
        with self._lock:
            self.requests += 1

    def warm(self) -> None:
        """Compress every response now, so no crawler pays for a first gzip."""
        for site in self.sites.values():
            for res in site.routes.values():
                res.gzipped()

    @property
    def base_urls(self) -> dict[str, str]:
        """Outlet id -> base URL (no trailing slash)."""
        return {oid: site.base for oid, site in self.sites.items()}

    def _render(self) -> None:
        pool, used = paragraph_pool(), set[str]()
        for outlet in OUTLETS:
            site = self.sites[outlet.id]
            for i in range(self.per_outlet):
                rng = random.Random(f"{outlet.id}:{i}")
                case = outlet.templates[i % len(outlet.templates)]
                when = (template_date(case) - timedelta(days=rng.randint(0, 400))).replace(
                    hour=rng.randint(8, 18), minute=rng.randint(0, 59), second=0, microsecond=0)
                paras = tuple(rng.sample(pool[outlet.lang], rng.randint(4, 11)))
                title = _headline(rng, tuple(p for p in pool[outlet.lang] if p not in paras), used)
                slug = "-".join(re.findall(r"[a-z0-9]+", title.lower())[:8]) or "story"
                path = outlet.path.format(n=100_000 + 7 * i + rng.randint(0, 6), y=when.year,
                                          m=f"{when.month:02d}", d=f"{when.day:02d}", slug=slug)
                truth = Truth(site.base + path, outlet.id, case, outlet.lang, title,
                              when.isoformat(), paras)
                self.truths.append(truth)
                site.routes[path] = Resource(self.page(truth).encode(), "text/html; charset=utf-8",
                                             when)
            self._discovery(site, outlet.id, [t for t in self.truths if t.outlet == outlet.id])
        if self.frontier:
            site = self.sites["frontier"]
            self._robots(site)
            site.routes["/sitemap.xml"] = Resource(_index(
                [f"{site.base}/sitemap-{k}.xml" for k in range(0, -(-self.frontier // CHILD))]),
                "application/xml")

    def page(self, truth: Truth, url: str | None = None) -> str:
        """One article page: the template's skeleton with this article's facts filled in."""
        sk, when = skeleton(truth.template), datetime.fromisoformat(truth.published)
        desc = truth.paragraphs[0][:157].rsplit(" ", 1)[0] + "…"

        def js(value: str) -> str:
            return json.dumps(value, ensure_ascii=False)[1:-1].replace("</", "<\\/")

        out = sk.markup
        for k, fmt in enumerate(sk.formats):
            out = out.replace(f"QQVIS{k}QQ", html.escape(when.strftime(fmt)))
        body = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in truth.paragraphs)
        for mark, value in (("QQTITLEJSQQ", js(truth.title)), ("QQDESCJSQQ", js(desc)),
                            ("QQBODYJSQQ", js(truth.text)), ("QQISOJSQQ", truth.published),
                            ("QQTITLEQQ", _x(truth.title)), ("QQDESCQQ", _x(desc)),
                            ("QQBODYQQ", body), ("QQURLQQ", _x(url or truth.url)),
                            ("QQISOZQQ", when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")),
                            ("QQDAYQQ", truth.published[:10]), ("QQISOQQ", truth.published)):
            out = out.replace(mark, value)
        return out

    def _robots(self, site: _Site) -> None:
        robots = f"User-agent: *\nAllow: /\n\nSitemap: {site.base}/sitemap.xml\n"
        site.routes["/robots.txt"] = Resource(robots.encode(), "text/plain")

    def _discovery(self, site: _Site, oid: str, truths: list[Truth]) -> None:
        """robots.txt, a sitemap index and its children, RSS of the newest 100, a home page."""
        latest = sorted(truths, key=lambda t: t.published, reverse=True)
        newest = datetime.fromisoformat(latest[0].published)
        self._robots(site)
        chunks = [truths[k:k + 500] for k in range(0, len(truths), 500)]
        site.routes["/sitemap.xml"] = Resource(_index(
            [f"{site.base}/sitemap-articles-{k}.xml" for k in range(len(chunks))]),
            "application/xml", newest)
        for k, chunk in enumerate(chunks):
            site.routes[f"/sitemap-articles-{k}.xml"] = Resource(_urlset(
                [t.url for t in chunk], [t.published for t in chunk]), "application/xml", newest)
        items = "".join(
            f"<item><title>{_x(t.title)}</title><link>{_x(t.url)}</link><guid>{_x(t.url)}</guid>"
            f"<pubDate>{format_datetime(datetime.fromisoformat(t.published))}</pubDate>"
            f"<description>{_x(t.paragraphs[0][:200])}</description></item>\n"
            for t in latest[:100])
        site.routes["/rss.xml"] = Resource(
            (f'{_XML}<rss version="2.0"><channel><title>{oid}</title><link>{site.base}/</link>'
             f"<description>{oid} news</description>\n{items}</channel></rss>\n").encode(),
            "application/rss+xml; charset=utf-8", newest)
        links = "".join(f'<li><a href="{_x(t.url)}">{_x(t.title)}</a></li>\n' for t in latest[:40])
        site.routes["/"] = Resource(
            (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{oid}</title><link '
             f'rel="alternate" type="application/rss+xml" href="/rss.xml"></head><body><h1>{oid}'
             f"</h1><ul>\n{links}</ul></body></html>\n").encode(), "text/html; charset=utf-8",
            newest)

    def dynamic(self, site: _Site, path: str) -> Resource | None:
        """The frontier outlet's sitemap children and articles, made on request."""
        if not site.frontier:
            return None
        if found := re.fullmatch(r"/sitemap-(\d+)\.xml", path):
            start = int(found.group(1)) * CHILD
            return Resource(_urlset([f"{site.base}/f/{n}.html" for n in range(
                start, min(start + CHILD, site.frontier))]), "application/xml")
        if (found := re.fullmatch(r"/f/(\d+)\.html", path)) and int(found[1]) < site.frontier:
            truth = self.truths[int(found[1]) % len(self.truths)]
            return Resource(self.page(truth, site.base + path).encode(), "text/html; charset=utf-8")
        return None

    def write_sources(self, path: str | Path, concurrency: int = 8,
                      outlets: list[str] | None = None, max_requests: int | None = None) -> Path:
        """A sources.toml for the running web: no delay, `concurrency` requests per outlet."""
        topic = tomllib.loads((SITES / "web.toml").read_text(encoding="utf-8"))["topic_toml"]
        specs = {o.id: o for o in OUTLETS}
        parts = [topic.strip(), ""]
        for oid in outlets or list(specs):
            base, spec = self.sites[oid].base, specs.get(oid)
            pattern = re.escape(base) + (spec.pattern if spec else r"/f/\d+\.html$")
            parts += ["[[source]]", f'id = "{oid}"', f'name = "Bench {oid}"',
                      f'homepage = "{base}/"', f'language = ["{spec.lang if spec else "en"}"]',
                      'country = "AM"', 'kind = "private"', 'sitemaps = ["robots"]',
                      f'feeds = ["{base}/rss.xml"]' if spec else "feeds = []",
                      f"article_url_pattern = '^{pattern}'", "download_delay = 0",
                      f"concurrency = {concurrency}",
                      *([f"max_requests = {max_requests}"] if max_requests else []), ""]
        target = Path(path)
        target.write_text("\n".join(parts), encoding="utf-8")
        return target
