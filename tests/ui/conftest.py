"""Fixtures for the desktop app: offscreen Qt, a real core over the real store.

``QT_QPA_PLATFORM=offscreen`` is set before pytest-qt creates the QApplication, so the widgets
are real but need no display. The model is either the tiny random-weight GGUF through the real
llama.cpp backend, or a :class:`~tests.scripted_backend.ScriptedBackend` where a test needs a
particular tool call; the store, the registry and the action queue are always the real ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def tiny_settings(tiny_long_gguf: Path) -> Callable[..., Any]:
    """Settings for the tiny model (``max_tokens`` given per test)."""
    from app.settings import Settings

    def make(max_tokens: int = 24) -> Settings:
        return Settings(model=str(tiny_long_gguf), context_tokens=8192, max_tokens=max_tokens)

    return make


@pytest.fixture
def make_desktop(memory_keyring: object, qtbot: Any) -> Iterator[Callable[..., Any]]:
    """Build a :class:`app.ui.app.DesktopApp` over a backend; shut everything down after."""
    from app.settings import Settings
    from app.toolbox import open_toolbox
    from app.ui.app import DesktopApp
    from app.ui.bridge import Core
    from app.ui.ui_settings import UiSettings

    made: list[Any] = []

    def make(
        load_backend: Callable[[Any], Any],
        settings: Settings | None = None,
        **options: Any,
    ) -> Any:
        settings = settings or Settings()
        toolbox = open_toolbox(settings)
        core = Core(toolbox.registry, toolbox.context, settings, load_backend, toolbox.close)
        options.setdefault("use_tray", False)
        options.setdefault("use_hotkey", False)
        desktop = DesktopApp(core, UiSettings(close_to_tray=False), **options)
        qtbot.addWidget(desktop.window)
        qtbot.addWidget(desktop.popup)
        made.append(desktop)
        return desktop

    yield make
    for desktop in made:
        if desktop.hotkey is not None:
            desktop.hotkey.unregister()
        if desktop.instance is not None:
            desktop.instance.close()
        desktop.bridge.shutdown()


@pytest.fixture
def scripted() -> Callable[[list[str]], Callable[[Any], Any]]:
    """A loader answering from a script (the real parsing, the real tools)."""
    from tests.scripted_backend import ScriptedBackend

    def loader(replies: list[str]) -> Callable[[Any], Any]:
        return lambda _progress: ScriptedBackend(replies)

    return loader


@pytest.fixture
def xvfb() -> Iterator[str]:
    """A private Xvfb display (``:9x``) for the X11 hotkey tests; skipped without Xvfb."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.skip("Xvfb and xdotool are needed for the X11 hotkey tests")
    for number in range(90, 100):
        if Path(f"/tmp/.X11-unix/X{number}").exists() or Path(f"/tmp/.X{number}-lock").exists():
            continue
        name = f":{number}"
        process = subprocess.Popen(
            ["Xvfb", name, "-screen", "0", "800x600x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and process.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists():
                break
            time.sleep(0.05)
        if process.poll() is not None:
            continue  # lost a race for this number: try the next
        try:
            yield name
        finally:
            process.terminate()
            process.wait(timeout=10)
        return
    pytest.skip("no free X display number in :90-:99")
