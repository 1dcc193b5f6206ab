"""Global hotkeys: one small module per desktop, chosen at run time, imported only there.

Every backend is a :class:`GlobalHotkey`: ``register()`` grabs the key or raises
:class:`HotkeyError` with a sentence the settings dialog shows (most often: another program
already owns the combination); ``activated`` fires on each press. Where none works,
``callmemaybe quick`` (bound by the user in the desktop's own shortcut settings) does the same
through the single-instance socket.

Tested here: X11 (python-xlib under Xvfb). The Wayland portal, Windows and macOS modules are
best-effort and say so.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

MODIFIERS = {
    "ctrl": "ctrl",
    "control": "ctrl",
    "alt": "alt",
    "option": "alt",
    "shift": "shift",
    "meta": "meta",
    "super": "meta",
    "win": "meta",
    "cmd": "meta",
}


class HotkeyError(Exception):
    """The hotkey cannot be used; the message says why, for the user."""


@dataclass(frozen=True)
class Hotkey:
    """A parsed combination: modifier names (ctrl, alt, shift, meta) and one key name."""

    modifiers: frozenset[str]
    key: str

    def __str__(self) -> str:
        order = ["ctrl", "alt", "shift", "meta"]
        names = [m.capitalize() for m in order if m in self.modifiers]
        return "+".join([*names, self.key])


def parse_hotkey(text: str) -> Hotkey:
    """Parse ``"Ctrl+Alt+Space"`` (Qt's portable text form, case-insensitive).

    Raises:
        HotkeyError: empty, no key, two keys, or no modifier (a bare key would steal typing).
    """
    parts = [p.strip() for p in text.split("+")]
    if text.strip().endswith("+"):
        parts = [*[p for p in parts if p], "+"]
    modifiers: set[str] = set()
    keys: list[str] = []
    for part in parts:
        if not part:
            continue
        if part.lower() in MODIFIERS:
            modifiers.add(MODIFIERS[part.lower()])
        else:
            keys.append(part)
    if len(keys) != 1:
        raise HotkeyError(f"{text!r} is not a shortcut: write it like Ctrl+Alt+Space")
    if not modifiers:
        raise HotkeyError(f"{text!r} needs at least one of Ctrl, Alt, Shift or Meta")
    key = keys[0]
    return Hotkey(frozenset(modifiers), key.upper() if len(key) == 1 else key.capitalize())


class GlobalHotkey(QObject):
    """A system-wide shortcut.

    Signals:
        activated(): the combination was pressed, whichever window had the focus.
    """

    activated = Signal()

    def __init__(self, hotkey: Hotkey, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hotkey = hotkey

    def register(self) -> None:
        """Grab the combination.

        Raises:
            HotkeyError: it is taken, or this desktop cannot grab keys.
        """
        raise NotImplementedError

    def unregister(self) -> None:
        """Release the combination (safe to call twice)."""


def create_hotkey(text: str, parent: QObject | None = None) -> GlobalHotkey:
    """The backend for this desktop, not yet registered.

    Raises:
        HotkeyError: bad combination, or no backend for this desktop.
    """
    hotkey = parse_hotkey(text)
    if sys.platform == "win32":
        from app.ui.hotkey.windows import WindowsHotkey

        return WindowsHotkey(hotkey, parent)
    if sys.platform == "darwin":
        from app.ui.hotkey.macos import MacHotkey

        return MacHotkey(hotkey, parent)
    wayland = os.environ.get("XDG_SESSION_TYPE") == "wayland" or (
        os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY")
    )
    if wayland:
        from app.ui.hotkey.portal import PortalHotkey

        return PortalHotkey(hotkey, parent)
    if os.environ.get("DISPLAY"):
        from app.ui.hotkey.x11 import X11Hotkey

        return X11Hotkey(hotkey, parent=parent)
    raise HotkeyError(
        "this desktop has no global shortcut service; bind `callmemaybe quick` in its settings"
    )
