"""Decide early whether input is an article at all: binaries, challenges, shells, listings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from .meta import meta_content

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "PDF document"),
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip data"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"\x00\x00\x00", "binary media"),
    (b"\xd0\xcf\x11\xe0", "MS Office document"),
    (b"{\\rtf", "RTF document"),
)
_NON_HTML_TYPES = re.compile(r"^\s*(application/(pdf|zip|octet-stream|msword|vnd\.)|image/|audio/|video/|font/)", re.I)
_CHALLENGE = re.compile(
    r"just a moment\.\.\.|attention required! \| cloudflare|checking (your|if the site connection is) "
    r"|ddos-guard|are you a (robot|human)|verify you are (a )?human|access denied|captcha"
    r"|before you continue to|we value your privacy|cookie consent|enable javascript and cookies"
    r"|проверка браузера|вы не робот|доступ запрещен",
    re.I,
)
_NEEDS_JS = re.compile(r"enable javascript|javascript (is )?(required|disabled)|включите javascript", re.I)
_EDITION = re.compile(r"^/(?:[a-z]{2,3}(?:[-_][a-z]{2})?/?)?(?:index\.\w+)?$", re.I)
_WAYBACK = re.compile(r"^/web/[^/]*/(https?://.+)$")


def binary_kind(data: bytes, content_type: str | None) -> str | None:
    """Name the kind of non-HTML input (PDF, image...), or None if it may be HTML."""
    head = data[:16].lstrip()
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if content_type and _NON_HTML_TYPES.match(content_type):
        return content_type.split(";")[0].strip()
    sample = data[:2048]
    if sample and control_bytes(sample) > 0.1 * len(sample):
        return "binary data"
    return None


# Control characters no text file holds (tab, newlines, form feed and carriage return are text).
_CONTROL = bytes(b for b in range(32) if b < 9 or b > 13)


def control_bytes(sample: bytes) -> int:
    """How many bytes of `sample` are control characters that text does not use (in C)."""
    return len(sample) - len(sample.translate(None, _CONTROL))


def original_url(url: str | None) -> str | None:
    """Unwrap a Wayback Machine URL to the archived URL; other URLs are returned unchanged."""
    if url and "web.archive.org" in url and (m := _WAYBACK.match(urlsplit(url).path)):
        query = urlsplit(url).query  # the archived URL's own query string ("?newsID=11")
        return f"{m.group(1)}?{query}" if query else m.group(1)
    return url


def is_section_front(url: str | None) -> bool:
    """Return True for a site root or edition root such as https://news.am/eng/."""
    url = original_url(url)
    if not url:
        return False
    parts = urlsplit(url)
    return not parts.query and bool(_EDITION.match(parts.path or "/"))


def not_article_reason(
    tree: HtmlElement, url: str | None, text: str, jsonld: list[dict[str, Any]], og_type: str | None
) -> str | None:
    """Explain why a parsed page is not an article (challenge, shell, listing), or None."""
    title = " ".join((tree.findtext(".//title") or "").split())
    body = tree.find("body")
    visible = " ".join((body.text_content() if body is not None else "").split())
    # Visible text is only searched on short pages: articles may mention "captcha" in a form.
    if len(text) < 1500 and (_CHALLENGE.search(title) or (len(visible) < 2000 and _CHALLENGE.search(visible))):
        return "challenge or consent page"
    # Data blocks (JSON-LD and other JSON) are no scripts: a teaser page carries them too.
    scripts = len(tree.xpath('//script[not(contains(@type, "json"))]'))
    if len(text) < 200 and scripts and (len(visible) < 500 or _NEEDS_JS.search(visible[:3000])):
        return "script-only page shell"
    article_typed = og_type == "article" or any(
        "article" in str(obj.get("@type", "")).lower() or "posting" in str(obj.get("@type", "")).lower()
        for obj in jsonld
    )
    if article_typed:
        return None
    if is_section_front(url):
        return "site or section front page"
    # A listing's posts are headed links to their own pages; <article> elements whose
    # headings link nowhere are sections of one long report (slf.ch weekly reports).
    posts = [a for a in tree.iter("article") if _links_out(a, url)]
    if len(posts) >= 3 and og_type in (None, "website") and not _has_headline(tree):
        return "listing of several posts"
    if len(text) < 1500 and _mostly_links(tree, text):
        return "index of links (live page, tag or topic listing)"
    return None


_PAYWALL = re.compile(
    r"subscribe to (read|continue)|subscribers only|for subscribers|to continue reading|"
    r"already a subscriber|become a (member|subscriber)|this (article|content) is (for|available "
    r"to) (paying )?(subscribers|members)|paywall|log ?in to (read|continue)|"
    r"nur für abonnenten|exklusiv für abonnenten|jetzt weiterlesen mit|weiterlesen mit [a-z]+\+|"
    r"réservé aux abonnés|exclusivo para suscriptores|riservato agli abbonati|"
    r"подпишитесь,? чтобы|только для подписчиков|оформите подписку|продолжение доступно|"
    r"բաժանորդագր", re.I)
# Below this many characters of text a page that mentions a subscription holds only a teaser.
_STUB_CHARS = 1200
_TEASER_CHARS = 800
# A locked section (schema.org hasPart cssSelector) holding less than this is not on the page.
_LOCKED_CHARS = 300
_CLASS_SELECTOR = re.compile(r"^\s*\.([\w-]+)\s*$")


def _not_free(value: Any) -> bool:
    return str(value).strip().lower().rsplit("/", 1)[-1] == "false"


def _locked_text(tree: HtmlElement, selector: str) -> int | None:
    """Characters inside the elements a paywall markup's selector names (None: none found)."""
    match = _CLASS_SELECTOR.match(selector)
    if not match:
        return None
    found = tree.xpath(f'//*[contains(concat(" ", normalize-space(@class), " "), " {match[1]} ")]')
    return sum(len(" ".join(el.text_content().split())) for el in found) if found else None


def access_of(tree: HtmlElement, text: str, jsonld: list[dict[str, Any]], url: str | None = None
              ) -> tuple[str, str | None]:
    """How much of the article the page holds: "open", "paywalled" or "teaser", and why.

    A page is paywalled when it shows that its text is cut: the locked section its schema.org
    markup names (``isAccessibleForFree: false`` with a ``hasPart`` selector) is on the page
    but (nearly) empty; or its text is short and it says so (a subscription prompt, or
    ``article:content_tier`` locked). The markup alone is not enough: metered sites mark every
    page "not free", short free items included, and serve the full text.
    A short page whose "read the full story" link leads to another site is a teaser.
    """
    for obj in jsonld:
        if "isAccessibleForFree" not in obj or not _not_free(obj["isAccessibleForFree"]):
            continue
        parts = obj.get("hasPart")
        parts = parts if isinstance(parts, list) else [parts] if isinstance(parts, dict) else []
        for part in parts:
            if isinstance(part, dict) and part.get("cssSelector") and _not_free(part.get("isAccessibleForFree")):
                locked = _locked_text(tree, str(part["cssSelector"]))
                if locked is not None and locked < _LOCKED_CHARS:
                    return "paywalled", "paywall: the locked part its markup names is empty here"
    if len(text) >= _STUB_CHARS:
        return "open", None
    if (meta_content(tree, "article:content_tier") or "").lower() == "locked":
        return "paywalled", "paywall: article:content_tier is locked"
    body = tree.find("body")
    visible = " ".join((body.text_content() if body is not None else "").split())
    if _PAYWALL.search(text) or _PAYWALL.search(visible[-3000:]):
        return "paywalled", "paywall: a teaser and a subscription prompt (the full text needs a subscription)"
    if len(text) < _TEASER_CHARS and (link := _full_story_elsewhere(tree, url)):
        return "teaser", f"teaser: the full text is at {link}"
    return "open", None


_READ_ON = re.compile(
    r"^(read|see) (the )?(full|whole|complete|entire|rest of the) (story|article|report|text)|"
    r"^continue reading|^read more at|^weiterlesen (auf|bei)|^den ganzen artikel|"
    r"^lire la suite sur|^leer (la noticia )?completa|^читать (полностью|далее) на|"
    r"^полный текст|^ամբողջությամբ", re.I)


def _full_story_elsewhere(tree: HtmlElement, url: str | None) -> str | None:
    """A "read the full story" link to another site: this page is an excerpt of it."""
    host = (urlsplit(original_url(url) or "").hostname or "").removeprefix("www.")
    for a in tree.iter("a"):
        href = a.get("href") or ""
        label = " ".join(a.text_content().split())
        target = (urlsplit(href).hostname or "").removeprefix("www.")
        if target and host and target != host and not target.endswith("." + host) \
                and len(label) < 80 and _READ_ON.search(label):
            return href
    return None


def drop_paywall_lines(text: str) -> str:
    """Remove the subscription prompt from a paywalled page's teaser text: its own lines, or
    (when the prompt was run into the teaser) everything from the sentence where it starts,
    if that is in the second half of the text."""
    lines = [line for line in text.split("\n") if not (len(line) < 300 and _PAYWALL.search(line))]
    text = "\n".join(lines).strip()
    match = _PAYWALL.search(text)
    if match and match.start() >= len(text) / 2:
        start = max(text.rfind(". ", 0, match.start()) + 2, text.rfind("\n", 0, match.start()) + 1)
        text = text[:start].strip() if start > 1 else text
    return text


def _links_out(post: HtmlElement, url: str | None) -> bool:
    """A post teaser: one of its headings links to (or sits in a link to) another page."""
    here = (url or "").split("#", 1)[0]
    for heading in post.xpath(".//h1|.//h2|.//h3|.//h4"):
        for a in [*heading.iter("a"), *heading.iterancestors("a")]:
            href = (a.get("href") or "").strip()
            if href and not href.startswith(("#", "javascript:")) and href.split("#", 1)[0] != here:
                return True
    return False


def _mostly_links(tree: HtmlElement, text: str) -> bool:
    """Most of the extracted text is the text of links: an index page, not a story."""
    anchors = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    anchors.discard("")
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    if len(lines) >= 3:
        linked = sum(len(line) for line in lines if line in anchors)
        return linked >= 0.6 * sum(len(line) for line in lines)
    # trafilatura drops link lists, leaving a line or two: judge the page's main area instead.
    main = next(iter(tree.xpath("//main|//*[@role='main']|//article")), tree.find("body"))
    if main is None or len(text) > 300:
        return False
    visible = len(" ".join(main.text_content().split()))
    in_links = sum(len(" ".join(a.text_content().split())) for a in main.iter("a"))
    return visible > 0 and in_links >= 0.6 * visible


def _has_headline(tree: HtmlElement) -> bool:
    """An article page has an <h1> that is its own headline, not a link to somewhere else."""
    for h1 in tree.iter("h1"):
        text = " ".join(h1.text_content().split())
        if text and not h1.xpath(".//a"):
            return True
    return False
