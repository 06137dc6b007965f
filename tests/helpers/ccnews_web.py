"""A loopback imitation of Common Crawl's CC-NEWS layout, built at test time from recorded pages.

`crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz` lists each month's WARC files; each file holds
a warcinfo record, records of many hosts that are not in the test registry, and a few of
its outlets (en/ru/hy recorded pages from tests/pages under their original URLs), plus the
awkward cases: request records, a non-HTML response, a record the crawler truncated
(WARC-Truncated), a torn last record, one file that answers 503 once, one whose connection
breaks mid-file once (resumed with Range), and one that stalls mid-file once (to kill a
backfill there). Every request is logged.
"""

from __future__ import annotations

import gzip
import io
import random
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

PAGES = Path(__file__).resolve().parents[1] / "pages"

REGISTRY = '''[topic]
id = "t"
name = "T"
require = [["Armenia*", "Россия*", "Russia*", "Հայաստան*", "Путин*"]]

[[source]]
id = "tert"
name = "Tert"
homepage = "https://www.tert.am/"
language = "hy"
country = "AM"
kind = "independent"

[[source]]
id = "tass"
name = "TASS"
homepage = "https://tass.ru/"
language = "ru"
country = "RU"
kind = "state agency"

[[source]]
id = "mk"
name = "MK"
homepage = "https://www.mk.ru/"
language = "ru"
country = "RU"
kind = "private"
aliases = ["https://oren.mk.ru/"]

[[source]]
id = "sputnik"
name = "Sputnik"
homepage = "https://sputniknews.com/"
language = "en"
country = "RU"
kind = "state agency"
'''


def page(case: str) -> bytes:
    """A recorded page's HTML."""
    return (PAGES / case / "input.html").read_bytes()


# Registry records: (month index, file index, URL, recorded page, published month).
OUTLET_RECORDS = [
    (0, 0, "https://www.tert.am/am/news/2021/11/05/inflation/3721571", "hy-tert-3721571"),
    (0, 1, "https://www.tert.am/am/news/2021/11/09/news/3723791", "hy-tert-3723791"),
    (0, 1, "https://tass.ru/moskva/8836033", "ru-tass-8836033"),
    (0, 1, "https://www.mk.ru/politics/2020/09/23/prichinoy-taynoy-inauguracii-lukashenko-"
           "stal-styd.html", "ru-mk-1719330438"),
    (0, 2, "https://tert.am/am/news/2021/11/10/Sfss/3724023", "hy-tert-3724023"),
    (1, 0, "https://oren.mk.ru/social/2020/02/18/orenburgskim-chinovnikam-kupyat-eshhe-pyat-"
           "avtomobiley.html", "ru-oren-mk-1523821409"),
    (1, 0, "https://sputniknews.com/radio_the_critical_hour/202004281079127690-some-us-states-"
           "begin-lifting-lockdowns-vp-pence-defiantly-tours-clinic-unmasked/",
     "en-sputnik-lockdowns"),
    (1, 1, "https://www.tert.am/am/news/2021/11/10/germany/3724239", "hy-tert-3724239-prune-hint"),
    (1, 2, "https://www.mk.ru/social/2020/12/29/prisyazhnye-opravdali-muzhchinu.html",
     "ru-mk-1810559448"),
]
TRUNCATED_BY_CRAWLER = "https://www.mk.ru/social/2020/12/29/prisyazhnye-opravdali-muzhchinu.html"
NOT_ARTICLE = "https://www.mk.ru/blogs/"  # a front page on an outlet host: a capture, no article
IMAGE = "https://www.tert.am/static/logo.png"
TORN = "https://www.tert.am/am/news/2021/12/01/torn/3799999"  # cut off at the end of a file
# Pages of hosts outside the registry (some are subdomains of outlets' hosts: not theirs).
OTHER_CASES = ["en-newsaz-counteroffensive", "en-foxnews-ctbt", "en-urdupoint-mishustin",
               "hy-a1plus-378866", "hy-newsam-615163", "hy-panarmenian-250976",
               "ru-aif-terakt", "ru-inform-kz-a3725092", "ru-rzn-mk-1493663910",
               "uk-24tv-1419177", "uk-zaxid-1503302", "ru-unn-1906059"]
MONTHS = ["2021-11", "2021-12"]
FILES_PER_MONTH = 3
OTHERS_PER_FILE = 14


def _response(writer: WARCWriter, url: str, body: bytes, date: str,
              content_type: str = "text/html; charset=utf-8",
              extra: dict[str, str] | None = None) -> Any:
    http = StatusAndHeaders("200 OK", [("Content-Type", content_type),
                                       ("X-Crawler-Content-Length", str(len(body)))],
                            protocol="HTTP/1.1")
    headers = {"WARC-Date": date, **(extra or {})}
    return writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                     length=len(body), http_headers=http,
                                     warc_headers_dict=headers)


def build_file(month: int, index: int) -> tuple[bytes, list[str]]:
    """One CC-NEWS-like WARC file (gzip per record) and the outlet URLs it holds whole."""
    rnd = random.Random(month * 10 + index)
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    ym = MONTHS[month]
    writer.write_record(writer.create_warcinfo_record(
        f"CC-NEWS-{ym}-{index}.warc.gz", {"software": "mediawatch test", "operator": "tests"}))
    ours = [(u, c) for m, f, u, c in OUTLET_RECORDS if (m, f) == (month, index)]
    entries: list[tuple[str, bytes, str, dict[str, str]]] = []
    for i in range(OTHERS_PER_FILE):
        case = OTHER_CASES[rnd.randrange(len(OTHER_CASES))]
        host = "rzn.mk.ru" if case == "ru-rzn-mk-1493663910" else f"news{rnd.randrange(90)}.example"
        entries.append((f"https://{host}/a/{month}{index}{i}", page(case), "text/html", {}))
    for slot, (url, case) in enumerate(ours):
        extra = {"WARC-Truncated": "length"} if url == TRUNCATED_BY_CRAWLER else {}
        entries.insert(3 + slot * 5, (url, page(case), "text/html; charset=utf-8", extra))
    if (month, index) == (0, 2):
        entries.insert(2, (IMAGE, b"\x89PNG\r\n\x1a\n" + bytes(300), "image/png", {}))
        entries.insert(6, (NOT_ARTICLE, page("ru-livejournal-front-not-article"),
                           "text/html", {}))
    for n, (url, body, ctype, extra) in enumerate(entries):
        # Crawled after publication: late in the month (the in-window pages are of 2021-11-10).
        date = f"{ym}-{20 + index * 3 + n // 15:02d}T{n % 24:02d}:15:00Z"
        record = _response(writer, url, body, date, ctype, extra)
        writer.write_record(record)
        if n % 4 == 0:  # CC-NEWS-like request records (not responses: never stored)
            writer.write_record(writer.create_warc_record(
                url, "request", payload=io.BytesIO(b""), length=0,
                http_headers=StatusAndHeaders(f"GET /{n} HTTP/1.1", [("Host", "x")],
                                              is_http_request=True),
                warc_headers_dict={"WARC-Date": date}))
    data = out.getvalue()
    if (month, index) == (1, 2):
        torn = io.BytesIO()
        WARCWriter(torn, gzip=True).write_record(
            _response(WARCWriter(torn, gzip=True), TORN, page("hy-a1plus-378866"),
                      f"{ym}-28T00:00:00Z"))
        data += torn.getvalue()[:-2000]  # the download of the last record was cut off
    return data, [u for u, _ in ours]


def file_path(month: int, index: int) -> str:
    """The path of one WARC file under the base URL, as the listing names it."""
    y, m = MONTHS[month].split("-")
    return f"crawl-data/CC-NEWS/{y}/{m}/CC-NEWS-{y}{m}{index + 1:02d}000000-{index:05d}.warc.gz"


@dataclass
class Behaviour:
    """Server-side trouble, each at most once."""

    fail_once: set[str] = field(default_factory=set)  # answer 503 the first time
    cut_once: dict[str, int] = field(default_factory=dict)  # close after N bytes the first time
    stall_once: dict[str, int] = field(default_factory=dict)  # pause after N bytes the first time
    stall_release: threading.Event = field(default_factory=threading.Event)
    stalled: threading.Event = field(default_factory=threading.Event)


class CCNewsWeb:
    """The served files and the request log (a context manager)."""

    def __init__(self, host: str = "127.0.0.9", behaviour: Behaviour | None = None) -> None:
        self.files: dict[str, bytes] = {}
        self.outlet_urls: list[str] = []
        for month in range(len(MONTHS)):
            paths = []
            for index in range(FILES_PER_MONTH):
                data, urls = build_file(month, index)
                self.files[file_path(month, index)] = data
                self.outlet_urls += urls
                paths.append(file_path(month, index))
            y, m = MONTHS[month].split("-")
            self.files[f"crawl-data/CC-NEWS/{y}/{m}/warc.paths.gz"] = gzip.compress(
                ("\n".join(paths) + "\n").encode())
        self.behaviour = behaviour or Behaviour()
        self.log: list[dict[str, str]] = []
        self.lock = threading.Lock()
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                web.serve(self)

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://{host}:{self.server.server_address[1]}/"

    def __enter__(self) -> CCNewsWeb:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.behaviour.stall_release.set()
        self.server.shutdown()
        self.server.server_close()

    def requests(self, path_part: str = "") -> list[dict[str, str]]:
        """Logged requests whose path contains path_part."""
        with self.lock:
            return [r for r in self.log if path_part in r["path"]]

    def serve(self, handler: BaseHTTPRequestHandler) -> None:
        """One GET: the file (or its Range), with the configured trouble."""
        path = handler.path.lstrip("/")
        b = self.behaviour
        with self.lock:
            self.log.append({"path": path, "range": handler.headers.get("Range", ""),
                             "agent": handler.headers.get("User-Agent", ""),
                             "client": handler.client_address[0]})
            fail = path in b.fail_once
            b.fail_once.discard(path)
            cut = b.cut_once.pop(path, None)
            stall = b.stall_once.pop(path, None)
        data = self.files.get(path)
        if data is None:
            handler.send_error(404)
            return
        if fail:
            handler.send_response(503)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        start = 0
        wanted = handler.headers.get("Range", "")
        if wanted.startswith("bytes=") and wanted.endswith("-"):
            start = int(wanted[6:-1])
            handler.send_response(206)
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            handler.send_response(200)
        handler.send_header("Content-Length", str(len(data) - start))
        handler.end_headers()
        body = data[start:]
        try:
            if cut is not None:
                handler.wfile.write(body[:cut])
                handler.wfile.flush()
                handler.close_connection = True
                return
            if stall is not None:
                handler.wfile.write(body[:stall])
                handler.wfile.flush()
                b.stalled.set()
                b.stall_release.wait(120)
                body = body[stall:]
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class TrapProxy:
    """An HTTP proxy on loopback that answers 502 and logs whatever reaches it: pointed to
    by http(s)_proxy, it records any request that would leave loopback."""

    def __init__(self) -> None:
        self.log: list[str] = []
        trap = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                trap.log.append(f"{self.command} {self.path}")
                self.send_error(502)

            do_GET = do_CONNECT = do_POST = do_HEAD = _any  # noqa: N815

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> TrapProxy:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
