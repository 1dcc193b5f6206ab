"""X11: ``XGrabKey`` on the root window through python-xlib, read via a QSocketNotifier.

python-xlib opens its own connection to the X server (independent of Qt's platform plugin,
which may even be ``offscreen``); the notifier wakes the Qt event loop when that connection
has events, so nothing polls. X11 matches modifiers exactly, so every NumLock/CapsLock
variant is grabbed too. A combination another client holds makes the grab fail with
BadAccess, which becomes a :class:`HotkeyError` naming the combination.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier

from app.ui.hotkey import GlobalHotkey, Hotkey, HotkeyError

KEY_NAMES = {"Esc": "Escape", "Enter": "Return", "Del": "Delete", "Ins": "Insert"}


class X11Hotkey(GlobalHotkey):
    """A hotkey grabbed on an X display (``display_name`` None: ``$DISPLAY``)."""

    def __init__(
        self, hotkey: Hotkey, display_name: str | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(hotkey, parent)
        self.display_name = display_name
        self._display: Any = None
        self._notifier: QSocketNotifier | None = None
        self._grabs: list[tuple[int, int]] = []
        self._keycode = 0

    def register(self) -> None:
        from Xlib import XK, X, display, error

        try:
            self._display = display.Display(self.display_name)
        except Exception as exc:  # python-xlib raises several unrelated types here
            raise HotkeyError(f"cannot reach the X display: {exc}") from exc
        name = KEY_NAMES.get(self.hotkey.key, self.hotkey.key)
        keysym = 0
        for candidate in (name, name.lower(), name.capitalize()):
            keysym = XK.string_to_keysym(candidate)
            if keysym:
                break
        keycode = self._display.keysym_to_keycode(keysym) if keysym else 0
        if not keycode:
            self._close()
            raise HotkeyError(f"this keyboard has no key {self.hotkey.key!r}")
        self._keycode = keycode
        masks = {
            "ctrl": X.ControlMask,
            "alt": X.Mod1Mask,
            "shift": X.ShiftMask,
            "meta": X.Mod4Mask,
        }
        base = 0
        for modifier in self.hotkey.modifiers:
            base |= masks[modifier]
        numlock = self._numlock_mask()
        root = self._display.screen().root
        catcher = error.CatchError(error.BadAccess)
        for extra in {0, X.LockMask, numlock, X.LockMask | numlock}:
            root.grab_key(
                keycode, base | extra, False, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher
            )
            self._grabs.append((keycode, base | extra))
        self._display.sync()
        if catcher.get_error() is not None:
            self.unregister()
            raise HotkeyError(
                f"{self.hotkey} is already used by another program; choose another shortcut"
            )
        self._notifier = QSocketNotifier(self._display.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)
        self._drain()

    def _numlock_mask(self) -> int:
        from Xlib import XK, X

        numlock = self._display.keysym_to_keycode(XK.string_to_keysym("Num_Lock"))
        masks = [X.ShiftMask, X.LockMask, X.ControlMask, X.Mod1Mask]
        masks += [X.Mod2Mask, X.Mod3Mask, X.Mod4Mask, X.Mod5Mask]
        for index, codes in enumerate(self._display.get_modifier_mapping()):
            if numlock and numlock in codes:
                return masks[index]
        return X.Mod2Mask

    def _drain(self) -> None:
        from Xlib import X

        if self._display is None:
            return
        while self._display.pending_events():
            event = self._display.next_event()
            if event.type == X.KeyPress and event.detail == self._keycode:
                self.activated.emit()

    def unregister(self) -> None:
        if self._display is None:
            return
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        root = self._display.screen().root
        for keycode, modifiers in self._grabs:
            root.ungrab_key(keycode, modifiers)
        self._grabs.clear()
        self._close()

    def _close(self) -> None:
        if self._display is not None:
            self._display.sync()
            self._display.close()
            self._display = None
