"""The background prefix warm-up gives way to the user's turns in the desktop app."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest


def test_a_turn_sent_while_loading_runs_before_any_background_prefix(
    qtbot: Any,
    make_desktop: Any,
    tiny_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first request, sent before the model is ready, is answered with no prefix warm-up
    competing with it; the connectors are warmed once the model has rested."""
    from app import prefix_warmup
    from app.runtime import open_backend

    monkeypatch.setattr(prefix_warmup, "START_DELAY_S", 0.0)  # would compete at once
    monkeypatch.setattr(prefix_warmup, "QUIET_S", 1.0)
    caplog.set_level(logging.DEBUG, logger="app.prefix_warmup")
    settings = tiny_settings(24)
    desktop = make_desktop(lambda progress: open_backend(settings, progress), settings)
    desktop.start()
    assert desktop.window.send("hello there")  # queued behind the model's loading
    qtbot.waitUntil(lambda: not desktop.bridge.busy, timeout=120_000)
    ended = time.time()
    assert desktop.bridge.model_loaded

    def starts() -> list[float]:
        return [r.created for r in caplog.records if r.getMessage().startswith("computing")]

    assert starts() == []  # nothing was computed in the background during the turn
    qtbot.waitUntil(lambda: "ready in" in caplog.text, timeout=120_000)
    # only after the model rested for QUIET_S (1 s); ``ended`` is seen when the window is no
    # longer busy, a few hundred ms after the bridge marked the model free (measured 0.74 s
    # after it on a loaded machine), so the margin is half of QUIET_S
    assert min(starts()) >= ended + 0.5
