"""`mediawatch archiver`: the one process that writes archive.db for Redis workers.

Items are moved (LMOVE) from the shared `items` list to `items:processing`, written in
one batch transaction, and only then dropped from `items:processing`; an archiver killed
mid-batch finds them there on restart and writes them again (the archive's writes are
idempotent: same capture, same article id). A wave of worker runs is one crawl_runs row:
it opens with the first run_start and closes when every run that started has finished
(or its worker went silent for MEDIAWATCH_REDIS_LOST_AFTER seconds) and the list is empty.
"""

from __future__ import annotations

import hashlib
import logging
import signal
import time
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from crawler.archive.core import Archive, RunCounters
from crawler.clock import utcnow
from crawler.distributed import codec
from crawler.distributed.frontier import Frontier
from crawler.distributed.worker import items_key
from crawler.items import Discovered, FetchedPage
from crawler.ops.health import bucket
from crawler.registry.model import Registry, parse_registry

logger = logging.getLogger(__name__)


@dataclass
class Wave:
    """The worker runs one crawl_runs row covers."""

    run_id: int
    active: dict[str, str] = field(default_factory=dict)  # run -> worker
    silent_since: dict[str, float] = field(default_factory=dict)
    finished: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    stats: dict[str, float] = field(default_factory=dict)
    tallies: dict[str, Counter[str]] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)  # articles written: their stories change


class Archiver:
    """Drain the workers' items into the archive, in batches."""

    def __init__(self, server: Any, prefix: str, archive: Archive, settings: Any,
                 batch_size: int = 200) -> None:
        self.server = server
        self.prefix = prefix
        self.archive = archive
        self.settings = settings
        self.batch_size = batch_size
        self.items = items_key(prefix)
        self.processing = f"{self.items}:processing"
        self.frontier = Frontier(server, prefix, "archiver")
        self.lost_after = settings.getfloat("MEDIAWATCH_REDIS_LOST_AFTER")
        self.wave: Wave | None = None
        self.registry: Registry | None = None
        self._registry_hash = ""
        self.stopping = False
        self.written = 0
        self.waves = 0  # crawl_runs rows closed by this archiver
        self.store_errors = 0

    def claim(self) -> None:
        """One archiver per prefix: a second one would split the items between two files."""
        key = f"{self.prefix}:archiver"
        holder = self.server.get(key)
        if holder and holder.decode() != str(self.archive.path.resolve()):
            raise RuntimeError(
                f"another archiver ({holder.decode()}) drains prefix {self.prefix!r}; stop it "
                "or give this crawl cluster its own --redis-prefix")
        self.server.set(key, str(self.archive.path.resolve()), ex=60)

    def run(self, drain: bool, idle_exit: float = 5.0) -> None:
        """Write items until stopped (SIGTERM/SIGINT); with drain, until the workers are done."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        self.archive.close_stale_runs()
        self._write(self._leftovers())  # a batch the previous archiver never finished
        idle_since = time.monotonic()
        while not self.stopping:
            self.claim()
            raws = self._take()
            if raws:
                self._write(raws)
                idle_since = time.monotonic()
            self.frontier.reclaim()  # leases of dead workers go back even if none is alive
            self._close_wave_if_done()
            # Draining ends after a finished wave, never before the first worker shows up.
            if drain and self.waves and self.wave is None and \
                    time.monotonic() - idle_since >= idle_exit and \
                    self.server.llen(self.items) == 0:
                break
        if self.wave is not None:
            runs = len(self.wave.active)
            self._finish_wave(f"archiver stopped with {runs} worker run(s) still going")
        self.server.delete(f"{self.prefix}:archiver")

    def _stop(self, signum: int, frame: Any) -> None:
        self.stopping = True

    def _leftovers(self) -> list[bytes]:
        return list(reversed(self.server.lrange(self.processing, 0, -1)))

    def _take(self) -> list[bytes]:
        first = self.server.blmove(self.items, self.processing, 1.0, "RIGHT", "LEFT")
        if first is None:
            return []
        raws = [first]
        pipe = self.server.pipeline(transaction=False)
        for _ in range(self.batch_size - 1):
            pipe.lmove(self.items, self.processing, "RIGHT", "LEFT")
        raws.extend(r for r in pipe.execute() if r is not None)
        return raws

    def _write(self, raws: list[bytes]) -> None:
        if not raws:
            return
        with self.archive.batch():
            for raw in raws:
                try:
                    with self.archive.transaction():
                        self._apply(raw)
                except Exception:
                    self.store_errors += 1
                    logger.exception("could not store an item from Redis (%d bytes); kept in "
                                     "%s:failed", len(raw), self.items)
                    # Kept, not dropped: fix the cause, then LMOVE them back to be written.
                    self.server.lpush(f"{self.items}:failed", raw)
        # Only once committed: a crash before this line replays the batch, never loses it.
        self.server.delete(self.processing)
        self.written += len(raws)

    def _apply(self, raw: bytes) -> None:
        kind, payload = codec.decode(raw)
        if kind == "run_start":
            self._run_started(payload)
        elif kind == "run_finish":
            self._run_finished(payload)
        elif isinstance(payload, FetchedPage):
            wave = self._wave()
            wave.sources.add(payload.source_id)
            outcome = bucket(payload.status, payload.error)
            if outcome:
                wave.tallies.setdefault(payload.source_id, Counter())[outcome] += 1
            aid = self.archive.record(payload, wave.run_id)
            if aid:
                wave.changed.add(aid)
        elif isinstance(payload, Discovered):
            self.archive.discover(payload)

    def _wave(self, sources: list[str] | None = None) -> Wave:
        if self.wave is None:
            self.archive.counters = RunCounters()
            run_id = self.archive.start_run(sources or [],
                                            {"mode": "redis", "prefix": self.prefix})
            self.wave = Wave(run_id)
        return self.wave

    def _run_started(self, message: dict[str, Any]) -> None:
        text = message.get("registry") or ""
        digest = hashlib.sha256(text.encode()).hexdigest()
        if text and digest != self._registry_hash:
            self.registry = parse_registry(tomllib.loads(text), message.get("registry_path", ""))
            self.archive.sync_sources(self.registry)
            self._registry_hash = digest
        wave = self._wave(message.get("sources"))
        wave.active[message["run"]] = message["worker"]
        wave.sources.update(message.get("sources") or [])
        logger.info("worker %s started run %s", message["worker"], message["run"])

    def _run_finished(self, message: dict[str, Any]) -> None:
        wave = self._wave()
        wave.active.pop(message["run"], None)
        wave.finished.append(f"{message['worker']}: {message.get('reason')}")
        for key, value in (message.get("stats") or {}).items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                wave.stats[key] = wave.stats.get(key, 0) + value

    def _close_wave_if_done(self) -> None:
        wave = self.wave
        if wave is None:
            return
        now = time.monotonic()
        for run, worker in list(wave.active.items()):
            if self.server.exists(f"{self.prefix}:worker:{worker}"):
                wave.silent_since.pop(run, None)
            elif now - wave.silent_since.setdefault(run, now) >= self.lost_after:
                del wave.active[run]
                wave.lost.append(worker)
        if wave.active or self.server.llen(self.items):
            return
        reason = "finished"
        if wave.lost:
            reason = f"finished; lost worker(s) {', '.join(wave.lost)} (their leases went back)"
        self._finish_wave(reason)

    def _finish_wave(self, reason: str) -> None:
        wave = self.wave
        assert wave is not None
        stats: dict[str, Any] = dict(wave.stats)
        stats["mediawatch/workers_finished"] = wave.finished
        stats["mediawatch/workers_lost"] = wave.lost
        stats["mediawatch/store_errors"] = self.store_errors
        stats["mediawatch/sources"] = sorted(wave.sources)
        self.archive.finish_run(wave.run_id, reason, stats)
        if self.registry is not None and self.settings.getbool("MEDIAWATCH_HEALTH"):
            self._review(wave)
        try:  # as after a one-process crawl: stories stay current with new articles
            self.archive.framing.update_stories(changed=wave.changed)
        except Exception:
            logger.exception("could not update stories after run %s", wave.run_id)
        logger.info("crawl run %s %s at %s", wave.run_id, reason, utcnow())
        self.wave = None
        self.waves += 1

    def _review(self, wave: Wave) -> None:
        from crawler.ops.alerts import review_run_from

        assert self.registry is not None
        outlets = [s for s in self.registry.sources if s.id in wave.sources]
        try:
            review_run_from(self.settings, self.archive, outlets, wave.run_id, wave.tallies)
        except Exception:  # health is a report on the crawl: never lose the crawl to it
            logger.exception("could not compute health and alerts for run %s", wave.run_id)
