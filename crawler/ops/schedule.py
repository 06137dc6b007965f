"""Scheduled crawls: adaptive poll intervals, what is due now, cron/systemd units, a loop.

Each discovery document (feed, sitemap, section) keeps its own poll interval in
`url_state`, adapted after every poll from how many new article URLs it yielded, within
the outlet's `poll_min_minutes`..`poll_max_minutes` (the spirit of Media Cloud's
adaptive polling: a busy wire feed is polled often, a dormant blog rarely).
`crawl --due` asks `plan_due` which outlets have anything due and fetches only that.
"""

from __future__ import annotations

import fcntl
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crawler.archive.view import CrawlState
from crawler.registry.model import Source

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> int:
    """Seconds in an interval written like 30s, 15m, 2h or 1d (a bare number is minutes)."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", text or "")
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"{text!r} is not an interval: write e.g. 15m, 2h, 1d or 30s")
    return int(match.group(1)) * _UNITS[match.group(2) or "m"]


def robots_url(source: Source) -> str:
    """The outlet's robots.txt, from its homepage."""
    return "/".join(source.homepage.split("/", 3)[:3]) + "/robots.txt"


def discovery_docs(source: Source) -> list[str]:
    """Every discovery document the registry names for an outlet (robots.txt for 'robots')."""
    docs = [robots_url(source) if s == "robots" else s for s in source.sitemaps]
    return list(dict.fromkeys([*docs, *source.feeds, *source.sections]))


@dataclass
class OutletDue:
    """What is due for one outlet at one moment."""

    source_id: str
    docs: list[str] = field(default_factory=list)
    articles: bool = False
    canaries: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.docs or self.articles or self.canaries)

    def describe(self) -> str:
        """A short account: '2 documents, articles, 1 canary'."""
        parts = []
        if self.docs:
            parts.append(f"{len(self.docs)} document{'s' * (len(self.docs) != 1)}")
        if self.articles:
            parts.append("articles")
        if self.canaries:
            parts.append(f"{len(self.canaries)} canar{'ies' if len(self.canaries) != 1 else 'y'}")
        return ", ".join(parts) or "nothing"


def outlet_due(source: Source, state: CrawlState, now: str, canaries: bool = True) -> OutletDue:
    """What of one outlet is due at `now`: documents, frontier articles, canaries."""
    return OutletDue(
        source.id,
        [url for url in discovery_docs(source) if state.doc_due(url, now)],
        state.has_due_articles(source.id, now),
        [url for url in source.canaries if state.canary_due(url, now)] if canaries else [],
    )


def plan_due(sources: Iterable[Source], state: CrawlState, now: str) -> dict[str, OutletDue]:
    """The outlets with anything due at `now` (paused outlets wait for their pause to end)."""
    plan = {}
    for source in sources:
        if state.paused(source.id, now):
            continue
        due = outlet_due(source, state, now)
        if due:
            plan[source.id] = due
    return plan


def next_wakeup(sources: Iterable[Source], state: CrawlState) -> tuple[str, str] | None:
    """(time, outlet id) of the earliest thing that falls due next."""
    found = [(t, s.id) for s in sources if (t := state.next_due(s.id, discovery_docs(s)))]
    return min(found) if found else None


# -- running it unattended: cron, systemd, a loop ------------------------------------------


def lock_path(db: str | Path) -> Path:
    """The lock file every scheduled run takes, so two runs never overlap."""
    db = Path(db).resolve()
    return db.with_name(f"{db.name}.due.lock")


def mediawatch_command() -> list[str]:
    """How to invoke this installation's `mediawatch` from cron or systemd (absolute)."""
    script = Path(sys.executable).with_name("mediawatch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "crawler.cli"]


def due_command(sources: str | Path, db: str | Path) -> list[str]:
    """The `crawl --due` command line with absolute paths."""
    return [*mediawatch_command(), "crawl", "--due", "--sources", str(Path(sources).resolve()),
            "--db", str(Path(db).resolve())]


def _flock() -> str:
    return shutil.which("flock") or "/usr/bin/flock"


def cron_schedule(seconds: int) -> str:
    """The five cron fields for an interval cron can express (minutes dividing an hour...)."""
    minutes = seconds // 60
    if seconds % 60 or minutes < 1:
        raise ValueError("cron counts whole minutes: use at least 1m")
    if minutes < 60 and 60 % minutes == 0:
        return f"*/{minutes} * * * *" if minutes > 1 else "* * * * *"
    if minutes % 60 == 0 and 24 % (minutes // 60) == 0:
        hours = minutes // 60
        return f"0 */{hours} * * *" if hours > 1 else "0 * * * *"
    if minutes == 1440:
        return "0 0 * * *"
    raise ValueError(f"cron cannot run every {minutes} minutes evenly: use a divisor of 60 "
                     "minutes or of 24 hours, or `schedule systemd`")


def env_file(db: str | Path) -> Path:
    """The optional file of secrets and settings (KEY=value lines) beside the archive that a
    scheduled crawl reads: systemd's EnvironmentFile, sourced by the cron line."""
    return Path(db).resolve().parent / "mediawatch.env"


def cron_line(sources: str | Path, db: str | Path, seconds: int, log: str | Path,
              env: Mapping[str, str] | None = None) -> str:
    """A crontab line running `crawl --due` under flock (a run still going is not doubled).
    cron does not read the exports of the shell the line was made in: the line reads the
    optional mediawatch.env beside the archive, as the systemd unit does (SMTP secrets), and
    sets `env` (e.g. the User-Agent's contact) for the crawl command only."""
    command = [_flock(), "-n", "-E", "0", str(lock_path(db)), *due_command(sources, db)]
    secrets = shlex.quote(str(env_file(db)))
    # A file sh cannot parse is not sourced (`.` of it would end the shell before the crawl):
    # the crawl runs without it and the log says why.
    read = (f"if sh -n {secrets}; then . {secrets}; else echo \"mediawatch: {secrets} is not "
            "valid sh (KEY=value lines, values with spaces quoted): not read\" >&2; fi")
    text = " ".join([f"set -a; [ ! -r {secrets} ] || {{ {read}; }}; set +a;",
                     *(f"{k}={shlex.quote(v)}" for k, v in sorted((env or {}).items())),
                     *(shlex.quote(c) for c in command)])
    log_path = shlex.quote(str(Path(log).resolve()))
    # cron treats % as a newline: escape it in paths.
    # One group, so that what the shell says before the crawl (a file it cannot read) is
    # in the log too, not only in cron's mail.
    line = f"{cron_schedule(seconds)} {{ {text}; }} >> {log_path} 2>&1"
    return line.replace("%", "\\%")


def _systemd_quote(arg: str) -> str:
    if re.fullmatch(r"[\w@%+=:,./-]+", arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(sources: str | Path, db: str | Path, seconds: int,
                  name: str = "mediawatch", env: Mapping[str, str] | None = None
                  ) -> dict[str, str]:
    """A oneshot .service running `crawl --due` under flock (with `env`, which the optional
    mediawatch.env can override), and the .timer that starts it."""
    workdir = Path(db).resolve().parent
    # -E 0: a run skipped because the previous one still holds the lock is not a failure.
    command = [_flock(), "-n", "-E", "0", str(lock_path(db)), *due_command(sources, db)]
    exec_start = " ".join(_systemd_quote(c).replace("%", "%%") for c in command)
    environment = "".join(f"Environment={_systemd_quote(f'{k}={v}').replace('%', '%%')}\n"
                          for k, v in sorted((env or {}).items()))
    service = f"""[Unit]
Description=mediawatch: crawl the outlets whose poll is due ({Path(db).name})
After=network-online.target
Wants=network-online.target

[Service]
Type=oneshot
WorkingDirectory={_systemd_quote(str(workdir)).replace("%", "%%")}
{environment}# Secrets (MEDIAWATCH_SMTP_PASSWORD, ...) go in this optional file, never in the unit.
EnvironmentFile=-{_systemd_quote(str(env_file(db))).replace("%", "%%")}
ExecStart={exec_start}
# crawl --due exits 0 when pages fail; non-zero only when it cannot run (see the journal).
Nice=10
TimeoutStartSec=6h
KillSignal=SIGTERM
TimeoutStopSec=120
"""
    timer = f"""[Unit]
Description=mediawatch: run {name}.service every {_human(seconds)}

[Timer]
OnBootSec=2min
OnUnitInactiveSec={seconds}s
AccuracySec=30s
Unit={name}.service

[Install]
WantedBy=timers.target
"""
    return {f"{name}.service": service, f"{name}.timer": timer}


def _human(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def run_loop(command: list[str], every: int, lock: Path, echo: Callable[[str], Any],
             cycles: int | None = None) -> int:
    """Run `command` every `every` seconds until SIGTERM/SIGINT (or `cycles`); return cycles."""
    stop = threading.Event()
    child: list[subprocess.Popen[bytes]] = []

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        for proc in child:  # Scrapy shuts down gracefully on SIGTERM: pass it on
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    done = 0
    try:
        while not stop.is_set() and (cycles is None or done < cycles):
            started = time.monotonic()
            done += 1
            echo(f"cycle {done}: {' '.join(command)}")
            with open(lock, "a+") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    echo(f"cycle {done}: skipped, another scheduled run holds {lock}")
                else:
                    # Its own process group: Ctrl-C reaches only the loop, which passes on
                    # one SIGTERM (a second signal would make Scrapy stop uncleanly).
                    proc = subprocess.Popen(command, process_group=0)
                    child[:] = [proc]
                    code = proc.wait()
                    child.clear()
                    echo(f"cycle {done}: exit {code}")
            if cycles is not None and done >= cycles:
                break
            stop.wait(max(0.0, every - (time.monotonic() - started)))
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    echo(f"stopped after {done} cycle{'s' * (done != 1)}")
    return done
