"""``callmemaybe screenshot``, the GUI-or-terminal default, the settings dialog, the edit form."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_screenshot_command_renders_a_non_blank_window(tmp_path: Path) -> None:
    out = tmp_path / "shot.png"
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run(
        [sys.executable, "-m", "app", "screenshot", str(out)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (1100, 700)
    colours = {image.pixel(x, y) for x in range(0, 1100, 7) for y in range(0, 700, 7)}
    assert len(colours) > 20  # text, buttons, the pending card: not a blank grab
    assert not (Path(os.environ["CALLMEMAYBE_HOME"]) / "store").exists()  # no user data used


def test_no_subcommand_opens_the_gui_only_with_a_display(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from app import cli

    monkeypatch.setattr(cli.sys, "platform", "linux")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert not cli.has_display()
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    assert cli.has_display()
    called: list[str] = []
    monkeypatch.setitem(cli._COMMANDS, "gui", lambda args, stack: called.append("gui") or 0)
    monkeypatch.setitem(cli._COMMANDS, "chat", lambda args, stack: called.append("chat") or 0)
    assert cli.main([]) == 0
    monkeypatch.delenv("WAYLAND_DISPLAY")
    assert cli.main([]) == 0
    assert called == ["gui", "chat"]


def test_cli_module_does_not_import_qt() -> None:
    code = "import sys, app.cli; print(any(m.startswith('PySide6') for m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_settings_dialog_saves_policies_folders_and_hotkey(
    qtbot: Any, make_desktop: Any, scripted: Any, tmp_path: Path
) -> None:
    from PySide6.QtGui import QKeySequence

    from app.settings import load_settings
    from app.ui.ui_settings import load_ui_settings

    desktop = make_desktop(scripted([]))
    dialog = desktop.open_settings()
    qtbot.addWidget(dialog)
    dialog.threads.setValue(2)
    dialog.folders.addItem(str(tmp_path))
    dialog._policy_boxes["notes_create"].setCurrentText("always")
    dialog.hotkey.setKeySequence(QKeySequence("Ctrl+Alt+K"))
    dialog.close_to_tray.setChecked(False)
    desktop.set_hotkey = lambda text: None  # no display here: the grab itself is tested on Xvfb
    dialog.save()
    assert not dialog.isVisible()
    saved = load_settings()
    assert saved.threads == 2
    assert saved.granted_folders == [str(tmp_path)]
    assert saved.tool_policies == {"notes_create": "always"}
    ui = load_ui_settings()
    assert ui.hotkey == "Ctrl+Alt+K" and ui.close_to_tray is False


def test_settings_dialog_reports_a_taken_hotkey_and_saves_nothing(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    from PySide6.QtGui import QKeySequence

    from app.settings import settings_path

    desktop = make_desktop(scripted([]))
    dialog = desktop.open_settings()
    qtbot.addWidget(dialog)
    dialog.hotkey.setKeySequence(QKeySequence("Ctrl+Alt+J"))
    desktop.set_hotkey = lambda text: f"The shortcut {text} cannot be used: it is taken"
    dialog.save()
    assert dialog.isVisible()
    assert "cannot be used" in dialog.problem.text()
    assert not settings_path().exists()


def test_schema_form_covers_the_schema_kinds(qtbot: Any) -> None:
    from app.ui.schema_form import SchemaForm

    schema = {
        "type": "object",
        "required": ["title"],
        "properties": {
            "title": {"type": "string", "maxLength": 20},
            "count": {"type": "integer", "minimum": 1, "maximum": 5, "default": 2},
            "ratio": {"type": "number"},
            "done": {"type": "boolean", "default": False},
            "colour": {"$ref": "#/$defs/Colour"},
            "tags": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
            "extra": {"type": "object"},
        },
        "$defs": {"Colour": {"enum": ["red", "blue"]}},
    }
    form = SchemaForm(schema, {"title": "x", "colour": "blue"})
    qtbot.addWidget(form)
    assert form.values() == {"title": "x", "colour": "blue"}  # untouched optionals stay out
    form.fields["count"].widget.setValue(9)  # clamped to the schema's maximum
    form.fields["done"].widget.setChecked(True)
    form.fields["tags"].widget.setText("a, b")
    form.fields["extra"].widget.setText('{"k": 1}')
    values = form.values()
    assert values["count"] == 5 and values["done"] is True
    assert values["tags"] == ["a", "b"] and values["extra"] == {"k": 1}
    unplaced = form.show_problems([("title", "too short"), ("", "bad")])
    assert unplaced == ["arguments: bad"]
    assert json.dumps(values)
