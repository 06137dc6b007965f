"""EXTRACTOR_VERSION must change whenever extraction output changes.

The archive stamps every article with the extractor version, and re-extraction redoes only
rows stamped with an older one; an output change under an unchanged version would leave stale
rows that look current. tests/data/extractor_digests.json records, per version, a digest of
what extract_article returns on each recorded page (tests/pages). When this test fails:
bump ``EXTRACTOR_VERSION`` in extract/options.py if the output change is intended, then record
the digests with ``.venv/bin/python tests/test_extract_version.py --record``. A new recorded
page needs only ``--record`` (no bump); ``--record`` refuses to change a recorded digest under
the same version.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract import EXTRACTOR_VERSION, extract_article  # noqa: E402

pytestmark = pytest.mark.unit

PAGES = ROOT / "tests" / "pages"
DIGESTS = ROOT / "tests" / "data" / "extractor_digests.json"
# Everything extract_article decides; the crawl time only enters through first_seen hints.
FIELDS = ("status", "title", "page_title", "author", "authors", "date", "date_source", "modified",
          "lang", "sitename", "description", "canonical_url", "license", "fingerprint", "access",
          "encoding", "categories", "tags", "reason")
FIRST_SEEN = "2026-01-01T00:00:00+00:00"  # fixed, so that "today" never moves a date


def outputs() -> dict[str, dict[str, Any]]:
    """What extract_article returns on each recorded page (a fixed crawl time)."""
    out = {}
    for case in sorted(p for p in PAGES.iterdir() if (p / "expected.json").exists()):
        expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
        hints = dict(expected.get("hints") or {}, first_seen=FIRST_SEEN)
        if expected.get("content_type"):
            hints["content_type"] = expected["content_type"]
        result = extract_article((case / "input.html").read_bytes(), expected.get("url"), **hints)
        row = {name: getattr(result, name) for name in FIELDS}
        row["date_candidates"] = sorted([c.kind, c.value, c.source] for c in result.date_candidates)
        out[case.name] = row
    return out


def digest(row: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of one page's output."""
    blob = json.dumps(row, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def current() -> dict[str, str]:
    """Page name -> digest of its output now."""
    return {name: digest(row) for name, row in outputs().items()}


def recorded() -> dict[str, dict[str, str]]:
    """Version -> page name -> digest, as checked in."""
    return json.loads(DIGESTS.read_text(encoding="utf-8")) if DIGESTS.exists() else {}


def test_output_change_needs_a_new_extractor_version() -> None:
    known = recorded().get(EXTRACTOR_VERSION, {})
    now = current()
    changed = sorted(name for name, sha in now.items() if name in known and known[name] != sha)
    assert not changed, (
        f"extraction output changed on {changed} but EXTRACTOR_VERSION is still "
        f"{EXTRACTOR_VERSION!r}: bump it in extract/options.py, then run "
        "`.venv/bin/python tests/test_extract_version.py --record`")
    missing = sorted(set(now) - set(known))
    assert not missing, (f"no digest recorded for {missing} under {EXTRACTOR_VERSION!r}: run "
                         "`.venv/bin/python tests/test_extract_version.py --record`")


def test_digest_sees_a_one_field_change() -> None:
    rows = outputs()
    name = next(iter(rows))
    assert digest({**rows[name], "title": (rows[name]["title"] or "") + "!"}) != digest(rows[name])
    assert digest({**rows[name], "authors": [*rows[name]["authors"], "X"]}) != digest(rows[name])


def record() -> int:
    """Add this version's digests for pages not yet recorded; never rewrite a recorded one."""
    data = recorded()
    known = data.setdefault(EXTRACTOR_VERSION, {})
    now = current()
    changed = sorted(n for n, sha in now.items() if n in known and known[n] != sha)
    if changed:
        print(f"output changed on {changed}: bump EXTRACTOR_VERSION first", file=sys.stderr)
        return 1
    known.update(now)
    DIGESTS.parent.mkdir(parents=True, exist_ok=True)
    DIGESTS.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                       encoding="utf-8")
    print(f"recorded {len(now)} pages under {EXTRACTOR_VERSION!r}")
    return 0


if __name__ == "__main__":
    sys.exit(record() if "--record" in sys.argv else print(json.dumps(current(), indent=1)))
