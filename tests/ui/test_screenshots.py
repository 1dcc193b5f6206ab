"""Every documented state at every size and theme, checked as a person would look at it.

``callmemaybe screenshot --state S --size WxH --theme T`` draws these; here each is drawn
in-process (offscreen) and checked: the card's sentence is on screen, the conversation holds no
raw JSON, no label is cut or broken, and nothing sticks out of its card.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from app.ui.action_card import ActionCard

REPO = Path(__file__).resolve().parents[2]
SIZES = ((800, 600), (1280, 800), (1920, 1080))
THEMES = ("light", "dark")
JSON_LIKE = re.compile(r"[{\[]\s*\"")
LUNCH = "Create the event 'Lunch with Ana', Thu 14 Jan 2027 12:30–13:30 CET, at Cafe Luz"


def card_problems(card: ActionCard) -> list[str]:
    """What a person would see wrong in a card: a row label not given its whole width (cut or
    broken inside a word), a value or a button sticking out of the card."""
    problems = []
    for row in range(card.rows.rowCount()):
        label_item = card.rows.itemAtPosition(row, 0)
        value_item = card.rows.itemAtPosition(row, 1)
        if label_item is None or value_item is None:
            continue
        label, value = label_item.widget(), value_item.widget()
        assert isinstance(label, QLabel) and isinstance(value, QLabel)
        if label.width() < label.sizeHint().width():
            problems.append(
                f"label {label.text()!r} is {label.width()} px of its {label.sizeHint().width()}"
            )
        if label.geometry().right() >= value.geometry().left():
            problems.append(f"label {label.text()!r} runs into its value")
        if value.geometry().right() > card.rows_box.width():
            problems.append(f"value of {label.text()!r} sticks out of the card")
    for button in card.findChildren(QPushButton):
        if button.isVisibleTo(card):
            right = button.mapTo(card, button.rect().bottomRight())
            if right.x() > card.width() or button.width() < button.sizeHint().width():
                problems.append(f"button {button.text()!r} is cut")
    if card.heading.width() < 40:
        problems.append("the heading has no room")
    return problems


def _visible_cards(root: QWidget) -> list[ActionCard]:
    return [c for c in root.findChildren(ActionCard) if c.isVisibleTo(root)]


@pytest.mark.parametrize("state", ["pending", "result", "question", "welcome", "popup"])
def test_each_state_reads_right_at_each_size_and_theme(
    qtbot: Any, state: str, memory_keyring: object
) -> None:
    from app.ui import theme
    from app.ui.app import render_sample

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, style = app.palette(), app.style().name()
    desktop, close = render_sample(SIZES[0], "light", state)
    try:
        window, view = desktop.window, desktop.window.chat.view
        for width, height in SIZES:
            for name in THEMES:
                theme.apply_scheme(app, name)
                window.resize(width, height)
                for _ in range(3):
                    app.processEvents()
                where = f"{state} {width}x{height} {name}"
                assert (window.width(), window.height()) == (width, height), where
                host = view.widget().minimumSizeHint().width()
                assert host <= view.viewport().width(), f"{where}: the chat is cut on the right"
                seen = view.visible_text()
                assert JSON_LIKE.search(seen) is None, f"{where}: JSON in the chat: {seen}"
                root = desktop.popup if state == "popup" else window
                cards = _visible_cards(root)
                for card in cards:
                    assert card_problems(card) == [], where
                    assert theme.colour(card.action.state.value) in card.styleSheet(), where
                sentences = [c.sentence.text() for c in cards]
                if state in ("pending", "popup"):
                    assert LUNCH in sentences, where
                    lunch = next(c for c in cards if c.sentence.text() == LUNCH)
                    assert lunch.approve_button.isVisibleTo(root), where
                    assert any(w.startswith("Overlaps 'Team sync'") for w in lunch.summary.warnings)
                if state == "result":
                    lunch = next(c for c in cards if c.sentence.text() == LUNCH)
                    assert lunch.undo_button.isVisibleTo(window), where
                    assert lunch.heading.text().endswith("Done"), where
                if state == "question":
                    assert view.widgets[-1].header.text().startswith("<b>The assistant asks")
                    assert "answer" in window.chat.input.placeholderText(), where
                if state == "welcome":
                    assert view.welcome.isVisibleTo(window), where
                if state != "welcome":  # the panel: its card, or its clear empty state
                    panel = window.approvals
                    assert panel.card.isVisibleTo(window) or panel.empty.isVisibleTo(window)
                    assert (
                        window.approvals_dock.windowTitle() == f"Approvals ({panel.list.count()})"
                    )
    finally:
        close()
        app.setPalette(palette)
        app.setStyle(style)


def test_screenshot_command_takes_size_theme_and_state(tmp_path: Path) -> None:
    from PySide6.QtGui import QImage

    out = tmp_path / "dark.png"
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    command = [sys.executable, "-m", "app", "screenshot", str(out)]
    options = ["--size", "800x600", "--theme", "dark", "--state", "result"]
    run = subprocess.run(
        command + options, cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    image = QImage(str(out))
    assert (image.width(), image.height()) == (800, 600)
    corner = image.pixelColor(400, 590)  # the window's background, near the status bar
    assert corner.lightness() < 80  # dark
    bad = subprocess.run(
        [*command, "--size", "big"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert bad.returncode == 2 and "WxH" in bad.stderr
