"""RSS 2.0, Atom and sitemap (urlset, Google News, index) bodies for an outlet."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from demoweb.model import Article
from demoweb.render import Ctx, body_html, select

RSS_NS = (
    'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:content="http://purl.org/rss/1.0/modules/content/"'
)
SITEMAP_NS = 'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"'
NEWS_NS = 'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"'


def _x(text: str) -> str:
    """Escape text for XML element content or double-quoted attributes."""
    return escape(text, {'"': "&quot;"})


def newest(ctx: Ctx, arts: list[Article]) -> datetime:
    """Latest modification among articles (feeds' and listings' Last-Modified)."""
    times = [a.version(ctx.epoch).modified for a in arts]
    return max(times) if times else datetime(2020, 1, 1, tzinfo=UTC)


def _link(ctx: Ctx, path: str, query: str) -> str:
    """Absolute item link, optionally with tracking parameters appended like real feeds do."""
    url = ctx.absolute(path)
    if query:
        url += ("&" if "?" in url else "?") + query
    return url


def _encode(text: str, encoding: str) -> bytes:
    """Encode XML; characters outside a legacy charset become numeric references."""
    return text.encode(encoding, errors="xmlcharrefreplace")


def render_rss(ctx: Ctx, spec: dict[str, Any]) -> tuple[bytes, datetime]:
    """RSS 2.0 with dc:creator and, if `full_content`, WordPress-style content:encoded."""
    enc = str(spec.get("encoding", "utf-8"))
    arts = select(ctx, spec)[: int(spec.get("limit", 50))]
    src = ctx.outlet.conf["source"]
    query = str(spec.get("link_query", ""))
    items = []
    for a in arts:
        v = a.version(ctx.epoch)
        parts = [
            f"<title>{_x(v.title)}</title>",
            f"<link>{_x(_link(ctx, a.path, query))}</link>",
            f'<guid isPermaLink="false">{_x(ctx.absolute(a.path))}</guid>',
            f"<pubDate>{format_datetime(a.date)}</pubDate>",
            f"<dc:creator>{_x(str(a.meta['author']))}</dc:creator>",
        ]
        parts += [f"<category>{_x(t)}</category>" for t in a.meta.get("tags", [])]
        parts.append(f"<description>{_x(v.lead)}</description>")
        if spec.get("full_content"):
            html = ctx.expand(body_html(a.body)).replace("]]>", "]]&gt;")
            parts.append(f"<content:encoded><![CDATA[{html}]]></content:encoded>")
        items.append("<item>" + "".join(parts) + "</item>")
    for x in spec.get("extra", []):
        # Hand-written items, e.g. a link that 404s: feeds often outlive their articles.
        items.append(
            f"<item><title>{_x(str(x['title']))}</title>"
            f"<link>{_x(_link(ctx, str(x['path']), query))}</link>"
            f"<pubDate>{format_datetime(x['date'])}</pubDate></item>"
        )
    items += _generated_items(ctx, spec.get("generated"), query)
    updated = newest(ctx, arts)
    body = (
        f'<?xml version="1.0" encoding="{enc}"?>\n<rss version="2.0" {RSS_NS}>\n<channel>'
        f"<title>{_x(str(spec.get('title', src['name'])))}</title>"
        f"<link>{_x(ctx.absolute(str(ctx.outlet.conf['pages'][0]['path'])))}</link>"
        f"<description>{_x(str(spec.get('description', src['name'])))}</description>"
        f"<language>{_x(ctx.outlet.language)}</language>"
        f"<lastBuildDate>{format_datetime(updated)}</lastBuildDate>"
        f'<atom:link href="{_x(ctx.absolute(str(spec["path"])))}" rel="self" '
        'type="application/rss+xml"/>\n' + "\n".join(items) + "\n</channel>\n</rss>\n"
    )
    return _encode(body, enc), updated


def _generated_items(ctx: Ctx, gen: dict[str, Any] | None, query: str) -> list[str]:
    """`count` numbered items (`{n}` in `path` and `title`), one minute apart from `date`."""
    if not gen:
        return []
    start = gen.get("date", datetime(2025, 1, 1, tzinfo=UTC))
    out = []
    for n in range(1, int(gen["count"]) + 1):
        link = _x(_link(ctx, str(gen["path"]).format(n=n), query))
        out.append(
            f"<item><title>{_x(str(gen['title']).format(n=n))}</title><link>{link}</link>"
            f"<pubDate>{format_datetime(start - timedelta(minutes=n))}</pubDate></item>"
        )
    return out


def render_atom(ctx: Ctx, spec: dict[str, Any]) -> tuple[bytes, datetime]:
    """Atom 1.0 feed with published/updated per entry."""
    arts = select(ctx, spec)[: int(spec.get("limit", 50))]
    src = ctx.outlet.conf["source"]
    entries = []
    for a in arts:
        v = a.version(ctx.epoch)
        url = ctx.absolute(a.path)
        entries.append(
            f"<entry><title>{_x(v.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{_x(url)}"/>'
            f"<id>{_x(url)}</id><published>{a.date.isoformat()}</published>"
            f"<updated>{v.modified.isoformat()}</updated>"
            f"<author><name>{_x(str(a.meta['author']))}</name></author>"
            f"<summary>{_x(v.lead)}</summary></entry>"
        )
    updated = newest(ctx, arts)
    body = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{_x(ctx.outlet.language)}">'
        f"<title>{_x(str(spec.get('title', src['name'])))}</title>"
        f"<id>{_x(ctx.absolute('/'))}</id><updated>{updated.isoformat()}</updated>"
        f'<link rel="self" type="application/atom+xml" href="{_x(ctx.absolute(spec["path"]))}"/>'
        f'<link rel="alternate" type="text/html" href="{_x(ctx.absolute("/"))}"/>\n'
        + "\n".join(entries)
        + "\n</feed>\n"
    )
    return body.encode("utf-8"), updated


def render_sitemap(ctx: Ctx, spec: dict[str, Any]) -> tuple[bytes, datetime]:
    """`format` = urlset | news | index; `gzip = true` serves the file itself gzipped."""
    fmt = str(spec.get("format", "urlset"))
    arts = select(ctx, spec)
    updated = newest(ctx, arts)
    if fmt == "index":
        rows = [
            f"<sitemap><loc>{_x(ctx.absolute(str(child)))}</loc>"
            f"<lastmod>{updated.isoformat()}</lastmod></sitemap>"
            for child in spec["children"]
        ]
        body = f"<sitemapindex {SITEMAP_NS}>\n" + "\n".join(rows) + "\n</sitemapindex>"
    else:
        rows = []
        for a in arts:
            v = a.version(ctx.epoch)
            row = f"<url><loc>{_x(ctx.absolute(a.path))}</loc>"
            row += f"<lastmod>{v.modified.isoformat()}</lastmod>"
            if fmt == "news":
                row += (
                    "<news:news><news:publication>"
                    f"<news:name>{_x(str(spec.get('publication', '')))}</news:name>"
                    f"<news:language>{_x(ctx.outlet.language)}</news:language>"
                    "</news:publication>"
                    f"<news:publication_date>{a.date.isoformat()}</news:publication_date>"
                    f"<news:title>{_x(v.title)}</news:title></news:news>"
                )
            rows.append(row + "</url>")
        ns = f"{SITEMAP_NS} {NEWS_NS}" if fmt == "news" else SITEMAP_NS
        body = f"<urlset {ns}>\n" + "\n".join(rows) + "\n</urlset>"
    data = ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8")
    if spec.get("gzip"):
        data = gzip.compress(data, mtime=0)  # mtime=0 keeps the ETag stable across runs
    return data, updated
