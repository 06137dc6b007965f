"""Datasette plugin: a client error is one access-log line, not a page of traceback.

Datasette 0.65 prints every exception it turns into an error page with rich's traceback and
the frames' local variables whenever rich can be imported (it can: the CLI's tables use it),
404s included, so each probe of a public archive by a scanner (/wp-login.php, /.env, ...)
wrote about a hundred lines to the server's log. Its default handler awaits every plugin's
answer too, so a plugin cannot answer instead of it: the handler's module is told that rich
is absent. Client errors (404, 403, 400) are then logged by the access log alone, and a
server error keeps a plain traceback (Datasette prints one for anything that is not a client
error), without the local variables.
"""

from __future__ import annotations

from typing import Any

from datasette import hookimpl


@hookimpl
def startup(datasette: Any) -> None:
    """Turn off Datasette's rich traceback printing (its handle_exception module's `rich`)."""
    import datasette.handle_exception as handler

    handler.rich = None
