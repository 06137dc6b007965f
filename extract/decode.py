"""Turn fetched bytes into text: the one byte decoder for pages, feeds, sitemaps and links.

Order of evidence: a byte-order mark (or the zero bytes of BOM-less UTF-16 markup); the HTTP
header charset; a ``<meta charset>``/``http-equiv`` or ``<?xml encoding=…?>`` declaration in
the first few KB; then detection. A declaration is only trusted if the bytes decode under it
without error, because servers and templates lie (a header saying utf-8 over a windows-1251
body is common on old Russian sites; a declared UTF-16 over single-byte markup is a lie too).
Valid multi-byte UTF-8 beats a declared single-byte charset: such byte sequences are practically
never legacy text.

Detection asks charset_normalizer and then checks its answer against the common legacy web
encodings by how plausible the decoded words look (one script per word, sane letter case, not
a Western word made only of accented letters): statistical detection is unreliable on the
short bodies that feeds and small pages often have.
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
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)[\"']", re.I)
_SNIFF_BYTES = 4096
# WHATWG treats these labels as windows-1252; so do browsers, so pages are written for it.
_AS_CP1252 = {"latin-1", "iso8859-1", "ascii"}
_SINGLE_BYTE_HINT = re.compile(r"^(cp|windows-|iso8859|koi8|mac|latin|ascii)")
# Legacy encodings checked against the detector's answer (the project's outlets first).
_LEGACY = ("cp1251", "koi8_r", "cp1252", "cp1250")


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


def declared_charset(data: bytes) -> str | None:
    """The charset the document declares in its first bytes (XML declaration or meta tag)."""
    head = data[:_SNIFF_BYTES]
    match = _XML_DECL.match(head) or _META_CHARSET.search(head)
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


_WORDS = re.compile(r"[^\W\d_]+")


def _script(ch: str) -> str:
    code = ord(ch)
    if code < 0x250:
        return "latin"
    if 0x370 <= code < 0x400:
        return "greek"
    if 0x400 <= code < 0x530:
        return "cyrillic"
    return "other" if code < 0x2E80 else "cjk"


def plausibility(text: str) -> float:
    """How much a decoded text looks like real words: +1 per sound word with non-ASCII letters,
    -1 per mixed-script, wrongly cased or all-accented Latin word, -0.5 per stray symbol."""
    score = 0.0
    sample = text[:100_000]
    for word in _WORDS.findall(sample):
        if word.isascii():
            continue
        scripts = {_script(ch) for ch in word if not ch.isascii()} | (
            {"latin"} if any(ch.isascii() for ch in word) else set())
        lower_upper = any(a.islower() and b.isupper() for a, b in zip(word, word[1:], strict=False))
        accented = sum(not ch.isascii() for ch in word)
        all_accented = scripts == {"latin"} and accented > 1 and accented > len(word) / 2
        score += -1 if len(scripts) > 1 or lower_upper or all_accented else 1
    symbols = sum(1 for ch in sample if ch > "\x7f" and (not ch.isalpha() or _HALFWIDTH <= ch <= "\uff9f")
                  and not ch.isspace())
    return score - 0.5 * symbols


_HALFWIDTH = "\uff61"  # halfwidth katakana: what single-byte Cyrillic looks like read as cp932


def _detect(data: bytes) -> tuple[str, str]:
    best = from_bytes(data[:200_000]).best()
    options: list[tuple[str, str]] = []
    if best is not None and best.encoding and (codec := _codec(best.encoding)):
        if (text := _try(data, codec)) is not None:
            options.append((text, codec))
    for codec in _LEGACY:
        if all(codec != c for _, c in options) and (text := _try(data, codec)) is not None:
            options.append((text, codec))
    # A multi-byte reading that swallows markup ("<" taken as a trail byte) is wrong.
    options = [o for o in options if o[0].count("<") == data.count(b"<")] or options
    if not options:
        return data.decode("cp1252", "replace"), "cp1252"
    # The detector's answer wins ties; max() keeps the first of equal scores.
    return max(options, key=lambda option: plausibility(option[0]))


def public_name(codec: str) -> str:
    """Return the web name for a Python codec (cp1251 -> windows-1251)."""
    if codec.startswith("cp125"):
        return "windows-" + codec[2:]
    return {"utf_8": "utf-8", "koi8_r": "koi8-r", "koi8_u": "koi8-u"}.get(codec, codec)


def decode_html(data: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode page, feed or sitemap bytes to (text without NUL bytes, encoding name)."""
    text, codec = _decode(data, content_type)
    return text.replace("\x00", ""), public_name(codec)


decode_bytes = decode_html  # the same decoder, named for callers that read XML


def bom_codec(data: bytes) -> str | None:
    """The codec a byte-order mark (or BOM-less UTF-16 markup: "<" and a zero byte) names."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    if data.startswith((b"<\x00", b"\x00<")):
        return "utf-16-le" if data[0] else "utf-16-be"
    return None


def _decode(data: bytes, content_type: str | None) -> tuple[str, str]:
    if codec := bom_codec(data):
        skip = next((len(bom) for bom, _ in _BOMS if data.startswith(bom)), 0)
        return data[skip:].decode(codec, "replace"), codec[:6] if codec.startswith("utf-") else codec
    is_ascii = data.isascii()
    utf8 = None if is_ascii else _try(data, "utf-8")
    mixed = not is_ascii and utf8 is None and _mostly_utf8(data)
    for declared in (charset_from_content_type(content_type), declared_charset(data)):
        if declared is None or declared.replace("_", "-").startswith(("utf-16", "utf-32")):
            continue  # a wide charset without a BOM or zero bytes is a lie about these bytes
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
