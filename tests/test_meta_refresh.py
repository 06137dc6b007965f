"""The byte test that lets article pages skip Scrapy's decode-and-search for a meta refresh.

It may say "maybe" wrongly (Scrapy then decides), never "no" where Scrapy finds a refresh:
checked here against Scrapy's own get_meta_refresh on the same responses.
"""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse
from scrapy.utils.response import get_meta_refresh

from crawler.middlewares import may_refresh

pytestmark = pytest.mark.unit

REFRESH = '<meta http-equiv="Refresh" content="0; url=/moved/">'
PAGE = "<html><head><meta charset='{enc}'>{meta}<title>Новости Ереван</title></head>" \
       "<body><p>{body}</p></body></html>"


def _scrapy_finds(body: bytes, encoding: str) -> bool:
    response = HtmlResponse("https://example.org/a", body=body,
                            headers={"Content-Type": f"text/html; charset={encoding}"})
    return get_meta_refresh(response)[1] is not None


@pytest.mark.parametrize("encoding", ["utf-8", "cp1251", "koi8-r", "shift_jis", "utf-16"])
@pytest.mark.parametrize("meta", [REFRESH, REFRESH.upper().replace("/MOVED/", "/moved/"), ""])
def test_a_page_skipped_by_the_byte_test_has_no_refresh_for_scrapy(encoding: str, meta: str) -> None:
    text = PAGE.format(enc=encoding, meta=meta, body="Пашинян и Путин " * 50)
    body = text.encode(encoding, errors="replace")
    scrapy_finds = _scrapy_finds(body, encoding)
    assert scrapy_finds == bool(meta)  # the fixture means what it says
    if scrapy_finds:
        assert may_refresh(body)
    if not meta and encoding != "utf-16":
        assert not may_refresh(body)  # the common case is skipped


def test_a_refresh_beyond_what_scrapy_reads_is_no_refresh_for_either() -> None:
    body = ("<html><head><title>t</title></head><body>" + "x" * 20000 + REFRESH
            + "</body></html>").encode()
    assert not _scrapy_finds(body, "utf-8") and not may_refresh(body)


def test_wide_encodings_always_go_to_scrapy() -> None:
    assert may_refresh("<html>no refresh here</html>".encode("utf-16"))
    assert may_refresh("<html>no refresh here</html>".encode("utf-32-le"))
