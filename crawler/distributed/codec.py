"""What crosses Redis: items as JSON (never pickle), requests as tagged JSON.

Workers may run on other machines, so nothing read back from Redis is unpickled: a
compromised queue must not become code execution in the archiver. Bytes travel as
base64 under a tag; dataclasses are rebuilt field by field.
"""

from __future__ import annotations

import base64
import json
from dataclasses import asdict, fields
from typing import Any

from crawler.archive.prepare import Prepared
from crawler.archive.warc import whole_records
from crawler.items import Discovered, FetchedPage, Found
from crawler.registry.topic import TopicMatch
from extract import ArticleResult
from extract.datesources import DateCandidate

_BYTES = "__b64__"
_TUPLE = "__tuple__"


def _tag(value: Any) -> Any:
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, tuple):
        return {_TUPLE: [_tag(v) for v in value]}
    if isinstance(value, list):
        return [_tag(v) for v in value]
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, bytes) else k.decode("latin-1"): _tag(v)
                for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot send {type(value).__name__} through Redis: {value!r}")


def _untag(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_BYTES}:
            return base64.b64decode(value[_BYTES])
        if set(value) == {_TUPLE}:
            return tuple(_untag(v) for v in value[_TUPLE])
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


# scrapy-redis calls these (SCHEDULER_SERIALIZER = "crawler.distributed.codec").
def dumps(obj: Any) -> bytes:
    """A request dict (Request.to_dict()) as JSON bytes."""
    return json.dumps(_tag(obj), ensure_ascii=False, sort_keys=True).encode("utf-8")


def loads(data: bytes | str) -> Any:
    """Inverse of dumps()."""
    return _untag(json.loads(data))


def _only(cls: Any, data: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in data.items() if k in names}


def encode_item(item: FetchedPage | Discovered) -> bytes:
    """An item as JSON bytes, typed so decode_item() can rebuild it."""
    kind = "page" if isinstance(item, FetchedPage) else "discovered"
    return json.dumps({"type": kind, "item": _tag(asdict(item))}, ensure_ascii=False).encode()


def encode_message(kind: str, **data: Any) -> bytes:
    """A control message (run_start, run_finish) for the archiver."""
    return json.dumps({"type": kind, **_tag(data)}, ensure_ascii=False).encode()


def decode(data: bytes) -> tuple[str, Any]:
    """(type, payload): an item for "page"/"discovered", the message dict otherwise."""
    message = json.loads(data)
    kind = message.pop("type")
    if kind == "page":
        return kind, _page(_untag(message["item"]))
    if kind == "discovered":
        raw = _untag(message["item"])
        raw["entries"] = [Found(**_only(Found, e)) for e in raw.get("entries", [])]
        return kind, Discovered(**_only(Discovered, raw))
    return kind, _untag(message)


def _page(raw: dict[str, Any]) -> FetchedPage:
    extraction = raw.pop("extraction", None)
    topic = raw.pop("topic", None)
    prepared = raw.pop("prepared", None)
    page = FetchedPage(**_only(FetchedPage, raw))
    if prepared is not None:  # the worker's WARC records etc.: the archiver only appends them
        page.prepared = _prepared(prepared)
    if extraction is not None:
        candidates = [DateCandidate(**c) for c in extraction.pop("date_candidates", [])]
        page.extraction = ArticleResult(**_only(ArticleResult, extraction),
                                        date_candidates=candidates)
    if topic is not None:
        page.topic = TopicMatch(**_only(TopicMatch, topic))
    return page


def _prepared(raw: Any) -> Prepared | None:
    """A worker's Prepared, if well-formed: records that would tear a WARC file (not whole
    gzip members of WARC records) or mistyped fields are dropped, and the archiver makes
    its own from the page."""
    try:
        prepared = Prepared(**_only(Prepared, raw))
    except TypeError:
        return None
    texts = (prepared.search_title, prepared.search_text, prepared.text_signature)
    if not (isinstance(prepared.warc, bytes) and isinstance(prepared.warc_id, str)
            and isinstance(prepared.body_sha256, str)
            and all(t is None or isinstance(t, str) for t in texts)
            and whole_records(prepared.warc)):
        return None
    return prepared
