"""Load outlet data folders (sites/<id>/site.toml + articles/*.md) into plain objects."""

from __future__ import annotations

import string
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

SITES_DIR = Path(__file__).parent / "sites"
FRONT_MATTER = "+++"


@dataclass(frozen=True)
class Version:
    """What one article looks like in one epoch (status 404/410 once removed)."""

    title: str
    lead: str
    notice: str
    modified: datetime
    status: int


@dataclass
class Article:
    """One article file: TOML front matter plus a lightly marked-up body."""

    outlet: str
    key: str
    meta: dict[str, Any]
    body: str

    @property
    def path(self) -> str:
        """Site-relative URL path (may carry a query, e.g. WordPress `?p=`)."""
        return str(self.meta["path"])

    @property
    def date(self) -> datetime:
        """Publication time (timezone-aware, as written in the front matter)."""
        value = self.meta["date"]
        assert isinstance(value, datetime), f"{self.key}: date must be a TOML datetime"
        return value

    @property
    def on_topic(self) -> bool:
        """Ground-truth label used by tests and the demo report."""
        return self.meta.get("topic", "on") == "on"

    def version(self, epoch: int) -> Version:
        """Apply every `epochN` override up to `epoch`, plus removal/addition markers."""
        title = str(self.meta["title"])
        lead = str(self.meta.get("lead", ""))
        notice = ""
        modified = self.meta.get("modified", self.date)
        for n in range(1, epoch + 1):
            over = self.meta.get(f"epoch{n}", {})
            title = over.get("title", title)
            lead = over.get("lead", lead)
            notice = over.get("notice", notice)
            modified = over.get("modified", modified)
        status = 200
        if epoch < int(self.meta.get("added_in_epoch", 0)):
            status = 404
        elif epoch >= int(self.meta.get("removed_in_epoch", 1 << 30)):
            status = 404
        elif epoch >= int(self.meta.get("gone_in_epoch", 1 << 30)):
            status = 410
        return Version(title, lead, notice, modified, status)


@dataclass
class Outlet:
    """One fictional outlet: its configuration, templates and articles."""

    id: str
    folder: Path
    conf: dict[str, Any]
    articles: list[Article]
    _templates: dict[str, string.Template] = field(default_factory=dict, repr=False)

    def template(self, name: str) -> string.Template:
        """Load (once) a `$var` template from the outlet's templates/ folder."""
        if name not in self._templates:
            text = (self.folder / "templates" / name).read_text(encoding="utf-8")
            self._templates[name] = string.Template(text)
        return self._templates[name]

    def listed(self, epoch: int) -> list[Article]:
        """Articles visible in listings for this epoch, newest first."""
        live = [
            a
            for a in self.articles
            if a.version(epoch).status == 200 and not a.meta.get("unlisted", False)
        ]
        return sorted(live, key=lambda a: a.date, reverse=True)

    @property
    def language(self) -> str:
        """Primary language code (first one if the outlet declares several)."""
        lang = self.conf["source"]["language"]
        return str(lang[0] if isinstance(lang, list) else lang)


def parse_article(outlet: str, path: Path) -> Article:
    """Split a `+++`-fenced TOML front matter from the body text."""
    text = path.read_text(encoding="utf-8")
    if not text.startswith(FRONT_MATTER):
        raise ValueError(f"{path}: missing {FRONT_MATTER} front matter")
    _, front, body = text.split(FRONT_MATTER + "\n", 2)
    meta = tomllib.loads(front)
    for required in ("path", "title", "date", "author"):
        if required not in meta:
            raise ValueError(f"{path}: front matter lacks {required!r}")
    return Article(outlet=outlet, key=path.stem, meta=meta, body=body.strip())


def load_outlet(folder: Path) -> Outlet:
    """Read one outlet folder."""
    conf = tomllib.loads((folder / "site.toml").read_text(encoding="utf-8"))
    oid = str(conf["id"])
    arts = [parse_article(oid, p) for p in sorted((folder / "articles").glob("*.md"))]
    return Outlet(id=oid, folder=folder, conf=conf, articles=arts)


def load_outlets(sites_dir: Path = SITES_DIR) -> list[Outlet]:
    """Every folder with a site.toml is an outlet; order is by `order` then id."""
    folders = [p for p in sorted(sites_dir.iterdir()) if (p / "site.toml").is_file()]
    outlets = [load_outlet(p) for p in folders]
    return sorted(outlets, key=lambda o: (int(o.conf.get("order", 99)), o.id))


def load_web_conf(sites_dir: Path = SITES_DIR) -> dict[str, Any]:
    """Web-wide data (topic table, allowed external hosts)."""
    return tomllib.loads((sites_dir / "web.toml").read_text(encoding="utf-8"))
