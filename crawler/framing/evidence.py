"""A copy link in words: why the story build judged an article a copy of another."""

from __future__ import annotations

import json
from typing import Any


def copy_evidence(link: dict[str, Any]) -> str:
    """Why an article is a copy, in a sentence (story_articles' evidence columns, 0009)."""
    basis = link.get("copy_basis")
    if not basis or not link.get("copy_of"):
        return ""
    if basis == "canonical":
        return f"declares the original as its canonical link: {link.get('canonical_url') or ''}"
    anchors = ", ".join(json.loads(link.get("anchors") or "[]"))
    if basis == "text":
        return (f"same text: {100 * (link.get('containment') or 0):.0f} % of its 5-word "
                f"sequences (outside quotes) are in the original, "
                f"{100 * (link.get('containment_other') or 0):.0f} % the other way "
                f"({link.get('shared_shingles')} shared)" + (f"; both state {anchors}"
                                                             if anchors else ""))
    unit = "facts" if link.get("role") == "translation" else "content words"
    return (f"{link.get('aligned')} {unit} in the same order (weighted coverage "
            f"{link.get('coverage') or 0:.2f}, order {link.get('align_order') or 0:.2f})"
            + (f": {anchors}" if anchors else ""))
