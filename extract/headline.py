"""The article's headline: which of the page's titles it is, on the evidence of the others.

A page states its headline up to five times: ``og:title``, the JSON-LD ``headline``,
``twitter:title``, the ``<title>`` (each with the site's name stripped, see ``titles``) and the
visible ``<h1>``. They often disagree: a social og:title beside an SEO <title>, a kicker or a
rubric added, the headline run on into a standfirst. The rules, from the tuning half of
devsets/fields (bench/fields.py), whose reviewed headlines follow og:title more often than the
<h1> where the two differ:

- Titles that are one another plus an addition, cut at a separator ("Headline | Rubric",
  "Kicker: Headline - Section") or run on after a whole word ("Headline if you have the rare
  buck"), are one candidate headline when the shorter keeps more than half the words. Its text
  is the form its best source states: og:title, then the JSON-LD headline, twitter:title, <title>.
- The best source's candidate is the headline, unless twitter:title, the JSON-LD headline and
  <title> all state another one, or it is about something else (a section name, a description)
  than a candidate an <h1> shows.
- The headline is written as its best source writes it (og:title's kicker and soft hyphens
  included), except where an <h1> outside navigation, asides, footers and forms shows that form
  to be the heading plus what sites add at the end: their name, a slogan, a rubric ("Warm war es
  - Segel-Club Sarstedt e.V." beside the <h1> "Warm war es"), or a rubric or series name put
  in front with a bar or a dash ("SARS-2/COVID-19 - Heute schon an morgen denken"; a kicker
  before a colon stays). A title only <title> or twitter:title states loses whatever it puts
  in front of the heading, a kicker before a colon included.
- A heading does not make the title it shows win over og:title's: where og:title states one
  headline and the <h1> shows the one the JSON-LD headline or <title> states, the reviewed
  headlines of the tuning half follow the <h1> on three pages (Focus, Corriere, DailyMaverick)
  and og:title on two of the same build (EveningStandard, TheMirror); a rule for the <h1> did
  not carry over to pages not tuned on. Measured again with trafilatura's annotated corpus
  (devsets/extraction, whose annotators took the headline the page shows): letting such an
  <h1> win moves its title accuracy 0.786 -> 0.803 (tuning) and 0.786 -> 0.809 (held-out), and
  devsets/fields' 0.900 -> 0.917 (tuning) but 0.806 -> 0.746 (held-out). The two truths follow
  two conventions; not kept.
- An <h1> that no title states never wins on its own: it is as often the headline re-worded for
  layout ("Joburg" for the titles' "Johannesburg"), another article's headline or a section
  name. Only a page without titles takes its first heading.
- A heading that is one link to the home page names the site (a blog's logo); an <h2> or <h3>
  that is one link to the page itself is its post's title (a blog theme without an <h1>), and
  shows what the <title> adds after it ("Alles Neue mach der Mai… | Bibliothek 2.0 und mehr").
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml.html import HtmlElement
from trafilatura.metadata import extract_title

from .meta import meta_content
from .titles import SEPARATOR, SiteNames, clean, fold, is_date, key, strip_site, words

_MAX_HEADLINE = 400
_SKIP_TAGS = {"nav", "footer", "aside", "form", "menu"}
_SKIP_ROLES = {"navigation", "contentinfo", "complementary", "search"}
_BLOCKS = {"br", "div", "p", "li", "time"}  # <time>: never part of a word
_CONTENT = {"article", "main"}
# A shorter title is the same headline only when it keeps more than this share of the words.
_MIN_SHORT_SHARE = 0.5
_MIN_SHORT_WORDS = 3
_MAX_EXTRA_WORDS = 3
_MIN_RELATED = 0.25
_ONLY_PAGE_TITLES = 2  # rank of twitter:title: candidates from rank 2 on have no og:title or JSON-LD
_MAX_TITLE = 1000  # characters: longer "titles" are body text in the wrong field


def heading_text(el: HtmlElement) -> str:
    """The text of a heading as displayed: blocks and line breaks become spaces."""
    out: list[str] = []

    def walk(node: HtmlElement) -> None:
        if node.tag in ("script", "style", "noscript") or not isinstance(node.tag, str):
            return
        block = node.tag in _BLOCKS
        if block:
            out.append(" ")
        if node.text:
            out.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                out.append(child.tail)
        if block:  # and where it ends: "José Miguel Wilson</div><time>Hace 13 horas"
            out.append(" ")

    walk(el)
    return clean("".join(out))


def _chrome(el: HtmlElement) -> bool:
    """True for an element in the page's navigation, asides, footer or a form."""
    for node in (el, *el.iterancestors()):
        if node.tag in _SKIP_TAGS or (node.get("role") or "").lower() in _SKIP_ROLES:
            return True
    return False


def _in_content(el: HtmlElement) -> bool:
    return any(a.tag in _CONTENT or "Article" in (a.get("itemtype") or "") for a in el.iterancestors())


def content_headings(tree: HtmlElement, site: SiteNames, url: str | None = None) -> list[str]:
    """The page's candidate headlines: its <h1>s outside page chrome, and any <h2>/<h3> that is
    one link to this very page (a blog's permalinked post title), those inside <article> or
    <main> first; never a heading naming the site."""
    found: list[tuple[bool, int, str]] = []
    here = _target(url, url) if url else None  # the page itself, for permalinked headings
    for el in tree.iter("h1", "h2", "h3"):
        if _chrome(el) or (el.tag != "h1" and not _links_to(el, here, url)):
            continue
        text = heading_text(el)
        if 3 <= len(text) <= _MAX_HEADLINE and not site.matches(text, bounded=True):
            found.append((not (_in_content(el) or el.tag != "h1"), len(found), text))
    return [text for *_, text in sorted(found)]


def _target(href: str, base: str) -> tuple[str, str, str] | None:
    """(host without www., path without a trailing slash, query) of a link, if it parses."""
    try:
        parts = urlsplit(urljoin(base, href.strip()))
    except ValueError:  # a malformed href (hostile pages have them)
        return None
    return (parts.hostname or "").removeprefix("www."), parts.path.rstrip("/"), parts.query


def _one_link(el: HtmlElement) -> HtmlElement | None:
    """The heading's only link, when its text is the whole heading's."""
    links = [a for a in el.iter("a") if a.get("href") is not None]
    if len(links) != 1 or not (text := heading_text(el)) or heading_text(links[0]) != text:
        return None
    return links[0]


def _links_to(el: HtmlElement, here: tuple[str, str, str] | None, url: str | None) -> bool:
    """The heading is one link to the page at ``url`` (``here``: its _target), its permalink."""
    if here is None or url is None or here[1] in _HOME_PATHS or (link := _one_link(el)) is None:
        return False
    return _target(link.get("href", ""), url) == here


def _jsonld_values(jsonld: list[dict[str, Any]], *path: str) -> list[str]:
    values = []
    for obj in jsonld:
        node: Any = obj
        for name in path:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, str) and node.strip():
            values.append(html.unescape(node))
    return values


_HOME_PATHS = {"", "/index.html", "/index.htm", "/index.php"}


def logo_names(tree: HtmlElement, url: str | None) -> list[str]:
    """Headings that are one link to the site's home page name the site (a blog's <h1> logo)."""
    if not url:
        return []
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    out = []
    for el in tree.iter("h1", "h2"):
        link = _one_link(el)
        target = _target(link.get("href", ""), url) if link is not None else None
        if target is not None and target[0] == host and not target[2] and target[1] in _HOME_PATHS:
            out.append(heading_text(el))
    return out


def site_names_of(tree: HtmlElement, jsonld: list[dict[str, Any]], hinted: Iterable[str] = (),
                  url: str | None = None) -> list[str]:
    """Names the page gives its site (og:site_name, application-name, JSON-LD publisher, a
    heading linking home)."""
    names = [*logo_names(tree, url), meta_content(tree, "og:site_name"), meta_content(tree, "application-name"),
             meta_content(tree, "twitter:site", "al:android:app_name", "al:ios:app_name")]
    names += _jsonld_values(jsonld, "publisher", "name")
    names += [obj.get("name") for obj in jsonld
              if str(obj.get("@type")) in ("WebSite", "Organization", "NewsMediaOrganization")
              and isinstance(obj.get("name"), str)]
    return [n.lstrip("@") for n in [*names, *hinted] if n]


# -- how two titles relate -------------------------------------------------------------------


def _enough(short: str, long: str, least: int = _MIN_SHORT_WORDS) -> bool:
    """The shorter title keeps enough of the longer one to be its headline, not a kicker."""
    few, many = words(short), words(long)
    return len(few) >= min(least, len(many)) and len(few) > _MIN_SHORT_SHARE * len(many)


@lru_cache(maxsize=256)
def _segments(title: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The keys of a title's segments and its separators (separators hold no letters, so the
    key of a run of segments is the join of their keys)."""
    parts = SEPARATOR.split(title)
    return tuple(key(g) for g in parts[0::2]), tuple(parts[1::2])


def cut_kind(short: str, long: str) -> str | None:
    """How ``long`` is ``short`` plus an addition: "head" when ``short`` leads it before a
    separator ("Headline | Rubric | Site"), "kicker" likewise before a colon ("Kicker: more"),
    "tail" when it ends it ("Site - Headline", "Kicker: Headline"), "middle" between two
    additions ("Kicker: Headline - Rubric"), "run-on" when it starts it and stops after a whole
    word ("Headline if you have the rare buck"); else None."""
    target, whole = key(short), key(long)
    if len(short) >= len(long) or not target or target == whole or target not in whole:
        return None  # every kind of cut leaves the short title's letters in the long one
    keys, seps = _segments(long)
    n = len(keys)
    ends = [0]
    for k in keys:
        ends.append(ends[-1] + len(k))
    for i in range(n):
        for j in range(i + 1, n + 1):
            if ends[j] - ends[i] > len(target) or (i, j) == (0, n):
                break
            if ends[j] - ends[i] == len(target) and "".join(keys[i:j]) == target:
                if i == 0:
                    return "kicker" if seps[j - 1].strip() == ":" else "head"
                return "tail" if j == n else "middle"
    a, b = fold(short), fold(long)
    return "run-on" if len(b) > len(a) and b.startswith(a) and not b[len(a)].isalnum() else None


def is_cut(short: str, long: str) -> bool:
    """Two titles of one headline: ``long`` is ``short`` plus an addition, and ``short`` keeps
    enough of it to be the headline (not a kicker or a section name cut off the title)."""
    return cut_kind(short, long) is not None and _enough(short, long)


def _heading_cut(heading: str, title: str) -> bool:
    """A visible heading that a title holds plus an addition (a site name, a rubric, a slogan):
    the title's first segment ("Gefällt mir – jovelblog") is the headline whatever its length;
    any other part must hold more than half the title's words ("Kuchen Rezept | Site")."""
    kind = cut_kind(heading, title)
    return kind == "head" or (kind is not None and _enough(heading, title, 1))


def _after_rubric(heading: str, title: str) -> bool:
    """The title puts a rubric, a series or a site name before the heading it ends with, joined
    by a separator other than a colon ("Durch die Gegend | Mit Musiker ..."); a part before a
    colon is a kicker, which the headline keeps ("Wahl: Eva Welskop-Deffaa ...")."""
    keys, seps = _segments(title)
    target, tail = key(heading), ""
    for i in range(len(keys) - 1, 0, -1):
        tail = keys[i] + tail
        if tail == target:
            return seps[i - 1].strip() != ":"
    return False


def _adds_little(heading: str, title: str) -> bool:
    """The heading holds every word of the title and at most a few more (a kicker, a rubric,
    a badge, a date), or the same words with other punctuation."""
    have, need = words(heading), words(title)
    extra = have - need
    return bool(need) and need <= have and (len(extra) <= _MAX_EXTRA_WORDS
                                            or is_date(" ".join(sorted(extra))))


# -- candidates ------------------------------------------------------------------------------


@dataclass
class _Candidate:
    """One headline as the titles state it: every form seen, one per source."""

    rank: int  # the best source saying it: 0 og:title, 1 JSON-LD, 2 twitter:title, 3 <title>
    forms: list[str] = field(default_factory=list)

    @property
    def votes(self) -> int:
        """How many title sources state this headline."""
        return len(self.forms)

    @property
    def text(self) -> str:
        """The form its best source states (og:title's where og:title says it)."""
        return self.forms[0]

    def says(self, text: str) -> bool:
        """True when ``text`` is this headline, or it with or without an addition."""
        return any(key(text) == key(f) or is_cut(text, f) or is_cut(f, text) for f in self.forms)

    def shown_as(self, heading: str) -> tuple[int, str] | None:
        """How closely ``heading`` shows this headline (2: its words, 1: with an addition) and
        the headline's text: the best source's form, or the heading's words where that form
        is the heading plus what sites add after a headline (their name, a slogan, a rubric)."""
        text = self.text
        if any(fold(heading) == fold(form) or _heading_cut(heading, form) for form in self.forms):
            kind = cut_kind(heading, text)
            # A title only <title> or twitter:title states may also add a rubric in front; the
            # reviewed headlines keep og:title's and the JSON-LD headline's kickers.
            cut = (kind == "head" or (kind == "tail" and _after_rubric(heading, text))
                   or (self.rank >= _ONLY_PAGE_TITLES and _heading_cut(heading, text)))
            return 2, (heading if cut else text)
        for form in self.forms:
            if key(heading) == key(form) or is_cut(form, heading) or _adds_little(heading, form):
                return 1, text  # the heading adds a kicker, a date or a standfirst
        return None


def _candidates(titles: list[str | None]) -> list[_Candidate]:
    """Group the titles (best source first) into the headlines they state."""
    found: list[_Candidate] = []
    for rank, text in enumerate(titles):
        if not text:
            continue
        same = next((c for c in found if c.says(text)), None)
        if same is None:
            same = _Candidate(rank)
            found.append(same)
        same.forms.append(text)
    return found


def _unrelated(title: _Candidate, other: _Candidate) -> bool:
    """Fewer than a quarter of the title's words appear in any form of the other headline."""
    mine = words(title.text)
    theirs = set().union(*(words(f) for f in other.forms))
    return len(mine & theirs) < _MIN_RELATED * len(mine)


Shown = tuple[int, int, int, str]  # closeness, heading words, -heading index, the headline's text


def _shown(candidate: _Candidate, headings: list[str]) -> Shown | None:
    """The heading that best shows a candidate (the closest, the fullest, the first), if any."""
    found = [(match[0], len(words(h)), -i, match[1])
             for i, h in enumerate(headings) if (match := candidate.shown_as(h))]
    return max(found, default=None)


def _best(candidates: list[_Candidate], shown: list[Shown | None], titles: int) -> int:
    """Which candidate is the headline: the best source's (og:title's), unless every other
    title states one other headline, or the best source's is about something else than the
    one a heading shows (a section name, a description)."""
    if len(candidates) == 2 and candidates[0].votes == 1 and candidates[1].votes == titles - 1 >= 3:
        return 1  # twitter:title, the JSON-LD headline and <title> agree against og:title
    if shown[0] is None:
        for i, c in enumerate(candidates[1:], 1):
            if (found := shown[i]) and found[0] == 2 and _unrelated(candidates[0], c):
                return i
    return 0


def choose_title(tree: HtmlElement, meta_title: str | None, jsonld: list[dict[str, Any]],
                 site: SiteNames, url: str | None = None) -> tuple[str | None, str | None]:
    """Return (headline, raw <title>) for a page at ``url`` whose site calls itself ``site``."""
    page_title = clean(tree.findtext(".//title")) or None
    raw = [meta_content(tree, "og:title"), next(iter(_jsonld_values(jsonld, "headline")), None),
           meta_content(tree, "twitter:title"), page_title]
    # A "title" that is only the site's name ("SLF") is no headline.
    headings = content_headings(tree, site, url)
    stripped = [t if (t := strip_site(r, site, headings)) and len(t) <= _MAX_TITLE
                and not site.matches(t, bounded=True) else None for r in raw]
    candidates = _candidates(stripped)
    shown = [_shown(c, headings) for c in candidates]
    if candidates:
        best = _best(candidates, shown, sum(t is not None for t in stripped))
        return (found[-1] if (found := shown[best]) else candidates[best].text), page_title
    # No title of any kind: the first heading, else trafilatura's search (title classes).
    if headings:
        return headings[0], page_title
    last = strip_site(meta_title or extract_title(tree), site)
    return (last if last and not site.matches(last, bounded=True) else None), page_title
