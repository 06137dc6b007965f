"""Datasette plugin: the published archive answers only GET and HEAD.

Datasette 0.65 has no write API, but POSTs still reach its views (and canned queries could
be made writable by a metadata change); refusing every other method at the ASGI edge keeps
the archive read-only whatever the metadata says.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl

ALLOWED = {"GET", "HEAD"}


@hookimpl
def asgi_wrapper(datasette: Any) -> Any:
    """Wrap the app so that only GET and HEAD reach Datasette."""

    def wrap(app: Any) -> Any:
        async def read_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope.get("method", "GET") not in ALLOWED:
                await send({
                    "type": "http.response.start",
                    "status": 405,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"allow", b"GET, HEAD")],
                })
                await send({"type": "http.response.body",
                            "body": b"This archive is read-only.\n"})
                return
            await app(scope, receive, send)

        return read_only

    return wrap
