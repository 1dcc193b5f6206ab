"""The quick-command popup, the X11 hotkey under Xvfb, and single-instance forwarding."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from app.records import ActionState

NOTE = json.dumps({"name": "notes_create", "arguments": {"title": "Call mum", "body": ""}})
REPO = Path(__file__).resolve().parents[2]


def test_quick_popup_answers_then_approves_only_with_a_deliberate_key(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    """After the turn the keyboard is back in the line that still holds the request: Enter
    there must not approve (issue 25, item 4); Ctrl+Enter does, and the card shows the result."""
    desktop = make_desktop(scripted(["It is **sunny**.", NOTE]))
    desktop.start()
    popup = desktop.popup
    desktop.quick()
    assert (popup.isVisible() and popup.input.hasFocus()) or popup.input.isEnabled()
    qtbot.keyClicks(popup.input, "weather?")
    with qtbot.waitSignal(desktop.bridge.turnDone, timeout=30_000):
        qtbot.keyClick(popup.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: popup.input.isEnabled())
    assert popup.answer.toPlainText() == "It is sunny."
    assert popup.card.isHidden()
    assert desktop.window.chat.view.items == []  # the window renders only its own turns

    popup.input.setText("make a note: call mum")
    with qtbot.waitSignal(desktop.bridge.turnDone, timeout=30_000):
        qtbot.keyClick(popup.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: popup.input.isEnabled())
    assert popup.card.isVisibleTo(popup)
    assert popup.card.sentence.text() == "Create the note 'Call mum'"
    assert popup.action_id is not None
    action_id = popup.action_id
    assert desktop.window.pending_count == 1
    assert popup.input.text() == "make a note: call mum"  # the request is still in the line
    qtbot.keyClick(popup.input, Qt.Key.Key_Return)  # a stray Enter: nothing runs
    qtbot.keyClick(popup.input, Qt.Key.Key_Enter)
    assert desktop.bridge.actions.get(action_id).state is ActionState.PENDING
    assert not desktop.bridge.busy  # and the request was not sent again either
    assert "Ctrl+Enter" in popup.hint.text()
    qtbot.keyClick(popup.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert desktop.bridge.actions.get(action_id).state is ActionState.DONE
    assert popup.card.heading.text() == f"#{action_id} · Done"
    assert popup.card.undo_button.isVisibleTo(popup)
    assert desktop.window.pending_count == 0
    qtbot.keyClick(popup, Qt.Key.Key_Escape)
    assert not popup.isVisible()


def test_escape_leaves_the_action_waiting(qtbot: Any, make_desktop: Any, scripted: Any) -> None:
    desktop = make_desktop(scripted([NOTE]))
    desktop.start()
    desktop.quick()
    desktop.popup.input.setText("make a note: call mum")
    # The whole turn, not just its TurnDone event: the worker finishes (and the bridge stops
    # being busy) a moment after it, and a popup reopened during a turn keeps that turn.
    with qtbot.waitSignal(
        desktop.bridge.busyChanged, timeout=30_000, check_params_cb=lambda busy: not busy
    ):
        desktop.popup.enter()
    qtbot.keyClick(desktop.popup, Qt.Key.Key_Escape)
    assert not desktop.popup.isVisible()
    assert [a.state for a in desktop.bridge.pending()] == [ActionState.PENDING]
    desktop.quick()  # reopened: a fresh line, not the old card
    assert desktop.popup.action_id is None and desktop.popup.card.isHidden()


def test_hotkey_text_is_parsed_and_checked() -> None:
    from app.ui.hotkey import HotkeyError, parse_hotkey

    parsed = parse_hotkey("ctrl+alt+space")
    assert parsed.modifiers == {"ctrl", "alt"} and parsed.key == "Space"
    assert str(parsed) == "Ctrl+Alt+Space"
    assert parse_hotkey("Meta+Shift+k").key == "K"
    for bad in ("", "Space", "Ctrl+Alt", "Ctrl+A+B"):
        with pytest.raises(HotkeyError):
            parse_hotkey(bad)


def test_x11_grab_receives_xdotool_and_reports_a_taken_combination(qtbot: Any, xvfb: str) -> None:
    from app.ui.hotkey import HotkeyError, parse_hotkey
    from app.ui.hotkey.x11 import X11Hotkey

    first = X11Hotkey(parse_hotkey("Ctrl+Alt+Space"), display_name=xvfb)
    first.register()
    try:
        second = X11Hotkey(parse_hotkey("Ctrl+Alt+Space"), display_name=xvfb)
        with pytest.raises(HotkeyError, match="already used by another program"):
            second.register()
        env = {**os.environ, "DISPLAY": xvfb}
        with qtbot.waitSignal(first.activated, timeout=10_000):
            subprocess.run(["xdotool", "key", "ctrl+alt+space"], env=env, check=True)
    finally:
        first.unregister()


def test_hotkey_opens_the_popup_under_xvfb(
    qtbot: Any, make_desktop: Any, scripted: Any, xvfb: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISPLAY", xvfb)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
    desktop = make_desktop(scripted([]), use_hotkey=True)
    assert desktop.hotkey is not None and desktop.hotkey_problem is None
    assert not desktop.popup.isVisible()
    subprocess.run(["xdotool", "key", "ctrl+alt+space"], check=True)
    qtbot.waitUntil(desktop.popup.isVisible, timeout=10_000)
    # a second app asking for the same combination is told, in words, that it is taken
    problem = desktop.set_hotkey("Ctrl+Alt+Space")
    assert problem is not None and "already used" in problem


def test_second_launch_forwards_quick_to_the_first(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    from app.ui.single import SingleInstance

    instance = SingleInstance()
    assert instance.listen()
    desktop = make_desktop(scripted([]), instance=instance)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    launch = subprocess.Popen(
        [sys.executable, "-m", "app", "quick"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    qtbot.waitUntil(desktop.popup.isVisible, timeout=30_000)
    _out, err = launch.communicate(timeout=30)
    assert launch.returncode == 0, err
    assert not desktop.window.isVisible()  # only the popup was asked for


def test_a_stale_socket_left_by_a_crash_is_replaced(qtbot: Any) -> None:
    from PySide6.QtNetwork import QLocalServer

    from app.ui.single import SingleInstance, send_command

    crashed = SingleInstance()
    assert crashed.listen()
    path = Path(crashed._server.fullServerName())
    crashed._server.close()  # a crash leaves the file; simulate it:
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # bound, never listening: connections are refused
    assert path.exists()
    assert not send_command("show", crashed.name, timeout_ms=200)
    fresh = SingleInstance()
    assert fresh.listen()
    received: list[str] = []
    fresh.commandReceived.connect(received.append)
    assert isinstance(fresh._server, QLocalServer)
    fresh.close()
