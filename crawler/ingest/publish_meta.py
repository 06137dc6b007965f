"""The public build's own Datasette metadata: the archive's, plus what the build withholds."""

from __future__ import annotations

import html
import sqlite3
from pathlib import Path
from typing import Any

import yaml

METADATA = Path(__file__).resolve().parents[2] / "datasette" / "metadata.yaml"


def public_statement(db: Path) -> str | None:
    """The statement a public build records about what it withholds (None: not public)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT value FROM public_build WHERE key = 'statement'").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()
    return row[0] if row else None


def metadata_for(db: Path, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The archive's metadata with the public build's statement on its front page and on
    its database page (`databases.<file stem>`)."""
    data: dict[str, Any] = dict(base if base is not None else
                                yaml.safe_load(METADATA.read_text(encoding="utf-8")) or {})
    said = public_statement(db)
    if not said:
        return data
    note = f'<p class="mw-withheld"><strong>What this public build withholds.</strong> ' \
           f"{html.escape(said)}</p>"
    data["description_html"] = (data.get("description_html") or "") + "\n" + note
    databases = dict(data.get("databases") or {})
    entry = dict(databases.get("archive") or {})
    entry["description_html"] = note
    entry.pop("description", None)
    databases[db.stem] = entry
    data["databases"] = databases
    return data


def write_metadata(db: Path) -> Path | None:
    """Write `<db>.metadata.yaml` beside a public build (serve it with --metadata)."""
    if not public_statement(db):
        return None
    out = db.with_name(db.stem + ".metadata.yaml")
    out.write_text(yaml.safe_dump(metadata_for(db), allow_unicode=True, sort_keys=False),
                   encoding="utf-8")
    return out
