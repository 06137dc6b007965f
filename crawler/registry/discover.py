"""Pure helpers of `mediawatch sources discover`: read a homepage, learn an article URL pattern.

No Scrapy and no I/O here (crawler.spiders.discover fetches). learn_pattern generalises the
article URLs that an outlet's feeds and sitemaps list into one regex per URL shape: each
path segment becomes a literal (a word every example shares), a date part, a numeric id, a
slug, or a slug ending in an id; then it is checked against known non-article links.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from lxml import html as lxml_html

from crawler.web.links import page_links
from crawler.web.urls import clean_url, host_key, is_http_url

END = r"/?(?:[?#]|$)"
HOST = r"^https?://[^/]+"
COMMON_FEEDS = ("/feed", "/feed/", "/rss", "/rss.xml", "/atom.xml", "/feed.xml", "/index.xml")
COMMON_SITEMAPS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml")
_FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml",
               "application/feed+json", "application/xml", "text/xml")
_FEED_WORDS = re.compile(r"\b(?:rss|atom|feed|xml)\b", re.I)
# Stylesheets, scripts, images and fonts: never a candidate article link, so no useful
# counter-example for a pattern either.
_ASSET = re.compile(r"\.(?:css|js|mjs|png|jpe?g|gif|svg|webp|avif|ico|woff2?|ttf|otf|eot)"
                    r"(?:[?#]|$)", re.I)


def _segment(values: Sequence[str], many: bool) -> str:
    """The regex for one path position, given the values the examples have there."""
    distinct = list(dict.fromkeys(values))
    if len(distinct) == 1 and not re.search(r"\d|-", distinct[0]) and len(distinct[0]) <= 20:
        return re.escape(distinct[0])  # a word every example shares: news, articles, en
    ext = ""
    if all(v.endswith(".html") for v in values):
        ext, values = r"\.html", [v[:-5] for v in values]
    elif all(v.endswith(".htm") for v in values):
        ext, values = r"\.htm", [v[:-4] for v in values]

    def every(rx: str) -> bool:
        return all(re.fullmatch(rx, v) for v in values)

    if every(r"(?:19|20)\d\d"):
        return r"\d{4}" + ext
    if every(r"\d\d") and all(1 <= int(v) <= 31 for v in values):
        return r"\d{2}" + ext
    if every(r"(?:19|20)\d{6}"):
        return r"\d{8}" + ext
    if every(r"(?:19|20)\d\d-\d\d-\d\d"):
        return r"\d{4}-\d{2}-\d{2}" + ext
    if every(r"\d+"):
        shortest = min(len(v) for v in values)
        return rf"\d{{{max(1, shortest - 1)},}}" + ext
    if every(r"[0-9a-f]{24}"):
        return r"[0-9a-f]{24}" + ext
    if every(r"[a-z]+-\d{4,}") and len({v.rsplit("-", 1)[0] for v in values}) <= 4:
        words = sorted({v.rsplit("-", 1)[0] for v in values})  # a-123, news-123: a type word
        return "(?:" + "|".join(words) + r")-\d{4,}" + ext
    if every(r".+-\d{4,}"):
        return r"[^/?#]*-\d{4,}" + ext  # a slug ending in the article id
    if every(r"[^/]*[-_][^/]*"):
        return r"[^/?#]*[-_][^/?#]+" + ext  # a slug of several words: never a section word
    if every(r"[a-z]{2,3}"):
        return r"[a-z]{2,3}" + ext  # editions seen vary (en, ru, hy, eng, arm): any code
    if every(r"(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{8,}"):
        return r"[a-z0-9]{8,}" + ext  # opaque ids such as cg704gpj0yxo
    if many and len(distinct) <= 4:
        return "(?:" + "|".join(re.escape(v) for v in sorted(distinct)) + ")" + ext
    return r"[^/?#]+" + ext


def _segments(url: str) -> list[str]:
    path = unquote(urlsplit(url).path)
    return [s for s in path.split("/") if s]


def shape_key(url: str) -> tuple[int, str]:
    """URLs of one shape: same depth, same kind of last segment."""
    segs = _segments(url)
    last = segs[-1] if segs else ""
    kind = "html" if last.endswith((".html", ".htm")) else "num" if last.isdigit() else "text"
    return len(segs), kind


@dataclass
class Learned:
    """A proposed article_url_pattern with the evidence behind it."""

    pattern: str | None
    host: str | None
    articles: list[str] = field(default_factory=list)
    accepted: int = 0  # of the article URLs
    rejected_non_articles: list[str] = field(default_factory=list)
    accepted_non_articles: list[str] = field(default_factory=list)


def _shape_parts(urls: list[str]) -> list[str]:
    columns = list(zip(*(_segments(u) for u in urls), strict=True))
    many = len(urls) >= 3
    return [_segment(list(col), many) for col in columns]


def _shape_pattern(urls: list[str]) -> str:
    body = "/".join(_shape_parts(urls))
    return "/" + body if body else "/"


_LONG_ID = re.compile(r"\\d\{(\d+),\}")  # the regex text of a numeric id: \d{5,}
_SLUG = r"[^/?#]*[-_][^/?#]+"


def _loosened(parts: list[str]) -> str | None:
    """The shape with what identifies an article kept and its decoration made optional, or None.

    A CMS that names an article by a long numeric id serves it with and without what follows
    the id: "/eng/news/928860.html" beside "/eng/news/766444/uwc-dilijan.html", and
    "/news/3923781" beside "/news/2519620.html"; the feeds of one month list one form only."""
    if not parts:
        return None
    ext = next((e for e in (r"\.html", r"\.htm") if parts[-1].endswith(e)), "")
    last = parts[-1][: len(parts[-1]) - len(ext)] if ext else parts[-1]
    optional_ext = f"(?:{ext})?" if ext else ""
    if (m := _LONG_ID.fullmatch(last)) and int(m.group(1)) >= 4:
        return "/" + "/".join([*parts[:-1], last + r"(?:\.html?)?"])
    if len(parts) >= 2 and last == _SLUG and (m := _LONG_ID.fullmatch(parts[-2])) \
            and int(m.group(1)) >= 4:
        return "/" + "/".join(parts[:-1]) + f"(?:/{_SLUG})?" + optional_ext
    return None


def learn_pattern(articles: Iterable[str], non_articles: Iterable[str] = (),
                  max_shapes: int = 4) -> Learned:
    """Generalise article URLs into a regex (searched in the absolute URL, as the crawler does).

    URLs off the dominant host are ignored; each URL shape (depth and last-segment kind) shared
    by the examples becomes one alternative, the largest shapes first. Non-articles only
    measure the result: a shape whose pattern accepts one is narrowed to the literal values
    its examples have where that rejects the non-article and keeps every example.
    """
    urls = [u for u in dict.fromkeys(articles) if is_http_url(u) and _segments(u)]
    if not urls:
        return Learned(None, None)
    host = Counter(host_key(u) for u in urls).most_common(1)[0][0]
    urls = [u for u in urls if host_key(u) == host]
    negatives = [u for u in dict.fromkeys(non_articles) if is_http_url(u) and u not in urls]
    groups: dict[tuple[int, str], list[str]] = {}
    for u in urls:
        groups.setdefault(shape_key(u), []).append(u)
    shapes = sorted(groups.values(), key=len, reverse=True)[:max_shapes]
    alternatives = []
    for group in shapes:
        alt = _shape_pattern(group)
        if any(re.search(HOST + alt + END, n) for n in negatives):
            alt = _narrowed(group, negatives) or alt
        elif (loose := _loosened(_shape_parts(group))) and \
                not any(re.search(HOST + loose + END, n) for n in negatives):
            alt = loose
        alternatives.append(alt)
    inner = alternatives[0] if len(alternatives) == 1 else \
        "(?:" + "|".join(alternatives) + ")"
    pattern = HOST + inner + END
    rx = re.compile(pattern)
    kept = [u for u in urls if rx.search(u)]
    return Learned(pattern, host, urls, len(kept),
                   [n for n in negatives if not rx.search(n)],
                   [n for n in negatives if rx.search(n)])


def _narrowed(group: list[str], negatives: list[str]) -> str | None:
    """Make generic positions literal (the examples' own values) until negatives fail."""
    columns = list(zip(*(_segments(u) for u in group), strict=True))
    parts = [_segment(list(col), len(group) >= 3) for col in columns]
    for i, col in enumerate(columns):
        if parts[i].startswith("[^/?#]+") or parts[i] == r"[a-z0-9]{8,}":
            parts[i] = "(?:" + "|".join(re.escape(v) for v in sorted(set(col))) + ")"
            alt = "/" + "/".join(parts)
            if not any(re.search(HOST + alt + END, n) for n in negatives):
                return alt
    return None


@dataclass
class Homepage:
    """What a homepage says about itself."""

    name: str | None
    languages: list[str]
    feeds: list[str]  # <link rel=alternate> feeds and links named RSS/Atom/feed
    links: list[str]  # every http(s) link on the page


def read_homepage(body: bytes, url: str) -> Homepage:
    """Name (og:site_name, else <title>), languages, advertised feeds and links of a homepage."""
    links = page_links(body, url)
    feeds: list[str] = []
    name = None
    languages: list[str] = []
    try:
        doc = lxml_html.document_fromstring(body)
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        doc = None
    if doc is not None:
        site = doc.xpath("//meta[@property='og:site_name']/@content")
        title = doc.xpath("//title/text()")
        name = (site[0].strip() if site and site[0].strip() else
                re.split(r"\s+[|–—·»:-]\s+", title[0].strip())[-1] if title else None)
        langs = [*doc.xpath("/html/@lang"), *doc.xpath("//link[@hreflang]/@hreflang"),
                 *doc.xpath("//meta[@property='og:locale']/@content")]
        for raw in langs:
            code = raw.strip().lower().replace("_", "-").split("-")[0]
            if re.fullmatch(r"[a-z]{2}", code) and code not in languages:
                languages.append(code)
    for link in links:
        rel = link.rel.split()
        if "alternate" in rel and _looks_like_feed(link.url):
            feeds.append(link.url)
        elif _FEED_WORDS.search(link.text or "") and host_key(link.url) == host_key(url):
            feeds.append(link.url)
    if doc is not None:  # rel=alternate links whose type names a feed (page_links drops type)
        for el in doc.xpath("//link[@rel and @href]"):
            if "alternate" in (el.get("rel") or "").lower().split() and \
                    (el.get("type") or "").lower() in _FEED_TYPES:
                from urllib.parse import urljoin

                feeds.append(urljoin(url, el.get("href").strip()))
    return Homepage(name, languages, list(dict.fromkeys(feeds)),
                    [link.url for link in links])


def _looks_like_feed(url: str) -> bool:
    return bool(re.search(r"(?:rss|atom|feed|\.xml)(?:[/?#]|$)", url, re.I))


def slug_for(name: str | None, homepage: str) -> str:
    """A registry id from the outlet's host (stable) rather than its display name."""
    host = host_key(homepage).split(":")[0]
    parts = [p for p in host.split(".") if p not in ("www", "com", "org", "net", "ru", "am")]
    base = "-".join(parts) if parts and not host.replace(".", "").isdigit() else (name or "")
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-")
    return slug or "new-outlet"


_TLD_COUNTRY = {"am": "AM", "ru": "RU", "ge": "GE", "lv": "LV", "de": "DE", "uk": "GB",
                "cz": "CZ", "no": "NO", "az": "AZ", "ua": "UA", "by": "BY", "kz": "KZ"}
_LANG_COUNTRY = {"hy": "AM", "ru": "RU", "ka": "GE", "de": "DE", "uk": "UA", "az": "AZ"}


def proposal(homepage_url: str, page: Homepage | None, feeds: dict[str, list[str]],
             sitemaps: dict[str, list[str]], rejected: dict[str, str]) -> dict[str, object]:
    """Everything `sources discover` prints: the proposed entry and its evidence, as data.

    feeds / sitemaps: each working document with the URLs it lists; rejected: candidate URL
    -> why it was not used (HTML instead of XML, 404, robots.txt, timeout ...).
    """
    raw = [u for urls in (*feeds.values(), *sitemaps.values()) for u in urls]
    home_host = host_key(homepage_url)
    raw = [u for u in raw if host_key(u) == home_host] or raw
    # As a crawl writes them: a feed's tracking parameters (?utm_source=rss) are stripped
    # before any fetch, so the examples are the clean URLs and the tracked ones variants.
    articles = list(dict.fromkeys(clean_url(u) for u in raw))
    variants = list(dict.fromkeys(u for u in raw if clean_url(u) != u))
    shapes = {shape_key(u) for u in articles}
    links = [clean_url(u) for u in (page.links if page else [])
             if host_key(u) == home_host and not _ASSET.search(u)]
    others = [u for u in dict.fromkeys(links) if u not in set(articles)]
    # Same-shape homepage links are probably articles the feeds did not list: not negatives.
    negatives = [u for u in others if shape_key(u) not in shapes]
    learned = learn_pattern(articles, negatives)
    rx = re.compile(learned.pattern) if learned.pattern else None
    same_shape = [u for u in others if u not in negatives and rx and rx.search(u)]
    host = host_key(homepage_url).split(":")[0]
    tld = host.rsplit(".", 1)[-1]
    languages = (page.languages if page else []) or ["en"]
    country = _TLD_COUNTRY.get(tld) or _LANG_COUNTRY.get(languages[0], "US")
    return {
        "id": slug_for(page.name if page else None, homepage_url),
        "name": (page.name if page else None) or host,
        "homepage": homepage_url,
        "language": languages,
        "country": country,
        "feeds": list(feeds),
        "sitemaps": list(sitemaps),
        "article_url_pattern": learned.pattern,
        "verified_live": False,
        "evidence": {
            "feeds": {u: len(v) for u, v in feeds.items()},
            "sitemaps": {u: len(v) for u, v in sitemaps.items()},
            "rejected": rejected,
            "articles": len(learned.articles),
            "articles_accepted": learned.accepted,
            "homepage_links": len(links),
            "non_articles_rejected": len(learned.rejected_non_articles),
            "non_articles_accepted": learned.accepted_non_articles,
            "same_shape_homepage_links": same_shape[:10],
        },
        "examples": learned.articles[:5],
        "not_articles": learned.rejected_non_articles[:5],
        "variants": [u for u in variants if rx and rx.search(clean_url(u))][:3],
    }


def _tv(value: object) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"'{value}'" if "\\" in value and "'" not in value else \
            json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_tv(v) for v in value) + "]"
    return json.dumps(value)


def toml_block(p: dict[str, object]) -> str:
    """A ready [[source]] entry with the evidence as comments (scraped text never unescaped)."""
    ev = p["evidence"]
    assert isinstance(ev, dict)

    def safe(text: object) -> str:
        return " ".join(str(text).split())  # one comment line: no newline can end the comment

    lines = [f"# Proposed by `mediawatch sources discover {safe(p['homepage'])}`; not verified"
             " live: run `mediawatch sources probe --source ID` first."]
    for url, n in ev["feeds"].items():
        lines.append(f"# feed {safe(url)}: {n} items")
    for url, n in ev["sitemaps"].items():
        lines.append(f"# sitemap {safe(url)}: {n} URLs")
    for url, why in ev["rejected"].items():
        lines.append(f"# not used: {safe(url)}: {safe(why)}")
    if p["article_url_pattern"]:
        lines.append(f"# article_url_pattern learned from {ev['articles']} article URLs "
                     f"(accepts {ev['articles_accepted']}); rejects "
                     f"{ev['non_articles_rejected']} of the homepage's other links")
        for url in ev["non_articles_accepted"]:
            lines.append(f"# CHECK: also accepts the homepage link {safe(url)}")
        for url in ev["same_shape_homepage_links"]:
            lines.append(f"# also accepts (same shape, probably an article): {safe(url)}")
    else:
        lines.append("# no article URL found in feeds or sitemaps: write article_url_pattern "
                     "by hand from an article's URL")
        lines.append("# INCOMPLETE, so commented out (appending it to sources.toml changes "
                     "nothing): uncomment it once it has a pattern and a feed or sitemap")
    head = len(lines)
    lines += ["[[source]]", f"id = {_tv(p['id'])}", f"name = {_tv(p['name'])}",
              f"homepage = {_tv(p['homepage'])}", f"language = {_tv(p['language'])}",
              f"country = {_tv(p['country'])}  # guessed from the domain or language: check",
              'kind = "private"  # set it: see the kinds in the header of sources.toml']
    if p["feeds"]:
        lines.append(f"feeds = {_tv(p['feeds'])}")
    if p["sitemaps"]:
        lines.append(f"sitemaps = {_tv(p['sitemaps'])}")
    if p["article_url_pattern"]:
        lines.append(f"article_url_pattern = {_tv(p['article_url_pattern'])}")
    lines.append("verified_live = false")
    if p["examples"]:
        lines.append(f"examples = {_tv(p['examples'])}")
    if p["not_articles"]:
        lines.append(f"not_articles = {_tv(p['not_articles'])}")
    if p.get("variants"):
        lines.append(f"variants = {_tv(p['variants'])}")
    if not p["article_url_pattern"]:
        lines[head:] = ["# " + line for line in lines[head:]]
    return "\n".join(lines) + "\n"
