"""The MCP log: what each server wrote on stderr, and when it started, crashed or hung.

A server's stderr is where it explains itself ("missing API key", a traceback), and the user
has nowhere else to read it: every line goes to ``logs/mcp.log`` in the data directory,
prefixed with the time and the server's name, beside the supervisor's own notes.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

MAX_LOG_BYTES = 2_000_000  # past this the log starts again (the previous one kept as .1)


class McpLog:
    """Appends timestamped lines to one file, from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, server: str, text: str) -> None:
        """One line (or several) attributed to ``server``."""
        stamp = datetime.now().astimezone().isoformat(timespec="seconds")
        lines = "".join(f"{stamp} [{server}] {line}\n" for line in text.splitlines() or [""])
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                if self.path.stat().st_size > MAX_LOG_BYTES:
                    os.replace(self.path, self.path.with_suffix(".log.1"))
            except FileNotFoundError:
                pass
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(lines)

    def read(self) -> str:
        """The whole current log (for tests and a 'show log' action)."""
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""


class StderrPump:
    """A pipe for a server's stderr, read line by line into the log on a daemon thread.

    ``writer`` is the end given to the server process; close it in this process once the
    server has started (:meth:`started`), so that the end of the pipe means the server (and
    anything it left running) has exited, which is how a crash is noticed between calls.
    """

    def __init__(self, log: McpLog, server: str, on_end: Callable[[], None]) -> None:
        read_fd, write_fd = os.pipe()
        self.writer: io.TextIOWrapper = os.fdopen(write_fd, "w", encoding="utf-8")
        self._reader = os.fdopen(read_fd, "r", encoding="utf-8", errors="replace")
        self._log = log
        self._server = server
        self._on_end = on_end
        self._thread = threading.Thread(target=self._pump, name=f"mcp-stderr-{server}", daemon=True)
        self._thread.start()

    def started(self) -> None:
        """Drop this process's copy of the writing end (the server holds its own)."""
        if not self.writer.closed:
            self.writer.close()

    def _pump(self) -> None:
        with self._reader:
            for line in self._reader:
                self._log.write(self._server, line.rstrip("\n"))
        self._on_end()
