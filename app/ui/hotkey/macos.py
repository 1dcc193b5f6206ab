"""macOS: Carbon ``RegisterEventHotKey`` through ctypes (still the only public global-hotkey API
that needs no accessibility permission).

Untested on this project's CI (Linux): kept small so it can be read in full. The Carbon event
handler is a ctypes callback that Qt's Cocoa event loop dispatches on the main thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from typing import Any

from PySide6.QtCore import QObject

from app.ui.hotkey import GlobalHotkey, Hotkey, HotkeyError

CMD, SHIFT, OPTION, CONTROL = 0x100, 0x200, 0x800, 0x1000
MODS = {"meta": CMD, "shift": SHIFT, "alt": OPTION, "ctrl": CONTROL}
KEYCODES = {"Space": 49, "Return": 36, "Enter": 36, "Tab": 48, "Escape": 53, "Esc": 53}
LETTERS = "ASDFHGZXCV BQWERYT123465=97-80]OU[IP LJ'K;\\,/NM."  # kVK_ANSI_* order from 0
K_EVENT_CLASS_KEYBOARD = int.from_bytes(b"keyb", "big")
K_EVENT_HOT_KEY_PRESSED = 5
SIGNATURE = int.from_bytes(b"CmMb", "big")

HANDLER = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p)


class _EventTypeSpec(ctypes.Structure):
    _fields_ = [("eventClass", ctypes.c_uint32), ("eventKind", ctypes.c_uint32)]


class _HotKeyID(ctypes.Structure):
    _fields_ = [("signature", ctypes.c_uint32), ("id", ctypes.c_uint32)]


def _keycode(key: str) -> int:
    if key in KEYCODES:
        return KEYCODES[key]
    index = LETTERS.find(key.upper()) if len(key) == 1 else -1
    if index < 0 or key == " ":
        raise HotkeyError(f"the key {key!r} is not supported for global shortcuts on macOS")
    return index


class MacHotkey(GlobalHotkey):
    """A hotkey registered with Carbon's application event target."""

    def __init__(self, hotkey: Hotkey, parent: QObject | None = None) -> None:
        super().__init__(hotkey, parent)
        self._carbon: Any = None
        self._ref = ctypes.c_void_p()
        self._handler_ref = ctypes.c_void_p()
        self._callback = HANDLER(self._on_event)  # kept alive as long as self

    def _on_event(self, _call: Any, _event: Any, _data: Any) -> int:
        self.activated.emit()
        return 0

    def register(self) -> None:
        path = ctypes.util.find_library("Carbon")
        if not path:
            raise HotkeyError("Carbon is not available; bind `callmemaybe quick` instead")
        carbon = ctypes.cdll.LoadLibrary(path)
        carbon.GetApplicationEventTarget.restype = ctypes.c_void_p
        target = carbon.GetApplicationEventTarget()
        spec = _EventTypeSpec(K_EVENT_CLASS_KEYBOARD, K_EVENT_HOT_KEY_PRESSED)
        carbon.InstallEventHandler(
            ctypes.c_void_p(target),
            self._callback,
            1,
            ctypes.byref(spec),
            None,
            ctypes.byref(self._handler_ref),
        )
        modifiers = 0
        for name in self.hotkey.modifiers:
            modifiers |= MODS[name]
        status = carbon.RegisterEventHotKey(
            _keycode(self.hotkey.key),
            modifiers,
            _HotKeyID(SIGNATURE, 1),
            ctypes.c_void_p(target),
            0,
            ctypes.byref(self._ref),
        )
        self._carbon = carbon
        if status != 0:
            self.unregister()
            raise HotkeyError(
                f"{self.hotkey} is already used by another program; choose another shortcut"
            )

    def unregister(self) -> None:
        if self._carbon is None:
            return
        if self._ref:
            self._carbon.UnregisterEventHotKey(self._ref)
        if self._handler_ref:
            self._carbon.RemoveEventHandler(self._handler_ref)
        self._carbon = None
