"""A URL pasted into the search box: the article it names, not the words in it.

Researchers paste an article's address to ask "is this in the archive?"; searched as words
("https", the host, the slug) it finds noise. The archive's pages look it up instead, the
way crawls file articles: its own id from the URL without tracking parameters, then a stored
URL, then a canonical link (a republication declaring the original keeps its own id).
"""

from __future__ import annotations

import re
from typing import Any

from crawler.web.urls import article_id, clean_url

# One indexed lookup each (primary key, articles_url, articles_canonical).
ARTICLE_FOR_URL_SQL = """select id from articles where id = :id or url in (:url, :clean)
  or canonical_url in (:url, :clean)
order by id = :id desc, url in (:url, :clean) desc, id limit 1"""

_URL = re.compile(r"https?://[^\s/]+(?:/\S*)?$", re.I)


def is_url_query(q: str) -> bool:
    """Whether a search query is one http(s) URL and nothing else."""
    return bool(_URL.match(q.strip()))


def url_params(url: str) -> dict[str, Any]:
    """The parameters of ARTICLE_FOR_URL_SQL for a pasted URL."""
    url = url.strip()
    clean = clean_url(url)
    return {"id": article_id(clean), "url": url, "clean": clean}
