"""One model, one generation at a time, a bounded line of requests waiting for it.

The model holds one KV cache (and, on a laptop, every core): generations run one after
another on a single worker thread, in arrival order, which also keeps the system-and-tools
prefix of the last request in the cache for the next one with the same tools. Requests beyond
``max_queue`` waiting are refused at once (:class:`QueueFull`, a 429 with ``Retry-After``)
rather than left to time out. A request whose client went away is cancelled: skipped if it
had not started, stopped at the next token if it had (the backend's
:class:`~backends.base.CancelToken`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.serve.translate import Plan
from backends.base import Backend, CancelToken
from backends.errors import GenerationCancelled
from backends.generation import GenerationEvent

_DONE = object()


class QueueFull(Exception):
    """More requests are waiting than the server accepts.

    Attributes:
        retry_after: seconds after which a retry is likely to be admitted.
    """

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"the server is busy; retry in {retry_after} s")
        self.retry_after = retry_after


class PromptTooLong(Exception):
    """The rendered prompt is longer than the server accepts."""


class ModelWorker:
    """Runs generations on one thread, admitting at most ``max_queue`` waiting requests.

    Args:
        backend: the loaded model.
        max_queue: requests that may wait while one runs.
        max_prompt_tokens: longest prompt accepted (tools and conversation rendered).
    """

    def __init__(self, backend: Backend, *, max_queue: int, max_prompt_tokens: int) -> None:
        self.backend = backend
        self.max_queue = max_queue
        self.max_prompt_tokens = max_prompt_tokens
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._admitted = 0  # running plus waiting; touched only on the event loop
        self._seconds = 1.0  # running mean of a generation's duration, for Retry-After
        self._lock = threading.Lock()
        self.cancelled = 0  # generations stopped or skipped because their client left

    @property
    def admitted(self) -> int:
        """Requests running or waiting now."""
        return self._admitted

    def close(self) -> None:
        """Stop taking work; let the running generation end."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _retry_after(self) -> int:
        with self._lock:
            seconds = self._seconds
        return max(1, math.ceil(seconds * self._admitted))

    def submit(self, plan: Plan, cancel: CancelToken) -> AsyncIterator[Any]:
        """Queue ``plan``; iterate the result for its events, then ``None`` at the end.

        Exceptions the generation raises come out of the iteration. Must be called on the
        event loop.

        Raises:
            QueueFull: ``max_queue`` requests wait already.
        """
        if self._admitted > self.max_queue:
            raise QueueFull(self._retry_after())
        self._admitted += 1
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server stopped
                loop.call_soon_threadsafe(queue.put_nowait, item)

        future = loop.run_in_executor(self._executor, self._generate, plan, cancel, put)
        future.add_done_callback(lambda _f: self._release())
        return _drain(queue)

    def _release(self) -> None:
        self._admitted -= 1

    def _generate(self, plan: Plan, cancel: CancelToken, put: Callable[[Any], None]) -> None:
        started = time.perf_counter()
        try:
            if cancel.cancelled:
                raise GenerationCancelled("the client left before its turn")
            prompt = self.backend.tokenize(self.backend.render(plan.messages, plan.tools))
            if len(prompt) > self.max_prompt_tokens:
                raise PromptTooLong(
                    f"the prompt has {len(prompt)} tokens; this server accepts at most "
                    f"{self.max_prompt_tokens}"
                )
            event: GenerationEvent
            for event in self.backend.stream(
                plan.messages, plan.tools, options=plan.options, cancel=cancel
            ):
                put(event)
        except GenerationCancelled as exc:
            with self._lock:
                self.cancelled += 1
            put(exc)
        except Exception as exc:  # handed to the request, which answers with it
            put(exc)
        finally:
            put(_DONE)
            with self._lock:
                self._seconds = 0.7 * self._seconds + 0.3 * (time.perf_counter() - started)


async def _drain(queue: asyncio.Queue[Any]) -> AsyncIterator[Any]:
    while True:
        item = await queue.get()
        if item is _DONE:
            return
        if isinstance(item, BaseException):
            raise item
        yield item


async def watch_disconnect(
    is_disconnected: Callable[[], Awaitable[bool]], cancel: CancelToken, every: float = 0.2
) -> None:
    """Cancel the generation as soon as the client has gone (run as a task beside it)."""
    while not cancel.cancelled:
        if await is_disconnected():
            cancel.cancel()
            return
        await asyncio.sleep(every)
