"""The wire dateline that opens an agency report: "МОСКВА, 10 ноября. /ТАСС/.".

News agencies open every report with the place, the day and their own name ("YEREVAN, Nov 10
(Reuters) -", "МОСКВА, 10 ноя — РИА Новости.", "YEREVAN, NOVEMBER 10, ARMENPRESS."). Counted
as words, the agency's name and its home city become the "most distinctive vocabulary" of
every agency in every comparison: a signature, not a framing. The distinctive-vocabulary runs
leave the lead out; the text itself is untouched.

The rule is the wire convention itself, not a list of agencies: the text starts with a place
in capitals (words all upper case, three letters or more), and within the first
``_MAX_LEAD`` characters the lead ends with the agency's mark: a name between slashes, a name
in parentheses before a dash, a dash after the date before a name and a full stop, or a name
in capitals after the date or right after the place, ended by a full stop or a dash. A place
in title case counts only in the whole shape "Москва. 10 ноября. INTERFAX.RU -" (the date, then
a name of three capitals or more, then a dash): a press release's "Düsseldorf, 22. November
2022 -" names no agency. An acronym opening a sentence ("NATO said", "CSTO — the alliance")
is no lead: it has none of these marks. A dateline that names only a place ("WASHINGTON —")
is kept: it names no agency.
"""

from __future__ import annotations

import re

_MAX_LEAD = 120
_WORD = re.compile(r"[^\W\d_]+")
_DASH = r"[-–—]"
# The agency's mark that ends a lead, tried in this order; the lead is everything up to it.
# A dash before the name counts only after the date (a digit), not after a place alone.
_MARKS = (
    (re.compile(r"/[^\W\d_][^/\n\d]{0,39}/\s*[.:,]?\s*"), False),  # МОСКВА, 10 ноября. /ТАСС/.
    (re.compile(rf"\([^\W\d_][^()\n]{{0,39}}\)\s*{_DASH}+\s*"), False),  # YEREVAN, Nov 10 (Reuters) -
    (re.compile(rf"\s{_DASH}\s*[^\n.!?։:]{{1,40}}?[.։:]\s+"), True),  # МОСКВА, 10 ноя — РИА Новости.
)
# The agency's name in capitals after the place and date, then a full stop or a dash:
# "YEREVAN, NOVEMBER 10, ARMENPRESS." and "КИЕВ. 3 декабря. УНН." (։ the Armenian full stop),
# or right after the place before a dash: "ПЕТРОПАВЛОВСК. КАЗИНФОРМ –".
_AGENCY = r"([^\W\d_][\w.]*(?:\s[^\W\d_][\w.]*){0,2})"
_DATED_NAME = re.compile(
    rf"[.,]\s*[^\n.,/()]{{0,25}}?\d[^\n.,/()]{{0,25}}?[.,]\s*{_AGENCY}\s*(?:[.։:]|\s?{_DASH})\s+")
_NAME_DASH = re.compile(rf"\.\s*{_AGENCY}\s?{_DASH}\s+")
_TITLED_WORDS = 3


def _place_end(text: str) -> int:
    """Where the place in capitals that opens ``text`` ends ("НЬЮ-ЙОРК", "LOS ANGELES",
    "BEIRUT/THE HAGUE"), or 0."""
    end = 0
    for word in _WORD.finditer(text[:_MAX_LEAD]):
        gap = text[end:word.start()]
        if not word.group().isupper() or (end and gap not in (" ", "-", "/")):
            break
        end = word.end()
    letters = sum(ch.isalpha() for ch in text[:end])
    return end if letters >= 3 else 0


def _titled_place_end(text: str) -> int:
    """Where a place written in title case that opens ``text`` ends ("Москва", "Нью-Йорк",
    "Los Angeles"; at most three words), or 0."""
    end = 0
    for n, word in enumerate(_WORD.finditer(text[:_MAX_LEAD])):
        gap = text[end:word.start()]
        w = word.group()
        if n == _TITLED_WORDS or not (w[0].isupper() and w[1:].islower()) \
                or (end and gap not in (" ", "-")):
            break
        end = word.end()
    return end


def _titled_lead(text: str) -> int:
    """A dateline whose place is in title case, then the date, then the agency's name in
    capitals and a dash: "Москва. 10 ноября. INTERFAX.RU -". Without capitals in the place,
    only this whole shape counts (the date and a name of three capitals or more)."""
    place = _titled_place_end(text)
    found = _DATED_NAME.match(text[:_MAX_LEAD], place) if place else None
    if found and found.group(1).isupper() and sum(ch.isalpha() for ch in found.group(1)) >= 3 \
            and found.group().rstrip()[-1] in "-–—":
        return found.end()
    return 0


def wire_lead(text: str) -> int:
    """The length of the wire dateline that opens ``text`` (0 when it has none)."""
    place = _place_end(text)
    if not place:
        return _titled_lead(text)
    head = text[:_MAX_LEAD]
    for mark, dated in _MARKS:
        found = mark.search(head, place)
        between = head[place:found.start()] if found else ""
        # Between the place and the mark: nothing, or ", date" ("ОДКБ: 24/7 ..." is a sentence).
        if found and (not between.strip() or between[0] in ",.") and ":" not in between \
                and (not dated or any(ch.isdigit() for ch in between)):
            return found.end()
    for named in (_DATED_NAME, _NAME_DASH):
        found = named.match(head, place)
        if found and found.group(1).isupper():
            return found.end()
    return 0


def without_wire_lead(text: str) -> str:
    """``text`` without the wire dateline it opens with."""
    return text[wire_lead(text):]


def counted_text(title: str, text: str) -> str:
    """An article as vocabulary comparisons count it: its title, then its text after the
    wire dateline (the distinctive-vocabulary runs and the attention page's terms)."""
    return f"{title}\n{without_wire_lead(text)}"
