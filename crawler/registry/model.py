"""Outlet registry: load sources.toml and validate every entry up front.

Validation is eager and exhaustive: an operator editing the file gets every
mistake at once, each with where it is and how to fix it, instead of a crawl
that fails halfway on the first bad value.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import MISSING, dataclass, field, fields
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from crawler.registry.checks import (
    KINDS,
    _Bad,
    _bool,
    _closest,
    _country,
    _groups,
    _int1,
    _k,
    _kind,
    _languages,
    _list_of,
    _number,
    _regex,
    _show,
    _sitemap,
    _slug,
    _str,
    _text,
    _url,
    _urls,
    _xpath,
)
from crawler.registry.examples import example_problems
from crawler.web.urls import host_key, is_http_url, normalize_url


class RegistryError(Exception):
    """sources.toml is unusable; `problems` lists every issue found."""

    def __init__(self, problems: list[str], path: str = "sources.toml") -> None:
        self.problems = list(problems)
        self.path = path
        n = len(self.problems)
        head = f"{path} has {n} problem{'s' if n != 1 else ''}:"
        super().__init__("\n".join([head, *(f"  - {p}" for p in self.problems)]))


@dataclass(frozen=True)
class Topic:
    """What counts as on-topic: every group in `require` needs at least one matching term."""

    id: str = field(metadata=_k(_slug))
    name: str = field(metadata=_k(_text))
    require: tuple[tuple[str, ...], ...] = field(metadata=_k(_groups))


@dataclass(frozen=True)
class Source:
    """One outlet. Adding a sources.toml key = adding one field line here."""

    id: str = field(metadata=_k(_slug))
    name: str = field(metadata=_k(_text))
    homepage: str = field(metadata=_k(_url))
    language: tuple[str, ...] = field(metadata=_k(_languages))
    country: str = field(metadata=_k(_country))
    kind: str = field(metadata=_k(_kind))
    owner: str = field(metadata=_k(_str, ""))
    feeds: tuple[str, ...] = field(metadata=_k(_urls, ()))
    sitemaps: tuple[str, ...] = field(metadata=_k(_list_of(_sitemap), ()))
    sections: tuple[str, ...] = field(metadata=_k(_urls, ()))
    urls: tuple[str, ...] = field(metadata=_k(_urls, ()))
    article_url_pattern: str | None = field(metadata=_k(_regex, None))
    download_delay: float = field(metadata=_k(_number(integer=False, low=0), 1.0))
    concurrency: int = field(metadata=_k(_int1, 2))
    enabled: bool = field(metadata=_k(_bool, True))
    verified_live: bool = field(metadata=_k(_bool, False))
    licence: str | None = field(default=None, metadata=_k(_text))
    public_full_text: bool = field(default=False, metadata=_k(_bool))
    prune_xpath: tuple[str, ...] = field(default=(), metadata=_k(_list_of(_xpath)))
    canaries: tuple[str, ...] = field(default=(), metadata=_k(_urls))
    # Other sites the outlet publishes under (old domains, the original a mirror copies):
    # a canonical link there is the same article, not a republication. Never fetched.
    aliases: tuple[str, ...] = field(default=(), metadata=_k(_urls))
    poll_min_minutes: int = field(default=15, metadata=_k(_int1))
    poll_max_minutes: int = field(default=1440, metadata=_k(_int1))
    max_requests: int | None = field(default=None, metadata=_k(_int1))
    max_pages: int | None = field(default=None, metadata=_k(_int1))
    max_seconds: int | None = field(default=None, metadata=_k(_int1))
    notes: str = field(default="", metadata=_k(_str))
    # Evidence the pattern must agree with (checked at load time, crawler.registry.examples):
    # article URLs it must accept, non-article URLs it must reject, and variants (AMP or
    # tracking copies) it must reject or that clean_url must turn into an accepted URL.
    examples: tuple[str, ...] = field(default=(), metadata=_k(_urls))
    not_articles: tuple[str, ...] = field(default=(), metadata=_k(_urls))
    variants: tuple[str, ...] = field(default=(), metadata=_k(_urls))

    @cached_property
    def hosts(self) -> frozenset[str]:
        """host_key() of the homepage and of every feed, sitemap, section, seed and canary URL."""
        urls = (self.homepage, *self.feeds, *self.sitemaps, *self.sections, *self.urls,
                *self.canaries)
        return frozenset(host_key(u) for u in urls if is_http_url(u))

    def owns(self, url: str) -> bool:
        """Return whether url is on one of this outlet's hosts (www-insensitive, port-exact)."""
        return is_http_url(url) and host_key(url) in self.hosts

    def publishes(self, url: str) -> bool:
        """Whether url is this outlet's own: on its hosts or on one of its aliases."""
        return self.owns(url) or (
            is_http_url(url) and host_key(url) in {host_key(a) for a in self.aliases})

    def extraction_hints(self) -> dict[str, Any]:
        """What the registry tells extract_article about this outlet's pages."""
        return {"prune_xpath": list(self.prune_xpath),
                "language": self.language[0] if self.language else None,
                "site_name": self.name}


def _email(key: str, v: Any) -> str:
    s = _text(key, v)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", s):
        raise _Bad(f"{json.dumps(s)} is not an e-mail address", 'write e.g. "desk@example.org"')
    return s


@dataclass(frozen=True)
class AlertSettings:
    """The optional [alerts] table: where alert events go (secrets stay in the environment)."""

    jsonl: str = field(default="", metadata=_k(_text))          # default: <archive>-alerts.jsonl
    webhook: str = field(default="", metadata=_k(_url))         # POST each event as JSON
    email_to: tuple[str, ...] = field(default=(), metadata=_k(_list_of(_email, "address")))
    email_from: str = field(default="", metadata=_k(_email))
    smtp_host: str = field(default="", metadata=_k(_text))
    smtp_port: int = field(default=25, metadata=_k(_int1))
    smtp_starttls: bool = field(default=False, metadata=_k(_bool))
    link_base: str = field(default="", metadata=_k(_url))       # the Datasette alerts link to


@dataclass(frozen=True)
class Registry:
    """The validated topic and outlets of one sources.toml."""

    topic: Topic
    sources: tuple[Source, ...]
    path: str
    warnings: tuple[str, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)

    def get(self, source_id: str) -> Source:
        """Return the source with this id; KeyError (with a suggestion) if unknown."""
        for s in self.sources:
            if s.id == source_id:
                return s
        near = _closest(source_id, (s.id for s in self.sources))
        hint = f"; did you mean {near!r}?" if near else ""
        raise KeyError(f"unknown source {source_id!r}{hint}")

    def enabled(self) -> tuple[Source, ...]:
        """Return the sources with enabled = true, in file order."""
        return tuple(s for s in self.sources if s.enabled)

    def chosen(self, source_ids: Iterable[str]) -> list[Source]:
        """The outlets a command works on: those named (--source), else every enabled one."""
        ids = list(source_ids)
        return [self.get(i) for i in ids] if ids else list(self.enabled())

    def source_for_url(self, url: str) -> Source | None:
        """Return the outlet owning url; if several share its host, the longest path match wins."""
        owners = [s for s in self.sources if s.owns(url)]
        if len(owners) < 2:
            return owners[0] if owners else None
        key, path = host_key(url), urlsplit(url).path or "/"

        def score(s: Source) -> int:
            own = (s.homepage, *s.sections)
            paths = [urlsplit(u).path or "/" for u in own if host_key(u) == key]
            return max((len(p) for p in paths if path.startswith(p)), default=-1)

        return max(owners, key=score)  # max() keeps the first of equal scores: file order wins


def _at(label: str, key: str | None = None) -> str:
    return label + (f", key '{key}'" if key else "")


def _build(cls: type, raw: dict[str, Any], label: str,
           problems: list[str]) -> dict[str, Any] | None:
    """Validate raw against cls's field metadata; return constructor kwargs or None."""
    known = {f.name: f for f in fields(cls)}
    start = len(problems)
    for key in raw:
        if key not in known:
            near = _closest(key, known)
            fix = f"did you mean '{near}'?" if near else "remove it; known: " + ", ".join(known)
            problems.append(f"{_at(label, key)}: unknown key '{key}' — {fix}")
    values: dict[str, Any] = {}
    for f in fields(cls):
        default = f.metadata["default"] if f.default is MISSING else f.default
        if f.name not in raw:
            if default is MISSING:
                problems.append(f"{label}: missing required key '{f.name}' — add {f.name} = ...")
            else:
                values[f.name] = default
            continue
        try:
            values[f.name] = f.metadata["check"](f.name, raw[f.name])
        except _Bad as b:
            problems += [f"{_at(label, f.name)}: {what} — {fix}" for what, fix in b.items]
    return values if len(problems) == start else None


def _example_problems(raw: dict[str, Any], label: str) -> list[str]:
    """The pattern against the entry's examples, even when other keys of it are wrong."""
    keys = ("article_url_pattern", "examples", "not_articles", "variants")
    checks = {f.name: f.metadata["check"] for f in fields(Source) if f.name in keys}
    try:
        values = {k: checks[k](k, raw[k]) if k in raw else None for k in keys}
    except _Bad:
        return []  # already reported by _build
    return [f"{_at(label, 'article_url_pattern')}: {what} — {fix}" for what, fix in
            example_problems(values["article_url_pattern"], values["examples"] or (),
                             values["not_articles"] or (), values["variants"] or ())]


def parse_registry(data: dict[str, Any], path: str = "<string>") -> Registry:
    """Validate already-parsed TOML data; raise RegistryError listing every problem."""
    problems: list[str] = []
    for key in data:
        if key not in ("topic", "source", "alerts"):
            near = _closest(key, ("topic", "source", "alerts"))
            fix = f"did you mean [{near}]?" if near else \
                "remove it; only [topic], [[source]] and [alerts]"
            problems.append(f"top level, key '{key}': unknown key — {fix}")
    alerts = AlertSettings()
    raw_alerts = data.get("alerts", {})
    if not isinstance(raw_alerts, dict):
        problems.append("top level, key 'alerts': expected a table — write [alerts] with "
                        "webhook, email_to, smtp_host, ... under it")
    elif (akw := _build(AlertSettings, raw_alerts, "alerts", problems)) is not None:
        alerts = AlertSettings(**akw)

    topic = None
    raw_topic = data.get("topic")
    if not isinstance(raw_topic, dict):
        problems.append("top level: missing [topic] table — add [topic] with id, name and"
                        ' require = [["Armenia*", ...], ["Russia*", ...]]')
    elif (kw := _build(Topic, raw_topic, "topic", problems)) is not None:
        topic = Topic(**kw)

    raw_sources = data.get("source", [])
    if not isinstance(raw_sources, list):
        problems.append("top level, key 'source': expected an array of tables — write each outlet"
                        " under its own [[source]] header (double brackets)")
        raw_sources = []
    elif not raw_sources:
        problems.append("top level: no [[source]] tables — add at least one outlet")
    sources: list[Source] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_sources):
        sid = raw.get("id") if isinstance(raw, dict) else None
        label = f"source[{i}]" + (f" (id={sid})" if isinstance(sid, str) and sid else "")
        if not isinstance(raw, dict):
            problems.append(f"{label}: expected a table, got {_show(raw)} — use [[source]]")
            continue
        if isinstance(sid, str) and seen.setdefault(sid, i) != i:
            problems.append(f"{_at(label, 'id')}: duplicate id '{sid}', already used by"
                            f" source[{seen[sid]}] — ids must be unique; rename one"
                            f" (e.g. '{sid}-2') or merge the entries")
        kw = _build(Source, raw, label, problems)
        if kw is not None and kw["poll_min_minutes"] > kw["poll_max_minutes"]:
            low, high = kw["poll_min_minutes"], kw["poll_max_minutes"]
            problems.append(f"{_at(label, 'poll_min_minutes')}: {low} exceeds"
                            f" poll_max_minutes ({high}) — swap or fix them")
        elif kw is not None:
            sources.append(Source(**kw))
        problems += _example_problems(raw, label)

    if problems or topic is None:
        raise RegistryError(problems, path)
    warnings = []
    for src in sources:
        if src.kind.lower() not in {k.lower() for k in KINDS}:
            near = _closest(src.kind.lower(), KINDS, cutoff=0.4)
            hint = f'did you mean "{near}"? ' if near else ""
            warnings.append(f"source '{src.id}', key 'kind': {json.dumps(src.kind)} is not in the"
                            f" documented vocabulary — {hint}facets group kinds by exact value;"
                            " known: " + "; ".join(KINDS))
        for url in (*src.examples, *src.not_articles, *src.variants):
            if not src.publishes(url):
                warnings.append(f"source '{src.id}': example {url} is on none of the outlet's"
                                " hosts, so the crawler never meets it — add its host (a feed,"
                                " section or alias) or drop the example")
    warnings += _shared_endpoints(sources)
    return Registry(topic=topic, sources=tuple(sources), path=path, warnings=tuple(warnings),
                    alerts=alerts)


def _shared_endpoints(sources: list[Source]) -> list[str]:
    """Two outlets naming the same homepage, feed, sitemap, section or seed: most often one
    outlet entered twice (`sources discover` never reads the registry). The URL is fetched for
    each, and what it lists is filed under one of them only."""
    first: dict[str, tuple[str, str]] = {}
    out = []
    for src in sources:
        named = [("homepage", src.homepage), *(("feed", u) for u in src.feeds),
                 *(("sitemap", u) for u in src.sitemaps if is_http_url(u)),
                 *(("section", u) for u in src.sections), *(("seed", u) for u in src.urls)]
        for kind, url in named:
            owner, _ = first.setdefault(normalize_url(url), (src.id, kind))
            if owner != src.id:
                out.append(f"source '{src.id}': its {kind} {url} is also {owner}'s: it is "
                           "fetched for both, and what it lists is filed under one of them "
                           "only — if it is one outlet entered twice, remove one entry")
    return out


def load_registry(path: str | Path) -> Registry:
    """Read and validate a sources.toml; raise RegistryError listing every problem."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        why = f"file not found — check the path (relative paths start at {Path.cwd()})"
    except UnicodeDecodeError as e:
        why = f"not valid UTF-8 at byte {e.start} — re-save the file as UTF-8"
    except OSError as e:
        why = f"cannot be read ({e.strerror}) — check the path and permissions"
    except tomllib.TOMLDecodeError as e:
        why = (f"TOML syntax error: {e} — fix the syntax there (strings need quotes,"
               " lists use [...], booleans are lowercase true/false)")
    else:
        return parse_registry(data, str(p))
    raise RegistryError([f"{p}: {why}"], str(p))


def _cell(v: Any) -> Any:
    if isinstance(v, tuple):
        return json.dumps(list(v), ensure_ascii=False)
    return int(v) if isinstance(v, bool) else v


def registry_rows(reg: Registry) -> list[dict[str, Any]]:
    """Return one flat dict per source for a `sources` SQL table (lists as JSON, bools as 0/1)."""
    return [{f.name: _cell(getattr(s, f.name)) for f in fields(Source)} for s in reg.sources]
