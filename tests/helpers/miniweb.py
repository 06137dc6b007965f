"""Small loopback outlets with mutable behaviour, a webhook receiver and an SMTP sink.

Support for the scheduling, health and alert tests. Every server binds
127.0.0.1 on an ephemeral port; outlets differ by port, which the registry treats as
different hosts. Behaviour changes between crawls: stop publishing, answer 403,
redesign the article template, lose the feed.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from helpers.processes import MEDIAWATCH

WORDS = ("Yerevan and Moscow officials met again on Tuesday to discuss the railway, the "
         "border posts and the gas price, while analysts in Armenia said the talks showed how "
         "far relations with Russia have cooled since the war. ").split()


def paragraph(seed: int, words: int = 60) -> str:
    """Deterministic filler prose, different per seed."""
    return " ".join(WORDS[(seed + i) % len(WORDS)] for i in range(words)).capitalize() + "."


@dataclass
class Article:
    """One article of a fixture outlet."""

    slug: str
    title: str
    published: str  # ISO date-time
    author: str = "Anna Petrosyan"
    seed: int = 0


@dataclass
class Outlet:
    """One fixture outlet: a feed, articles, robots.txt; behaviour switches for the tests."""

    id: str
    articles: list[Article] = field(default_factory=list)
    forbidden: bool = False      # every request answers 403 (a new WAF, a block)
    feed_status: int = 200       # 404 or 410: the feed is gone
    layout: str = "v1"           # "v2": a redesign the extractor does not know;
    # "shell": the metadata stays, the text is built by JavaScript (nothing to extract)
    requests: list[str] = field(default_factory=list)
    user_agents: set[str] = field(default_factory=set)
    server: ThreadingHTTPServer | None = None

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add(self, when: datetime, n: int = 1) -> list[Article]:
        """Publish n new articles dated `when`."""
        new = []
        for _ in range(n):
            k = len(self.articles) + len(new) + 1
            new.append(Article(f"story-{k}", f"{self.id.title()} report number {k} on Armenia "
                               f"and Russia", when.isoformat(), seed=k * 7))
        self.articles.extend(new)
        return new

    def feed(self) -> bytes:
        items = []
        for a in reversed(self.articles):
            date = "" if self.layout == "v2" else \
                f"<pubDate>{datetime.fromisoformat(a.published):%a, %d %b %Y %H:%M:%S +0000}</pubDate>"
            items.append(f"<item><title>{escape(a.title)}</title>"
                         f"<link>{self.base}/news/{a.slug}</link>{date}</item>")
        return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{self.id}</title><link>{self.base}/</link>{''.join(items)}"
                "</channel></rss>").encode()

    def page(self, a: Article) -> bytes:
        body = "".join(f"<p>{paragraph(a.seed + i)}</p>" for i in range(6))
        if self.layout == "v2":
            # The redesign: no metadata, the site name as title, a short summary only.
            return (f'<!doctype html><html><head><meta charset="utf-8"><title>{self.id}</title>'
                    f'</head><body><div class="c"><p>{paragraph(a.seed, 45)}</p>'
                    f"<p>{paragraph(a.seed + 3, 30)}</p></div></body></html>").encode()
        byline = f"<p class='byline'>By {escape(a.author)}</p>"
        if self.layout == "shell":
            byline = ""
            body = ('<div id="app"></div><script>window.__STATE__ = ' +
                    json.dumps({"paragraphs": [paragraph(a.seed + i) for i in range(6)]}) +
                    "</script>")
        meta = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle",
                           "headline": a.title, "datePublished": a.published,
                           "author": {"@type": "Person", "name": a.author}})
        return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                f"<title>{escape(a.title)}</title>"
                f'<meta property="og:title" content="{escape(a.title)}">'
                f'<meta name="author" content="{escape(a.author)}">'
                f'<meta property="article:published_time" content="{a.published}">'
                f'<script type="application/ld+json">{meta}</script></head><body>'
                f"<header><nav><a href='/'>Home</a></nav></header><article>"
                f"<h1>{escape(a.title)}</h1>{byline}{body}"
                "</article><footer>© fixture</footer></body></html>").encode()

    def respond(self, path: str) -> tuple[int, str, bytes]:
        self.requests.append(path)
        if self.forbidden:
            return 403, "text/html", b"<h1>Forbidden</h1>"
        if path == "/robots.txt":
            return 200, "text/plain", b"User-agent: *\nAllow: /\n"
        if path == "/feed.xml":
            if self.feed_status != 200:
                return self.feed_status, "text/html", b"<h1>Not found</h1>"
            return 200, "application/rss+xml", self.feed()
        for a in self.articles:
            if path == f"/news/{a.slug}":
                return 200, "text/html; charset=utf-8", self.page(a)
        return 404, "text/html", b"<h1>Not found</h1>"


class _Handler(BaseHTTPRequestHandler):
    outlet: Outlet

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        outlet = self.server.outlet  # type: ignore[attr-defined]
        outlet.user_agents.add(self.headers.get("User-Agent", ""))
        status, ctype, body = outlet.respond(self.path)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class MiniWeb:
    """A few fixture outlets on loopback, each on its own port."""

    def __init__(self, *ids: str) -> None:
        self.outlets = {i: Outlet(i) for i in ids}

    def __enter__(self) -> MiniWeb:
        for outlet in self.outlets.values():
            server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            server.outlet = outlet  # type: ignore[attr-defined]
            server.daemon_threads = True
            outlet.server = server
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        for outlet in self.outlets.values():
            if outlet.server:
                outlet.server.shutdown()
                outlet.server.server_close()

    def __getitem__(self, outlet_id: str) -> Outlet:
        return self.outlets[outlet_id]

    def clear(self) -> None:
        """Forget the request logs."""
        for outlet in self.outlets.values():
            outlet.requests.clear()

    def write_sources(self, path: Path, canaries: dict[str, list[str]] | None = None,
                      alerts: str = "", poll: tuple[int, int] = (15, 1440)) -> Path:
        """A registry of these outlets (feeds only), with canaries and an [alerts] table."""
        parts = ['[topic]\nid = "am-ru"\nname = "Armenia–Russia"\n'
                 'require = [["Armenia*"], ["Russia*"]]\n']
        for outlet in self.outlets.values():
            urls = json.dumps([outlet.base + "/news/" + c for c in (canaries or {}).get(
                outlet.id, [])])
            parts.append(
                f'[[source]]\nid = "{outlet.id}"\nname = "{outlet.id.title()}"\n'
                f'homepage = "{outlet.base}/"\nlanguage = "en"\ncountry = "AM"\n'
                f'kind = "independent"\nfeeds = ["{outlet.base}/feed.xml"]\n'
                f"article_url_pattern = '/news/'\ndownload_delay = 0\nconcurrency = 4\n"
                f"canaries = {urls}\npoll_min_minutes = {poll[0]}\n"
                f"poll_max_minutes = {poll[1]}\n")
        if alerts:
            parts.append("[alerts]\n" + alerts)
        path.write_text("\n".join(parts), encoding="utf-8")
        return path


def at(when: datetime, *args: str, env: dict[str, str] | None = None
       ) -> subprocess.CompletedProcess[str]:
    """Run `mediawatch ARGS` as a subprocess with the clock fixed at `when`."""
    full = {**os.environ, "MEDIAWATCH_NOW": when.isoformat(), **(env or {})}
    return subprocess.run([MEDIAWATCH, *args], capture_output=True, text=True, timeout=300,
                          env=full)


def crawl_at(when: datetime, sources: Path, db: Path, *extra: str,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`mediawatch crawl --due` (loopback only) with the clock fixed at `when`."""
    return at(when, "crawl", "--due", "--sources", str(sources), "--db", str(db),
              "-s", "MEDIAWATCH_LOOPBACK_ONLY=1", *extra, env=env)


T0 = datetime.fromisoformat("2026-03-02T06:00:00+00:00")


def days(n: float) -> timedelta:
    """A timedelta of n days."""
    return timedelta(days=n)


# -- alert receivers -------------------------------------------------------------------------


class Webhook:
    """A loopback HTTP receiver that keeps every JSON body POSTed to it."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        received = self.events

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """Just enough SMTP (HELO/EHLO, MAIL, RCPT, DATA, QUIT) to receive messages on loopback."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        messages = self.messages

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                def say(line: str) -> None:
                    self.wfile.write(line.encode() + b"\r\n")

                say("220 sink ESMTP")
                sender, rcpts = "", []
                while raw := self.rfile.readline():
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    verb = line[:4].upper()
                    if verb == "EHLO":
                        say("250-sink")
                        say("250 8BITMIME")
                    elif verb in ("HELO", "RSET", "NOOP"):
                        say("250 ok")
                    elif verb == "MAIL":
                        sender = line.split(":", 1)[1].strip()
                        say("250 ok")
                    elif verb == "RCPT":
                        rcpts.append(line.split(":", 1)[1].strip())
                        say("250 ok")
                    elif verb == "DATA":
                        say("354 go ahead")
                        data = []
                        while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                            data.append(chunk)
                        messages.append({"from": sender, "to": rcpts,
                                         "data": b"".join(data).decode("utf-8", "replace")})
                        say("250 queued")
                    elif verb == "QUIT":
                        say("221 bye")
                        return
                    else:
                        say("502 not implemented")

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        """Stop the server."""
        self.server.shutdown()
        self.server.server_close()


def free_loopback_port() -> int:
    """A port nothing listens on (for a delivery that must fail without hanging)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
