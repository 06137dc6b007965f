"""Field checks for sources.toml: the vocabularies and one validator per kind of value.

Each check takes (key, value) and returns the value as the registry stores it, or raises
_Bad with what is wrong and how to fix it; crawler.registry.model runs them all and reports
every problem at once.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Collection
from dataclasses import MISSING
from typing import Any

from crawler.web.urls import is_http_url

# Editorial/ownership vocabulary for `kind`; sources.toml documents each value.
KINDS: tuple[str, ...] = (
    "state agency", "state broadcaster", "public broadcaster",
    "state-funded international broadcaster", "party or government-aligned", "private",
    "independent", "exile independent", "diaspora", "think tank", "aggregator",
    "peace journalism / NGO",
)

# ISO 3166-1 alpha-2, officially assigned codes.
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

# ISO 639-1 two-letter language codes.
LANGUAGES = frozenset("""
aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia
id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo
lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl
ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk
tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split())

# Codes people plausibly type instead of the ISO one (domains, old standards).
_COUNTRY_HINTS = {"UK": "GB", "EL": "GR", "EN": "GB", "SU": "RU", "XK": "RS"}
_LANGUAGE_HINTS = {"arm": "hy", "hye": "hy", "rus": "ru", "eng": "en", "ua": "uk", "ukr": "uk",
                   "ge": "ka", "geo": "ka", "kat": "ka", "gr": "el", "cz": "cs", "jp": "ja",
                   "dk": "da", "aze": "az", "ger": "de", "deu": "de", "fre": "fr", "fra": "fr"}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


class _Bad(Exception):
    """A value failed validation; carries (what is wrong, how to fix it) pairs."""

    def __init__(self, what: str = "", fix: str = "", many: list[tuple[str, str]] | None = None):
        super().__init__(what)
        self.items = many if many is not None else [(what, fix)]


_Check = Callable[[str, Any], Any]


def _show(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return "the string " + json.dumps(v, ensure_ascii=False)
    return "a list" if isinstance(v, list) else "a table" if isinstance(v, dict) else repr(v)


def _closest(word: str, choices: Any, cutoff: float = 0.6) -> str | None:
    hits = difflib.get_close_matches(word, list(choices), n=1, cutoff=cutoff)
    return hits[0] if hits else None


def _expect(key: str, v: Any, ok: bool, want: str, example: str, unquoted: str = "") -> None:
    """Raise a wrong-type problem unless ok; a quoted `unquoted` match gets 'drop the quotes'."""
    if ok:
        return
    s = v.strip().lower() if isinstance(v, str) else ""
    quoted = bool(unquoted) and re.fullmatch(unquoted, s) is not None
    fix = f"write {key} = {s} (no quotes)" if quoted else f"write e.g. {key} = {example}"
    raise _Bad(f"expected {want}, got {_show(v)}", fix)


def _str(key: str, v: Any) -> str:
    _expect(key, v, isinstance(v, str), "a string", '"..."')
    return str(v).strip()


def _text(key: str, v: Any) -> str:
    if not (s := _str(key, v)):
        raise _Bad("is empty", f'give it a value: {key} = "..."')
    return s


def _slug(key: str, v: Any) -> str:
    s = _text(key, v)
    if not _SLUG.fullmatch(s):
        good = re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-") or "my-outlet"
        raise _Bad(f"{json.dumps(s)} is not a slug (lowercase a-z, digits, single hyphens)",
                   f'use e.g. {key} = "{good}"')
    return s


def _url(key: str, v: Any) -> str:
    _expect(key, v, isinstance(v, str), "a URL string", '"https://..."')
    if not is_http_url(v) or re.search(r"\s", v):
        raise _Bad(f"{json.dumps(v, ensure_ascii=False)} is not an absolute http(s) URL",
                   "write it like https://example.org/path, without spaces (%20 encodes one)")
    return v


def _sitemap(key: str, v: Any) -> str:
    return v if v == "robots" else _url(key, v)


def _list_of(item: _Check, noun: str = "item", nonempty: bool = False) -> _Check:
    def check(key: str, v: Any) -> tuple[Any, ...]:
        example = f"[{json.dumps(v, ensure_ascii=False)}]" if isinstance(v, str) else "[...]"
        _expect(key, v, isinstance(v, list), "a list", example)
        if nonempty and not v:
            raise _Bad("is empty", f"add at least one {noun}, or delete it")
        out, bad = [], []
        for i, x in enumerate(v):
            try:
                out.append(item(key, x))
            except _Bad as b:
                bad += [(f"{noun} {i}: {what}", fix) for what, fix in b.items]
        if bad:
            raise _Bad(many=bad)
        return tuple(out)
    return check


def _code(valid: Collection[str], hints: dict[str, str], case: Callable[[str], str],
          name: str, otherwise: str, fuzzy: bool = False) -> _Check:
    def check(key: str, v: Any) -> str:
        c = _text(key, v)
        if c not in valid:
            hint = hints.get(case(c)) or (case(c) if case(c) in valid else None)
            hint = hint or (_closest(case(c), valid, cutoff=0.4) if fuzzy else None)
            fix = f'did you mean "{hint}"?' if hint else otherwise
            raise _Bad(f"{json.dumps(c)} is not {name}", fix)
        return c
    return check


_country = _code(COUNTRIES, _COUNTRY_HINTS, str.upper, "an ISO 3166-1 alpha-2 country code",
                 "use the code of the country the outlet is based in; for international outlets,"
                 " the country of their legal seat")
_language_list = _list_of(_code(LANGUAGES, _LANGUAGE_HINTS, str.lower, "an ISO 639-1 language code",
                                'use a two-letter code such as "en", "ru", "hy"'), "code", True)
def _kind(key: str, v: Any) -> str:
    # Free text: registries written elsewhere may use their own categories. A kind outside
    # KINDS is only a warning (see Registry.warnings), so it never blocks a crawl.
    return _text(key, v)


def _languages(key: str, v: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_language_list(key, [v] if isinstance(v, str) else v)))


def _regex(key: str, v: Any) -> str:
    s = _text(key, v)
    try:
        re.compile(s)
    except re.error as e:
        raise _Bad(f"regex {json.dumps(s)} does not compile: {e.msg} at position {e.pos}",
                   "fix the regex; write it as a TOML literal string '...' so backslashes"
                   " need no doubling") from None
    return s


def _number(integer: bool, low: int) -> _Check:
    def check(key: str, v: Any) -> float | int:
        ok = type(v) is int or (not integer and type(v) is float)
        _expect(key, v, ok, "a whole number" if integer else "a number", "2", r"\d+(\.\d+)?")
        if not math.isfinite(v) or v < low:
            raise _Bad(f"must be a finite number >= {low}, got {v}", f"write e.g. {key} = 2")
        return v if integer else float(v)
    return check


def _bool(key: str, v: Any) -> bool:
    _expect(key, v, isinstance(v, bool), "true or false", "true", "true|false")
    return bool(v)


def _xpath(key: str, v: Any) -> str:
    from lxml import etree  # lazy: only registries that use prune_xpath pay for lxml

    s = _text(key, v)
    try:
        etree.XPath(s)
    except etree.XPathSyntaxError as e:
        raise _Bad(f"XPath {json.dumps(s)} is invalid ({e})",
                   "fix it, e.g. //div[@class='share']") from None
    return s


def _term(key: str, v: Any) -> str:
    t = _text(key, v)
    if "*" in t[:-1] or not re.search(r"\w", t):
        raise _Bad(f"{json.dumps(t)} is not a usable term",
                   "write a word or phrase; '*' is allowed only at the end, as a prefix wildcard")
    return t


def _k(check: _Check, default: Any = MISSING) -> dict[str, Any]:
    """Field metadata: the validator, plus the TOML default when the dataclass has none."""
    return {"check": check, "default": default}


_urls = _list_of(_url)
_groups = _list_of(_list_of(_term, "term", nonempty=True), "group", nonempty=True)
_int1 = _number(integer=True, low=1)
