"""The assistant's tool prefixes, computed in the background so no user waits for a cold one.

Every request's prompt starts with the instructions and the tools offered for it (whole
connectors, picked by :func:`app.tool_selection.select_groups`). Reading that prefix costs
10-25 s on a 2-core laptop the first time; afterwards the backend restores it from its disk
cache in a fraction of a second. So when a model is loaded (at first start, after a model change)
and when the tools change, the prefixes of the tool sets the assistant will offer are computed
here, one after the other, in a thread at the lowest priority: the window stays responsive, and
a user's first request of each kind is as fast as later ones.

The warm-up gives way to the user: it starts a prefix only when no turn is running and none
ended in the last :data:`QUIET_S` seconds (:class:`ModelUse`). Measured with bench/ui.py on 2
cores, prefixes computed between a turn's model calls stretched the window's worst stall from
39 ms to 51-60 ms (the warm-up competes for the cores and the GIL; a nice-19 thread preempted
while it holds the GIL keeps the window's thread waiting) and made the turn wait for them (the
backend runs one thing at a time): a second request took 49 s instead of 28 s. A request that
comes in while a prefix is being computed still waits for that one prefix; the warm-up stops
between prefixes when asked to.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence

from app.policy import pipeline
from app.policy.decision import routing_prompt
from app.prompt import system_prompt
from app.tool_selection import group_of
from backends.base import Backend
from backends.schema import ToolSpec

WARMUP_NICE = 19
"""The warm-up thread's nice value on Linux (inherited by the compute threads it starts)."""

START_DELAY_S = 10.0
"""How long a warm-up waits after it is started (at model load) before anything else: starting
the app, and a user's very first request, come first."""

QUIET_S = 10.0
"""How long the model must have been unused before the warm-up starts a prefix: a user reading an
answer often sends the next request within seconds, and a prefix already started (10-25 s on
2 cores) makes that request wait for it."""

_log = logging.getLogger(__name__)


class ModelUse:
    """Whether a user's turn is using the model now, and since when it has not been.

    The front end marks each turn (:meth:`begin` when it is sent, :meth:`end` when it is over,
    from any thread); background work asks :meth:`wait_idle` before each step. Turns may overlap
    (they are counted).
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._turns = 0
        self._last_end = float("-inf")

    def begin(self) -> None:
        """A turn starts (or is queued) now."""
        with self._changed:
            self._turns += 1
            self._changed.notify_all()

    def end(self) -> None:
        """A turn is over (answered, stopped or failed)."""
        with self._changed:
            self._turns = max(0, self._turns - 1)
            self._last_end = time.monotonic()
            self._changed.notify_all()

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """Mark the body as a turn, however it ends."""
        self.begin()
        try:
            yield
        finally:
            self.end()

    def wake(self) -> None:
        """Wake :meth:`wait_idle` callers so they look at their stop event again."""
        with self._changed:
            self._changed.notify_all()

    def wait_idle(self, quiet_s: float, stop: threading.Event) -> bool:
        """Block until no turn runs and none ended in the last ``quiet_s`` seconds.

        Returns:
            True when idle; False when ``stop`` was set first (see :meth:`wake`).
        """
        with self._changed:
            while not stop.is_set():
                left = None
                if self._turns == 0:
                    left = self._last_end + quiet_s - time.monotonic()
                    if left <= 0:
                        return True
                self._changed.wait(left)
            return False


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
    system: str | None = None,
    stop: threading.Event | None = None,
    ready: Callable[[], bool] | None = None,
) -> int:
    """Compute (or find on disk) the prefix of each tool list; returns how many were done.

    Args:
        system: the first system message (default: the assistant's own for each tool list,
            :func:`app.prompt.system_prompt`).
        stop: set to stop before the next prefix.
        ready: called before each prefix; may wait (for the user to leave the model alone);
            False stops.
    """
    done = 0
    for tools in sets:
        if stop is not None and stop.is_set():
            break
        if ready is not None and not ready():
            break
        names = ", ".join(t.name for t in tools)
        _log.debug("computing the tool prefix for %s", names)
        text = system if system is not None else system_prompt(t.name for t in tools)
        seconds = backend.warm_prefix([{"role": "system", "content": text}], tools)
        _log.debug("tool prefix for %s ready in %.2f s", names, seconds)
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
            (and a user's very first request) comes first (default :data:`START_DELAY_S`).
        use: the front end's record of the user's turns; no prefix starts while a turn runs or
            within ``quiet_s`` seconds of one (default: a record of no turns).
        quiet_s: see ``use`` (default :data:`QUIET_S`).
    """

    def __init__(
        self,
        backend: Backend,
        specs: Callable[[], Sequence[ToolSpec]],
        limit: int,
        *,
        system: str | None = None,
        delay_s: float | None = None,
        use: ModelUse | None = None,
        quiet_s: float | None = None,
    ) -> None:
        self.backend = backend
        self.system = system
        self.delay_s = START_DELAY_S if delay_s is None else delay_s
        self.use = use if use is not None else ModelUse()
        self.quiet_s = QUIET_S if quiet_s is None else quiet_s
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
        self.use.wake()
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
        self.use.wake()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(
        self, sets: list[list[ToolSpec]], names: list[list[str]], stop: threading.Event
    ) -> None:
        _lowest_priority()
        try:
            if stop.wait(self.delay_s):
                return
            done = warm_prefixes(
                self.backend,
                sets,
                system=self.system,
                stop=stop,
                ready=lambda: self.use.wait_idle(self.quiet_s, stop),
            )
            if done == len(sets):
                self._warmed = names
                specs = list(self.specs())
                ready = self.use.wait_idle(self.quiet_s, stop)
                if specs and ready and pipeline.enabled("route") and self.system is None:
                    # the route pass's prompt (app.policy.decision): every request reads it
                    routing = [{"role": "system", "content": routing_prompt(specs)}]
                    self.backend.warm_prefix(routing, None)
        except Exception:  # a cache warm-up must never take the app down
            _log.warning("tool prefix warm-up failed", exc_info=True)
        finally:
            if self._running is names:
                self._running = None
