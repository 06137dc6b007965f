"""Data-driven route table of one outlet: path -> Route, and Route -> Response."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from demoweb.feeds import newest, render_atom, render_rss, render_sitemap
from demoweb.hostile import MIB, Throttle, gzip_bomb, oversize_html
from demoweb.model import Article, Outlet
from demoweb.render import Ctx, esc, page_href, render_article, render_listing, tag_path
from demoweb.render import select as select_articles

# Query parameters that never change content; stripped before the second lookup.
TRACKING = ("utm_", "fbclid", "gclid", "yclid", "ref")
MAX_PAGES = 20  # paginated listings are registered up front, up to this many pages
NUMBER = "{n}"  # a route path containing it matches any positive number there

CONTENT_TYPES = {
    "rss": "application/rss+xml",
    "atom": "application/atom+xml",
    "sitemap": "application/xml",
}


@dataclass(frozen=True)
class Route:
    """A path's behaviour: `kind` picks the responder, `spec` is its data from site.toml."""

    kind: str
    spec: dict[str, Any]
    article: Article | None = None
    page: int = 1


@dataclass
class Response:
    """What the HTTP handler should send; `behaviour` covers non-plain deliveries."""

    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)
    last_modified: datetime | None = None
    behaviour: str = "normal"  # normal | slow | reset
    params: dict[str, Any] = field(default_factory=dict)
    compressible: bool = True
    # Streamed body (no ETag, no conditionals): `length` None means chunked transfer coding.
    stream: Iterator[bytes] | None = None
    length: int | None = None


ERROR_PAGE = (
    '<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
    "<title>{status} {reason}</title></head><body><h1>{status} {reason}</h1>"
    '<p><a href="{home}">{site}</a></p></body></html>\n'
)
REASONS = {404: "Not Found", 410: "Gone", 500: "Internal Server Error", 503: "Unavailable"}


class Site:
    """One outlet's routes; responses are rendered on demand for the current epoch."""

    def __init__(self, outlet: Outlet) -> None:
        self.outlet = outlet
        self.routes: dict[str, Route] = {}
        self.patterns: list[tuple[re.Pattern[str], Route]] = []
        self.throttle = Throttle()
        self._build()

    def _add(self, path: str, route: Route) -> None:
        """Register a path; duplicates are data errors worth failing loudly on."""
        if path in self.routes:
            raise ValueError(f"{self.outlet.id}: route {path!r} defined twice")
        self.routes[path] = route

    def _build(self) -> None:
        """Derive every route from the outlet's data folder."""
        conf = self.outlet.conf
        self._add("/robots.txt", Route("robots", {}))
        for art in self.outlet.articles:
            self._add(art.path, Route("article", {}, art))
            for alias in art.meta.get("aliases", []):
                self._add(alias, Route("article", {"alias": True}, art))
            for old in art.meta.get("redirects_from", []):
                self._add(old, Route("redirect", {"location": art.path}))
        pages = list(conf.get("pages", []))
        tags = sorted({t for a in self.outlet.articles for t in a.meta.get("tags", [])})
        for tag in tags:
            href = tag_path(self.outlet, tag)
            if href:
                template = str(conf.get("tag_template", "listing.html"))
                pages.append({"path": href, "tag": tag, "title": tag, "template": template})
        for spec in pages:
            self._add(spec["path"], Route("page", spec))
            if "page_path" in spec:
                for n in range(2, MAX_PAGES + 1):
                    self._add(page_href(spec, n), Route("page", spec, page=n))
        for spec in conf.get("feeds", []):
            self._add(spec["path"], Route("feed", spec))
        for spec in conf.get("sitemaps", []):
            self._add(spec["path"], Route("sitemap", spec))
        for spec in conf.get("routes", []):
            path = str(spec["path"])
            if NUMBER in path:
                regex = re.escape(path).replace(re.escape(NUMBER), "([1-9][0-9]{0,8})")
                self.patterns.append((re.compile(regex), Route(spec["kind"], spec)))
            else:
                self._add(path, Route(spec["kind"], spec, page=int(spec.get("n", 1))))

    def lookup(self, target: str) -> Route | None:
        """Exact path+query, then without tracking params, then path only if the route allows."""
        parts = urlsplit(target)
        path, query = parts.path or "/", parts.query
        if query and f"{path}?{query}" in self.routes:
            return self.routes[f"{path}?{query}"]
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)]
        kept = [(k, v) for k, v in kept if not k.startswith(TRACKING)]
        if kept:
            # e.g. WordPress `/tms/?p=1&utm_source=x` must still find `/tms/?p=1`
            route = self.routes.get(f"{path}?{urlencode(kept)}")
            if route is None and path in self.routes and self.routes[path].spec.get("any_query"):
                route = self.routes[path]
            return route
        route = self.routes.get(path)
        if route is None:  # tracking-only queries end up here too
            for regex, pattern in self.patterns:
                m = regex.fullmatch(path)
                if m:
                    return Route(pattern.kind, pattern.spec, page=int(m.group(1)))
        return route

    def respond(self, target: str, epoch: int, bases: dict[str, str]) -> Response:
        """Build the response for a request target (path with query)."""
        ctx = Ctx(self.outlet, epoch, bases)
        route = self.lookup(target)
        if route is None:
            return self.error(ctx, 404)
        handler = getattr(self, f"_r_{route.kind}", None)
        if handler is None:
            raise ValueError(f"{self.outlet.id}: unknown route kind {route.kind!r}")
        resp: Response = handler(ctx, route)
        return resp

    def error(self, ctx: Ctx, status: int) -> Response:
        """Minimal branded error page."""
        body = ERROR_PAGE.format(
            lang=ctx.outlet.language,
            status=status,
            reason=REASONS.get(status, "Error"),
            home=esc(str(ctx.outlet.conf["pages"][0]["path"])),
            site=esc(str(ctx.outlet.conf["source"]["name"])),
        )
        return Response(status, body.encode("utf-8"))

    def _r_robots(self, ctx: Ctx, route: Route) -> Response:
        text = ctx.expand(str(self.outlet.conf.get("robots", "User-agent: *\nDisallow:\n")))
        return Response(200, text.encode("utf-8"), "text/plain; charset=utf-8")

    def _r_article(self, ctx: Ctx, route: Route) -> Response:
        art = route.article
        assert art is not None
        v = art.version(ctx.epoch)
        if v.status != 200:
            return self.error(ctx, v.status)
        charset = str(art.meta.get("encoding", "utf-8"))
        # What the page claims; differs from the real encoding on a mislabelled page.
        declared = str(art.meta.get("declared_charset", charset))
        where = str(art.meta.get("charset_in", "both"))  # both | meta | header | none
        text = render_article(ctx, art, declared, meta_charset=where in ("both", "meta"))
        ctype = f"text/html; charset={declared}" if where in ("both", "header") else "text/html"
        body = text.encode(charset, errors="xmlcharrefreplace")
        return Response(200, body, ctype, last_modified=v.modified)

    def _r_page(self, ctx: Ctx, route: Route) -> Response:
        text = render_listing(ctx, route.spec, route.page)
        if text is None:
            return self.error(ctx, 404)
        modified = newest(ctx, select_articles(ctx, route.spec))
        return Response(200, text.encode("utf-8"), last_modified=modified)

    def _r_feed(self, ctx: Ctx, route: Route) -> Response:
        fmt = str(route.spec.get("format", "rss"))
        body, modified = (render_atom if fmt == "atom" else render_rss)(ctx, route.spec)
        enc = str(route.spec.get("encoding", "utf-8"))
        return Response(200, body, f"{CONTENT_TYPES[fmt]}; charset={enc}", last_modified=modified)

    def _r_sitemap(self, ctx: Ctx, route: Route) -> Response:
        body, modified = render_sitemap(ctx, route.spec)
        if route.spec.get("gzip"):
            # A .xml.gz file is served as-is, not with Content-Encoding: crawlers must gunzip.
            return Response(
                200, body, "application/gzip", last_modified=modified, compressible=False
            )
        return Response(200, body, "application/xml; charset=utf-8", last_modified=modified)

    def _r_file(self, ctx: Ctx, route: Route) -> Response:
        data = (self.outlet.folder / "files" / str(route.spec["file"])).read_bytes()
        ctype = str(route.spec.get("content_type", "application/octet-stream"))
        return Response(200, data, ctype, compressible=not ctype.startswith("application/pdf"))

    def _r_status(self, ctx: Ctx, route: Route) -> Response:
        """Arbitrary status with extra headers (500s, 429 + Retry-After, 503 ...)."""
        status = int(route.spec.get("status", 500))
        resp = self.error(ctx, status)
        if "body" in route.spec:
            resp.body = ctx.expand(str(route.spec["body"])).encode("utf-8")
        if "content_type" in route.spec:
            resp.content_type = str(route.spec["content_type"])
        resp.headers = [(k, str(v)) for k, v in route.spec.get("headers", {}).items()]
        return resp

    def _r_redirect(self, ctx: Ctx, route: Route) -> Response:
        location = ctx.absolute(str(route.spec["location"]))
        status = int(route.spec.get("status", 301))
        return Response(status, b"", headers=[("Location", location)])

    def _r_slow(self, ctx: Ctx, route: Route) -> Response:
        """Serve another route's response (or a fixed body) a few bytes at a time."""
        if "target" in route.spec:
            resp = self.respond(str(route.spec["target"]), ctx.epoch, ctx.bases)
        else:
            resp = Response(200, ctx.expand(str(route.spec.get("body", ""))).encode("utf-8"))
        resp.behaviour = "slow"
        resp.compressible = False
        resp.params = {
            "chunk": int(route.spec.get("chunk", 64)),
            "delay": float(route.spec.get("delay", 0.2)),
        }
        return resp

    def _r_reset(self, ctx: Ctx, route: Route) -> Response:
        """Abort the TCP connection (RST): at once, or after `after_bytes` of `target`'s body."""
        if "target" not in route.spec:
            return Response(0, behaviour="reset")
        resp = self.respond(str(route.spec["target"]), ctx.epoch, ctx.bases)
        resp.behaviour = "reset"
        resp.params = {"after_bytes": int(route.spec.get("after_bytes", 256))}
        return resp

    def _r_bomb(self, ctx: Ctx, route: Route) -> Response:
        """`Content-Encoding: gzip` (whatever the client accepts) inflating to `inflate_mib`."""
        blob = gzip_bomb(int(route.spec.get("inflate_mib", 1024)))
        ctype = str(route.spec.get("content_type", "text/html; charset=utf-8"))
        return Response(200, blob, ctype, [("Content-Encoding", "gzip")], compressible=False)

    def _r_oversize(self, ctx: Ctx, route: Route) -> Response:
        """`size_mib` of HTML, streamed; `declare_length = false` sends it chunked."""
        size = int(float(route.spec.get("size_mib", 12)) * MIB)
        title = str(route.spec.get("title", "An endless page"))
        declared = bool(route.spec.get("declare_length", True))
        return Response(
            200,
            stream=oversize_html(size, title),
            length=size if declared else None,
            compressible=False,
        )

    def _r_throttle(self, ctx: Ctx, route: Route) -> Response:
        """`status` (429/503) + Retry-After for `retry_after` s, then `target` once.

        `http_date = true` sends the Retry-After as an HTTP-date instead of seconds.
        """
        spec = route.spec
        as_date = bool(spec.get("http_date", False))
        verdict = self.throttle.check(str(spec["path"]), float(spec["retry_after"]), as_date)
        if verdict.serve:
            return self.respond(str(spec["target"]), ctx.epoch, ctx.bases)
        resp = self.error(ctx, int(spec.get("status", 429)))
        if as_date:
            when = datetime.fromtimestamp(verdict.deadline, UTC)
            value = format_datetime(when, usegmt=True)
        else:
            value = str(max(1, round(float(spec["retry_after"]))))
        resp.headers = [("Retry-After", value)]
        return resp

    def _r_generated(self, ctx: Ctx, route: Route) -> Response:
        """Page number n of an unbounded family (`{n}` in the path) from `template`."""
        spec, n = route.spec, route.page
        date = spec.get("date", datetime(2025, 1, 1, tzinfo=UTC)) - timedelta(minutes=n)
        values = {
            "n": str(n),
            "next": esc(str(spec.get("next", "")).format(n=n + 1)),
            "title": esc(str(spec.get("title", "")).format(n=n)),
            "lang": esc(ctx.outlet.language),
            "site_name": esc(str(ctx.outlet.conf["source"]["name"])),
            "date_iso": date.isoformat(),
            "date_display": date.strftime("%d %B %Y"),
        }
        text = ctx.expand(ctx.outlet.template(str(spec["template"])).substitute(values))
        return Response(200, text.encode("utf-8"), last_modified=date)

    def article_urls(self, epoch: int, bases: dict[str, str]) -> list[str]:
        """Absolute URLs of the articles listed in this epoch."""
        ctx = Ctx(self.outlet, epoch, bases)
        return [ctx.absolute(a.path) for a in self.outlet.listed(epoch)]
