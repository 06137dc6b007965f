"""The bench web's pages: recorded real pages with the article cut out (templates), and the
generated articles' pools (used by bench/benchweb.py)."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from lxml import html as lhtml

from extract import decode_html

ROOT = Path(__file__).resolve().parents[1]
PAGES, SITES = ROOT / "tests" / "pages", ROOT / "demoweb" / "sites"
_EXTERNAL = re.compile(r"(?:https?:)?//(?!(?:schema\.org|www\.w3\.org|ogp\.me|purl\.org|127\.)\b)"
                       r"([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.(?:[A-Za-z]{2,}|\d{1,3}))")
_DATE_KEY = re.compile(r"date|time|publish|modif|created", re.I)


@dataclass(frozen=True)
class Template:
    """A recorded page and where its article lives (XPaths into the decoded page)."""

    case: str
    lang: str
    body: str  # the element whose content becomes the generated paragraphs
    title: str  # the headline; its text is replaced everywhere it occurs
    dates: tuple[tuple[str, str, str], ...] = ()  # (xpath, strftime format, "text" | "tail")
    drop: tuple[str, ...] = ()  # leads, "updated" stamps: removed
    date: str = ""  # the recorded date, when the page has none in machine-readable form


TEMPLATES = {t.case: t for t in (
    Template("en-newsaz-counteroffensive", "en", "//div[@class='post--content']", "(//h1)[2]",
             (("//div[contains(@class,'post--single')]//ul/li[1]/a", "%d %b %Y %H:%M", "text"),)),
    Template("en-sputnik-lockdowns", "en", "//div[@class='b-article__text']", "//h1",
             (("//time[contains(@class,'b-article__refs-date')][1]", "%H:%M  GMT %d.%m.%Y",
               "text"),), ("//time[contains(@class,'b-article__refs-date')][2]",)),
    Template("en-urdupoint-mishustin", "en", "//div[contains(@class,'detail_txt')]", "//h1",
             (("//i[contains(@class,'fa-calendar-o')]", "%a %d %B %Y | %I:%M %p", "tail"),)),
    Template("ru-tass-8836033", "ru", "//div[@class='text-block']", "//h1",
             drop=("//div[@class='news-header__lead']",)),
    Template("ru-inform-kz-a3725092", "ru", "//div[@class='article_news_body']", "//h1",
             (("//div[contains(@class,'date_public_art')]", "%d.%m.%Y %H:%M", "text"),)),
    Template("ru-ukrinform-3103218", "ru", "//div[contains(@class,'newsText')]/div[p]", "//h1",
             (("//article//header//time", "%d.%m.%Y %H:%M", "text"),),
             ("//div[@class='newsHeading']",)),
    Template("ru-unn-1906059", "ru", "//div[contains(@class,'b-news-text')]", "//h1",
             (("//span[contains(@class,'datelink')]", "%d.%m.%Y, %H:%M", "text"),)),
    Template("ru-football-ua-podolski", "ru", "//div[@class='article-text']", "//h1",
             (("//article[1]/p[@class='date']", "%d.%m.%Y, %H:%M", "text"),
              ("//span[@class='photo-date']", "%d.%m.%Y, %H:%M", "text")),
             date="2016-08-15T13:43:00+03:00"),
    Template("hy-a1plus-378866", "hy", "//div[@class='news-content-block']",
             "//div[@class='news-content-block']/h2",
             (("//article//time[contains(@class,'cw-relative-date')]", "%d.%m.%Y %H:%M", "text"),)),
    Template("hy-newsam-615163", "hy", "//span[@class='article-body']",
             "//div[@class='article-title']",
             (("//div[@class='time' and @content]", "%H:%M, %d.%m.%Y", "text"),)),
    Template("hy-panarmenian-250976", "hy", "//div[contains(@class,'article_body')]", "//h1",
             (("//div[contains(@class,'article_date')]", "%d.%m.%Y - %H:%M AMT", "text"),)),
)}


# -- templates: a recorded page with the article cut out ----------------------------------


def _load(case: str) -> Any:
    return lhtml.fromstring(decode_html((PAGES / case / "input.html").read_bytes())[0])


def _iso_mark(value: str) -> str:
    """Placeholder keeping the shape of the date it replaces (UTC 'Z', a day, or an offset)."""
    return "QQISOZQQ" if value.endswith("Z") else "QQDAYQQ" if len(value) == 10 else "QQISOQQ"


def _jsonld(node: Any, title: str) -> Any:
    """Point a JSON-LD tree's headline, dates, description, body and URL at placeholders."""
    if isinstance(node, list):
        return [_jsonld(x, title) for x in node]
    if not isinstance(node, dict):
        return node
    marks = {"datePublished": "QQISOJSQQ", "dateModified": "QQISOJSQQ",
             "dateCreated": "QQISOJSQQ", "description": "QQDESCJSQQ", "articleBody": "QQBODYJSQQ"}
    out = {}
    for key, value in node.items():
        if key in marks and isinstance(value, str):
            value = marks[key]
        elif key in ("headline", "alternativeHeadline", "name") and value == title:
            value = "QQTITLEJSQQ"
        elif key in ("url", "@id") and "Article" in str(node.get("@type")):
            value = "QQURLQQ"
        out[key] = _jsonld(value, title)
    return out


def _retag(el: Any, title: str) -> None:
    """Metadata on one element: og:type article, URL, description, dates, the old headline."""
    key = " ".join(el.get(a, "") for a in ("property", "name", "itemprop")).lower()
    if el.tag == "meta" and el.get("content") is not None:
        if "og:type" in key:
            el.set("content", "article")
        elif "og:url" in key:
            el.set("content", "QQURLQQ")
        elif "description" in key:
            el.set("content", "QQDESCQQ")
        elif _DATE_KEY.search(key):
            el.set("content", _iso_mark(el.get("content") or ""))
    elif el.get("itemprop") in ("datePublished", "dateModified", "dateCreated"):
        for attr in ("datetime", "content"):
            if el.get(attr):
                el.set(attr, _iso_mark(el.get(attr) or ""))
    if el.tag == "link" and el.get("rel") == "canonical":
        el.set("href", "QQURLQQ")
    for attr, value in el.attrib.items():
        if title in value:
            el.set(attr, value.replace(title, "QQTITLEQQ"))
    if el.tag not in ("script", "style"):
        for part in ("text", "tail"):
            value = " ".join((getattr(el, part) or "").split())
            if title in value:
                setattr(el, part, value.replace(title, "QQTITLEQQ"))


@dataclass
class Skeleton:
    """A template serialized once with placeholders: a page is then a few str.replace calls."""

    markup: str
    formats: tuple[str, ...]


@cache
def skeleton(case: str) -> Skeleton:
    """Cut the article out of a recorded page, leaving placeholders (cached per process)."""
    tpl, doc = TEMPLATES[case], _load(case)
    heads = doc.xpath(tpl.title)
    title = " ".join(heads[0].text_content().split())
    for el in doc.xpath("|".join(("//base", "//meta[@http-equiv]", "//meta[@charset]",
                                  *tpl.drop))):
        el.drop_tree()
    for el in doc.xpath("//script[@type='application/ld+json']"):
        try:
            el.text = json.dumps(_jsonld(json.loads(el.text or ""), title), ensure_ascii=False)
        except ValueError:
            el.drop_tree()  # unreadable JSON-LD would keep the recorded article's facts
    for k, (xp, _, where) in enumerate(tpl.dates):
        for el in doc.xpath(xp):
            if where == "tail":
                el.tail = f" QQVIS{k}QQ"
            else:
                el[:], el.text = [], f"QQVIS{k}QQ"
            for attr in ("datetime", "content"):
                if el.get(attr):
                    el.set(attr, _iso_mark(el.get(attr) or ""))
    for el in doc.iter():
        if isinstance(el.tag, str):
            _retag(el, title)
    heads[0][:], heads[0].text = [], "QQTITLEQQ"
    box = doc.xpath(tpl.body)[0]
    kept = [c for c in box if "QQVIS" in lhtml.tostring(c, encoding="unicode")]
    box[:], box.text = kept, None if kept else "QQBODYQQ"  # a dateline inside stays first
    if kept:
        kept[-1].tail = "QQBODYQQ"
    head = doc.find("head")
    head.insert(0, lhtml.fromstring('<meta charset="utf-8">'))
    if not doc.xpath("//meta[@property='og:type']"):
        head.insert(1, lhtml.fromstring('<meta property="og:type" content="article">'))
    markup = lhtml.tostring(doc, encoding="unicode", doctype="<!DOCTYPE html>")
    return Skeleton(_EXTERNAL.sub(r"/_ext/\1", markup), tuple(f for _, f, _ in tpl.dates))


@cache
def template_date(case: str) -> datetime:
    """The recorded page's own publication time: generated dates fall in the 400 days before."""
    if TEMPLATES[case].date:
        return datetime.fromisoformat(TEMPLATES[case].date)
    doc = _load(case)
    for xp in ("//meta[@property='article:published_time']/@content", "//time/@datetime",
               "//*[@itemprop='datePublished']/@content", "//meta[@name='pubdate']/@content"):
        for value in doc.xpath(xp):
            try:
                found = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                continue
            if found.tzinfo is not None:  # a naive time would make the ground truth ambiguous
                return found
    script = " ".join(doc.xpath("//script[@type='application/ld+json']/text()"))
    for value in re.findall(r'"datePublished"\s*:\s*"([^"]+)"', script):
        found = datetime.fromisoformat(value)
        return found if found.tzinfo else found.replace(tzinfo=UTC)
    day = json.loads((PAGES / case / "expected.json").read_text(encoding="utf-8"))["date"]
    return datetime.fromisoformat(day + "T12:00:00+04:00")  # the day the case file records


@cache
def paragraph_pool() -> dict[str, tuple[str, ...]]:
    """Real paragraphs per language: the recorded pages' bodies and the demo web's articles."""
    pool: dict[str, list[str]] = {"en": [], "ru": [], "hy": []}
    for case, tpl in TEMPLATES.items():
        texts = (" ".join(p.text_content().split()) for p in _load(case).xpath(tpl.body + "//p"))
        pool[tpl.lang] += [t for t in texts if len(t) > 80]
    for md in sorted(SITES.glob("*/articles/*.md")):
        if md.parts[-3] == "hazards":
            continue  # deliberately broken markup and encodings
        body = md.read_text(encoding="utf-8").split("+++", 2)[-1]
        for block in re.split(r"\n\s*\n", body):
            text = " ".join(block.split()).removeprefix("> ")
            if len(text) > 80 and not text.startswith(("<", "#")):
                lang = "hy" if re.search("[\u0531-\u0587]", text) else \
                    "ru" if re.search("[\u0400-\u04ff]", text) else "en"
                pool[lang].append(text)
    return {lang: tuple(dict.fromkeys(items)) for lang, items in pool.items()}


def _headline(rng: random.Random, pool: tuple[str, ...], used: set[str]) -> str:
    """A headline: the first 6-14 words of a sentence of another real paragraph, unique."""
    for _ in range(200):
        sentences = re.split(r"(?<=[.!?։:])\s+", rng.choice(pool))
        words = rng.choice(sentences).split()[: rng.randint(6, 14)]
        title = " ".join(words).strip(" ,;:—-–«»\"'.")
        if len(words) >= 5 and title not in used:
            used.add(title)
            return title
    raise RuntimeError("paragraph pool too small for unique headlines")
