"""Colours that follow the system's light or dark scheme.

Qt already follows the desktop's palette for every standard widget; what the app paints
itself (tool-call cards, the quick popup's approval card, warnings) must follow it too, or a
dark desktop shows light text on pale cards. The scheme is read when something is drawn, and
the views redraw on a palette change, so switching the desktop's scheme needs no restart.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

_LIGHT = {
    "pending": "#fff4d6",
    "done": "#e6f4ea",
    "error": "#fde7e9",
    "failed": "#fde7e9",
    "rejected": "#eeeeee",
    "undone": "#eeeeee",
    "called": "#eef3fc",
    "user": "#e8f0fe",
    "question": "#f3e8fd",
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
    "user": "#263449",
    "question": "#3a2d4a",
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


def apply_scheme(app: QApplication, name: str) -> None:
    """Force a light or dark scheme (screenshots and tests; the app itself follows the system).

    Fusion draws every standard widget from the palette alone, so a dark palette gives a dark
    window on any platform, including Qt's offscreen one.
    """
    if name not in ("light", "dark"):
        raise ValueError(f"unknown theme {name!r}; use light or dark")
    app.setStyle("Fusion")
    if name == "light":
        palette = QPalette()
        roles = _LIGHT_PALETTE
    else:
        palette = QPalette()
        roles = _DARK_PALETTE
    for role, value in roles.items():
        palette.setColor(role, QColor(value))
    for role, value in _DISABLED.get(name, {}).items():
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(value))
    app.setPalette(palette)
    hints = QGuiApplication.styleHints()
    if hasattr(hints, "setColorScheme"):
        hints.setColorScheme(Qt.ColorScheme.Dark if name == "dark" else Qt.ColorScheme.Light)


_R = QPalette.ColorRole
_LIGHT_PALETTE = {
    _R.Window: "#f3f3f3",
    _R.WindowText: "#1f1f1f",
    _R.Base: "#ffffff",
    _R.AlternateBase: "#f5f5f5",
    _R.Text: "#1f1f1f",
    _R.Button: "#ececec",
    _R.ButtonText: "#1f1f1f",
    _R.Highlight: "#2a6fdb",
    _R.HighlightedText: "#ffffff",
    _R.ToolTipBase: "#ffffdc",
    _R.ToolTipText: "#1f1f1f",
    _R.PlaceholderText: "#707070",
    _R.Link: "#1a57b8",
}
_DARK_PALETTE = {
    _R.Window: "#202124",
    _R.WindowText: "#e8eaed",
    _R.Base: "#17181a",
    _R.AlternateBase: "#26272b",
    _R.Text: "#e8eaed",
    _R.Button: "#2d2f33",
    _R.ButtonText: "#e8eaed",
    _R.Highlight: "#3d7be0",
    _R.HighlightedText: "#ffffff",
    _R.ToolTipBase: "#2d2f33",
    _R.ToolTipText: "#e8eaed",
    _R.PlaceholderText: "#9aa0a6",
    _R.Link: "#8ab4f8",
}
_DISABLED = {
    "light": {_R.WindowText: "#9a9a9a", _R.Text: "#9a9a9a", _R.ButtonText: "#9a9a9a"},
    "dark": {_R.WindowText: "#6f7378", _R.Text: "#6f7378", _R.ButtonText: "#6f7378"},
}


def restyle(widget: QWidget, sheet: str) -> None:
    """Set ``widget``'s style sheet only when it changes.

    Setting a style sheet sends the widget a palette change, which is when the cards repaint
    themselves in the scheme's colours: setting the same sheet again would recurse forever.
    """
    if widget.styleSheet() != sheet:
        widget.setStyleSheet(sheet)
