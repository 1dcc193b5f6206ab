"""The settings dialog's "Start when I log in" box writes and removes the real XDG autostart file
(in a temporary ``XDG_CONFIG_HOME``) and saves the setting; a failure keeps the dialog open."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def xdg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "xdg-config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_start_at_login_box_writes_then_removes_the_autostart_file(
    qtbot: Any, make_desktop: Any, scripted: Any, xdg_home: Path
) -> None:
    from app.settings import load_settings

    entry = xdg_home / "autostart" / "call-me-maybe.desktop"
    desktop = make_desktop(scripted([]))
    dialog = desktop.open_settings()
    qtbot.addWidget(dialog)
    assert dialog.start_at_login.isChecked() is False
    dialog.start_at_login.setChecked(True)
    dialog.save()
    assert not dialog.isVisible()
    assert load_settings().start_at_login is True
    assert "Exec=" in entry.read_text(encoding="utf-8")

    dialog = desktop.open_settings()
    qtbot.addWidget(dialog)
    assert dialog.start_at_login.isChecked() is True
    dialog.start_at_login.setChecked(False)
    dialog.save()
    assert load_settings().start_at_login is False
    assert not entry.exists()


def test_start_at_login_failure_is_shown_and_nothing_saved(
    qtbot: Any, make_desktop: Any, scripted: Any, xdg_home: Path
) -> None:
    from app.settings import settings_path

    xdg_home.parent.mkdir(parents=True, exist_ok=True)
    xdg_home.write_text("a file where the config folder should be", encoding="utf-8")
    desktop = make_desktop(scripted([]))
    dialog = desktop.open_settings()
    qtbot.addWidget(dialog)
    dialog.start_at_login.setChecked(True)
    dialog.save()
    assert dialog.isVisible()
    assert "Start at login could not be changed" in dialog.problem.text()
    assert not settings_path().exists()
