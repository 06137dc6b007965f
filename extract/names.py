"""One byline string into names: prefixes, roles, dates, handles and markup removed.

"By"/"Von"/"Автор:" and other prefixes, roles ("Lifestyle Writer", "Redakteur"), dates and
times, e-mail addresses, social handles, URLs and HTML tags (a JSON-LD author written as the
link the page shows) are removed, lists are split at commas, semicolons, "and"/"und"/"и"/"և"…,
and duplicates (also "emma-mackenzie" beside "Emma Mackenzie") dropped. Which of the page's
bylines is read is extract.bylines' choice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .meta import without_tags
from .months import FORMS, month_number
from .titles import key

_PREFIX = re.compile(
    r"^\s*(?:(?:written|reported|posted|published|text|story|words|reporting|edited|compiled|recipe|"
    r"additional reporting)\s+by|(?:erstellt|verfasst|geschrieben|veröffentlicht|publiziert|"
    r"gepostet)\s+von|by|von|vom|di|da|par|"
    r"por|door|av|af|de|от|автор(?:ы)?|авторы|текст|հեղինակ|text|texte|texto|"
    r"autor(?:in|en|es|a)?|(?:post\s+)?author(?:s)?(?:\s+by)?|redaktion|"
    r"yazar|muhabir|kirjoittaja|skrevet av|tekst)\b\s*[:：՝]?\s*", re.I)  # ՝: "Հեղինակ՝ Անուն"
_SPLIT = re.compile(r"\s*(?:[,;|/&+·•]|\s(?:and|und|et|e|y|og|och|en|ve|и|і|та|և|ու|dan)\s)\s*",
                    re.I)
_ROLE_WORDS = re.compile(
    r"\b(?:writer|editor|reporter|correspondent|journalist|journalistin|redakteur|redakteurin|"
    r"redaktor|columnist|contributor|staff|photographer|producer|analyst|intern|"
    r"корреспондент|обозреватель|редактор|журналист|for\s+\S+)\b.*$", re.I)
# Words that qualify a role printed after a name ("Emma Mackenzie Lifestyle Writer").
_ROLE_QUALIFIERS = frozenset(
    "senior chief political lifestyle sports sport business foreign staff deputy associate "
    "assistant managing digital news science health home economics economic technology tech "
    "travel royal crime court showbiz entertainment culture money consumer investigations "
    "environment education world europe us uk washington moscow contributing special freier "
    "freie stellvertretender leitender".split())
_JUNK = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|@\w+|\([^)]*\)|\[[^\]]*\]")
_DIGIT_TAIL = re.compile(r"\s*\d.*$")
_LATER_BY = re.compile(r"\s(?:by|von|par|por|door|di|автор|autor(?:in)?\s*:|author\s*:)\s+(?=\w)",
                       re.I)
_NEXT_LABEL = re.compile(r"\s+[^\W\d_]+\s*:.*$")  # "Fritz Imhof Quelle: Livenet"
# What is left of a date or its label after a dash once the digits are cut: "John Walk -
# January" (8, 2019), "Dominique — veröffentlicht" (am 12.03.2021).
_DATE_TAIL = re.compile(r"\s+[-–—|·•]\s*([^\W\d_]+)\.?(?:\s+(?:am|on|at|le|el|il|в))?\s*$", re.I)
_DATE_WORDS = frozenset("published updated posted veröffentlicht aktualisiert erstellt "
                        "publiziert publié publicado actualizado pubblicato aggiornato "
                        "опубликовано обновлено".split())
_MONTHS = frozenset(form for table in FORMS.values() for form in table)
_NOT_ALONE = _DATE_WORDS | _MONTHS  # a part that is only one of these is no name ("Jan" may be)
# Words around a date that its digits leave behind: "Posted on" (September 3), "Jörn Mecher am"
# (12.03.2021), "Stand:" (14:00), "vor" (3 Stunden). A part made only of these and date
# labels or months is no name; at a name's end they are cut.
# cut at a name's end; "vor"/"hace" (3 Stunden, 13 horas: "ago" before the number)
_TAIL_GLUE = ("on", "am", "at", "um", "le", "el", "il", "в", "vom", "vor", "hace")
_DATE_GLUE = frozenset((*_TAIL_GLUE, *"den de der datum date stand seit since".split()))
_GLUE_TAIL = re.compile(rf"(?:\s+(?:{'|'.join(_TAIL_GLUE)}))+\s*$", re.I)
_NOT_NAMES = {"admin", "administrator", "editor", "redaktion", "staff", "follow", "folgen",
              "anonymous", "guest", "unknown", "none", "null", "team"}
# Links beside a byline ("Twitter Facebook", "Tips meg") are not names.
_SOCIAL = ("twitter", "facebook", "instagram", "linkedin", "youtube", "telegram", "whatsapp",
           "tiktok", "threads", "bluesky", "mastodon", "email", "e-mail", "mail", "rss", "share",
           "teilen", "tips", "kontakt", "contact", "profile", "profil", "more", "mehr",
           "инстаграм", "фейсбук", "твиттер", "телеграм", "ютуб", "вконтакте")
_MAX_WORDS = 6
_MAX_CHARS = 60
_NAME_WORD = re.compile(r"^[^\W\d_][\w.'’-]*$")


def clean_names(raw: str | None) -> list[str]:
    """Split and clean one byline string into names (see the module doc)."""
    # Drupal writes a JSON-LD author as the link it shows ('<a href="/pl/eksperci/...">Name</a>').
    text = without_tags(raw or "")
    if not text or text.startswith(("http://", "https://")):
        return []
    text = _JUNK.sub(" ", text)
    # "Posted on September 21, 2020 by Adi Tzlil", "Datum: 19.11.2021 Autor: Fritz Imhof
    # Quelle: Livenet": the name after a date's "by" or an author label, up to the next label.
    if (found := _LATER_BY.search(text)) and any(ch.isdigit() for ch in text[:found.start()]):
        text = _NEXT_LABEL.sub("", text[found.end():])
    names: list[str] = []
    for part in _SPLIT.split(text):
        part = _PREFIX.sub("", part)
        part = _without_role(part)
        if (cut := _DIGIT_TAIL.sub("", part)) != part:
            part = _GLUE_TAIL.sub("", cut)  # "Jörn Mecher am" (12.03.2021)
        if (tail := _DATE_TAIL.search(part)) and _date_word(tail[1]):
            part = part[:tail.start()]
        part = part.strip(" \t-–—:：՝.,;|'\"«»“”")
        if _is_name(part) and not _date_label(part):
            names.append(part)
    return names


def _date_label(part: str) -> bool:
    """Only a date's label and glue ("Posted on September", "Veröffentlicht am", "Stand")."""
    words = part.casefold().replace(":", " ").split()
    return all(w in _NOT_ALONE or w in _DATE_GLUE for w in words)


def _date_word(word: str) -> bool:
    """A month ("January", "Jan", "Sept") or a date label ("Updated"): never a name's end."""
    low = word.casefold()
    return (low in _DATE_WORDS or low in _MONTHS or low == "sept"
            or len(low) == 3 and month_number(low) is not None)


def _without_role(part: str) -> str:
    """Cut a role after a name, with the words that qualify it ("Lifestyle Writer")."""
    match = _ROLE_WORDS.search(part)
    if not match:
        return part
    words = part[: match.start()].split()
    if len(words) < 2:
        return part  # "Ann Writer": the word is her name, not her role
    while len(words) > 2 and words[-1].casefold() in _ROLE_QUALIFIERS:
        words.pop()
    return " ".join(words)


def _is_name(text: str) -> bool:
    words = text.split()
    return (0 < len(words) <= _MAX_WORDS and 2 <= len(text) <= _MAX_CHARS
            and sum(ch.isalpha() for ch in text) >= 2 and text.casefold() not in _NOT_NAMES
            and not any(w.casefold().startswith(_SOCIAL) for w in words))


def unique_names(names: Iterable[str]) -> list[str]:
    """Drop repeats by their letters ("Emma-Mackenzie" = "Emma Mackenzie"), slugs last."""
    out: dict[str, str] = {}
    for name in names:
        k = key(name)
        if k and (k not in out or _is_slug(out[k])):
            out[k] = name
    return list(out.values())


def _is_slug(name: str) -> bool:
    return " " not in name and name == name.lower() and "-" in name


def personal_name(name: str) -> bool:
    """Two to four capitalised words of letters: how a person's name is printed."""
    words = name.split()
    return 2 <= len(words) <= 4 and all(
        w[0].isupper() and _NAME_WORD.match(w) and w.casefold() not in _NOT_NAMES for w in words)
