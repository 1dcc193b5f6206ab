"""Windows: ``RegisterHotKey`` through ctypes, ``WM_HOTKEY`` read by a native event filter.

Untested on this project's CI (Linux): kept small so it can be read in full. A combination
another program registered makes ``RegisterHotKey`` fail, reported as a HotkeyError.
"""

from __future__ import annotations

import ctypes
import itertools
from ctypes import wintypes
from typing import Any

from PySide6.QtCore import QAbstractNativeEventFilter, QCoreApplication, QObject

from app.ui.hotkey import GlobalHotkey, Hotkey, HotkeyError

WM_HOTKEY = 0x0312
MOD_NOREPEAT = 0x4000
MODS = {"alt": 0x1, "ctrl": 0x2, "shift": 0x4, "meta": 0x8}
VK = {"Space": 0x20, "Enter": 0x0D, "Return": 0x0D, "Tab": 0x09, "Esc": 0x1B, "Escape": 0x1B}
_ids = itertools.count(0xB000)


def _virtual_key(key: str) -> int:
    if key in VK:
        return VK[key]
    if len(key) == 1 and key.isalnum():
        return ord(key.upper())
    if key.startswith("F") and key[1:].isdigit() and 1 <= int(key[1:]) <= 24:
        return 0x6F + int(key[1:])
    raise HotkeyError(f"the key {key!r} is not supported for global shortcuts on Windows")


class _Filter(QAbstractNativeEventFilter):
    def __init__(self, owner: WindowsHotkey) -> None:
        super().__init__()
        self.owner = owner

    def nativeEventFilter(self, event_type: Any, message: Any) -> tuple[bool, int]:
        if bytes(event_type) == b"windows_generic_MSG":
            msg = wintypes.MSG.from_address(int(message))
            if msg.message == WM_HOTKEY and msg.wParam == self.owner.ident:
                self.owner.activated.emit()
                return True, 0
        return False, 0


class WindowsHotkey(GlobalHotkey):
    """A hotkey registered with ``RegisterHotKey`` for this thread."""

    def __init__(self, hotkey: Hotkey, parent: QObject | None = None) -> None:
        super().__init__(hotkey, parent)
        self.ident = next(_ids)
        self._filter: _Filter | None = None

    def register(self) -> None:
        modifiers = MOD_NOREPEAT
        for name in self.hotkey.modifiers:
            modifiers |= MODS[name]
        user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        if not user32.RegisterHotKey(None, self.ident, modifiers, _virtual_key(self.hotkey.key)):
            raise HotkeyError(
                f"{self.hotkey} is already used by another program; choose another shortcut"
            )
        self._filter = _Filter(self)
        QCoreApplication.instance().installNativeEventFilter(self._filter)

    def unregister(self) -> None:
        if self._filter is None:
            return
        ctypes.windll.user32.UnregisterHotKey(None, self.ident)  # type: ignore[attr-defined]
        QCoreApplication.instance().removeNativeEventFilter(self._filter)
        self._filter = None
