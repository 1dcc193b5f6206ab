"""Bounds on expanding a recurrence, so a hostile or broken .ics cannot hang the app.

A recurrence rule is a small text that can stand for an enormous amount of work: an endless
``FREQ=SECONDLY`` rule is tens of millions of occurrences a year, and a rule whose filters never
match (``FREQ=HOURLY;BYSETPOS=5;BYHOUR=1``) makes dateutil walk every period up to the year
9999 looking for one, for a minute or more, without yielding anything. recurring-ical-events
asks dateutil for a whole range at once (a list), so neither can be stopped by reading fewer
results. Two limits therefore apply to every expansion:

* :data:`MAX_OCCURRENCES` occurrences of one event in the span expanded (the index keeps the
  occurrences of the past three years and the next one, about four years);
* :data:`EXPANSION_SECONDS` of work per expansion, enforced by a profile hook on the calling
  thread that stops dateutil's pure-Python loop at its next function call once the time is up.

An event over either limit is refused with a sentence; nothing is stored.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

MAX_OCCURRENCES = 10_000
"""Occurrences one event may have in one expansion (a daily event over the index's four-year
window has about 1,500; an hourly one, about 35,000, is refused)."""
EXPANSION_SECONDS = 2.0
"""Work one expansion may take; an ordinary series takes a few milliseconds."""


class ExpansionTimeout(BaseException):  # a signal, not an error a caller handles
    """Raised inside the expansion when its time is up.

    A BaseException so that no ``except Exception`` inside the libraries swallows it (the
    profile hook is removed once it raises, so a swallowed one would lift the limit).
    """


@contextmanager
def time_limit(seconds: float | None = None) -> Iterator[None]:
    """Stop the code run inside after ``seconds`` (default :data:`EXPANSION_SECONDS`).

    Raises:
        ExpansionTimeout: the time was up at a Python function call inside the block.
    """
    deadline = time.monotonic() + (EXPANSION_SECONDS if seconds is None else seconds)
    previous = sys.getprofile()

    def check(_frame: FrameType, event: str, _arg: Any) -> None:
        if event == "call" and time.monotonic() > deadline:
            raise ExpansionTimeout

    sys.setprofile(check)
    try:
        yield
    finally:
        sys.setprofile(previous)
