"""Running the installed `mediawatch` and the system programs tests drive, on loopback."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

MEDIAWATCH = str(Path(sys.executable).with_name("mediawatch"))
# Chromium-based browsers must not phone home: this machine's network is closed (and a test
# must send nothing beyond loopback anyway).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def run_mediawatch(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run the installed `mediawatch` console command as a user would."""
    return subprocess.run([MEDIAWATCH, *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, timeout: float = 60) -> None:
    """Poll until a URL answers (a server we started ourselves on loopback)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def system_program(name: str, env_var: str) -> str:
    """A program the tests drive (chromium, redis-server): $env_var, else PATH; or a clear failure."""
    path = os.environ.get(env_var) or shutil.which(name)
    assert path and os.access(path, os.X_OK), (
        f"{name} is missing: `make test` installs it where it can (apt-get, as root); "
        f"otherwise install it (Debian/Ubuntu: apt-get install {name}) or set {env_var}")
    return path
