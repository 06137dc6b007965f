"""The probe/discover fixture web (demoweb/probe_sites) on 127.0.0.20 and up."""

from __future__ import annotations

from pathlib import Path

import demoweb
from demoweb import FixtureWeb

PROBE_SITES = Path(demoweb.__file__).resolve().parent / "probe_sites"


def probe_web() -> FixtureWeb:
    """Six small outlets: healthy, a feed answering HTML, a stale pattern, a robots.txt
    that disallows the sitemap, a feed that never finishes, articles drawn by JavaScript."""
    return FixtureWeb(sites_dir=PROBE_SITES, first_host=20)
