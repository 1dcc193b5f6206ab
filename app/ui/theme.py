"""Colours that follow the system's light or dark scheme.

Qt already follows the desktop's palette for every standard widget; what the app paints
itself (tool-call cards, the quick popup's approval card, warnings) must follow it too, or a
dark desktop shows light text on pale cards. The scheme is read when something is drawn, and
the views redraw on a palette change, so switching the desktop's scheme needs no restart.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

_LIGHT = {
    "pending": "#fff4d6",
    "done": "#e6f4ea",
    "error": "#fde7e9",
    "failed": "#fde7e9",
    "rejected": "#eeeeee",
    "undone": "#eeeeee",
    "called": "#eef3fc",
    "border": "#c8d3e6",
    "warning": "#8a4b00",
    "problem": "#b00020",
}
_DARK = {
    "pending": "#4a3b12",
    "done": "#1e3a27",
    "error": "#4a1f24",
    "failed": "#4a1f24",
    "rejected": "#333333",
    "undone": "#333333",
    "called": "#1f2c44",
    "border": "#4a5770",
    "warning": "#ffb74d",
    "problem": "#ff8a80",
}


def is_dark() -> bool:
    """Whether the system (or the application's palette) is in a dark scheme."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    scheme = QGuiApplication.styleHints().colorScheme()
    if scheme != Qt.ColorScheme.Unknown:
        return scheme == Qt.ColorScheme.Dark
    return QGuiApplication.palette().window().color().lightness() < 128


def colour(name: str) -> str:
    """The colour ``name`` (a card state, ``border``, ``warning`` or ``problem``) now."""
    table = _DARK if is_dark() else _LIGHT
    return table.get(name, table["called"])
