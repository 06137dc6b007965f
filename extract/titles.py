"""Site names in titles: what a site calls itself, and titles with it stripped.

Pages name themselves in their titles ("Headline | Site", "Site – Headline", "Headline – DW –
28.04.2023", "見出し：朝日新聞デジタル"). A title is split at its separators and the segments at
either end that are site-like are dropped: a segment is site-like when it matches a site name
the page or the caller gives (``og:site_name``, ``application-name``, the JSON-LD publisher, the
registry's outlet name), the page's host ("Corriere.it", "NTV Haber" on ntv.com.tr), an affix
learned across the outlet's pages (``learn_affixes``), or is a bare date. Beside a dropped site
name, the section path goes too ("Headline | Politics | Site", "Site » Blog Archive »
Headline"), unless a heading shows it. Nothing else is cut: a headline may contain separators
of its own ("BUDGET 3.0 | Sars gets R4bn...").

Which of the page's titles is the headline is decided in ``headline``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from .dateparse import dates_in_text

SEPARATOR = re.compile(r"(\s*[|｜]\s*|\s+[-–—~·•»«›‹/:⋆★]\s+|\s*[：]\s*|(?<=\S):\s+|\s+::\s+)")
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_WORD = re.compile(r"\w+")
_MAX_NAME_WORDS = 4  # a site's name with a description in front ("Kanzlei Viehbacher")
_HOST_PREFIXES = ("www.", "m.", "amp.", "mobile.", "en.", "de.", "ru.", "am.", "hy.")


def clean(text: str | None) -> str:
    """Whitespace collapsed; everything else as the page writes it (soft hyphens included:
    search folds them away, and they are part of the headline as published)."""
    return " ".join((text or "").split())


def fold(text: str) -> str:
    """NFKC, casefolded, without invisible characters (soft hyphens, zero-width spaces)."""
    return unicodedata.normalize("NFKC", text.translate(_INVISIBLE)).casefold()


@lru_cache(maxsize=2048)
def key(text: str) -> str:
    """Only the letters and digits of ``fold(text)``: titles compared without punctuation."""
    # Cached (2,048 strings at most): a page asks for the same headings' and title
    # prefixes' keys dozens of times.
    return "".join(filter(str.isalnum, fold(text)))


_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def _spelled_for_hosts(k: str) -> set[str]:
    """A key as host names spell it: "ökologischbauen" -> "oekologischbauen", "oekologischbauen"
    (accents dropped: "télérama" -> "telerama")."""
    bare = "".join(ch for ch in unicodedata.normalize("NFKD", k) if not unicodedata.combining(ch))
    return {k, k.translate(_GERMAN), bare}


def words(text: str) -> set[str]:
    """Words of a title; runs of CJK script (written without spaces) as character pairs."""
    out: set[str] = set()
    for token in _WORD.findall(fold(text)):
        if any(ch >= "\u3000" for ch in token) and len(token) > 2:
            out.update(token[i:i + 2] for i in range(len(token) - 1))
        else:
            out.add(token)
    return out


_SECOND_LEVEL = {"com", "co", "org", "net", "gov", "ac", "edu", "or", "ne", "go", "gv"}


def _domain_label(host: str) -> str | None:
    """The registered name of a host: "ntv.com.tr" -> "ntv", "rzn.mk.ru" -> "mk"; a subdomain
    ("neubau.wsl.ch") is often a plain word and never counts as the site's name."""
    labels = [x for x in host.split(".") if x]
    if len(labels) < 2:
        return None
    i = -3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL else -2
    label = labels[i] if len(labels) >= -i else labels[0]
    return label if len(label) >= 2 else None


@dataclass
class SiteNames:
    """What a page's site calls itself: names, host labels and learned title affixes."""

    names: set[str] = field(default_factory=set)  # alnum keys of names ("dwcom", "毎日新聞")
    hosts: set[str] = field(default_factory=set)  # keys of host labels ("dw", "biathlonantholz")
    affixes: set[str] = field(default_factory=set)  # alnum keys of learned affixes

    @classmethod
    def build(cls, names: Iterable[str | None], url: str | None, affixes: Iterable[str] = ()
              ) -> SiteNames:
        """Collect the keys of names, of the URL's host and of learned affixes."""
        # A "name" of many words is a page title put in the wrong field, not the site's name.
        site = cls({k for n in names if n and len(n.split()) <= 6 and len(k := key(n)) >= 2},
                   affixes={k for a in affixes if (k := key(a))})
        host = (urlsplit(url).hostname or "") if url else ""
        for prefix in _HOST_PREFIXES:
            host = host.removeprefix(prefix)
        if host:
            site.names.add(key(host))
            if label := _domain_label(host):
                site.hosts.add(key(label))  # "Biathlon Antholz" on biathlon-antholz.it
        return site

    def learn(self, page_title: str | None, headline: str | None) -> None:
        """What the raw title holds beyond the headline ("Headline - Sputnik International")
        names the site: remember those segments as affixes of this page."""
        title, head = clean(page_title), clean(headline)
        if not title or not head or len(head) >= len(title):
            return
        suffix = title[len(head):] if title.startswith(head) else None
        prefix = title[: -len(head)] if title.endswith(head) else None
        for rest, edge in ((suffix, 0), (prefix, -1)):
            parts = SEPARATOR.split(rest) if rest else []
            # The rest must meet the headline at a separator: "Headline - Site", not "Headl|ine".
            if len(parts) > 1 and not parts[edge].strip():
                self.affixes.update(k for seg in parts[0::2] if len(seg) <= 80 and (k := key(seg)))

    def _named(self, text: str) -> bool:
        """The text is one of the site's names: a name the page or the caller gives, a learned
        affix, the host ("Biathlon Antholz"), or an abbreviation of a name ("DW")."""
        k = key(text)
        if not k or len(text) > 80:
            return False
        if self._site_key(k) or k in self.affixes:
            return True
        # "DW" for "DW.COM": the start of a name, written as a short abbreviation.
        return len(text.split()) == 1 and len(k) >= 2 and text.isupper() and any(
            n.startswith(k) for n in self.names)

    def matches(self, segment: str, loose: bool = True, bounded: bool = False) -> bool:
        """True when a title segment names the site (not the article).

        ``loose`` also accepts a short segment that starts with the host's name ("NTV Haber");
        it is off for segments cut at a colon, which often start headlines ("Spiegel-Affäre:").
        ``bounded`` asks that the host's name end where a word does ("NTV Haber", "ZDFmediathek",
        not "Bildungsstreik" on bild.de) and that the initials be a host of three letters or
        more (not "Feuer im Rathaus" on fr.de): titles and headings are judged so, as a short headline
        may start like the host; bylines keep the looser test.
        """
        if self._named(segment):
            return True
        k = key(segment)
        if not k or len(segment) > 80:
            return False
        spelled = _spelled_for_hosts(k)
        count = len(segment.split())
        starts = _word_starts(segment) if bounded else spelled
        if loose and count <= 4 and any(
                (s == h if bounded else s.startswith(h)) and len(h) >= 3
                for h in self.hosts for start in starts for s in _spelled_for_hosts(start)):
            return True  # "NTV Haber" on ntv.com.tr, "Corriere.it" on corriere.it
        # "Deutscher Schwimm-Verband e.V." on dsv.de: the host is the name's initials.
        initials = "".join(w[0] for w in re.findall(r"[^\W\d_]+", fold(segment))
                           if len(w) > 2 or w[0].isupper())
        return 2 <= count <= 6 and len(initials) >= 2 and any(
            (initials == h and len(h) >= 3) if bounded else initials.startswith(h) for h in self.hosts)

    def _site_key(self, k: str) -> bool:
        """The key is one of the site's names or its host label (spelled as hosts spell it)."""
        return k in self.names or bool(_spelled_for_hosts(k) & self.hosts)

    def ends_with_name(self, segment: str) -> bool:
        """A short segment whose last words are the site's name or host ("Kanzlei Viehbacher"
        on viehbacher.com, "Zobacz na przepisy.pl", "European Championships Munich 2022" on
        munich2022.com): the site's name with a description in front."""
        parts = segment.split()
        if not 2 <= len(parts) <= _MAX_NAME_WORDS or len(segment) > 80:
            return False
        for i in range(1, len(parts)):
            k = key(" ".join(parts[i:]))
            if len(k) >= 4 and self._site_key(k):
                return True
        return False


def _word_starts(segment: str) -> list[str]:
    """Keys of the segment's starts that end where a word does, or where the case changes
    ("ZDFmediathek" -> "zd", "zdf", ...; "NTV Haber" -> "ntv", "ntvhaber")."""
    ends = {m.end() for m in re.finditer(r"[^\W_]+", segment)}
    for i in range(1, len(segment)):
        a, b = segment[i - 1], segment[i]
        if a.islower() and b.isupper():
            ends.add(i)  # "DimidoBlog"
        elif a.isupper() and b.islower() and i >= 2 and segment[i - 2].isupper():
            ends.update((i, i - 1))  # "ZDFmediathek", or "HTMLParser"
    return [k for i in sorted(ends) if (k := key(segment[:i]))]


def is_date(segment: str) -> bool:
    """True when a title segment is mostly a date ("28.04.2023", "1. Februar 2022")."""
    found = dates_in_text(segment)
    return bool(found) and sum(e - s for s, e, _ in found) >= 0.6 * len(segment.strip())


def _is_crumb(segment: str) -> bool:
    """A short section or rubric name, as breadcrumbs after a site name in titles."""
    return len(segment) <= 30 and len(segment.split()) <= 3


def strip_site(title: str | None, site: SiteNames, shown: Iterable[str] = ()) -> str | None:
    """Drop site-like segments (names, host, learned affixes, dates) from both ends of a title,
    and the section path beside them unless a heading the page ``shown`` holds it."""
    text = clean(title)
    if not text:
        return None
    parts = SEPARATOR.split(text)  # [segment, separator, segment, ...]
    segments, seps = parts[0::2], parts[1::2]

    def droppable(seg: str, sep: str, rest: list[str]) -> bool:
        loose = sep.strip() != ":"
        return site.matches(seg, loose=loose, bounded=True) or not seg.strip() or (
            # the name after a description, only beside a headline of more words than it
            loose and site.ends_with_name(seg)
            and sum(len(r.split()) for r in rest) > len(seg.split()))

    # A date is cut only as the outermost segment ("… – DW – 13.06.2023"): inside, it may be
    # part of the headline ("Wochenbericht 14. - 20. Januar 2022 - SLF").
    if len(segments) > 1 and is_date(segments[-1]):
        segments.pop()
        seps.pop()
    if len(segments) > 1 and is_date(segments[0]):
        segments.pop(0)
        seps.pop(0)

    # "Headline | NDR.de - Nachrichten - Schleswig-Holstein": the site name, then breadcrumbs.
    for i in range(len(segments) - 2, 0, -1):
        if not _is_crumb(segments[i + 1]):
            break
        if site.matches(segments[i], loose=seps[i - 1].strip() != ":", bounded=True):
            del segments[i + 1:], seps[i:]
            break
    cut = ""
    while len(segments) > 1 and droppable(segments[-1], seps[-1], segments[:-1]):
        segments.pop()
        cut = seps.pop()
    visible = {key(h) for h in shown}
    _drop_path(segments, seps, cut, -1, visible)
    cut = ""
    while len(segments) > 1 and droppable(segments[0], seps[0], segments[1:]):
        segments.pop(0)
        cut = seps.pop(0)
    _drop_path(segments, seps, cut, 0, visible)
    out = segments[0] + "".join(sep + seg for sep, seg in zip(seps, segments[1:], strict=True))
    return out.strip() or None


def _drop_path(segments: list[str], seps: list[str], site_sep: str, edge: int, visible: set[str]) -> None:
    """Drop the section path a title puts between the headline and the site name it just lost
    ("Headline | Politics | Site", "Site » Blog Archive » Headline"): short segments joined by
    the separator that joined the site name. A colon never joins a path (it starts headlines:
    "Brexit: Deal done"), and a segment goes only while the rest keeps more words than it
    (a short headline after a kicker stays: "Ukraine-Krieg | Selenskyj warnt"), and none goes
    from a title that a heading shows as it is ("Hund vertreibt Einbrecher – Zeugenaufruf")."""
    mark = site_sep.strip()
    while (mark and mark != ":" and len(segments) > 1 and seps[edge].strip() == mark
           and _is_crumb(segments[edge])):
        rest = segments[:-1] if edge == -1 else segments[1:]
        if ("".join(map(key, segments)) in visible  # separators hold no letters: the title's key
                or sum(len(seg.split()) for seg in rest) <= len(segments[edge].split())):
            return
        segments.pop(edge)
        seps.pop(edge)


def title_date(title: str | None) -> str | None:
    """The day of a date that is a whole segment at either end of a title ("… | DW | 28.04.2023")."""
    segments = SEPARATOR.split(clean(title))[0::2]
    if len(segments) < 2:
        return None
    for seg in (segments[-1], segments[0]):
        if is_date(seg):
            return dates_in_text(seg)[0][2]
    return None


_STRONG_SEPARATOR = re.compile(r"\s*[|｜]\s*|\s+[-–—~·•»«›‹/:⋆★]\s+|\s*[：]\s*|\s+::\s+")


def learn_affixes(page_titles: Iterable[str | None], min_share: float = 0.3, min_count: int = 3
                  ) -> list[str]:
    """Title segments that end (or start) many of one outlet's page titles: its name, its
    slogan, its section names ("… - Լուրեր Հայաստանից - Թերթ.am").

    Only segments cut at strong separators count (not a colon: a running kicker such as
    "Ukraine-Krieg:" belongs to the headlines). Pure: the crawler keeps the titles of an
    outlet's pages and passes what this returns as the ``title_affixes`` hint.
    """
    ends: Counter[str] = Counter()
    total = 0
    # Distinct titles only: a page fetched again must not make its headline look repeated.
    for title in dict.fromkeys(clean(t) for t in page_titles if t):
        parts = [p.strip() for p in _STRONG_SEPARATOR.split(title)]
        if len(parts) < 2:
            continue
        total += 1
        # Up to three segments at each end; a headline occurs once, an affix on many titles.
        for i in {*range(min(3, len(parts))), *range(max(len(parts) - 3, 0), len(parts))}:
            if parts[i] and len(parts[i]) <= 80:
                ends[parts[i]] += 1
    need = max(min_count, min_share * total)
    return sorted(seg for seg, n in ends.items() if n >= need)
