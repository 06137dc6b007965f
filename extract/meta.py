"""Page-level facts that trafilatura does not give us: language, canonical URL, licence."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml.etree import XPath, tostring
from lxml.html import HtmlElement

_CYRILLIC_LANGS = {"ru", "uk", "be", "bg", "sr", "mk", "kk", "ky", "tg", "mn"}
_SCRIPT_RANGES = (
    ("hy", re.compile(r"[\u0531-\u058f\ufb13-\ufb17]")),
    ("cyrl", re.compile(r"[\u0400-\u04ff]")),
    ("latn", re.compile(r"[A-Za-z\u00c0-\u024f]")),
)
# Scripts beyond those three, counted together first (one scan of the text), then told apart:
# an undeclared Chinese page with a few English words was "en", with none it had no language.
_OTHER = re.compile(r"[\u0370-\u03ff\u0590-\u06ff\u0900-\u09ff\u0b80-\u0bff\u0e00-\u0e7f"
                    r"\u10a0-\u10ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]")
_OTHER_LANGS = (  # (language, first and last code point), most specific first
    ("ja", 0x3040, 0x30FF),  # kana: Japanese (Chinese text has none)
    ("ko", 0xAC00, 0xD7AF), ("zh", 0x4E00, 0x9FFF), ("ka", 0x10A0, 0x10FF),
    ("el", 0x0370, 0x03FF), ("he", 0x0590, 0x05FF), ("ar", 0x0600, 0x06FF),
    ("hi", 0x0900, 0x097F), ("bn", 0x0980, 0x09FF), ("ta", 0x0B80, 0x0BFF), ("th", 0x0E00, 0x0E7F))
# Every letter of those ranges mapped to its language's index (as a character), for one
# str.translate and a count per language, both in C.
_OTHER_INDEX = {point: chr(i) for i, (_, first, last) in enumerate(_OTHER_LANGS)
                for point in range(first, last + 1)}
# Languages by the script they are written in, to tell a declaration the text contradicts.
_SCRIPT_OF = {"hy": "hy", **dict.fromkeys(_CYRILLIC_LANGS, "cyrl"),
              **dict.fromkeys(("ja", "zh", "ko"), "cjk"), "ka": "geor", "el": "grek",
              **dict.fromkeys(("he", "yi"), "hebr"), **dict.fromkeys(("ar", "fa", "ur", "ps"), "arab"),
              **dict.fromkeys(("hi", "mr", "ne"), "deva"), "bn": "beng", "ta": "taml", "th": "thai"}
_UK_LETTERS = re.compile(r"[іїєґІЇЄҐ]")
_RU_LETTERS = re.compile(r"[ыэъёЫЭЪЁ]")
_LANG_CODE = re.compile(r"^([a-zA-Z]{2,3})(?:[-_]|$)")
# Armenian sites often label pages "am" (Amharic) or "arm"; the script check below settles it.
_ALIASES = {"am": "hy", "arm": "hy", "hye": "hy", "rus": "ru", "eng": "en", "ukr": "uk"}

_CC_URL = re.compile(
    r"creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/?(\d(?:\.\d)?)?", re.I
)
_CC_TEXT = re.compile(
    r"\b(?:CC|Creative Commons)[ -]((?:BY|SA|NC|ND)(?:[ -](?:BY|SA|NC|ND))*|0|Zero)"
    r"(?:[ -](\d\.\d))?\b"
)


_CC_HOLDERS = XPath(
    '//body//text()[contains(., "CC") or contains(., "Creative Commons")]/parent::*'
    "[not(self::script or self::style)]"
)


_TAG = re.compile(r"</?[A-Za-z][^<>]*>")


def without_tags(text: str) -> str:
    """Metadata text without the HTML some CMSs leave in it (an excerpt ending in "<a
    class='read-more' href=...>Read More</a>", a JSON-LD author written as its link), spaces
    collapsed."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    return " ".join(text.split())


def _first(tree: HtmlElement, xpath: str) -> str | None:
    for value in tree.xpath(xpath):
        value = str(value).strip()
        if value:
            return value
    return None


def meta_content(tree: HtmlElement, *names: str) -> str | None:
    """Return the content of the first meta tag whose name/property matches (case-insensitive)."""
    wanted = {n.lower() for n in names}
    for meta in tree.iter("meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in wanted and (meta.get("content") or "").strip():
            return str(meta.get("content")).strip()
    return None


def canonical_url(tree: HtmlElement, url: str | None) -> str | None:
    """Return <link rel=canonical> (else og:url) resolved against the page URL."""
    href = _first(
        tree, '//link[contains(concat(" ", translate(@rel,"CANOICL","canoicl"), " "), " canonical ")]/@href'
    ) or meta_content(tree, "og:url")
    if not href:
        return None
    return urljoin(url, href) if url else href


def declared_locale(tree: HtmlElement) -> str | None:
    """Return the language tag the page declares about itself ("en-GB", "ru_RU", "hy"), if any."""
    return (
        _first(tree, "/html/@lang | /html/@xml:lang | //body/@lang")
        or meta_content(tree, "og:locale", "language", "dc.language", "content-language")
        or _first(tree, '//meta[translate(@http-equiv,"CONTEG-LAU","conteg-lau")="content-language"]/@content')
    )


def declared_lang(tree: HtmlElement) -> str | None:
    """Return the ISO 639-1 language the page declares about itself, if any."""
    raw = declared_locale(tree)
    match = _LANG_CODE.match(raw or "")
    if not match:
        return None
    code = match.group(1).lower()
    return _ALIASES.get(code, code if len(code) == 2 else None)


def script_lang(text: str, hint: str | None = None) -> str | None:
    """Guess a language from the dominant script of a text."""
    sample = text[:20000]
    counts = {name: len(rx.findall(sample)) for name, rx in _SCRIPT_RANGES}
    script, count = max(counts.items(), key=lambda item: item[1])
    other = _OTHER.findall(sample)
    if len(other) > count and len(other) >= 20:
        return _other_lang(other, hint)
    if count < 20:
        return None
    if script == "hy":
        return "hy"
    if script == "cyrl":
        if hint in _CYRILLIC_LANGS and hint not in ("ru", "uk"):
            return hint
        uk, ru = len(_UK_LETTERS.findall(sample)), len(_RU_LETTERS.findall(sample))
        return "uk" if uk >= 3 and uk > ru else "ru"
    return hint if hint and hint not in _CYRILLIC_LANGS and hint != "hy" else "en"


def _other_lang(chars: list[str], hint: str | None) -> str:
    """The language of a text mostly in one of _OTHER's scripts (its letters given)."""
    # A loop in Python over a CJK page's 20,000 letters took ~2.5 ms.
    marks = "".join(chars).translate(_OTHER_INDEX)
    counts = {lang: marks.count(chr(i)) for i, (lang, *_) in enumerate(_OTHER_LANGS)}
    if counts["ja"] >= 5:  # a few kana make Chinese characters Japanese
        return "ja"
    lang = max(counts, key=lambda k: counts[k])
    # Persian, Urdu, Marathi, Yiddish... share a script with Arabic, Hindi or Hebrew: a hint
    # of one stands.
    return hint if hint and _SCRIPT_OF.get(hint) == _SCRIPT_OF.get(lang) else lang


def choose_lang(declared: str | None, text: str, hint: str | None) -> str | None:
    """Trust the page's declaration unless the text is plainly in another script."""
    guess = script_lang(text, hint)
    if guess is None:
        return declared or hint
    if declared is None:
        return guess
    same = _SCRIPT_OF.get(declared, "latn") == _SCRIPT_OF.get(guess, "latn")
    return declared if same else guess


def _cc_name(kind: str, code: str, version: str | None) -> str:
    if kind.lower() == "publicdomain":
        label = {"zero": "CC0", "mark": "Public Domain Mark"}.get(code.lower(), "Public Domain")
    else:
        label = "CC " + code.upper()
    return f"{label} {version}" if version else label


def _licence_links(tree: HtmlElement) -> list[str]:
    """hrefs of rel="license" links and anchors, then of links to creativecommons.org.

    Walks only <link> and <a> (chosen in C): two XPaths over every element cost ~0.5 ms a page."""
    licence, cc = [], []
    for el in tree.iter("link", "a"):
        href = el.get("href")
        if href is None:
            continue
        if " license " in f" {el.get('rel')} ":
            licence.append(href)
        if el.tag == "a" and "creativecommons.org/" in href:
            cc.append(href)
    return licence + cc


def license_of(tree: HtmlElement, url: str | None) -> str | None:
    """Return the page's licence: CC short name (e.g. "CC BY-NC 4.0") or the licence link."""
    hrefs = _licence_links(tree)
    for href in hrefs:
        if match := _CC_URL.search(href):
            return _cc_name(*match.groups())
    for meta in ("dc.rights", "dcterms.rights", "dcterms.license", "copyright", "license"):
        value = meta_content(tree, meta)
        if value and (m := _CC_URL.search(value) or _CC_TEXT.search(value)):
            return _license_from_match(m)
    # Only elements whose own text mentions CC are read: text_content() of the whole body is
    # costly, and a licence notice sits in one footer element.
    body = tree.find("body")
    # Serialising the text is done in C; the XPath below only runs on pages that mention CC.
    body_text = tostring(body, method="text", encoding=str) if body is not None else ""
    if "CC" not in body_text and "Creative Commons" not in body_text:
        return _link_licence(hrefs, url)
    for el in _CC_HOLDERS(tree):
        if match := _CC_TEXT.search(" ".join(el.text_content().split())):
            return _license_from_match(match)
    return _link_licence(hrefs, url)


def _link_licence(hrefs: list[str], url: str | None) -> str | None:
    if hrefs:
        href = str(hrefs[0]).strip()
        return urljoin(url, href) if url and urlsplit(href).scheme == "" else href
    return None


def _license_from_match(match: re.Match[str]) -> str:
    if match.re is _CC_URL:
        return _cc_name(*match.groups())
    code, version = match.group(1).upper().replace(" ", "-"), match.group(2)
    if code in ("0", "ZERO"):
        return f"CC0 {version}" if version else "CC0"
    return f"CC {code} {version}" if version else f"CC {code}"
