"""The assistant's tool prefixes, computed in the background so no user waits for a cold one.

Every request's prompt starts with the instructions and the tools offered for it (whole
connectors, picked by :func:`app.tool_selection.select_groups`). Reading that prefix costs
10-25 s on a 2-core laptop the first time; afterwards the backend restores it from its disk
cache in a fraction of a second. So when a model is loaded (at first start, after a model change)
and when the tools change, the prefixes of the tool sets the assistant will offer are computed
here, one after the other, in a thread at the lowest priority: the window stays responsive, and
a user's first request of each kind is as fast as later ones.

A request that comes in meanwhile waits at most for the prefix being computed (the backend runs
one thing at a time); the warm-up stops between prefixes when asked to.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import threading
from collections.abc import Callable, Sequence

from app.prompt import INSTRUCTIONS
from app.tool_selection import group_of
from backends.base import Backend
from backends.schema import ToolSpec

WARMUP_NICE = 19
"""The warm-up thread's nice value on Linux (inherited by the compute threads it starts)."""


def tool_sets(specs: Sequence[ToolSpec], limit: int) -> list[list[ToolSpec]]:
    """The tool lists the assistant offers most: all tools when they fit in ``limit`` (or
    ``limit`` is 0), else each connector alone, in the order select_groups keeps them."""
    if not limit or len(specs) <= limit:
        return [list(specs)] if specs else []
    groups: dict[str, list[ToolSpec]] = {}
    for spec in specs:
        groups.setdefault(group_of(spec), []).append(spec)
    return [members for members in groups.values() if len(members) <= limit]


def warm_prefixes(
    backend: Backend,
    sets: Sequence[Sequence[ToolSpec]],
    *,
    system: str = INSTRUCTIONS,
    stop: threading.Event | None = None,
) -> int:
    """Compute (or find on disk) the prefix of each tool list; returns how many were done."""
    done = 0
    for tools in sets:
        if stop is not None and stop.is_set():
            break
        backend.warm_prefix([{"role": "system", "content": system}], tools)
        done += 1
    return done


def _lowest_priority() -> None:
    """Lowest priority for this thread and the compute threads it starts, under its own name
    (a Linux thread inherits its creator's name, here the assistant worker's)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):  # a sandbox that forbids it: keep the default
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WARMUP_NICE)
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_NAME, b"prefix-warmup", 0, 0, 0)


_PR_SET_NAME = 15


class PrefixWarmup:
    """Warms the prefixes for the current tools in a background thread, again when they change.

    Args:
        backend: the loaded model.
        specs: the tools the assistant offers now (read when a warm-up starts).
        limit: the assistant's tool limit per request.
        system: the assistant's instructions (the first system message of every prompt).
        delay_s: how long a warm-up waits before its first prefix, so that starting the app
            (and a user's very first request) comes first.
    """

    def __init__(
        self,
        backend: Backend,
        specs: Callable[[], Sequence[ToolSpec]],
        limit: int,
        *,
        system: str = INSTRUCTIONS,
        delay_s: float = 10.0,
    ) -> None:
        self.backend = backend
        self.system = system
        self.delay_s = delay_s
        self.specs = specs
        self.limit = limit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._warmed: list[list[str]] = []
        self._running: list[list[str]] | None = None

    def start(self) -> None:
        """Start warming the current tool sets (after a model load or a tool change); cheap
        and without effect when they are warm or being warmed already. Never waits: an older
        warm-up for other tools ends after its current prefix."""
        sets = tool_sets(self.specs(), self.limit)
        names = [[t.name for t in tools] for tools in sets]
        if names in (self._warmed, self._running):
            return
        self._stop.set()
        self._stop = threading.Event()
        self._running = names
        self._thread = threading.Thread(
            target=self._run, args=(sets, names, self._stop), name="prefix-warmup", daemon=True
        )
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the warm-up to end; returns whether it did."""
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def stop(self, timeout: float | None = None) -> None:
        """Stop after the prefix being computed; wait up to ``timeout`` seconds for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(
        self, sets: list[list[ToolSpec]], names: list[list[str]], stop: threading.Event
    ) -> None:
        _lowest_priority()
        try:
            if stop.wait(self.delay_s):
                return
            if warm_prefixes(self.backend, sets, system=self.system, stop=stop) == len(sets):
                self._warmed = names
        except Exception:  # a cache warm-up must never take the app down
            logging.getLogger(__name__).warning("tool prefix warm-up failed", exc_info=True)
        finally:
            if self._running is names:
                self._running = None
