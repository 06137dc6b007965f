"""Datasette plugin: a public build says on its front page what it withholds.

`mediawatch publish --public` records the statement in the build (`public_build`) and
writes `<build>.metadata.yaml`. Served with the archive's general metadata instead (as
`mediawatch serve` does), the statement is added to the front-page description at startup,
so a public build never appears without it.
"""

from __future__ import annotations

import html
from typing import Any

from datasette import hookimpl


@hookimpl
def startup(datasette: Any) -> Any:
    """Append each public build's statement to the front-page description."""

    async def inner() -> None:
        for name, db in datasette.databases.items():
            if name.startswith("_") or "public_build" not in await db.table_names():
                continue
            row = (await db.execute(
                "SELECT value FROM public_build WHERE key = 'statement'")).first()
            if not row:
                continue
            note = (f'<p class="mw-withheld"><strong>What this public build withholds.'
                    f"</strong> {html.escape(row[0])}</p>")
            meta = datasette._metadata_local  # no public setter in Datasette 0.65
            description = meta.get("description_html") or ""
            if note not in description:
                meta["description_html"] = description + "\n" + note

    return inner
