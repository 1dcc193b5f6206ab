"""Keeping the configured MCP servers running, and calling their tools from plain threads.

Each server gets a task on the MCP event-loop thread that connects (starting the program, or
opening the URL), lists its tools, publishes them to the registry, and then waits for the
connection to end. A server that exits or cannot be reached is started again after a pause
that doubles each time (1 s, 2 s, 4 s ... at most a minute) and resets once it has stayed up;
every start, exit and restart goes to the MCP log with the server's own stderr.

A tool call waits at most the server's ``timeout_seconds``; a server that does not answer is
reported as hung (the turn goes on with that error) and is left running, since a slow tool is
not a dead server.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from mcp import Client, MCPError, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CONNECTION_CLOSED, CallToolResult, Implementation, Tool

from app import __version__
from app.mcp.config import McpServer
from app.mcp.errors import McpError, McpTimeoutError, McpToolError, McpUnavailableError
from app.mcp.log import McpLog, StderrPump
from app.mcp.loop import LoopThread
from app.mcp.tools import McpToolSync
from connectors.registry import Registry

CONNECT_SECONDS = 30.0  # starting a server and listing its tools
STABLE_SECONDS = 60.0  # up this long, a server's next restart waits the shortest pause again
MAX_PAGES = 100  # tool-list pages read from one server (a paginator that never ends)

Publish = Callable[[str, list[Tool]], None]


@dataclass(frozen=True)
class Backoff:
    """Pauses between restarts: ``first`` seconds, doubling up to ``longest``."""

    first: float = 1.0
    longest: float = 60.0


@dataclass(frozen=True)
class ServerStatus:
    """How a server is doing, for the settings dialog and the CLI.

    Attributes:
        state: "starting", "running", "restarting" or "stopped".
        detail: the last problem, or how many tools it offers.
        restarts: how many times it was started again after a failure.
    """

    state: str
    detail: str
    restarts: int


class ServerConnection:
    """One server's life on the loop: connect, publish tools, wait, restart."""

    def __init__(
        self, name: str, config: McpServer, log: McpLog, publish: Publish, backoff: Backoff
    ) -> None:
        self.name = name
        self.config = config
        self.log = log
        self.publish = publish
        self.backoff = backoff
        self.state = "starting"
        self.detail = ""
        self.restarts = 0
        self.first_outcome = threading.Event()  # set once it connected or failed the first time
        self._client: Client | None = None
        self._ended: asyncio.Event | None = None
        self._stop = asyncio.Event()

    def status(self) -> ServerStatus:
        return ServerStatus(self.state, self.detail, self.restarts)

    async def run(self) -> None:
        """Connect and reconnect until :meth:`stop`."""
        loop = asyncio.get_running_loop()
        pause = self.backoff.first
        while not self._stop.is_set():
            began = loop.time()
            try:
                await self._connect_and_wait()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.detail = _describe(exc)
                self.log.write(self.name, f"(call-me-maybe) failed: {self.detail}")
            finally:
                self._client = None
                self.first_outcome.set()
            if self._stop.is_set():
                break
            if loop.time() - began > STABLE_SECONDS:
                pause = self.backoff.first
            self.state = "restarting"
            self.restarts += 1
            self.log.write(self.name, f"(call-me-maybe) starting again in {pause:g} s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), pause)
            pause = min(pause * 2, self.backoff.longest)
        self.state = "stopped"

    async def stop(self) -> None:
        self._stop.set()

    async def _connect_and_wait(self) -> None:
        loop = asyncio.get_running_loop()
        ended = asyncio.Event()
        self._ended = ended

        def end() -> None:
            with contextlib.suppress(RuntimeError):  # the loop is already closed: nothing waits
                loop.call_soon_threadsafe(ended.set)

        pump: StderrPump | None = None
        if self.config.command:
            pump = StderrPump(self.log, self.name, end)
            params = StdioServerParameters(
                command=self.config.command,
                args=self.config.args,
                env=self.config.env or None,
                cwd=self.config.cwd,
            )
            transport: Any = stdio_client(params, errlog=pump.writer)
            self.log.write(self.name, f"(call-me-maybe) starting {self.config.command}")
        else:
            assert self.config.url is not None
            transport = streamable_http_client(self.config.url)
            self.log.write(self.name, f"(call-me-maybe) connecting to {self.config.url}")
        try:
            async with contextlib.AsyncExitStack() as stack:
                async with asyncio.timeout(CONNECT_SECONDS):
                    client = await stack.enter_async_context(
                        Client(
                            transport,
                            client_info=Implementation(name="call-me-maybe", version=__version__),
                        )
                    )
                    if pump is not None:
                        pump.started()
                    tools = await _list_tools(client)
                self.publish(self.name, tools)
                self._client = client
                self.state = "running"
                self.detail = f"{len(tools)} tools"
                self.first_outcome.set()
                self.log.write(self.name, f"(call-me-maybe) running, {len(tools)} tools")
                stop = asyncio.ensure_future(self._stop.wait())
                gone = asyncio.ensure_future(ended.wait())
                try:
                    await asyncio.wait({stop, gone}, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stop.cancel()
                    gone.cancel()
                self._client = None
                if not self._stop.is_set():
                    raise McpUnavailableError("the server exited or the connection ended")
        finally:
            if pump is not None:
                pump.started()

    async def call(self, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Call ``tool``; every failure becomes an :class:`McpError` that says what happened."""
        client = self._client
        if client is None:
            raise McpUnavailableError(
                f"the MCP server {self.name!r} is not running ({self.state}"
                + (f": {self.detail}" if self.detail else "")
                + "); try again later"
            )
        timeout = self.config.timeout_seconds
        try:
            async with asyncio.timeout(timeout):
                return await client.call_tool(tool, arguments)
        except TimeoutError:
            self.log.write(self.name, f"(call-me-maybe) {tool} did not answer within {timeout:g} s")
            raise McpTimeoutError(
                f"the MCP server {self.name!r} did not answer {tool} within {timeout:g} s; "
                "whether it did anything is unknown"
            ) from None
        except MCPError as exc:
            if exc.code == CONNECTION_CLOSED:
                self._client = None
                self.state = "restarting"
                if self._ended is not None:
                    self._ended.set()
                raise McpUnavailableError(
                    f"the MCP server {self.name!r} closed the connection during {tool}; "
                    "it is being started again"
                ) from None
            raise McpToolError(f"the MCP server {self.name!r} refused {tool}: {exc}") from None
        except Exception as exc:
            if self.config.url and self._ended is not None:
                self._ended.set()  # an HTTP server gone or restarted: connect again
            raise McpError(
                f"calling {tool} on the MCP server {self.name!r} failed: {_describe(exc)}"
            ) from None


async def _list_tools(client: Client) -> list[Tool]:
    tools: list[Tool] = []
    cursor: str | None = None
    for _ in range(MAX_PAGES):
        page = await client.list_tools(cursor=cursor)
        tools.extend(page.tools)
        cursor = page.next_cursor
        if not cursor:
            break
    return tools


def _describe(exc: BaseException) -> str:
    """One line for an exception, looking inside the task groups the SDK raises from."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc) or type(exc).__name__
    if isinstance(exc, FileNotFoundError) and exc.filename:
        text = f"no program {exc.filename!r} was found"
    return text


class McpSupervisor:
    """The configured servers, their tools in ``registry``, and blocking calls for the turn."""

    def __init__(
        self,
        servers: Mapping[str, McpServer],
        registry: Registry,
        log: McpLog,
        *,
        backoff: Backoff | None = None,
    ) -> None:
        self.registry = registry
        self.log = log
        self._sync = McpToolSync(registry, self.call, log)
        self._connections = {
            name: ServerConnection(name, config, log, self._sync.publish, backoff or Backoff())
            for name, config in servers.items()
            if not config.disabled
        }
        self._loop: LoopThread | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def start(self, wait: float = 0.0) -> None:
        """Start every server; with ``wait``, block until each connected or failed once
        (at most ``wait`` seconds in all), so a one-shot command sees their tools."""
        if self._loop is not None or not self._connections:
            return
        self._loop = LoopThread()
        self._loop.run(self._start_all())
        if wait > 0:
            self.wait_ready(wait)

    async def _start_all(self) -> None:
        self._tasks = [asyncio.ensure_future(c.run()) for c in self._connections.values()]

    def wait_ready(self, timeout: float) -> bool:
        """Wait until every server connected or failed once; False when time ran out."""
        deadline = time.monotonic() + timeout
        for connection in self._connections.values():
            if not connection.first_outcome.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def status(self) -> dict[str, ServerStatus]:
        """Each configured (and enabled) server's state."""
        return {name: c.status() for name, c in self._connections.items()}

    def call(self, server: str, tool: str, arguments: dict[str, Any]) -> CallToolResult:
        """Call a tool of ``server`` and wait for the answer.

        Raises:
            McpError: not running, timed out, refused or failed (the message says which).
        """
        connection = self._connections.get(server)
        if connection is None or self._loop is None:
            raise McpUnavailableError(f"the MCP server {server!r} is not running")
        try:
            # The connection's own timeout answers first; this one only guards the loop.
            return self._loop.run(
                connection.call(tool, arguments), connection.config.timeout_seconds + 10
            )
        except TimeoutError:
            raise McpTimeoutError(f"the MCP server {server!r} did not answer {tool}") from None

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every server (their programs end) and take their tools out of the registry."""
        if self._loop is None:
            return
        with contextlib.suppress(TimeoutError):
            self._loop.run(self._stop_all(), timeout)
        self._loop.close()
        self._loop = None
        self._sync.remove_all()

    async def _stop_all(self) -> None:
        for connection in self._connections.values():
            await connection.stop()
        await asyncio.gather(*self._tasks, return_exceptions=True)
