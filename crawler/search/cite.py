"""Citations of archived articles: a line to paste, and RIS records for reference managers.

A researcher who quotes an article cites the outlet's page and, since pages change or vanish,
the archived capture it was read from. Both forms give the headline, byline, outlet, day of
publication and URL, plus when the archive captured it and the SHA-256 of the captured body
(the WARC record's payload), so that anyone holding the archive can find and check the copy.

RIS (Zotero, EndNote, Mendeley, Citavi and JabRef import it) is one tag per line: a value
from a scraped page must never start a line of its own, or a headline could inject tags
("…\\nTY  - JOUR"), so every value is one line of text. No article text goes into either
form: a public build that withholds an outlet's text cites it like any other.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

# The columns a citation reads: articles a, sources s, the article's capture p (pages).
CITE_COLUMNS = ("a.id, a.title, a.author, a.authors, a.published, a.url, a.lang, "
                "a.first_seen_at, a.source_id, s.name as outlet, p.fetched_at as captured, "
                "p.body_sha256")
CITE_FROM = ("articles a left join sources s on s.id = a.source_id "
             "left join pages p on p.id = a.page_id")
RIS_TYPE = "application/x-research-info-systems; charset=utf-8"


def ris_headers(name: str) -> dict[str, str]:
    """HTTP headers of a RIS download saved as `name`.ris (besides its RIS_TYPE)."""
    return {"content-disposition": f'attachment; filename="{name}.ris"'}


def one_line(value: Any) -> str:
    """A value as one line of text: line breaks and other control characters become spaces,
    invisible format characters (soft hyphens, zero-width spaces) go."""
    text = "" if value is None else str(value)
    out = []
    for ch in text:
        kind = unicodedata.category(ch)
        out.append(" " if kind in ("Cc", "Zl", "Zp") else "" if kind == "Cf" else ch)
    return " ".join("".join(out).split())


def names(article: Mapping[str, Any]) -> list[str]:
    """The article's authors: its `authors` JSON list, else its `author` string."""
    try:
        listed = json.loads(article.get("authors") or "[]")
    except ValueError:
        listed = []
    if isinstance(listed, list) and (found := [one_line(n) for n in listed if one_line(n)]):
        return found
    return [one_line(article["author"])] if one_line(article.get("author")) else []


def _day(value: Any) -> str:
    day = one_line(value)[:10]
    return day if len(day) == 10 and day[4] == "-" and day[7] == "-" else ""


def citation(article: Mapping[str, Any]) -> str:
    """One line to paste: Authors. "Headline." Outlet, day. URL. Archived ... (sha256 ...)."""
    parts = []
    if people := names(article):
        parts.append(", ".join(people) + ".")
    title = one_line(article.get("title")) or "(no headline)"
    parts.append(f"“{title}{'' if title[-1] in '.?!…' else '.'}”")
    outlet = one_line(article.get("outlet") or article.get("source_id"))
    where = ", ".join(x for x in (outlet, _day(article.get("published")) or "n.d.") if x)
    parts.append(where if where.endswith(".") else where + ".")
    parts.append(one_line(article.get("url")) + ".")
    captured = _day(article.get("captured")) or _day(article.get("first_seen_at"))
    archived = f"Archived by mediawatch {captured}" if captured else "Archived by mediawatch"
    sha = one_line(article.get("body_sha256"))
    parts.append(f"{archived} (article {one_line(article.get('id'))}"
                 + (f", capture sha256 {sha}" if sha else "") + ").")
    return " ".join(parts)


def ris_record(article: Mapping[str, Any]) -> str:
    """One RIS record (TY NEWS ... ER) of an archived article."""
    lines = [("TY", "NEWS")]
    lines += [("AU", n) for n in names(article)]
    lines.append(("TI", one_line(article.get("title"))))
    lines.append(("T2", one_line(article.get("outlet") or article.get("source_id"))))
    if day := _day(article.get("published")):
        lines += [("PY", day[:4]), ("DA", day.replace("-", "/"))]
    lines.append(("UR", one_line(article.get("url"))))
    lines.append(("LA", one_line(article.get("lang"))))
    if captured := _day(article.get("captured")) or _day(article.get("first_seen_at")):
        lines.append(("Y2", captured.replace("-", "/")))  # accessed: the day it was captured
    lines.append(("DB", "mediawatch"))
    lines.append(("ID", one_line(article.get("id"))))
    if sha := one_line(article.get("body_sha256")):
        lines.append(("N1", f"Archived capture: sha256 {sha}"))
    body = "".join(f"{tag}  - {value}\r\n" for tag, value in lines if value)
    return body + "ER  - \r\n"


def ris(articles: Iterable[Mapping[str, Any]]) -> str:
    """RIS records, one per article, in the given order."""
    return "\r\n".join(ris_record(a) for a in articles)
