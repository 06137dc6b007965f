"""HTTP layer: one ThreadingHTTPServer per outlet on its own loopback IP, plus FixtureWeb."""

from __future__ import annotations

import gzip
import hashlib
import socket
import struct
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from demoweb.inventory import ExpectedArticle, Hazard, expected_articles, hazards
from demoweb.model import SITES_DIR, load_outlets, load_web_conf
from demoweb.routes import Response, Site


@dataclass(frozen=True)
class RequestRecord:
    """One request as the fixture web saw it (for politeness and conditional-GET tests)."""

    outlet: str
    method: str
    host: str
    path: str
    headers: dict[str, str]
    status: int
    time: float
    peer: str = ""  # the client's address:port: one per TCP connection (keep-alive tests)


def etag_for(body: bytes) -> str:
    """Strong ETag from the identity body; the gzip variant gets a `-gzip` suffix."""
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def http_date(dt: datetime) -> str:
    """IMF-fixdate (always GMT) for Last-Modified."""
    return format_datetime(dt.astimezone(UTC), usegmt=True)


def not_modified(req: dict[str, str], etag: str, last_modified: datetime | None) -> bool:
    """RFC 9110: If-None-Match wins over If-Modified-Since."""
    inm = req.get("if-none-match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/").replace("-gzip", "") for t in inm.split(",")}
        return "*" in tags or etag in tags
    ims = req.get("if-modified-since")
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            return False
        return last_modified.replace(microsecond=0) <= since
    return False


class KeepAliveHandler(BaseHTTPRequestHandler):
    """HTTP/1.1 keep-alive with TCP_NODELAY, as nginx serves (the fixture and bench webs)."""

    protocol_version = "HTTP/1.1"  # keep-alive, like real servers; we always send a length
    server_version = "nginx"
    sys_version = ""

    def setup(self) -> None:
        """TCP_NODELAY: on a kept-alive connection Nagle would otherwise hold each body until
        the client's delayed ACK of the headers (40 ms a response)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Handler(KeepAliveHandler):
    """Looks up the outlet's route, then applies conditional GET, gzip and behaviours."""

    timeout = 30
    server: _OutletServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence stderr logging; the request log is web.requests."""

    def do_GET(self) -> None:
        """Serve GET."""
        self._serve(head=False)

    def do_HEAD(self) -> None:
        """Serve HEAD (same headers, no body)."""
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        """Respond to one request and record it in the web's request log."""
        web, site = self.server.web, self.server.site
        req = {k.lower(): v for k, v in self.headers.items()}
        try:
            resp = site.respond(self.path, web.epoch, web.base_urls)
        except Exception:  # a data bug should show up as a 500, not a hung client
            traceback.print_exc()
            resp = Response(500, b"fixture error\n", "text/plain; charset=utf-8")
        web._record(
            site.outlet.id,
            self.command,
            req.get("host", ""),
            self.path,
            dict(self.headers.items()),
            self._final_status(resp, req),
            f"{self.client_address[0]}:{self.client_address[1]}",
        )
        if resp.behaviour == "reset":
            if resp.params.get("after_bytes"):
                self._send_partial(resp, int(resp.params["after_bytes"]))
            self._reset()
            return
        if resp.stream is not None:
            self._send_stream(resp, head)
            return
        self._send(resp, req, head)

    def _final_status(self, resp: Response, req: dict[str, str]) -> int:
        """Status actually sent, i.e. 304 when the conditional headers match."""
        if resp.stream is not None:
            return resp.status
        if resp.status == 200 and not_modified(req, etag_for(resp.body), resp.last_modified):
            return 304
        return resp.status

    def _send(self, resp: Response, req: dict[str, str], head: bool) -> None:
        """Status line, headers (validators, encoding) and body, honouring conditionals."""
        body, etag = resp.body, etag_for(resp.body)
        headers = list(resp.headers)
        if resp.status == 200:
            if resp.last_modified is not None:
                headers.append(("Last-Modified", http_date(resp.last_modified)))
            if not_modified(req, etag, resp.last_modified):
                self.send_response(304)
                for k, v in [("ETag", etag), *headers]:
                    self.send_header(k, v)
                self.end_headers()
                return
            if resp.compressible:
                headers.append(("Vary", "Accept-Encoding"))
                if "gzip" in req.get("accept-encoding", "") and body:
                    body = gzip.compress(body, mtime=0)
                    etag = etag[:-1] + '-gzip"'  # distinct validator per representation
                    headers.append(("Content-Encoding", "gzip"))
            headers.append(("ETag", etag))
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        if resp.behaviour == "slow":
            self._drip(body, int(resp.params["chunk"]), float(resp.params["delay"]))
        else:
            self.wfile.write(body)

    def _drip(self, body: bytes, chunk: int, delay: float) -> None:
        """Trickle the body so read timeouts and throttling can be exercised."""
        try:
            for i in range(0, len(body), chunk):
                self.wfile.write(body[i : i + chunk])
                self.wfile.flush()
                time.sleep(delay)
        except OSError:  # the client gave up waiting: that is the point
            self.close_connection = True

    def _send_stream(self, resp: Response, head: bool) -> None:
        """A generated body, block by block; chunked when its length is not declared."""
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        chunked = resp.length is None
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(resp.length))
        for k, v in resp.headers:
            self.send_header(k, v)
        self.end_headers()
        if head or resp.stream is None:
            return
        try:
            for block in resp.stream:
                if chunked:
                    block = b"%x\r\n%s\r\n" % (len(block), block) if block else b""
                self.wfile.write(block)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
        except OSError:  # a client with a size cap hangs up mid-body
            self.close_connection = True

    def _send_partial(self, resp: Response, after: int) -> None:
        """Headers promising the whole body, then only its first `after` bytes."""
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            self.wfile.write(resp.body[:after])
            self.wfile.flush()
            time.sleep(0.05)  # let the partial body leave before the RST overtakes it
        except OSError:
            pass

    def _reset(self) -> None:
        """SO_LINGER 0 makes close() send RST: the client sees 'connection reset by peer'."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()


class _OutletServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its outlet and the owning FixtureWeb."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr: tuple[str, int], web: FixtureWeb, site: Site) -> None:
        self.web, self.site = web, site
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients hanging up (timeouts, size caps, resets) are expected, not worth a traceback."""
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class FixtureWeb:
    """The whole fictional web: start(), base_urls, requests, set_epoch(), stop()."""

    def __init__(
        self,
        hosts_base: str = "127.0.0.",
        first_host: int = 2,
        sites_dir: Path = SITES_DIR,
    ) -> None:
        self.sites = {o.id: Site(o) for o in load_outlets(sites_dir)}
        self.conf = load_web_conf(sites_dir)
        self.external_hosts: frozenset[str] = frozenset(self.conf["external_hosts"])
        self.hosts_base, self.first_host = hosts_base, first_host
        self.base_urls: dict[str, str] = {}
        self.requests: list[RequestRecord] = []
        self.epoch = 0
        self._lock = threading.Lock()
        self._servers: list[_OutletServer] = []
        self._threads: list[threading.Thread] = []

    def start(self) -> FixtureWeb:
        """Bind every outlet to its own loopback IP on a free port and serve in daemon threads."""
        if self._servers:
            return self
        for i, (oid, site) in enumerate(self.sites.items()):
            server = _OutletServer((f"{self.hosts_base}{self.first_host + i}", 0), self, site)
            host, port = server.server_address[:2]
            self.base_urls[oid] = f"http://{host!s}:{port}"
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"demoweb-{oid}",
                daemon=True,
            )
            thread.start()
            self._servers.append(server)
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Stop accepting, close sockets and join the serving threads."""
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers, self._threads = [], []

    def __enter__(self) -> FixtureWeb:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def set_epoch(self, n: int) -> None:
        """Switch every outlet to epoch n of its content (0 = original)."""
        self.epoch = int(n)

    def _record(
        self, outlet: str, method: str, host: str, path: str, headers: dict[str, str], status: int,
        peer: str = "",
    ) -> None:
        rec = RequestRecord(outlet, method, host, path, headers, status, time.time(), peer)
        with self._lock:
            self.requests.append(rec)

    def clear_requests(self) -> None:
        """Forget every recorded request (in place, so held references see it too)."""
        with self._lock:
            del self.requests[:]

    def url(self, outlet: str, path: str) -> str:
        """Absolute URL of a path on an outlet (after start())."""
        return self.base_urls[outlet] + path

    def write_sources(self, path: str | Path, include_hazards: bool = False) -> Path:
        """Write a sources.toml describing the running outlets; returns the path.

        Hostile outlets (`hostile = true` in site.toml, i.e. `hazards`) are served but only
        listed in the registry with `include_hazards=True`.
        """
        from demoweb.sources import sources_toml

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(sources_toml(self, include_hazards), encoding="utf-8")
        return target

    def expected_articles(
        self, epoch: int | None = None, include_hazards: bool = False
    ) -> list[ExpectedArticle]:
        """Ground truth for e2e tests: every article with its URL, language, topic and status."""
        return expected_articles(self, epoch, include_hazards)

    def is_hostile(self, outlet: str) -> bool:
        """True for outlets left out of the default registry (the `hazards` outlet)."""
        return bool(self.sites[outlet].outlet.conf.get("hostile", False))

    def hazards(self) -> list[Hazard]:
        """Planted traps (robots-disallowed links, 404/500, redirects ...) with absolute URLs."""
        return hazards(self)
