"""Without a keyring, the terminal asks for the store's passphrase (twice for a new store).

Run through a real pseudo-terminal: the ``callmemaybe`` command in a child process whose
controlling terminal is the pty, with the keyring backend forced to "none" and no
``CALLMEMAYBE_PASSPHRASE``. Before, it only said to set the environment variable.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs a POSIX terminal")


def _read_until(fd: int, wanted: bytes, seen: bytearray, start: int, timeout: float = 60.0) -> int:
    """Read until ``wanted`` shows after ``start``; returns where it ends."""
    end = time.monotonic() + timeout
    while wanted not in seen[start:]:
        left = end - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        try:
            chunk = os.read(fd, 4096) if ready else b""
        except OSError:  # the child closed the terminal
            chunk = b""
        if not chunk:
            raise AssertionError(f"{wanted!r} never came; the terminal showed {bytes(seen)!r}")
        seen.extend(chunk)
    return seen.index(wanted, start) + len(wanted)


def _command(home: Path, answers: list[tuple[bytes, bytes]]) -> tuple[int, bytes]:
    """Run ``callmemaybe history`` in a pty, answering each prompt; its status and output."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("CALLMEMAYBE_PASSPHRASE", "PYTEST_CURRENT_TEST")
    }
    env.update(
        CALLMEMAYBE_HOME=str(home),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONPATH=str(REPO),
    )
    pid, fd = pty.fork()
    if pid == 0:  # the child: its stdin, stdout, stderr and /dev/tty are the pty
        os.execve(sys.executable, [sys.executable, "-m", "app", "history"], env)
    seen = bytearray()
    start = 0
    try:
        for prompt, answer in answers:
            start = _read_until(fd, prompt, seen, start)
            os.write(fd, answer + b"\n")
        end = time.monotonic() + 60
        while time.monotonic() < end:  # the rest, until the child closes the terminal
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child has gone
                break
            if not chunk:
                break
            seen.extend(chunk)
    finally:
        reaped, status = os.waitpid(pid, os.WNOHANG)
        if not reaped:
            time.sleep(1)
            reaped, status = os.waitpid(pid, os.WNOHANG)
        if not reaped:  # a prompt nobody answers fails the test, never hangs it
            os.kill(pid, signal.SIGKILL)
            _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), bytes(seen)


def test_the_terminal_asks_for_a_new_passphrase_twice_then_for_it_once(tmp_path: Path) -> None:
    home = tmp_path / "home"
    status, shown = _command(
        home,
        [
            (b"New passphrase: ", b"tree house 42"),
            (b"The same passphrase again: ", b"tree house 42"),
        ],
    )
    assert status == 0, shown
    assert b"tree house 42" not in shown  # typed without echo
    assert (home / "store" / "store.db").exists()

    status, shown = _command(
        home,
        [
            (b"Passphrase of your Call-Me-Maybe store: ", b"wrong guess"),
            (b"Passphrase of your Call-Me-Maybe store: ", b"tree house 42"),
        ],
    )
    assert status == 0, shown


def test_a_new_passphrase_must_be_typed_the_same_twice() -> None:
    from app.passphrase_prompt import PassphraseMismatchError, terminal_ask

    typed = iter(["one", "two", "", "three", "four", "five"])
    with pytest.raises(PassphraseMismatchError, match="nothing was created"):
        terminal_ask("create", read=lambda _prompt: next(typed))
    typed = iter(["same", "same"])
    assert terminal_ask("create", read=lambda _prompt: next(typed)) == "same"
