"""MCP servers in the desktop app: set in the settings dialog, started with it, stopped on quit."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from tests.app.mcp.servers import notebook_server, wait_until

CLAUDE_DESKTOP = {
    "mcpServers": {
        "time": {"command": "uvx", "args": ["mcp-server-time"]},
        "search": {"url": "http://127.0.0.1:9/mcp"},
    }
}


def _dialog(qtbot: Any) -> Any:
    from app.settings import Settings, save_settings
    from app.ui.settings_dialog import SettingsDialog
    from app.ui.ui_settings import UiSettings

    def apply(settings: Settings, ui: UiSettings) -> None:
        save_settings(settings)

    dialog = SettingsDialog(Settings(), UiSettings(), ["notes_create"], apply)
    qtbot.addWidget(dialog)
    dialog.open()
    return dialog


def test_the_dialog_saves_a_pasted_claude_desktop_block(qtbot: Any) -> None:
    from app.settings import load_settings

    dialog = _dialog(qtbot)
    dialog.mcp_servers.text.setPlainText(json.dumps(CLAUDE_DESKTOP))
    dialog.save()

    assert not dialog.isVisible()
    servers = load_settings().mcp_servers
    assert servers["time"].args == ["mcp-server-time"]
    assert servers["search"].url == "http://127.0.0.1:9/mcp"


@pytest.mark.parametrize(
    ("text", "problem"),
    [('{"time": {"command": "uvx",}}', "not valid JSON"), ('{"time": {}}', "either a command")],
)
def test_the_dialog_says_what_is_wrong_and_saves_nothing(
    qtbot: Any, text: str, problem: str
) -> None:
    from app.settings import settings_path

    dialog = _dialog(qtbot)
    dialog.mcp_servers.text.setPlainText(text)
    dialog.save()

    assert dialog.isVisible()
    assert problem in dialog.problem.text()
    assert not settings_path().exists()


def test_servers_start_with_the_app_and_stop_when_it_quits(
    qtbot: Any, memory_keyring: object, scripted: Any, tmp_path: Path
) -> None:
    from app.mcp.startup import log_path
    from app.settings import Settings
    from app.ui.app import DesktopApp, open_core
    from app.ui.ui_settings import UiSettings

    settings = Settings(mcp_servers={"notebook": notebook_server(tmp_path / "notebook.txt")})
    core = dataclasses.replace(open_core(settings), load_backend=scripted([]))
    desktop = DesktopApp(core, UiSettings(close_to_tray=False), use_tray=False, use_hotkey=False)
    qtbot.addWidget(desktop.window)
    qtbot.addWidget(desktop.popup)
    desktop.start()
    try:
        wait_until(lambda: "notebook.append_line" in [t.name for t in core.registry.tools()])
        dialog = desktop.open_settings()
        qtbot.addWidget(dialog)
        assert "notebook.append_line" in dialog._policy_boxes  # a policy can be chosen for it
        dialog.reject()
        pid = int(re.findall(r"notebook server ready, pid (\d+)", log_path().read_text())[0])
    finally:
        desktop.quit()

    assert [t.name for t in core.registry.tools() if "." in t.name] == []
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
