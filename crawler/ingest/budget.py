"""A CPU-time budget for one page in an extraction worker.

Extraction time grows faster than page size on some markup: trafilatura took 7 s on a
2.3 MB page of 40,000 short paragraphs and 108 s on 11 MB of them (this machine); 50,000
attributes on one tag took 21 s. A hostile or broken outlet can serve such pages one after
another and keep every worker busy for hours. Workers therefore give each page a budget of
CPU seconds (not wall seconds: a busy machine must not fail pages that merely waited for a
core); a page over it is stored as an extraction failure, its capture kept, and the worker
goes on with the next page.

The budget is a profiling interval timer (user + system CPU of the process) whose signal
raises OverBudget in the worker's main thread, where the pool runs its jobs. OverBudget is a
BaseException so that no library's `except Exception` swallows it halfway; and as Python
ignores an exception raised while a finalizer runs (a `__del__` that the garbage collector
happened to call at that moment: seen with the regex module's patterns), the timer fires
again every REPEAT seconds of CPU until the exception gets through.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# A page's budget unless the caller says otherwise (the crawl's MEDIAWATCH_EXTRACT_CPU_SECONDS):
# about a thousand times what a news page costs, far beyond any real article's.
PAGE_CPU_SECONDS = 60.0
REPEAT = 0.05


class OverBudget(BaseException):
    """The page used more CPU than its budget."""


@contextmanager
def cpu_budget(seconds: float) -> Iterator[None]:
    """Raise OverBudget in the block once this process has used `seconds` more of CPU.

    No budget (the block runs to its end) for `seconds` <= 0, outside the main thread, or
    where there are no interval timers (Windows)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread() \
            or not hasattr(signal, "setitimer"):
        yield
        return

    def over(signum: int, frame: FrameType | None) -> None:
        raise OverBudget(f"extraction used more than {seconds:g} s of CPU")

    previous = signal.signal(signal.SIGPROF, over)
    signal.setitimer(signal.ITIMER_PROF, seconds, REPEAT)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)
