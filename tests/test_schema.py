"""The schema folder: self-contained migrations, and a committed snapshot that cannot drift."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from mediawatch_schema.snapshot import dump, fresh_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "schema"

pytestmark = pytest.mark.unit

# A migration run that cannot see the project: any import of it (or of a crawl dependency)
# fails, as it would in a virtualenv that has only sqlite-utils installed.
_ISOLATED = """
import importlib.abc, sys
BLOCKED = {"crawler", "extract", "demoweb", "mediawatch_schema", "scrapy", "trafilatura"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Block())
sys.path[:] = [p for p in sys.path if p.rstrip("/") != sys.argv[3]]
from sqlite_utils.cli import cli
cli(["migrate", sys.argv[1], sys.argv[2]])
"""


@pytest.mark.parametrize("module", ["migrations.py", "snapshot.py"])
def test_schema_modules_import_only_the_standard_library_and_sqlite_utils(module: str) -> None:
    tree = ast.parse((SCHEMA / module).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module.split(".")[0])
    foreign = {m for m in imported if m not in sys.stdlib_module_names} - {"sqlite_utils"}
    assert not foreign, f"schema/{module} imports {sorted(foreign)}: migrations must be " \
                        "self-contained (standard library and sqlite_utils only)"


def test_sqlite_utils_migrate_runs_without_the_project(tmp_path: Path) -> None:
    db = tmp_path / "fresh.db"
    done = subprocess.run([sys.executable, "-c", _ISOLATED, str(db),
                           str(SCHEMA / "migrations.py"), str(ROOT)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import sqlite3

    conn = sqlite3.connect(db)
    assert dump(conn) == fresh_schema()  # the same schema as the archive's own migrate
    conn.close()


def test_committed_schema_snapshot_is_current() -> None:
    committed = (SCHEMA / "schema.sql").read_text(encoding="utf-8")
    assert committed == fresh_schema(), \
        "schema/schema.sql is stale: run `make schema` and commit the result"
