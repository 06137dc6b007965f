"""URL cleaning, identity normalisation and host helpers for deduplicating articles."""

from __future__ import annotations

import hashlib
import ipaddress
import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

# Parameters that only identify the click/campaign, never the document.  'ref' and 'from'
# are deliberately absent: some CMSs use them to select content.
TRACKING_PARAMS: frozenset[str] = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "ysclid",
    "twclid", "ttclid", "li_fat_id", "igshid", "igsh", "mc_cid", "mc_eid", "_ga", "_gl",
    "_hsenc", "_hsmi", "hsctatracking", "mkt_tok", "vero_id", "vero_conv", "oly_anon_id",
    "oly_enc_id", "rb_clickid", "s_cid", "ref_src", "ref_url", "maca", "ocid", "ncid",
    "cmpid", "wt.mc_id", "xtor", "smid", "spm",
})
TRACKING_PREFIXES: tuple[str, ...] = ("utm_", "at_", "pk_", "mtm_", "hsa_", "itm_", "ga_")

_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_PATH_SAFE = frozenset("/:@!$&'()*+,;=")
_QUERY_SAFE = frozenset("/:@!$'()*+,;?")
_ESCAPE_TOKEN = re.compile(r"%[0-9A-Fa-f]{2}|.", re.DOTALL)


def _is_tracking(name: str) -> bool:
    """True if a query parameter name is a known tracker."""
    low = unquote(name).lower()
    return low in TRACKING_PARAMS or low.startswith(TRACKING_PREFIXES)


def _netloc(scheme: str, netloc: str) -> str:
    """Lowercase the host and drop the scheme's default port, keeping any userinfo."""
    userinfo, _, hostport = netloc.rpartition("@")
    if hostport.startswith("["):
        host, _, rest = hostport.partition("]")
        host += "]"
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = hostport.partition(":")
    host = host.lower()
    if port and port.isdigit() and int(port) == _DEFAULT_PORTS.get(scheme):
        port = ""
    out = f"{host}:{port}" if port else host
    return f"{userinfo}@{out}" if userinfo else out


def clean_url(url: str) -> str:
    """Drop tracking parameters and the fragment; lowercase scheme/host; drop default ports."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return urlunsplit(parts._replace(fragment="")) if parts.scheme else url
    # Split by hand so surviving parameters keep their exact original encoding and order.
    kept = [p for p in parts.query.split("&") if p and not _is_tracking(p.partition("=")[0])]
    return urlunsplit((scheme, _netloc(scheme, parts.netloc), parts.path, "&".join(kept), ""))


def _canon_escapes(text: str, safe: frozenset[str]) -> str:
    """Percent-encode uniformly: unreserved chars literal, everything else %XX uppercase."""
    out = []
    for tok in _ESCAPE_TOKEN.findall(text):
        if len(tok) == 3:
            char = chr(int(tok[1:], 16))
            out.append(char if char in _UNRESERVED else tok.upper())
        elif tok in _UNRESERVED or tok in safe:
            out.append(tok)
        else:
            out.append(quote(tok, safe=""))
    return "".join(out)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, so /a/./b/../c and /a/c compare equal."""
    if "." not in path:
        return path
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/".join(out)


def normalize_url(url: str) -> str:
    """Identity form: scheme-less, no 'www.', no trailing slash, sorted canonical query."""
    cleaned = clean_url(url)
    try:
        parts = urlsplit(cleaned)
    except ValueError:
        return cleaned
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        return cleaned
    path = _remove_dot_segments(_canon_escapes(parts.path, _PATH_SAFE)) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    params = sorted(
        "=".join(_canon_escapes(side, _QUERY_SAFE) for side in p.split("=", 1))
        for p in parts.query.split("&")
        if p
    )
    query = "&".join(params)
    return "//" + host_key(cleaned) + path + ("?" + query if query else "")


def article_id(url: str) -> str:
    """Stable 16-hex-char id shared by all spellings of the same article URL."""
    return hashlib.sha1(normalize_url(url).encode("utf-8")).hexdigest()[:16]


def host_key(url: str) -> str:
    """Lowercase host[:port] without 'www.' (default ports dropped); '' if there is none."""
    url = url.strip()
    if "//" not in url:
        url = "//" + url
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return ""
    host = host.rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        return f"{host}:{port}"
    return host


def is_http_url(url: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def is_loopback(url: str) -> bool:
    """True when the URL's host is localhost, 127.0.0.0/8 or ::1."""
    try:
        host = (urlsplit(url.strip() if "//" in url else "//" + url.strip()).hostname or "")
    except ValueError:
        return False
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_loopback
    return addr.is_loopback


_PATH_PAGE = re.compile(r"/(?:page/(\d+)|page-(\d+)|(\d+))", re.I)
# A bare trailing number is only a page when small: /news/250976/ is an article id and
# /news/2021/ a year archive, while real listings rarely run past a few hundred pages.
_MAX_BARE_PAGE = 999
_QUERY_PAGE = re.compile(r"page|paged|pg|pagen_\d+", re.I)


def _split_norm(url: str) -> tuple[str, str, list[tuple[str, str]]]:
    """(host, path, query pairs) of the identity form, for like-for-like comparisons."""
    parts = urlsplit("http:" + normalize_url(url))
    return host_key(url), parts.path.rstrip("/"), parse_qsl(parts.query, keep_blank_values=True)


def is_section_page(url: str, section_url: str) -> bool:
    """True if `url` looks like page N of the section listing (same host, path and filters)."""
    host, path, query = _split_norm(url)
    sec_host, sec_path, sec_query = _split_norm(section_url)
    if host != sec_host:
        return False
    sec_keys = {k for k, _ in sec_query}
    # WordPress serves articles as ?p=ID, so ?p= only paginates sections already built on it.
    page_keys = {
        k for k, v in query
        if v.isdigit() and (_QUERY_PAGE.fullmatch(k) or (k == "p" and "p" in sec_keys))
    }
    others = [(k, v) for k, v in query if k not in page_keys]
    filters = [(k, v) for k, v in sec_query if k not in page_keys]
    if not all(pair in others for pair in filters):
        return False
    if path == sec_path:
        return bool(page_keys)
    if not path.startswith(sec_path + "/"):
        return False
    m = _PATH_PAGE.fullmatch(path[len(sec_path):])
    if not m:
        return False
    return m.group(3) is None or int(m.group(3)) <= _MAX_BARE_PAGE
