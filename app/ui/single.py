"""One running app per data directory, and a way for later launches to talk to it.

The first instance listens on a QLocalServer whose name is derived from the data directory
(so two test homes, or two users, never collide). A later ``callmemaybe`` or
``callmemaybe quick`` connects, sends one command line and exits. After a crash the socket
file stays behind: listening then fails with "address in use" although nobody answers, so the
server tries to connect first and removes the stale name only when that fails.

Commands are single words followed by a newline: ``show`` and ``quick``.
"""

from __future__ import annotations

import hashlib
import os

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from app.paths import data_dir

COMMANDS = ("show", "quick")
CONNECT_MS = 500


def server_name() -> str:
    """The local socket name for this user's data directory."""
    digest = hashlib.sha256(str(data_dir().resolve()).encode("utf-8")).hexdigest()[:16]
    user = os.environ.get("USER") or os.environ.get("USERNAME") or "user"
    return f"callmemaybe-{user}-{digest}"


def send_command(command: str, name: str | None = None, timeout_ms: int = CONNECT_MS) -> bool:
    """Send ``command`` to the running instance; False when none answers.

    Needs no QCoreApplication (a QLocalSocket client works without one), so the CLI can call
    it before deciding whether to start the GUI.
    """
    socket = QLocalSocket()
    socket.connectToServer(name or server_name())
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(f"{command}\n".encode())
    ok = socket.waitForBytesWritten(timeout_ms)
    # the server answers "ok" once it has read the command, so a quick exit loses nothing
    ok = ok and socket.waitForReadyRead(timeout_ms)
    socket.disconnectFromServer()
    return ok


def _answers(name: str) -> bool:
    """Whether a live server owns ``name`` (a stale socket file refuses the connection)."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    alive = socket.waitForConnected(CONNECT_MS)
    socket.abort()
    return alive


class SingleInstance(QObject):
    """The listening side.

    Signals:
        commandReceived(str): another launch sent one of :data:`COMMANDS`.
    """

    commandReceived = Signal(str)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)

    def listen(self) -> bool:
        """Start listening; False when another live instance already owns the name."""
        if self._server.listen(self.name):
            return True
        if _answers(self.name):
            return False
        QLocalServer.removeServer(self.name)  # stale socket left by a crashed instance
        return self._server.listen(self.name)

    def close(self) -> None:
        """Stop listening (the socket file is removed)."""
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)
            if socket.bytesAvailable():
                self._read(socket)

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            command = bytes(socket.readLine().data()).decode("utf-8", "replace").strip()
            socket.write(b"ok\n")
            socket.flush()
            if command in COMMANDS:
                self.commandReceived.emit(command)
