"""Anchors: the language-independent facts of a text, in order (names, numbers, dates, quotes).

A translation keeps an article's facts and their order while every word changes; two
independent reports of one event share the names and the date but tell them in another
order, with other numbers and other quotes. So each text is reduced to a sequence of
anchors, compared across languages by position in that sequence (crawler.framing.copies):

- `n:` numbers of two or more digits, thousands separators removed, decimal comma as a
  point (`12,4` = `12.4`; `2 000` = `2000`);
- `d:` calendar dates named in the text (`31 октября`, `October 31`, `հոկտեմբերի 31` =
  `d:10-31`);
- `e:` / `c:` the lexicon's entities and naming concepts (Artsakh and Nagorno-Karabakh are
  one concept, ОДКБ and CSTO one entity);
- `p:` every other capitalised word, as a coarse phonetic key of its transliteration, so
  that Pashinyan, Pashinian, Пашинян(ом) and Փաշինյան(ը) are one key: letters of all three
  scripts go to Latin, digraphs to one letter, vowels are dropped (a leading vowel leaves
  `a`), voiced and voiceless pairs merge (b/p, d/t, g/k, z/s, v/f, j/ch), doubles collapse,
  and Russian and Armenian case endings that add a consonant are cut;
- `q` the opening of a quotation (quotes are translated too: their place is what survives).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from crawler.framing.lexicon import (
    Lexicon,
    find_hits,
    find_term,
    fold_with_offsets,
    text_leads,
)
from crawler.framing.stopwords import stopwords
from extract.normalize import fold

_CYRILLIC = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюя", [
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
    "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya"], strict=True))
_ARMENIAN = dict(zip("աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆ", [
    "a", "b", "g", "d", "e", "z", "e", "", "t", "zh", "i", "l", "kh", "ts", "k", "h", "dz",
    "gh", "ch", "m", "y", "n", "sh", "o", "ch", "p", "j", "r", "s", "v", "t", "r", "ts", "v",
    "p", "k", "o", "f"], strict=True))
_LATIN = {**_CYRILLIC, **_ARMENIAN, "և": "ev", "ւ": "v"}
# Digraphs first (upper case = one phoneme), then single letters, then classes.
_DIGRAPHS = (("shch", "S"), ("dzh", "J"), ("dj", "J"), ("ch", "C"), ("ts", "C"), ("tz", "C"),
             ("sh", "S"), ("zh", "Z"), ("kh", "H"), ("gh", "G"), ("ph", "F"), ("ck", "k"),
             ("x", "ks"), ("q", "k"), ("w", "v"), ("c", "k"))
_CLASSES = str.maketrans({"b": "p", "d": "t", "g": "k", "G": "k", "z": "s", "Z": "s",
                          "S": "s", "v": "f", "F": "f", "j": "c", "J": "c", "C": "c"})
_VOWELS = re.compile(r"[aeiouyhH'’]")
# Case endings that add a consonant to a name (Путин-ым, Պուտին-ից); vowel endings vanish.
_ENDINGS = {"ru": ("ыми", "ами", "ями", "ого", "его", "ому", "ему", "ым", "им", "ом", "ем"),
            "hy": ("ներից", "ներին", "ների", "ով", "ում", "ից")}
_TOKEN = re.compile(r"\d{1,3}(?:[ \u00a0\u202f,]\d{3})+(?![\d])(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
                    r"|[^\W\d_]+(?:['’-][^\W\d_]+)*")
_QUOTE_OPEN = re.compile(r"[«“„]|(?<![\w])\"(?=\w)")
_MONTHS = {
    "en": "january february march april may june july august september october november december",
    "ru": "январ феврал март апрел ма июн июл август сентябр октябр ноябр декабр",
    "hy": "հունվար փետրվար մարտ ապրիլ մայիս հունիս հուլիս օգոստոս սեպտեմբեր հոկտեմբեր "
          "նոյեմբեր դեկտեմբեր",
}


class Anchor(NamedTuple):
    """One fact at a character offset of the text (a tuple: an article has dozens, and a
    story build makes them again from every stored feature blob)."""

    key: str
    start: int
    surface: str


@lru_cache(maxsize=100_000)
def phonetic_key(word: str, lang: str = "") -> str:
    """The coarse cross-script key of a (folded) name; '' when too short to mean anything."""
    w = re.sub(r"['’]s$", "", word)
    for ending in _ENDINGS.get(lang, ()):
        if w.endswith(ending) and len(w) - len(ending) >= 4:
            w = w[: -len(ending)]
            break
    latin = "".join(_LATIN.get(ch, ch) for ch in w.replace("ու", "u"))
    if not latin.isascii() or not latin.isalpha():
        return ""
    for digraph, one in _DIGRAPHS:
        latin = latin.replace(digraph, one)
    lead = "a" if _VOWELS.match(latin) else ""
    skeleton = _VOWELS.sub("", latin).translate(_CLASSES).lower()
    skeleton = re.sub(r"(.)\1+", r"\1", skeleton)
    key = lead + skeleton
    return key if len(key) >= 3 else ""


@lru_cache(maxsize=4096)
def month_of(word: str) -> int | None:
    """The month (1-12) a folded word names in en/ru/hy, inflected forms included."""
    for names in _MONTHS.values():
        for i, name in enumerate(names.split(), 1):
            # Russian stems are written without endings (сентябр-я); ма = май/мая only.
            if word == name or (len(name) > 2 and word.startswith(name)
                                and len(word) - len(name) <= 3):
                return i
            if name == "ма" and word in ("май", "мая", "мае"):
                return i
    return None


def _number(token: str) -> str | None:
    """Significant digits of a number of two or more digits: 12,4 = 12.4; 300,000 = 300 (тыс.)."""
    digits = re.sub(r"[ \u00a0\u202f]", "", token)
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", digits):
        digits = digits.replace(",", "")
    if len(re.sub(r"\D", "", digits)) < 2:
        return None
    # "1.5 million", "1,5 млн" and "1 500 000" are one number; so are 300 and 300,000 here.
    return re.sub(r"\D", "", digits).lstrip("0").rstrip("0") or "0"


def split(folded: str) -> list[tuple[int, str]]:
    """The words and numbers of a folded text with their offsets (one pass for everything)."""
    return [(m.start(), m.group()) for m in _TOKEN.finditer(folded)]


def anchors(text: str, lang: str, lexicon: Lexicon | None = None,
            concepts: list[tuple[int, int, str]] | None = None,
            folded_text: str | None = None,
            tokens: list[tuple[int, str]] | None = None) -> list[Anchor]:
    """The anchors of an article body, in order of appearance (headlines are rewritten freely).

    `concepts` are the lexicon's naming hits in the text as (start, end, concept), when the
    caller has them already (the archive's KWIC lines); otherwise they are searched for.
    """
    body = text
    folded = fold(body) if folded_text is None else folded_text
    # fold() keeps positions unless a character expands (և -> եւ): map back only then.
    offsets: list[int] | None = None
    if len(folded) != len(body):
        folded, offsets = fold_with_offsets(body)
        tokens = None
    found: list[Anchor] = []
    covered = bytearray(len(body) + 1)
    if lexicon is not None:
        leads = text_leads(folded)
        for e in lexicon.entities:
            for p, lead in zip(e.terms, e.leads, strict=True):
                for m in find_term(p, lead, folded, leads):
                    s, t = (offsets[m.start()], offsets[m.end()]) if offsets else m.span()
                    if not covered[s]:  # one anchor per stretch
                        found.append(Anchor("e:" + e.id, s, body[s:t]))
                        covered[s:t] = b"\x01" * (t - s)
        if concepts is None:
            concepts = [(h.start, h.end, h.concept)
                        for h in find_hits(lexicon, body, lang, (folded, offsets, leads))
                        if h.kind == "naming"]
    for s, t, concept in concepts or ():
        found.append(Anchor("c:" + concept, s, body[s:t]))
        covered[s:t] = b"\x01" * (t - s)
    stop = stopwords(lang)
    if tokens is None:
        tokens = [(offsets[m.start()] if offsets else m.start(), m.group())
                  for m in _TOKEN.finditer(folded)]
    for i, (pos, tok) in enumerate(tokens):
        if tok[0].isdigit():
            if len(tok) <= 2 and tok.isdigit() and 1 <= int(tok) <= 31:
                for j in (i - 1, i + 1):
                    month = month_of(tokens[j][1]) if 0 <= j < len(tokens) else None
                    if month:
                        found.append(Anchor(f"d:{month:02d}-{int(tok):02d}", pos, tok))
                        break
            number = _number(tok)
            if number:
                found.append(Anchor("n:" + number, pos, tok))
            continue
        if len(tok) < 3 or covered[pos] or not body[pos].isupper() or tok in stop:
            continue
        key = phonetic_key(tok, lang)
        if key and not month_of(tok):
            found.append(Anchor("p:" + key, pos, body[pos:pos + len(tok)]))
    found.extend(Anchor("q", m.start(), m.group()) for m in _QUOTE_OPEN.finditer(body))
    found.sort(key=lambda a: (a.start, a.key))
    return found


def same_key(a: str, b: str) -> bool:
    """Equal anchors, or one phonetic key plus one inflection consonant (Պուտին / Պուտինին)."""
    if a == b:
        return True
    if not (a.startswith("p:") and b.startswith("p:")):
        return False
    short, long_ = sorted((a, b), key=len)
    return len(short) >= 5 and len(long_) == len(short) + 1 and long_.startswith(short)
