"""The outlets' names for the framing pages: their templates get `outlet_names` (id -> name).

The framing queries group by `source_id`, and a researcher comparing coverage reads
"Yerevan Dispatch", not "armnews"; the pages show the name with the id in its tooltip.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from datasette import hookimpl


@hookimpl
def extra_template_vars(template: str, datasette: Any
                        ) -> Callable[[], Awaitable[dict[str, Any]]] | dict[str, Any]:
    """`outlet_names` for the framing_*.html templates (one small read of `sources`)."""
    if not str(template).startswith("framing_"):
        return {}

    async def names() -> dict[str, Any]:
        db = datasette.get_database()
        if not await db.table_exists("sources"):
            return {"outlet_names": {}}
        rows = await db.execute("select id, name from sources")
        return {"outlet_names": {r[0]: r[1] for r in rows}}

    return names
