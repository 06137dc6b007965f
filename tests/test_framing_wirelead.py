"""The wire dateline left out of distinctive-vocabulary runs: the agencies' conventions."""

from __future__ import annotations

import pytest

from crawler.framing.wirelead import wire_lead, without_wire_lead

pytestmark = pytest.mark.unit

# The opening conventions of the wire services an Armenia–Russia archive follows (TASS,
# RIA Novosti, Reuters, AP, Armenpress in English and Armenian), on sentences written here.
LEADS = [
    ("МОСКВА, 10 ноября. /ТАСС/. ", "Президент России Владимир Путин"),
    ("ЕРЕВАН, 23 февраля. /ТАСС/ ", "Премьер-министр Армении"),
    ("МОСКВА, 10 ноя — РИА Новости. ", "Президент России"),
    ("YEREVAN, Nov 10 (Reuters) - ", "Armenia's prime minister said"),
    ("BRUSSELS (Reuters) - ", "The European Union"),
    ("НЬЮ-ЙОРК, 10 ноября. /ТАСС/. ", "Генеральный секретарь ООН"),
    ("LOS ANGELES (AP) — ", "An Armenian-American group"),
    ("YEREVAN, Armenia (AP) — ", "Thousands rallied"),
    ("YEREVAN, NOVEMBER 10, ARMENPRESS. ", "Prime Minister Nikol Pashinyan"),
    ("ԵՐԵՎԱՆ, ՆՈՅԵՄԲԵՐԻ 10, ԱՐՄԵՆՊՐԵՍ։ ", "Վարչապետ Նիկոլ Փաշինյանը"),
    ("ԵՐԵՎԱՆ, 10 նոյեմբերի — Արմենպրես: ", "Վարչապետ"),
    # Openings of real reports (realpages, from htmldate's test set: Apache-2.0 repository,
    # page content third-party; the first words only): https://tass.ru/moskva/8836033,
    # a RIA Novosti page of Chromium's encoding tests, Kazinform, UNN.
    ("МОСКВА, 29 июня. /ТАСС/. ", "Движение от Можайского до Новорижского шоссе"),
    ("МОСКВА, 9 янв - РИА Новости. ", "Надежды на разрешение в пятницу кризиса"),
    ("ПЕТРОПАВЛОВСК. КАЗИНФОРМ – ", "Бройлерную птицефабрику и молочно-товарную ферму"),
    ("КИЕВ. 3 декабря. УНН. ", "Парламент Молдовы на заседании в четверг, 3 декабря"),
    # and of devsets/fields (reviewed bodies of real pages): Reuters 2023-05-16, 2024-03-07,
    # Washington Times (AP) 2023-04-28
    ("KATHMANDU, April 25 (Reuters) - ", "Nepal's civil aviation authority"),
    ("BEIRUT/THE HAGUE, March 7 (Reuters) - ", "An Israeli tank crew"),
    ("INDIANAPOLIS (AP) — ", "A messy state budget deal"),
    # Interfax writes the place in title case, then the day and its name in capitals
    # (sentences written here, in its convention).
    ("Москва. 10 ноября. INTERFAX.RU - ", "Президент России Владимир Путин"),
    ("Нью-Йорк. 3 марта. INTERFAX.RU - ", "Генеральный секретарь ООН"),
]

# Openings that are sentences, not datelines: an acronym or a capitalised name first.
NOT_LEADS = [
    "NATO said on Monday that the exercise — planned in 2024. Then",
    "CSTO — the alliance Armenia froze. It said",
    "US, EU and Russia. The talks",
    "МОСКВА. Путин заявил",
    "МОСКВА. ОДКБ и ЕАЭС обсудили",
    "NATO, EU. The talks",
    # openings in capitals of real pages in devsets/fields that are not datelines
    "INTERNATIONAL Golden Institute (IGI School of Economics Jakarta)",
    "CHINESE AGGRESSION: Manila accused Beijing’s ‘maritime militia’",
    "REBECCA Cooke is the childhood sweetheart of England football",
    "Putin and Pashinyan met in Moscow (Reuters) - later",
    "ОДКБ: 24/7 мониторинг /ежедневно/ — так",
    # a place in title case and a date without an agency's name in capitals: sentences here,
    # then openings of real pages of devsets/extraction (a Swiss ministry's speech, two
    # German press releases: wbf.admin.ch, unendlich-viel-energie.de, jugend-forscht.de)
    "Москва. 10 ноября. Президент России заявил",
    "Москва. 10 ноября. ТАСС. Текст",
    "Yerevan, 10 November. EU - Armenia relations",
    "Bern, 17.08.2007 - Rede von Moritz Leuenberger beim SP-Städtegipfel",
    "Düsseldorf, 22. November 2022 - Der Öko-Energieversorger naturstrom AG",
    "Hamburg, 2. November 2021\nPreisträgerinnen und Preisträger",
    "",
]


@pytest.mark.parametrize(("lead", "rest"), LEADS)
def test_a_wire_dateline_is_left_out(lead: str, rest: str) -> None:
    assert wire_lead(lead + rest) == len(lead)
    assert without_wire_lead(lead + rest) == rest


@pytest.mark.parametrize("text", NOT_LEADS)
def test_an_ordinary_opening_is_kept(text: str) -> None:
    assert wire_lead(text) == 0
    assert without_wire_lead(text) == text


def test_a_mark_past_the_first_line_of_text_is_not_a_lead() -> None:
    far = "МОСКВА, " + "слово " * 30 + "/ТАСС/. Текст"
    assert wire_lead(far) == 0


def test_attention_terms_read_the_reports_without_their_dateline() -> None:
    import sqlite3

    from crawler.search.attention_terms import TEXT_CHARS, _texts

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE articles (title TEXT, text TEXT)")
    conn.executemany("INSERT INTO articles VALUES (?, ?)", [
        ("Путин и Пашинян", "МОСКВА, 25 мая. /ТАСС/. Президент России провел переговоры."),
        ("Armenia and the CSTO", "Armenia froze its participation. " * 200),
        (None, None)])
    texts = _texts(conn, [1, 2, 3])
    assert texts[0] == "Путин и Пашинян\nПрезидент России провел переговоры."
    assert texts[1].startswith("Armenia and the CSTO\nArmenia froze") and len(texts[1]) == TEXT_CHARS
    assert texts[2] == "\n"
