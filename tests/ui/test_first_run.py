"""First run without a keyring: the passphrase dialog, then the store opens; the unpack dialog."""

from __future__ import annotations

import os
from typing import Any

import pytest
from PySide6.QtWidgets import QLabel


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch, memory_keyring: object) -> None:
    """A desktop with no Secret Service: the keyring library's failing backend, no variable."""
    import keyring
    from keyring.backends import fail

    from connectors.store.keys import PASSPHRASE_ENV

    keyring.set_keyring(fail.Keyring())  # memory_keyring puts the previous one back after
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)  # restored (unset) after the test too


def test_a_new_store_without_keyring_asks_for_a_passphrase_twice(
    qtbot: Any, make_desktop: Any, scripted: Any, no_keyring: None
) -> None:
    from connectors.store.keys import PASSPHRASE_ENV

    desktop = make_desktop(scripted([]))
    desktop.start()
    qtbot.waitUntil(lambda: desktop.passphrase_dialog is not None)
    dialog = desktop.passphrase_dialog
    assert dialog.mode == "create" and dialog.isVisible()
    assert dialog.second.isVisibleTo(dialog)
    assert any("encrypted database" in label.text() for label in dialog.findChildren(QLabel))
    dialog.first.setText("cat")
    assert "at least 8 characters" in dialog.hint.text()
    dialog.first.setText("tangerine umbrella quarry")
    assert dialog.hint.text().startswith("Strength: ")
    dialog.second.setText("tangerine umbrella quarrx")
    dialog.confirm()
    assert dialog.isVisible() and "differ" in dialog.problem.text()
    dialog.second.setText("tangerine umbrella quarry")
    dialog.confirm()
    assert not dialog.isVisible()
    assert os.environ[PASSPHRASE_ENV] == "tangerine umbrella quarry"
    qtbot.waitUntil(lambda: desktop.reminders is not None)  # start-up went on
    assert desktop.bridge.conversation_list() == []  # the store is open
    assert "cannot be read" not in desktop.window.statusBar().currentMessage()


def test_an_existing_store_asks_once_and_again_when_wrong(
    qtbot: Any, make_desktop: Any, scripted: Any, no_keyring: None
) -> None:
    from app.paths import data_dir
    from connectors.store.database import open_store
    from connectors.store.keys import PASSPHRASE_ENV

    open_store(data_dir() / "store", passphrase="the right one, long").close()
    desktop = make_desktop(scripted([]))
    desktop.start()
    qtbot.waitUntil(lambda: desktop.passphrase_dialog is not None)
    dialog = desktop.passphrase_dialog
    assert dialog.mode == "open" and not dialog.second.isVisibleTo(dialog)
    dialog.first.setText("a wrong one")
    dialog.confirm()
    qtbot.waitUntil(lambda: desktop.passphrase_dialog is not dialog)
    again = desktop.passphrase_dialog
    assert again.mode == "open" and "does not open" in again.problem.text()
    again.first.setText("the right one, long")
    again.confirm()
    qtbot.waitUntil(lambda: desktop.reminders is not None)
    assert os.environ[PASSPHRASE_ENV] == "the right one, long"


def test_cancelling_leaves_a_way_back(
    qtbot: Any, make_desktop: Any, scripted: Any, no_keyring: None
) -> None:
    desktop = make_desktop(scripted([]))
    desktop.start()
    qtbot.waitUntil(lambda: desktop.passphrase_dialog is not None)
    desktop.passphrase_dialog.reject()
    assert "File → Unlock the store" in desktop.window.model_status.text()
    desktop.window.unlockRequested.emit()
    assert desktop.passphrase_dialog.isVisible()


def test_the_model_unpack_shows_a_progress_dialog(make_desktop: Any, scripted: Any) -> None:
    desktop = make_desktop(scripted([]))
    window = desktop.window
    desktop.bridge.modelProgress.emit(120_000_000, 400_000_000)
    assert window.model_dialog is not None and window.model_dialog.isVisible()
    assert "120.0 MB of 400.0 MB" in window.model_dialog.labelText()
    assert window.model_dialog.value() == 300
    desktop.bridge.modelReady.emit()
    assert window.model_dialog is None
