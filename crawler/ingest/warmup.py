"""Load what an extraction worker loads on its first pages, once, in the fork server.

A crawl worker's first pages cost several times a later page's CPU: justext's stop words of
every language (read the first time trafilatura falls back to justext), the patterns that
our date rules and htmldate compile on first use, the default framing lexicon. Workers
forked by the fork server inherit its memory, so what the server has loaded every worker of
the crawl has too. The server does this while the crawl's own start-up runs in the main
process, on another core.

Importing this module does the loading: multiprocessing's fork-server preload only imports
modules (crawler.ingest.extraction lists this one; bulk extraction imports it before it
forks). It reads five small pages built here (English, Russian and Armenian articles, the
registry's languages; a short page and an undated one), never a network or a file of the
user's. A failure here only costs the speed it was meant to gain, so it is logged, not
raised: the workers then load what they need themselves, as before.
"""

from __future__ import annotations

import logging
import os
import time

LOG = logging.getLogger(__name__)

_PAGE = """<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{title} | Warm</title>
<meta property="og:type" content="article"><meta property="og:title" content="{title}">
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{title}",
"author": {{"@type": "Person", "name": "{author}"}}}}</script></head>
<body><header><a href="/">Warm</a></header><article><h1>{title}</h1>
<p class="byline">{author}</p><p class="date">{date}</p>{body}</article>
<footer><p>© 2025</p></footer></body></html>"""

# The articles name the topic's people and places, so the framing analysis runs too; the
# short page makes trafilatura fall back to justext.
_PAGES = {
    "en": ("Putin and Pashinyan meet in Moscow", "Anna Petrosyan", "12 May 2025, 10:15",
           "Armenian Prime Minister Nikol Pashinyan met Russian President Vladimir Putin in "
           "Moscow on Monday. The talks covered the CSTO, the Eurasian Economic Union and the "
           "Russian base in Gyumri, officials in Yerevan said after the meeting. " * 6),
    "ru": ("Путин и Пашинян встретились в Москве", "Анна Петросян", "12 мая 2025 года, 10:15",
           "Премьер-министр Армении Никол Пашинян встретился с президентом России Владимиром "
           "Путиным в Москве. Стороны обсудили ОДКБ, ЕАЭС и 102-ю российскую военную базу в "
           "Гюмри, сообщили в Ереване после встречи. " * 6),
    "hy": ("Պուտինն ու Փաշինյանը հանդիպեցին Մոսկվայում", "Աննա Պետրոսյան", "12 մայիսի 2025",
           "Հայաստանի վարչապետ Նիկոլ Փաշինյանը Մոսկվայում հանդիպեց Ռուսաստանի նախագահ "
           "Վլադիմիր Պուտինի հետ։ Կողմերը քննարկեցին ՀԱՊԿ-ը, ԵԱՏՄ-ն և Գյումրիի ռուսական "
           "ռազմաբազան։ " * 6),
    "short": ("Brief", "", "", "Yerevan, 3 June 2024."),
    # No date but the footer's year: the date rules leave the choice to htmldate.
    "undated": ("Notes", "", "", "Statement of the ministry. " * 3),
}


def _pages() -> list[tuple[str, bytes]]:
    out = []
    for lang, (title, author, date, text) in _PAGES.items():
        body = "".join(f"<p>{sentence.strip()}.</p>" for sentence in text.split(". ") if sentence)
        html = _PAGE.format(lang=lang if len(lang) == 2 else "en", title=title, author=author,
                            date=date, body=body)
        out.append((f"https://warm.invalid/{lang}/news.html", html.encode("utf-8")))
    return out


def warm() -> float:
    """Read the built-in pages as a crawl worker reads a page; return the seconds it took."""
    from crawler.archive.prepare import stored_text
    from crawler.framing.lexicon import LEXICON_PATH
    from crawler.ingest.extraction import _lexicon, framing_analysis
    from extract import extract_article

    started = time.perf_counter()
    lexicon = _lexicon(str(LEXICON_PATH))  # the worker's cache: the default lexicon is loaded
    for url, body in _pages():
        result = extract_article(body, url, content_type="text/html; charset=utf-8")
        if result.status == "ok":
            framing_analysis(lexicon, result.title, stored_text(result), result.lang,
                             features=True)
    return time.perf_counter() - started


PID = os.getpid()  # the process that warmed: a forked worker finds its server's pid here
try:
    SECONDS = warm()
except Exception:  # a worker that loads things itself is only slower
    LOG.warning("warming the extraction workers failed; they load what they need themselves",
                exc_info=True)
    SECONDS = -1.0
