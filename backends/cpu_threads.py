"""How many threads to decode with: the cores that are idle when the model loads.

llama.cpp's threads meet at a barrier after every matrix product, so one thread that shares its
core with another busy process holds all the others back; on a busy 2-core laptop one thread
often decodes faster than two. The count is read from the machine's load over a short window
when the model loads (a setting overrides it).
"""

from __future__ import annotations

from collections.abc import Sequence

MOST_THREADS = 4
"""More rarely helps a 0.5B model: its decoding is bound by memory bandwidth."""
WINDOW_S = 0.25
"""How long the load is measured: long enough to see a busy process, short enough for start-up."""


def threads_for(busy_percent: Sequence[float], physical: int, most: int = MOST_THREADS) -> int:
    """Threads for the idle share of the cores.

    Args:
        busy_percent: each logical core's use over the window, 0-100.
        physical: physical cores (hyper-threads share a core's arithmetic units).
        most: the upper bound.
    """
    idle = sum(max(0.0, 100.0 - b) for b in busy_percent) / 100.0
    return max(1, min(most, physical, int(idle + 0.5)))


def idle_threads(window_s: float = WINDOW_S) -> int:
    """Threads for the cores idle now, measured over ``window_s`` seconds."""
    import psutil

    busy = psutil.cpu_percent(interval=window_s, percpu=True)
    physical = psutil.cpu_count(logical=False) or len(busy) or 1
    return threads_for(busy, physical)
