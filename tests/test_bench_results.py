"""`bench/run.py --only`: a partial run replaces only its own parts in latest.md."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import load_bench

pytestmark = pytest.mark.unit

OLD = """# mediawatch bench, 2026-12-05 23:01 UTC

- machine: vm: 2 cores
- at start: load average 0.93 (1 min), 0.97 (5 min)

## extraction

`bench/extraction.py`, exit 0

```text
## Body text (990 pages)
  extract_article        F1 0.9260
```

## stories_scale

`bench/stories_scale.py`, exit 0

```text
first story build: 2.62 s
```
"""

NEW = """# mediawatch bench, 2026-12-06 03:00 UTC

- machine: vm: 2 cores

## stories_scale

`bench/stories_scale.py`, exit 0

```text
## a line of the part's own output
first story build: 2.10 s
```
"""


def test_a_partial_run_replaces_only_its_parts() -> None:
    run = load_bench("run")
    merged = run.merge(OLD, NEW, "- re-run since: stories_scale")
    head, parts = run._sections(merged)
    assert list(parts) == ["extraction", "stories_scale"]
    assert "F1 0.9260" in "\n".join(parts["extraction"])  # kept, with its inner ## line
    assert "## Body text (990 pages)" in parts["extraction"]
    story = "\n".join(parts["stories_scale"])
    assert "2.10 s" in story and "2.62 s" not in story
    assert head[0] == "# mediawatch bench, 2026-12-05 23:01 UTC"
    assert "- re-run since: stories_scale" in head


def test_a_second_run_of_the_same_parts_gets_its_own_file(tmp_path: Path) -> None:
    run = load_bench("run")
    first = tmp_path / "2026-12-06-throughput.md"
    assert run._unused(first) == first
    first.write_text("the first run's record")
    second = run._unused(first)
    assert second == tmp_path / "2026-12-06-throughput-b.md"
    second.write_text("the second run's record")
    assert run._unused(first) == tmp_path / "2026-12-06-throughput-c.md"
    assert first.read_text() == "the first run's record"
