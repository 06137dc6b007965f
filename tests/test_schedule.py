"""`crawl --due` with adaptive poll intervals; cron and systemd units; the foreground loop."""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest
from conftest import MEDIAWATCH, run_mediawatch
from helpers.miniweb import T0, MiniWeb, at, crawl_at, days

from crawler.archive.policy import next_interval
from crawler.ops.schedule import cron_schedule, parse_every

pytestmark = pytest.mark.e2e


def _q(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def _poll(db: Path, path: str) -> tuple:
    return _q(db, f"select poll_minutes, poll_new, next_due from url_state "
                  f"where url like '%{path}'")[0]


def test_due_twice_does_nothing_then_polls_again_after_the_interval(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with MiniWeb("alpha") as web:
        alpha = web["alpha"]
        alpha.add(T0 - days(0.5), 3)
        sources = web.write_sources(tmp_path / "sources.toml")
        first = crawl_at(T0, sources, db)
        assert first.returncode == 0, first.stderr[-3000:]
        assert "due: alpha: 1 document" in first.stdout
        assert sorted(alpha.requests) == ["/feed.xml", "/news/story-1", "/news/story-2",
                                          "/news/story-3", "/robots.txt"]
        # Three new articles on the first poll: the feed is polled at the registry's minimum.
        assert _poll(db, "/feed.xml") == (15, 3, "2026-03-02T06:15:00+00:00")
        runs = _q(db, "select count(*) from crawl_runs")[0][0]

        alpha.requests.clear()
        again = crawl_at(T0 + days(0.001), sources, db)
        assert again.returncode == 0
        assert "nothing is due" in again.stdout and "next: alpha at 2026-03-02T06:15" in again.stdout
        assert alpha.requests == []  # not even robots.txt
        assert _q(db, "select count(*) from crawl_runs")[0][0] == runs

        # Past the interval: the feed (only) is polled; it yields nothing, so the interval doubles.
        later = T0.replace(minute=16)
        polled = crawl_at(later, sources, db)
        assert polled.returncode == 0, polled.stderr[-3000:]
        assert "/feed.xml" in alpha.requests
        assert not [p for p in alpha.requests if p.startswith("/news/")]
        assert _poll(db, "/feed.xml") == (30, 0, "2026-03-02T06:46:00+00:00")
        alpha.requests.clear()
        assert "nothing is due" in crawl_at(later.replace(minute=45), sources, db).stdout
        assert alpha.requests == []

        # A busy feed is polled sooner: four new items bring it back to the minimum.
        alpha.add(T0, 4)
        busy = crawl_at(later.replace(minute=46), sources, db)
        assert busy.returncode == 0
        assert {"/news/story-4", "/news/story-7"} <= set(alpha.requests)
        assert _poll(db, "/feed.xml")[:2] == (15, 4)


def test_outlets_with_nothing_due_are_not_contacted(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with MiniWeb("busy", "idle") as web:
        web["busy"].add(T0 - days(0.2), 2)  # "idle" publishes nothing: its first poll is empty
        sources = web.write_sources(tmp_path / "sources.toml")
        assert crawl_at(T0, sources, db).returncode == 0
        web.clear()
        # After 20 minutes only the busy feed (15 min) is due; the empty one waits 30 minutes.
        result = crawl_at(T0.replace(minute=20), sources, db)
        assert result.returncode == 0, result.stderr[-3000:]
        assert "due: busy" in result.stdout and "due: idle" not in result.stdout
        assert "/feed.xml" in web["busy"].requests
        assert web["idle"].requests == []
        assert _q(db, "select sources from crawl_runs order by id desc limit 1") == [('["busy"]',)]
        # A plain `crawl` (without --due) still polls everything, as before.
        web.clear()
        plain = at(T0.replace(minute=21), "crawl", "--sources", str(sources), "--db", str(db),
                   "-s", "MEDIAWATCH_LOOPBACK_ONLY=1")
        assert plain.returncode == 0
        assert "/feed.xml" in web["busy"].requests and "/feed.xml" in web["idle"].requests


def test_poll_intervals_adapt_within_the_registry_bounds() -> None:
    assert next_interval(None, 0, 15, 1440) == 30
    interval, seen = 15, []
    for _ in range(8):  # nothing new, poll after poll: back off up to the maximum
        interval = next_interval(interval, 0, 15, 1440)
        seen.append(interval)
    assert seen == [30, 60, 120, 240, 480, 960, 1440, 1440]
    assert next_interval(1440, 1, 15, 1440) == 720  # one new item: twice as often
    # Many new items: poll about as often as one new item appears, never under the minimum.
    assert next_interval(1440, 50, 15, 1440) == 28
    assert next_interval(60, 50, 15, 1440) == 15
    assert next_interval(5, 0, 15, 1440) == 30  # bounds changed in the registry: clamped first
    assert parse_every("15m") == 900 and parse_every("2h") == 7200 and parse_every("10") == 600
    with pytest.raises(ValueError):
        parse_every("soon")
    assert cron_schedule(900) == "*/15 * * * *" and cron_schedule(7200) == "0 */2 * * *"
    with pytest.raises(ValueError):
        cron_schedule(7 * 60)


def test_cron_line_runs_crawl_due_under_a_lock(tmp_path: Path) -> None:
    result = run_mediawatch("schedule", "cron", "--sources", str(tmp_path / "s.toml"), "--db",
                            str(tmp_path / "a.db"), "--every", "15m", "--install",
                            str(tmp_path / "cron"))
    assert result.returncode == 0, result.stderr
    line = (tmp_path / "cron" / "mediawatch.crontab").read_text().splitlines()[-1]
    # The optional mediawatch.env beside the archive is read first (as systemd's unit does).
    secrets = f"{tmp_path}/mediawatch.env"
    assert f" {{ set -a; [ ! -r {secrets} ] || {{ if sh -n {secrets}; then . {secrets}; " in line
    fields = line.split(" set +a; ")[0].split()[:5] + line.split(" set +a; ")[1].split()
    assert fields[:5] == ["*/15", "*", "*", "*", "*"]
    assert fields[5].endswith("flock") and fields[6:10] == ["-n", "-E", "0",
                                                            f"{tmp_path}/a.db.due.lock"]
    assert fields[10] == MEDIAWATCH and fields[11:13] == ["crawl", "--due"]
    assert f"--sources {tmp_path}/s.toml --db {tmp_path}/a.db" in line
    assert line.endswith(f"; }} >> {tmp_path}/a-cron.log 2>&1")
    printed = run_mediawatch("schedule", "cron", "--every", "7m")
    assert printed.returncode != 0 and "divisor" in printed.stderr


def test_scheduled_crawls_carry_the_contact_of_the_shell_that_made_them(tmp_path: Path) -> None:
    """cron and systemd do not see the exports of the shell in which the schedule was made: a
    scheduled crawl sent the placeholder contact in its User-Agent although the README had the
    user export theirs. The contact now goes into the line and the unit; without one, a note
    says where to put it."""
    import shlex

    contact = "https://x.example/contact?a=1%20b c"
    env = {**os.environ, "MEDIAWATCH_CONTACT": contact}
    args = ["--sources", str(tmp_path / "s.toml"), "--db", str(tmp_path / "a.db")]
    cron = subprocess.run([MEDIAWATCH, "schedule", "cron", *args], capture_output=True,
                          text=True, env=env, timeout=60)
    assert cron.returncode == 0 and "note:" not in cron.stderr, cron.stderr
    line = cron.stdout.splitlines()[-1]
    # cron turns % into a newline: escaped; the shell then reads one assignment.
    words = shlex.split(line.replace("\\%", "%").split(" set +a; ")[1])
    assert words[0] == f"MEDIAWATCH_CONTACT={contact}" and words[1].endswith("flock"), words
    units = subprocess.run([MEDIAWATCH, "schedule", "systemd", *args], capture_output=True,
                           text=True, env=env, timeout=60)
    assert 'Environment="MEDIAWATCH_CONTACT=https://x.example/contact?a=1%%20b c"' in \
        units.stdout.splitlines(), units.stdout
    bare = {k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONTACT"}
    plain = subprocess.run([MEDIAWATCH, "schedule", "cron", *args], capture_output=True,
                           text=True, env=bare, timeout=60)
    assert plain.returncode == 0 and "MEDIAWATCH_CONTACT=" not in plain.stdout
    assert "note: the User-Agent names the placeholder contact" in plain.stderr
    assert f"put a line MEDIAWATCH_CONTACT=... in {tmp_path}/mediawatch.env" in plain.stderr


def _cron_run(tmp_path: Path, env_text: str) -> tuple[str, list[str]]:
    """Make the cron line for a loopback outlet, write mediawatch.env, and run the line's
    command with /bin/sh as cron runs it (no exports of the user's shell): its log and the
    User-Agents the outlet saw."""
    with MiniWeb("wire") as web:
        web["wire"].add(T0, 2)
        sources = web.write_sources(tmp_path / "sources.toml")
        db = tmp_path / "archive.db"
        bare = {k: v for k, v in os.environ.items() if k != "MEDIAWATCH_CONTACT"}
        made = subprocess.run([MEDIAWATCH, "schedule", "cron", "--sources", str(sources),
                               "--db", str(db)], capture_output=True, text=True, env=bare,
                              timeout=60)
        assert made.returncode == 0, made.stderr
        (tmp_path / "mediawatch.env").write_text(env_text)
        command = made.stdout.splitlines()[-1].split(" ", 5)[5].replace("\\%", "%")
        cron = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "SHELL": "/bin/sh"}
        ran = subprocess.run(["/bin/sh", "-c", command], env=cron, timeout=300)
        assert ran.returncode == 0
        return (tmp_path / "archive-cron.log").read_text(), web["wire"].user_agents


def test_the_cron_line_as_cron_runs_it_crawls_with_the_contact_from_mediawatch_env(
        tmp_path: Path) -> None:
    """A real crawl by the generated line whose User-Agent names the contact written in
    mediawatch.env beside the archive."""
    log, agents = _cron_run(tmp_path, "MEDIAWATCH_CONTACT=mailto:desk@example.org\n")
    assert "crawl run 1: finished" in log, log[-3000:]
    assert agents and all("mailto:desk@example.org" in a for a in agents), agents


def test_a_mediawatch_env_sh_cannot_read_does_not_stop_the_crawl(tmp_path: Path) -> None:
    """An unclosed quote in mediawatch.env: `.` of it ended cron's shell, so no crawl ran and
    no crawl_runs row said so. The crawl now runs without the file and the log says why."""
    log, agents = _cron_run(tmp_path, 'MEDIAWATCH_CONTACT="mailto:desk@example.org\n')
    assert "crawl run 1: finished" in log, log[-3000:]
    assert "mediawatch.env is not valid sh" in log and "not read" in log
    assert agents and not any("desk@example.org" in a for a in agents), agents


def test_the_lock_makes_a_second_run_skip_instead_of_overlapping(tmp_path: Path) -> None:
    flock = shutil.which("flock")
    assert flock, "util-linux flock is needed by the generated cron line and units"
    lock = tmp_path / "a.db.due.lock"
    with open(lock, "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a run is in progress
        skipped = subprocess.run([flock, "-n", "-E", "0", str(lock), "touch",
                                  str(tmp_path / "ran")], timeout=30)
    assert skipped.returncode == 0 and not (tmp_path / "ran").exists()


def test_systemd_units_verify(tmp_path: Path) -> None:
    out = tmp_path / "units"
    result = run_mediawatch("schedule", "systemd", "--sources", str(tmp_path / "s.toml"),
                            "--db", str(tmp_path / "a.db"), "--every", "20m", "--install",
                            str(out))
    assert result.returncode == 0, result.stderr
    service = (out / "mediawatch.service").read_text()
    timer = (out / "mediawatch.timer").read_text()
    assert "Type=oneshot" in service
    exec_start = next(x for x in service.splitlines() if x.startswith("ExecStart="))
    assert f" -n -E 0 {tmp_path}/a.db.due.lock {MEDIAWATCH} crawl --due " in exec_start
    assert f"WorkingDirectory={tmp_path}" in service
    assert "OnUnitInactiveSec=1200s" in timer and "Unit=mediawatch.service" in timer
    assert "WantedBy=timers.target" in timer
    # Both programs the service runs (flock, then mediawatch) are absolute and executable.
    words = exec_start.removeprefix("ExecStart=").split()
    assert words[0].startswith("/") and os.access(words[0], os.X_OK), words
    assert MEDIAWATCH in words and os.access(MEDIAWATCH, os.X_OK), words
    printed = run_mediawatch("schedule", "systemd", "--every", "1h")
    assert "# --- mediawatch.timer" in printed.stdout and "OnUnitInactiveSec=3600s" in printed.stdout


def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd); "
                    "the units' structure is still checked by test_systemd_units_verify")
    out = tmp_path / "units"
    result = run_mediawatch("schedule", "systemd", "--sources", str(tmp_path / "s.toml"),
                            "--db", str(tmp_path / "a.db"), "--every", "20m", "--install",
                            str(out))
    assert result.returncode == 0, result.stderr
    checked = subprocess.run([analyze, "verify", str(out / "mediawatch.service"),
                              str(out / "mediawatch.timer")], capture_output=True,
                             text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    # The check is real: a unit whose program does not exist is refused.
    service = (out / "mediawatch.service").read_text()
    exec_start = next(x for x in service.splitlines() if x.startswith("ExecStart="))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "mediawatch.service").write_text(
        service.replace(exec_start, "ExecStart=/nonexistent/mediawatch crawl --due"))
    refused = subprocess.run([analyze, "verify", str(bad / "mediawatch.service")],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "/nonexistent/mediawatch" in refused.stderr


def test_loop_runs_cycles_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with MiniWeb("alpha") as web:
        web["alpha"].add(T0 - days(0.5), 2)
        sources = web.write_sources(tmp_path / "sources.toml")
        env = {**os.environ, "MEDIAWATCH_NOW": T0.isoformat()}
        loop = subprocess.Popen([MEDIAWATCH, "schedule", "loop", "--every", "10s", "--sources",
                                 str(sources), "--db", str(db)], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, env=env)
        lines: list[str] = []
        try:
            assert loop.stdout is not None
            for line in loop.stdout:
                lines.append(line)
                if line.startswith("schedule loop: cycle 2: exit"):
                    loop.send_signal(signal.SIGTERM)
            code = loop.wait(timeout=60)
        finally:
            if loop.poll() is None:
                loop.kill()
            loop.wait()
            assert loop.stdout is not None
            loop.stdout.close()
    text = "".join(lines)
    assert code == 0, text
    assert "cycle 1: exit 0" in text and "cycle 2: exit 0" in text
    assert "stopped after 2 cycles" in text
    # The first cycle crawled; the second, at the same (fixed) time, found nothing due.
    assert _q(db, "select count(*) from crawl_runs") == [(1,)]
    assert text.count("nothing is due") == 1 and "due: alpha" in text


@pytest.mark.parametrize("order", ["page first", "listing first"])
def test_a_poll_counts_its_yield_whichever_item_is_stored_first(tmp_path: Path,
                                                                 order: str) -> None:
    from crawler.archive.core import Archive
    from crawler.items import Discovered, FetchedPage, Found
    from crawler.registry.model import parse_registry

    registry = parse_registry({"topic": {"id": "t", "name": "t", "require": [["a"]]},
                               "source": [{"id": "x", "name": "X", "language": "en",
                                           "homepage": "http://127.0.0.1:9/", "country": "AM",
                                           "kind": "private", "poll_min_minutes": 10,
                                           "feeds": ["http://127.0.0.1:9/feed"]}]})
    archive = Archive(tmp_path / "a.db")
    archive.sync_sources(registry)
    feed = "http://127.0.0.1:9/feed"
    try:
        for when, new in (("2026-03-02T06:00:00+00:00", 3), ("2026-03-02T06:10:00+00:00", 0),
                          ("2026-03-02T06:30:00+00:00", 1)):
            page = FetchedPage("x", feed, "feed", "registry", when, status=200, body=b"<rss/>")
            listing = Discovered("x", "feed", feed, when, [
                Found(f"http://127.0.0.1:9/n/{when}/{i}") for i in range(new)])
            for item in ([page, listing] if order == "page first" else [listing, page]):
                if isinstance(item, Discovered):
                    archive.discover(item)
                else:
                    archive.record(item)
        # 3 new: the minimum (10); nothing new: 20; one new: halved back to 10.
        assert archive.db.execute("select poll_minutes, poll_new, next_due from url_state "
                                  "where url = ?", [feed]).fetchall() == [
            (10, 1, "2026-03-02T06:40:00+00:00")]
    finally:
        archive.close()
