"""Authors: names only, in the page's order, from the best source the page offers.

Sources, best first: the article's JSON-LD ``author`` (people before organisations; ``@id``
references resolved in the ``@graph``), then author meta tags, then the visible byline
(``itemprop=author``, ``rel=author``, elements classed byline/author). The first source that
names a person wins; organisations other than the site itself (news agencies: "SDA", "dpa")
are kept beside people from the same source. When no source names anyone but the site, the site
is the author ("DER SPIEGEL"), as the page says. The publisher's name in meta tags that name the
site's domain ("Deutsche Welle (www.dw.com)") and the names of CMS accounts in JSON-LD
(".../author/admin/") count as the site. When no source names a person, two more are read: a
labelled byline ("<strong>Autorin/Autor</strong> Roman Goncharenko") and, on pages typed as
articles, a bold first paragraph under the headline; both must look like people's names.

Every name is cleaned by extract.names (prefixes, roles, dates, handles, markup; lists split).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from lxml.etree import Element
from lxml.html import HtmlElement

from .headline import heading_text
from .meta import meta_content
from .names import clean_names, personal_name, unique_names
from .titles import SiteNames, key

SEPARATOR = ", "
_META_NAMES = (
    "author", "article:author", "article:author_name", "og:author", "article:byline", "byl",
    "parsely-author", "sailthru.author", "cxenseparse:author", "dc.creator", "dcterms.creator",
    "citation_author", "articleauthor", "lp.article:author",
)  # fmt: skip


def _ld_people(jsonld: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """(people, organisations) named as the article's author in JSON-LD."""
    by_id = {str(o["@id"]): o for o in jsonld if isinstance(o.get("@id"), str)}
    people: list[str] = []
    orgs: list[str] = []
    for obj in jsonld:
        authors = obj.get("author") or obj.get("creator")
        if not authors:
            continue
        for node in authors if isinstance(authors, list) else [authors]:
            if isinstance(node, list):  # nested lists occur ([[{...}, {...}]])
                for sub in node:
                    _ld_node(sub, by_id, people, orgs)
            else:
                _ld_node(node, by_id, people, orgs)
        if people or orgs:
            break  # the first article-like object with authors is the page's own
    return people, orgs


def _ld_node(node: Any, by_id: dict[str, Any], people: list[str], orgs: list[str]) -> None:
    if isinstance(node, str):
        people.extend(clean_names(node))
        return
    if not isinstance(node, dict):
        return
    if "name" not in node and isinstance(node.get("@id"), str) and node["@id"] in by_id:
        node = by_id[node["@id"]]
    name = node.get("name") or node.get("byline") or " ".join(
        str(node.get(k) or "") for k in ("givenName", "familyName")).strip()
    if isinstance(name, list):
        name = ", ".join(str(n) for n in name)
    kind = str(node.get("@type") or "")
    target = orgs if "Organization" in kind else people
    target.extend(clean_names(str(name or "")))


def _meta_names(tree: HtmlElement) -> list[str]:
    wanted = set(_META_NAMES)
    out: list[str] = []
    for meta in tree.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").lower()
        if key in wanted:
            out.extend(clean_names(meta.get("content")))
    return out


def _byline_elements(tree: HtmlElement) -> list[HtmlElement]:
    """Elements that may hold a byline, in document order: itemprop="author", rel="author"
    links, <address>, and classes or ids containing "byline" or "author" in any case.

    One walk in Python: the same test as an XPath union with translate() took ~2 ms a page
    (four walks, two translate() calls an element), this ~0.5 ms."""
    found = []
    for el in tree.iter(Element):
        get = el.get
        cls = get("class")
        ident = get("id")
        if cls and ("byline" in (low := cls.lower()) or "author" in low) \
                or ident and ("byline" in (low := ident.lower()) or "author" in low) \
                or get("itemprop") == "author" or el.tag == "address" \
                or (el.tag == "a" and " author " in f" {get('rel')} "):
            found.append(el)
    return found


# Not <aside>: some templates put the whole article in one (mk.ru); ranking handles teasers.
_SKIP = {"nav", "footer", "script", "style", "form", "noscript", "template"}
_WHOLE = {"article", "main", "body", "html"}


# Photo and image credits sit in elements classed "author" too ("Фото: Алексей Меринов").
# Whole words of a class ("image-credit", "photo_caption", "postImageCredit"), not letters
# inside one: a header that "has-mainimg" or a "multimedia" section holds the article's byline.
_CREDIT_WORDS = re.compile(r"(?<![a-z])(?:comment|picture|photo|image|img|caption|credit|"
                           r"copyright|media)", re.I)
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


def _credit_class(el: HtmlElement) -> bool:
    """The element's class names a photo, a caption, a credit or comments."""
    value = el.get("class")
    return bool(value) and _CREDIT_WORDS.search(_CAMEL.sub(" ", value)) is not None
_CREDIT_TEXT = re.compile(r"^\W*(photo|foto|фото|լուսանկար|image|bild|picture|illustration|"
                          r"credit|quelle|source|getty|reuters/|afp/|©|\(c\))", re.I)


def _headline_h1(tree: HtmlElement, title: str | None) -> HtmlElement | None:
    """The <h1> that shows the headline (compared by letters and digits), else the first."""
    h1s = [h for h in tree.iter("h1") if heading_text(h)]
    return next((h for h in h1s if title and key(heading_text(h)) == key(title)),
                h1s[0] if h1s else None)


def _article_root(tree: HtmlElement, title: str | None) -> HtmlElement | None:
    """The <article>, <main> or schema.org Article element around the page's headline."""
    h1 = _headline_h1(tree, title)
    if h1 is None:
        return None
    for el in h1.iterancestors():
        if el.tag in ("article", "main") or "Article" in (el.get("itemtype") or ""):
            return el
    return None


def _visible(tree: HtmlElement, title: str | None = None) -> Iterator[list[str]]:
    """Names of each visible byline element: those in the headline's article first, then the
    rest in document order (teasers of other articles carry bylines too)."""
    found = _byline_elements(tree)
    root = _article_root(tree, title)
    if root is not None:
        # The article's bylines first, each in document order (a stable sort); asked of the
        # few bylines' ancestors, not by listing every element under the root (thousands).
        found.sort(key=lambda el: root not in el.iterancestors())
    for el in found:
        # A container that holds the whole article is no photo credit, whatever its class
        # says of the story ("node--type-article media-photo" on National Geographic).
        if el.tag in _SKIP or _credit_class(el) or any(
                a.tag in _SKIP or a.tag in ("figure", "figcaption")
                or (a.tag not in _WHOLE and _credit_class(a))
                for a in el.iterancestors()):
            continue
        name_el = next(iter(el.xpath('.//*[@itemprop="name"]')), None)
        if el.tag == "meta" or (name_el is not None and name_el.tag == "meta"):
            target = name_el if name_el is not None else el
            text = target.get("content") or ""
        else:
            text = heading_text(name_el if name_el is not None else el)
        if 2 <= len(text) <= 150 and not _CREDIT_TEXT.match(text):
            names = clean_names(text)
            if names:
                yield names


# A CMS account's name ("robert.stitz", "edilson.la.rosa"), not the name it prints.
_HANDLE = re.compile(r"[a-z]{2,}(?:[._][a-z]{2,}){1,2}")


def authors(tree: HtmlElement, jsonld: list[dict[str, Any]], site: SiteNames,
            meta_author: str | None = None, title: str | None = None) -> list[str]:
    """The page's authors, names only, in its order (see the module doc)."""
    people, orgs = _ld_people(jsonld)
    fallback: list[str] = []
    handles: list[str] = []
    house: set[str] | None = None  # the publisher's and its accounts' names, read if needed
    for names in _sources(tree, jsonld, people + orgs, meta_author, title):
        names = unique_names(_without_site(n, site) for n in names)
        own = [n for n in names if not site.matches(n)]
        if own and house is None:
            house = _house_names(tree, jsonld, site)
        own = [n for n in own if key(n) not in (house or ())]
        if own and all(_HANDLE.fullmatch(n) for n in own):
            # A CMS account ("robert.stitz"): the page may print the person's name further on.
            handles = handles or own
            continue
        if own:
            return own
        # The site's own name as the page prints it ("Suedtirol Online", not "stol.it").
        fallback = fallback or [n for n in names if not site.matches(n)] or names
    if handles:  # "robert.stitz" -> "Robert Stitz": the name an account is made of
        return [" ".join(p.capitalize() for p in re.split(r"[._]", h)) for h in handles]
    return fallback


_NAME_TAIL = re.compile(r"(?<=\w\w)\.\s+(?=\w)|\s+[-–—|]\s+")


def _without_site(name: str, site: SiteNames) -> str:
    """"Wilmer Leon. Sputnik International" -> "Wilmer Leon"; a name that is the site's own
    label ("Լուրեր Հայաստանից - NEWS.am") becomes the site's name, so it counts as the site."""
    parts = _NAME_TAIL.split(name)
    if len(parts) > 1 and any(site.matches(p) for p in parts):
        people = [p for p in parts if not site.matches(p)]
        return people[0] if len(people) == 1 and parts[0] == people[0] and len(parts) == 2 \
            else next(p for p in parts if site.matches(p))
    return name


def _sources(tree: HtmlElement, jsonld: list[dict[str, Any]], ld: list[str],
             meta_author: str | None, title: str | None) -> Iterator[list[str]]:
    """Candidate name lists, best source first; the visible byline is read only if needed, the
    labelled and the bold lead bylines only when nothing before names a person."""
    yield ld
    yield _meta_names(tree)
    if meta_author:
        yield clean_names(meta_author)
    yield from _visible(tree, title)
    yield from _labelled(tree)
    if _typed_article(tree, jsonld):
        yield _bold_lead(tree, title)


# -- names that are the house's, not a person's -----------------------------------------------

_PUBLISHER_META = ("publisher", "dc.publisher", "dcterms.publisher", "copyright")
_COPYRIGHT = re.compile(r"©|\(c\)|\bcopyright\b|\b(?:19|20)\d\d\b|all rights reserved", re.I)
_EMAIL = re.compile(r"\S+@\S+")
_DOMAIN = re.compile(r"(?:www\.)?([\w-]+(?:\.[\w-]+)*\.[a-z]{2,})\b", re.I)
# A CMS account rather than a person: WordPress's "admin" signing as "Ilanga D".
_ACCOUNT_URL = re.compile(r"/(?:author|authors|autor|user|users|profile)/(?:admin|administrator|"
                          r"editor|editors|redaktion|staff|team|webmaster|newsroom|desk)/?$", re.I)


def _house_names(tree: HtmlElement, jsonld: list[dict[str, Any]], site: SiteNames) -> set[str]:
    """Keys of the publisher's names from its meta tags, when they name the site's own domain
    ("Deutsche Welle (www.dw.com)": on small sites the publisher is often the author himself),
    and of the names CMS accounts sign with in JSON-LD (not visible links: teasers of other
    articles link people's names to the same account): a byline that is either is the site's."""
    out: set[str] = set()
    for meta in tree.iter("meta"):
        if (meta.get("name") or meta.get("property") or "").lower() in _PUBLISHER_META:
            content = meta.get("content") or ""
            # An e-mail address names the mailbox's domain, not the publisher's.
            if any(site.matches(d) for d in _DOMAIN.findall(_EMAIL.sub(" ", content))):
                out.update(key(n) for n in clean_names(_COPYRIGHT.sub(" ", content)))
    for obj in _walk_ld(jsonld):
        link = obj.get("url") or obj.get("@id")
        if isinstance(link, str) and _ACCOUNT_URL.search(link) and isinstance(obj.get("name"), str):
            out.add(key(obj["name"]))
    out.discard("")
    return out


def _walk_ld(node: Any) -> Iterator[dict[str, Any]]:
    """Every object inside JSON-LD, nested ones included (a loop, not recursion: hostile
    pages nest as deep as the JSON parser allows)."""
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            yield item
            todo.extend(reversed(item.values()))
        elif isinstance(item, list):
            todo.extend(reversed(item))


# -- bylines without a byline class ----------------------------------------------------------

# A label followed by the name in the same element ("<li><strong>Autorin/Autor</strong> Roman
# Goncharenko</li>") or in the next cell (<dt>/<dd>, <th>/<td>).
_LABEL = re.compile(r"^(?:(?:autor(?:in)?(?:\s*/\s*autor(?:in)?)?|autoren|author|authors|"
                    r"written by|reported by|by|von|auteur|autore|автор|авторы|текст|"
                    r"yazar|հեղինակ)\s*[:：]?|text\s*[:：])$", re.I)
_LABEL_TAGS = ("strong", "b", "em", "span", "label", "dt", "th")


def _labelled(tree: HtmlElement) -> Iterator[list[str]]:
    """Names after a byline label, in document order."""
    for el in tree.iter(*_LABEL_TAGS):
        label = " ".join(el.text_content().split())
        if len(label) > 20 or not _LABEL.match(label) or any(
                a.tag in _SKIP for a in el.iterancestors()):
            continue
        if el.tag in ("dt", "th"):
            cell = el.getnext()
            text = heading_text(cell) if cell is not None else ""
        else:
            parent = el.getparent()
            text = heading_text(parent) if parent is not None else ""
            text = text.strip()[len(label):] if text.strip().startswith(label) else _after(el)
        if len(text) <= 100 and (names := clean_names(text)) and all(map(personal_name, names)):
            yield names


def _after(label: HtmlElement) -> str:
    """What follows a label inside a longer paragraph, up to a line break or the next label
    ("… (wird fortgesetzt) <strong>Text:</strong> Klausmartin Friedrich <br> <strong>Fotos:")."""
    parts = [label.tail or ""]
    for sib in label.itersiblings():
        if sib.tag == "br" or (sib.tag in _LABEL_TAGS and (shown := heading_text(sib)).endswith(":")):
            break
        parts += [shown if sib.tag in _LABEL_TAGS else heading_text(sib), sib.tail or ""]
        if sum(map(len, parts)) > 100:
            break
    return " ".join("".join(parts).split())


def _bold_lead(tree: HtmlElement, title: str | None) -> list[str]:
    """A byline printed as the body's first bold paragraph ("<p><strong>Mohloai Mpesi</strong>
    </p>" right under the headline): names of two to four capitalised words each."""
    h1 = _headline_h1(tree, title)
    if h1 is None:
        return []
    seen = 0
    for p in h1.xpath("following::p[position() <= 8]"):
        text = " ".join(heading_text(p).split())
        if not text:
            continue
        seen += 1
        bold = " ".join(" ".join(heading_text(b) for b in p.iter("strong", "b")).split())
        if bold == text and len(text) <= 60:
            names = clean_names(text)
            if names and all(personal_name(n) for n in names):
                return names
        if seen >= 3 or len(text) > 120:
            break
    return []


_ARTICLE_TYPES = ("article", "blogposting", "report", "posting")


def _typed_article(tree: HtmlElement, jsonld: list[dict[str, Any]]) -> bool:
    """The page says it is an article (og:type or a JSON-LD type): only those carry bylines in
    their first paragraph; a documentation page's bold line is a heading."""
    og = meta_content(tree, "og:type") or ""
    types = " ".join(str(o.get("@type") or "") for o in _walk_ld(jsonld))
    return any(t in og.lower() or t in types.lower() for t in _ARTICLE_TYPES)
