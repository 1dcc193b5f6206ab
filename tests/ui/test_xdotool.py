"""The window under Xvfb, driven with xdotool as a user would: type, send, reach the card, approve.

Real X11 keyboard events through the xcb platform (the other UI tests run offscreen): the
message box, the Shift+Tab path from it to the card waiting for approval, Ctrl+Enter on the
card, and Ctrl+Q. Needs Xvfb and xdotool (``.ci/run`` installs them); skipped without.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]


def _lines(stream: IO[str]) -> queue.Queue[str]:
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            found.put(line.strip())

    threading.Thread(target=pump, daemon=True).start()
    return found


def _wait_for(lines: queue.Queue[str], prefix: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if line.startswith(prefix):
            return line
    raise AssertionError(f"the app never said {prefix!r}")  # its log is in the test's tmp_path


def test_a_user_approves_a_change_from_the_chat_with_the_keyboard(
    xvfb: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DISPLAY": xvfb,
        "PYTHONPATH": str(REPO),
        "CALLMEMAYBE_PASSPHRASE": "xdotool test passphrase",
    }
    env.pop("QT_QPA_PLATFORM", None)
    env.pop("WAYLAND_DISPLAY", None)

    def xdotool(*args: str) -> str:
        done = subprocess.run(
            ["xdotool", *args], env=env, capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout.strip()

    log = tmp_path / "app.log"
    with (
        log.open("w") as errors,
        subprocess.Popen(
            [sys.executable, "-m", "tests.ui.drive_app"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        ) as app,
    ):
        try:
            lines = _lines(app.stdout)  # type: ignore[arg-type]
            _wait_for(lines, "ready")
            found = xdotool("search", "--sync", "--onlyvisible", "--name", "^Call-Me-Maybe")
            window = found.split()[0]
            xdotool("windowfocus", "--sync", window)
            xdotool("key", "--window", window, "ctrl+l")  # File → Message box
            xdotool("type", "--delay", "20", "note my shopping")
            xdotool("key", "Return")
            _wait_for(lines, "turn done")
            time.sleep(0.5)  # the card is drawn on the next render tick
            xdotool("key", "Return")  # a stray Enter in the (empty) message box decides nothing
            xdotool("key", "shift+Tab")  # from the message box to the card's Approve
            xdotool("key", "ctrl+Return")
            decided = _wait_for(lines, "decided")
            assert decided.endswith(" done"), decided
            xdotool("key", "ctrl+q")
            stored = json.loads(_wait_for(lines, "[", timeout=30))
            assert app.wait(timeout=30) == 0, log.read_text()
        finally:
            if app.poll() is None:
                app.kill()
    assert [(a["state"], a["args"]["title"]) for a in stored] == [("done", "Shopping")]
