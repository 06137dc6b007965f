"""Month names, one table per language: the only month table of the project.

Each language lists its twelve months as slash-separated written forms (nominative, genitive
and other declined forms where the language uses them in dates: "12 мая", "12 մայիսի",
"12 stycznia"). Abbreviations are not listed: a word of three or more letters that starts the
forms of exactly one month is that month ("Jan.", "сент.", "dic"), so "հուն" (January or
June in Armenian) stays unknown while "հունվ" is January.
"""

from __future__ import annotations

from functools import lru_cache

_TABLES: dict[str, str] = {
    "en": "january february march april may june july august september october november december",
    "de": "januar/jänner februar/feber märz/maerz april mai juni juli august september oktober "
          "november dezember",
    "fr": "janvier février/fevrier mars avril mai juin juillet août/aout septembre octobre "
          "novembre décembre/decembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre/setiembre octubre "
          "noviembre diciembre",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
          "dicembre",
    "pt": "janeiro fevereiro março/marco abril maio junho julho agosto setembro outubro novembro "
          "dezembro",
    "nl": "januari februari maart april mei juni juli augustus september oktober november "
          "december",
    "sv": "januari februari mars april maj juni juli augusti september oktober november december",
    "no": "januar februar mars april mai juni juli august september oktober november desember",
    "da": "januar februar marts april maj juni juli august september oktober november december",
    "pl": "styczeń/stycznia luty/lutego marzec/marca kwiecień/kwietnia maj/maja czerwiec/czerwca "
          "lipiec/lipca sierpień/sierpnia wrzesień/września październik/października "
          "listopad/listopada grudzień/grudnia",
    "tr": "ocak şubat/subat mart nisan mayıs/mayis haziran temmuz ağustos/agustos eylül/eylul "
          "ekim kasım/kasim aralık/aralik",
    "id": "januari februari maret april mei juni juli agustus september oktober november "
          "desember",
    "ru": "январь/января февраль/февраля март/марта апрель/апреля май/мая июнь/июня июль/июля "
          "август/августа сентябрь/сентября октябрь/октября ноябрь/ноября декабрь/декабря",
    "uk": "січень/січня лютий/лютого березень/березня квітень/квітня травень/травня "
          "червень/червня липень/липня серпень/серпня вересень/вересня жовтень/жовтня "
          "листопад/листопада грудень/грудня",
    "hy": "հունվար/հունվարի փետրվար/փետրվարի մարտ/մարտի ապրիլ/ապրիլի մայիս/մայիսի "
          "հունիս/հունիսի հուլիս/հուլիսի օգոստոս/օգոստոսի սեպտեմբեր/սեպտեմբերի "
          "հոկտեմբեր/հոկտեմբերի նոյեմբեր/նոյեմբերի դեկտեմբեր/դեկտեմբերի",
}  # fmt: skip
LANGUAGES = tuple(_TABLES)
# Short forms in use that are not prefixes of the full name (German "Mrz.").
_EXTRA = {"mrz": 3}
_MIN_ABBREV = 3


def _forms(lang: str) -> dict[str, int]:
    months = _TABLES[lang].split()
    assert len(months) == 12, lang
    return {form: i + 1 for i, group in enumerate(months) for form in group.split("/")}


FORMS: dict[str, dict[str, int]] = {lang: _forms(lang) for lang in _TABLES}
_ALL: dict[str, set[int]] = {}
for _table in FORMS.values():
    for _form, _num in _table.items():
        _ALL.setdefault(_form, set()).add(_num)


@lru_cache(maxsize=4096)
def month_number(word: str, lang: str | None = None) -> int | None:
    """The month a written month name or abbreviation stands for, or None.

    ``lang`` (an ISO 639-1 code) is tried first; then every table, where a word must name the
    same month in all languages that have it.
    """
    word = word.strip().rstrip(".").casefold()
    if len(word) < _MIN_ABBREV:
        return None
    if word in _EXTRA:
        return _EXTRA[word]
    tables = [FORMS[lang]] if lang in FORMS else []
    for table in tables:
        if (num := _lookup(word, table)) is not None:
            return num
    found = _ALL.get(word)
    if found is not None:
        return next(iter(found)) if len(found) == 1 else None
    nums = {num for form, nums in _ALL.items() if form.startswith(word) for num in nums}
    return next(iter(nums)) if len(nums) == 1 else None


def _lookup(word: str, table: dict[str, int]) -> int | None:
    if word in table:
        return table[word]
    nums = {num for form, num in table.items() if form.startswith(word)}
    return next(iter(nums)) if len(nums) == 1 else None
