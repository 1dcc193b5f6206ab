"""A local stand-in for a Hugging Face hub, so download tests never touch the network.

It answers the two calls huggingface_hub 2.4.0 makes to fetch one file: ``HEAD`` and ``GET``
on ``/{owner}/{repo}/resolve/{revision}/{filename}``, with the headers the client insists on
(``ETag`` and ``X-Linked-Etag``/``X-Linked-Size`` as for an LFS file, ``X-Repo-Commit``,
``Content-Length``), ``Range`` requests for resuming, and the hub's ``X-Error-Code`` on a 404
so the client raises the same errors it would against the real hub. Files are registered by
the test. It can cut the connection after a number of bytes, once, to test resuming, and it
records every request and the bytes it sent.

The server speaks HTTP/1.0 (one request per connection), so no connection outlives a request
and stopping it leaves no thread or socket behind.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

import pytest

_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<file>.+)$")
_RANGE = re.compile(r"^bytes=(\d+)-$")
_SLICE = 64 * 1024


@dataclass(frozen=True)
class HubFile:
    """A file as the hub serves it."""

    data: bytes
    commit: str
    sha256: str  # what X-Linked-Etag claims; differs from the data's hash to fake corruption
    lfs: bool  # False: a plain git file, identified by its git blob sha1 in ETag alone


@dataclass(frozen=True)
class SeenRequest:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]


@dataclass
class HubServer:
    """Serves registered files on 127.0.0.1 from a background thread."""

    files: dict[tuple[str, str, str], HubFile] = field(default_factory=dict)
    requests: list[SeenRequest] = field(default_factory=list)
    bytes_served: int = 0
    drop_after: int | None = None  # cut the next GET's body after this many bytes
    honour_range: bool = True  # False: answer 200 with the whole file, as some CDNs do
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the server is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_file(
        self,
        repo_id: str,
        filename: str,
        data: bytes,
        revision: str = "main",
        claimed_sha256: str | None = None,
        lfs: bool = True,
    ) -> HubFile:
        """Serve ``data`` as ``filename`` in ``repo_id`` at ``revision``."""
        commit = hashlib.sha1(repo_id.encode() + revision.encode()).hexdigest()
        sha256 = claimed_sha256 or hashlib.sha256(data).hexdigest()
        hub_file = HubFile(data=data, commit=commit, sha256=sha256, lfs=lfs)
        self.files[(repo_id, revision, filename)] = hub_file
        return hub_file

    def gets(self) -> list[SeenRequest]:
        """The GET requests received, in order."""
        return [request for request in self.requests if request.method == "GET"]

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="hub-server"
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        self._server.shutdown()
        self._server.server_close()  # joins the request threads
        self._thread.join()
        self._server = self._thread = None

    def lookup(self, repo_id: str, revision: str, filename: str) -> tuple[HubFile | None, str]:
        """The file, or the hub's error code for why there is none."""
        hub_file = self.files.get((repo_id, revision, filename))
        if hub_file is not None:
            return hub_file, ""
        if not any(key[0] == repo_id for key in self.files):
            return None, "RepoNotFound"
        if not any(key[:2] == (repo_id, revision) for key in self.files):
            return None, "RevisionNotFound"
        return None, "EntryNotFound"

    def take_drop_after(self) -> int | None:
        with self._lock:
            limit, self.drop_after = self.drop_after, None
        return limit

    def record(self, request: SeenRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def count_sent(self, size: int) -> None:
        with self._lock:
            self.bytes_served += size


def _handler_for(hub: HubServer) -> type[BaseHTTPRequestHandler]:
    class Handler(_HubHandler):
        server_state = hub

    return Handler


class _HubHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    server_state: HubServer

    def log_message(self, format: str, *args: object) -> None:
        """Keep test output quiet."""

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def _answer(self, send_body: bool) -> None:
        hub = self.server_state
        hub.record(SeenRequest(self.command, self.path, dict(self.headers.items())))
        match = _RESOLVE.match(self.path.split("?", 1)[0])
        if match is None:
            self._error(404, "")
            return
        repo_id, revision = match["repo"], unquote(match["rev"])
        hub_file, code = hub.lookup(repo_id, revision, unquote(match["file"]))
        if hub_file is None:
            self._error(404, code)
            return
        start = self._range_start(len(hub_file.data))
        if start is None:
            return
        self._send_headers(hub_file, start)
        if send_body:
            self._send_body(hub_file.data[start:], hub.take_drop_after())

    def _range_start(self, size: int) -> int | None:
        """Where the body starts (0 without a Range header); None after answering 416."""
        header = self.headers.get("Range")
        if header is None or not self.server_state.honour_range:
            return 0
        match = _RANGE.match(header)
        if match is None or int(match[1]) >= size:
            self.send_response(416)
            self.send_header("Content-Range", f"bytes */{size}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        return int(match[1])

    def _send_headers(self, hub_file: HubFile, start: int) -> None:
        size = len(hub_file.data)
        git_sha1 = hashlib.sha1(b"blob %d\0" % size + hub_file.data).hexdigest()
        self.send_response(206 if start else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        if start:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{git_sha1}"')
        if hub_file.lfs:
            self.send_header("X-Linked-Etag", f'"{hub_file.sha256}"')
            self.send_header("X-Linked-Size", str(size))
        self.send_header("X-Repo-Commit", hub_file.commit)
        self.end_headers()

    def _send_body(self, body: bytes, limit: int | None) -> None:
        """Write the body in slices, stopping early (a dropped connection) after ``limit``."""
        end = len(body) if limit is None else min(limit, len(body))
        try:
            for offset in range(0, end, _SLICE):
                piece = body[offset : min(offset + _SLICE, end)]
                self.wfile.write(piece)
                self.server_state.count_sent(len(piece))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client went away (a cancelled download): nothing to clean up
        self.close_connection = True

    def _error(self, status: int, code: str) -> None:
        body = b'{"error": "not found"}'
        self.send_response(status)
        if code:
            self.send_header("X-Error-Code", code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


@contextmanager
def serve_hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    """Run a hub stand-in and point huggingface_hub at it, after it was imported.

    Sets ``HF_ENDPOINT`` (which huggingface_hub froze at import: the code under test must read
    it again), clears offline mode, keeps proxies away from 127.0.0.1 and closes
    huggingface_hub's shared HTTP client before and after, so it is built with this
    environment and no pooled socket outlives the test.
    """
    from huggingface_hub import close_session, constants

    server = HubServer()
    server.start()
    try:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
        monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
        close_session()
        yield server
    finally:
        close_session()
        server.stop()
