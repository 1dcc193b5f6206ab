"""The MCP servers the client's tests start: the real ``mcp-server-time`` and our notebook."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from app.mcp.config import McpServer

ROOT = Path(__file__).resolve().parents[3]


def time_server() -> McpServer:
    """The ``mcp-server-time`` package (a dev dependency), run by this Python."""
    return McpServer(
        command=sys.executable, args=["-m", "mcp_server_time", "--local-timezone", "Europe/Paris"]
    )


def notebook_server(notebook: Path, timeout: float = 2.0) -> McpServer:
    """tests/mcp_servers/notebook.py writing to ``notebook``; calls time out after ``timeout``."""
    return McpServer(
        command=sys.executable,
        args=["-m", "tests.mcp_servers.notebook", str(notebook)],
        cwd=str(ROOT),
        timeout_seconds=timeout,
    )


def wait_until(check: Callable[[], bool], seconds: float = 30.0) -> None:
    """Poll ``check`` until it holds; fail the test if it never does."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still not true after {seconds} s: {check}")
        time.sleep(0.05)
