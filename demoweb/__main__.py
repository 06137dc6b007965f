"""`python -m demoweb [--write-sources PATH]`: serve the fixture web in the foreground."""

from __future__ import annotations

import argparse
import signal
import threading
from types import FrameType

from demoweb.server import FixtureWeb


def main(argv: list[str] | None = None) -> int:
    """Start every outlet, print its URL, wait for Ctrl-C or SIGTERM, then stop cleanly."""
    parser = argparse.ArgumentParser(prog="python -m demoweb", description=__doc__)
    parser.add_argument("--write-sources", metavar="PATH", help="write a sources.toml here")
    parser.add_argument("--epoch", type=int, default=0, help="content epoch to serve")
    parser.add_argument(
        "--include-hazards",
        action="store_true",
        help="also list the hostile `hazards` outlet in the written sources",
    )
    args = parser.parse_args(argv)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    web = FixtureWeb().start()
    web.set_epoch(args.epoch)
    try:
        for oid, url in web.base_urls.items():
            home = web.sites[oid].outlet.conf["source"]["homepage"]
            print(f"{oid:10} {url}{home}", flush=True)
        if args.write_sources:
            written = web.write_sources(args.write_sources, args.include_hazards)
            print(f"sources written to {written}", flush=True)
        print("serving; Ctrl-C to stop", flush=True)
        while not done.wait(0.5):  # short waits keep signal handling responsive
            pass
    finally:
        web.stop()
    print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
