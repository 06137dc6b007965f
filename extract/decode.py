"""Turn fetched bytes into text.

Order of evidence: a byte-order mark; the HTTP header charset; a ``<meta charset>`` or
``http-equiv`` declaration in the first few KB; then detection. A declaration is only trusted
if the bytes decode under it without error, because servers and templates lie (a header saying
utf-8 over a windows-1251 body is common on old Russian sites). Valid multi-byte UTF-8 beats a
declared single-byte charset: such byte sequences are practically never legacy text.
"""

from __future__ import annotations

import codecs
import re

from charset_normalizer import from_bytes

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_SNIFF_BYTES = 4096
# WHATWG treats these labels as windows-1252; so do browsers, so pages are written for it.
_AS_CP1252 = {"latin-1", "iso8859-1", "ascii"}
_SINGLE_BYTE_HINT = re.compile(r"^(cp|windows-|iso8859|koi8|mac|latin|ascii)")


def charset_from_content_type(content_type: str | None) -> str | None:
    """Return the codec name declared in a Content-Type value, if Python knows it."""
    if not content_type:
        return None
    match = _HEADER_CHARSET.search(content_type)
    return _codec(match.group(1)) if match else None


def _codec(label: str | bytes) -> str | None:
    if isinstance(label, bytes):
        label = label.decode("ascii", "ignore")
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    return "cp1252" if name in _AS_CP1252 else name


def _meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:_SNIFF_BYTES])
    return _codec(match.group(1)) if match else None


def _try(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _latin_fallback(err: UnicodeError) -> tuple[str, int]:
    if not isinstance(err, UnicodeDecodeError):
        raise err
    return err.object[err.start : err.end].decode("cp1252", "replace"), err.end


# Mixed pages (UTF-8 templates with a few Latin-1 bytes pasted in) are common; browsers show
# them with a few odd characters rather than as mojibake from a wrongly detected charset.
codecs.register_error("mediawatch-cp1252", _latin_fallback)


def _mostly_utf8(data: bytes) -> bool:
    lenient = data.decode("utf-8", "replace")
    bad = lenient.count("\ufffd") - data.count(b"\xef\xbf\xbd")
    non_ascii = sum(ch > "\x7f" for ch in lenient)
    return bad <= 2 + 0.02 * non_ascii and non_ascii > bad


def _detect(data: bytes) -> tuple[str, str]:
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        codec = _codec(best.encoding) or "utf-8"
        text = _try(data, codec)
        if text is not None:
            return text, codec
    return data.decode("cp1252", "replace"), "cp1252"


def public_name(codec: str) -> str:
    """Return the web name for a Python codec (cp1251 -> windows-1251)."""
    if codec.startswith("cp125"):
        return "windows-" + codec[2:]
    return {"utf_8": "utf-8", "koi8_r": "koi8-r", "koi8_u": "koi8-u"}.get(codec, codec)


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode page bytes to (text without NUL bytes, encoding name)."""
    text, codec = _decode(data, content_type)
    return text.replace("\x00", ""), public_name(codec)


def _decode(data: bytes, content_type: str | None) -> tuple[str, str]:
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(codec, "replace"), codec.replace("-le", "").replace(
                "-be", ""
            )
    is_ascii = data.isascii()
    utf8 = None if is_ascii else _try(data, "utf-8")
    mixed = not is_ascii and utf8 is None and _mostly_utf8(data)
    for declared in (charset_from_content_type(content_type), _meta_charset(data)):
        if declared is None:
            continue
        if utf8 is not None and _SINGLE_BYTE_HINT.match(declared):
            return utf8, "utf-8"
        text = _try(data, declared)
        if text is not None:
            return text, declared
        if declared == "utf-8" and mixed:
            return data.decode("utf-8", "mediawatch-cp1252"), "utf-8"
    if is_ascii:
        return data.decode("ascii"), "utf-8"
    if utf8 is not None:
        return utf8, "utf-8"
    if mixed:
        return data.decode("utf-8", "mediawatch-cp1252"), "utf-8"
    return _detect(data)
