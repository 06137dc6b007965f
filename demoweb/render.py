"""Render article and listing pages from an outlet's `$var` templates."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from demoweb.model import Article, Outlet

# Links in data files are written as tokens because ports are only known after start().
LINK_TOKEN = re.compile(r"\{\{(base|outlet:([a-z0-9_-]+))\}\}")
EN_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


@dataclass(frozen=True)
class Ctx:
    """Everything a render needs besides the outlet: the epoch and every outlet's base URL."""

    outlet: Outlet
    epoch: int
    bases: dict[str, str]

    @property
    def base(self) -> str:
        """This outlet's base URL, e.g. http://127.0.0.3:40111."""
        return self.bases[self.outlet.id]

    def absolute(self, path: str) -> str:
        """Make a site-relative path absolute; leave absolute URLs and tokens to expand()."""
        if path.startswith("/"):
            return self.base + path
        return self.expand(path)

    def expand(self, text: str) -> str:
        """Replace {{base}} / {{outlet:id}} tokens with real loopback base URLs."""

        def sub(m: re.Match[str]) -> str:
            return self.base if m.group(1) == "base" else self.bases[m.group(2)]

        return LINK_TOKEN.sub(sub, text)


def esc(text: str) -> str:
    """HTML-escape text and attribute values alike."""
    return html.escape(text, quote=True)


def fmt_date(outlet: Outlet, dt: datetime) -> str:
    """Format a date the way the outlet prints it (localised month names from site.toml)."""
    months = outlet.conf.get("months", EN_MONTHS)
    fmt = str(outlet.conf.get("date_display", "{day} {month} {year}"))
    return fmt.format(
        day=dt.day,
        dd=f"{dt.day:02d}",
        mm=f"{dt.month:02d}",
        month=months[dt.month - 1],
        year=dt.year,
        HH=f"{dt.hour:02d}",
        MM=f"{dt.minute:02d}",
    )


def body_html(text: str) -> str:
    """Blank-line paragraphs; `## ` headings, `> ` quotes, lines starting with `<` kept raw."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        block = block.strip()
        if block.startswith("<"):
            out.append(block)  # raw HTML, e.g. the deliberately malformed article
        elif block.startswith("## "):
            out.append(f"<h2>{block[3:].strip()}</h2>")
        elif block.startswith("> "):
            out.append(f"<blockquote><p>{block[2:].strip()}</p></blockquote>")
        else:
            out.append(f"<p>{' '.join(block.split())}</p>")
    return "\n".join(out)


def item_html(ctx: Ctx, art: Article, template: str = "item.html") -> str:
    """One entry of a listing or a related-links block."""
    v = art.version(ctx.epoch)
    return ctx.outlet.template(template).substitute(
        href=esc(art.path),
        title=esc(v.title),
        lead=esc(v.lead),
        author=esc(str(art.meta["author"])),
        date_iso=art.date.isoformat(),
        date_display=fmt_date(ctx.outlet, art.date),
    )


def links_html(ctx: Ctx, links: list[dict[str, Any]]) -> str:
    """Extra hand-written links (hazards, nav extras) as <li> items."""
    return "\n".join(
        f'<li><a href="{esc(ctx.expand(str(x["href"])))}">{esc(str(x["text"]))}</a></li>'
        for x in links
    )


def section_of(outlet: Outlet, art: Article) -> tuple[str, str]:
    """(title, href) of the listing page that owns this article's section."""
    for page in outlet.conf.get("pages", []):
        if page.get("section") and page["section"] == art.meta.get("section"):
            return str(page["title"]), str(page["path"])
    home = outlet.conf["pages"][0]
    return str(art.meta.get("section_title", home["title"])), str(home["path"])


def tag_path(outlet: Outlet, tag: str) -> str | None:
    """Listing path of a tag, if the outlet has tag pages at all."""
    fmt = outlet.conf.get("tag_path")
    if not fmt:
        return None
    return str(fmt).format(slug=quote(tag.lower().replace(" ", "-")))


def tags_html(outlet: Outlet, tags: list[str]) -> str:
    """Tags as rel=tag links when the outlet has tag pages, else plain spans."""
    parts = []
    for tag in tags:
        href = tag_path(outlet, tag)
        if href:
            parts.append(f'<a href="{esc(href)}" rel="tag">{esc(tag)}</a>')
        else:
            parts.append(f'<span class="tag">{esc(tag)}</span>')
    return ", ".join(parts)


def jsonld(ctx: Ctx, art: Article, canonical: str, ascii_only: bool) -> str:
    """schema.org NewsArticle; templates decide whether to include it."""
    v = art.version(ctx.epoch)
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": v.title,
        "datePublished": art.date.isoformat(),
        "dateModified": v.modified.isoformat(),
        "author": {"@type": "Person", "name": art.meta["author"]},
        "publisher": {"@type": "Organization", "name": ctx.outlet.conf["source"]["name"]},
        "mainEntityOfPage": canonical,
        "inLanguage": art.meta.get("lang", ctx.outlet.language),
    }
    # ascii_only keeps the JSON valid when a legacy encoding turns characters into &#...; refs.
    return json.dumps(data, ensure_ascii=ascii_only).replace("</", "<\\/")


def related(ctx: Ctx, art: Article) -> list[Article]:
    """Explicit `related` paths from the front matter, else the three newest others."""
    by_path = {a.path: a for a in ctx.outlet.listed(ctx.epoch)}
    wanted = art.meta.get("related")
    if wanted:
        return [by_path[p] for p in wanted if p in by_path]
    return [a for a in by_path.values() if a is not art][:3]


def render_article(ctx: Ctx, art: Article, charset: str, meta_charset: bool) -> str:
    """Fill the article template (per-article override via `template`)."""
    out, v = ctx.outlet, art.version(ctx.epoch)
    url = ctx.absolute(art.path)
    canonical = ctx.expand(str(art.meta.get("canonical", url)))
    section_title, section_href = section_of(out, art)
    rel_tpl = str(out.conf.get("related_template", "item.html"))
    notice = f'<p class="update-notice">{esc(v.notice)}</p>' if v.notice else ""
    values = {
        "lang": esc(str(art.meta.get("lang", out.language))),
        "charset": charset,
        "meta_charset": f'<meta charset="{charset}">' if meta_charset else "",
        "site_name": esc(str(out.conf["source"]["name"])),
        "title": esc(v.title),
        "lead": esc(v.lead),
        "description": esc(v.lead or v.title),
        "body": ctx.expand(body_html(art.body)),
        "author": esc(str(art.meta["author"])),
        "byline": esc(str(art.meta.get("byline", art.meta["author"]))),
        "date_iso": art.date.isoformat(),
        "modified_iso": v.modified.isoformat(),
        "date_display": fmt_date(out, art.date),
        "modified_display": fmt_date(out, v.modified),
        "section_title": esc(section_title),
        "section_href": esc(section_href),
        "tags": tags_html(out, list(art.meta.get("tags", []))),
        "related": "\n".join(item_html(ctx, a, rel_tpl) for a in related(ctx, art)),
        "notice": notice,
        "url": esc(url),
        "canonical": esc(canonical),
        "share_url": quote(url, safe=""),
        "jsonld": jsonld(ctx, art, canonical, ascii_only=charset.lower() != "utf-8"),
        "image": esc(ctx.absolute(str(art.meta.get("image", out.conf.get("og_image", "/"))))),
    }
    template = str(art.meta.get("template", "article.html"))
    return ctx.expand(out.template(template).substitute(values))


def select(ctx: Ctx, spec: dict[str, Any]) -> list[Article]:
    """Articles a listing spec asks for: by section, by tag, or everything."""
    arts = ctx.outlet.listed(ctx.epoch)
    if "section" in spec:
        arts = [a for a in arts if a.meta.get("section") == spec["section"]]
    if "tag" in spec:
        arts = [a for a in arts if spec["tag"] in a.meta.get("tags", [])]
    return arts


def page_count(ctx: Ctx, spec: dict[str, Any]) -> int:
    """Number of pages a paginated listing has in this epoch (at least one)."""
    size = int(spec.get("page_size", 0))
    n = len(select(ctx, spec))
    return max(1, -(-n // size)) if size else 1


def page_href(spec: dict[str, Any], n: int) -> str:
    """Path of page n of a listing (page 1 is the listing's own path)."""
    return str(spec["path"]) if n == 1 else str(spec["page_path"]).format(n=n)


def render_listing(ctx: Ctx, spec: dict[str, Any], n: int) -> str | None:
    """A section/home/tag page; None when page n does not exist in this epoch."""
    arts, pages = select(ctx, spec), page_count(ctx, spec)
    if n > pages:
        return None
    size = int(spec.get("page_size", 0)) or int(spec.get("limit", 0)) or len(arts)
    chunk = arts[(n - 1) * size : n * size]
    head, nav = [], []
    if n > 1:
        head.append(f'<link rel="prev" href="{esc(ctx.absolute(page_href(spec, n - 1)))}">')
        nav.append(f'<a class="prev" rel="prev" href="{esc(page_href(spec, n - 1))}">&laquo;</a>')
    if n < pages:
        head.append(f'<link rel="next" href="{esc(ctx.absolute(page_href(spec, n + 1)))}">')
        nav.append(f'<a class="next" rel="next" href="{esc(page_href(spec, n + 1))}">&raquo;</a>')
    values = {
        "lang": esc(ctx.outlet.language),
        "site_name": esc(str(ctx.outlet.conf["source"]["name"])),
        "title": esc(str(spec.get("title", ""))),
        "items": "\n".join(
            item_html(ctx, a, str(spec.get("item_template", "item.html"))) for a in chunk
        ),
        "head_links": "\n".join(head),
        "pagination": " ".join(nav),
        "page": str(n),
        "extra_links": links_html(ctx, list(spec.get("extra_links", []))),
        "canonical": esc(ctx.absolute(page_href(spec, n))),
    }
    template = str(spec.get("template", "listing.html"))
    return ctx.expand(ctx.outlet.template(template).substitute(values))
