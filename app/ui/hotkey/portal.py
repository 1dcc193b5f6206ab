"""Wayland: the xdg-desktop-portal GlobalShortcuts interface, over jeepney (best effort).

Wayland lets no client grab keys; the portal asks the compositor, which may show the user a
dialog to confirm or change the combination. QtDBus cannot unpack the portal's ``a{sv}``
replies from Python, jeepney can. Untested on this project's CI machine (it has no portal):
when anything fails, :class:`HotkeyError` tells the user to bind ``callmemaybe quick`` in the
desktop's shortcut settings instead, which always works.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any

from PySide6.QtCore import QObject

from app.ui.hotkey import GlobalHotkey, Hotkey, HotkeyError

PORTAL = ("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop")
INTERFACE = "org.freedesktop.portal.GlobalShortcuts"
SHORTCUT_ID = "quick-command"


def _portal_trigger(hotkey: Hotkey) -> str:
    """The XDG shortcut form: ``CTRL+ALT+space`` (modifiers upper-case, key as a keysym)."""
    names = {"ctrl": "CTRL", "alt": "ALT", "shift": "SHIFT", "meta": "LOGO"}
    mods = [names[m] for m in ("ctrl", "alt", "shift", "meta") if m in hotkey.modifiers]
    return "+".join([*mods, hotkey.key.lower()])


class PortalHotkey(GlobalHotkey):
    """A shortcut bound through the GlobalShortcuts portal; its signals are read in a thread."""

    def __init__(self, hotkey: Hotkey, parent: QObject | None = None) -> None:
        super().__init__(hotkey, parent)
        self._connection: Any = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def register(self) -> None:
        try:
            self._bind()
        except HotkeyError:
            raise
        except Exception as exc:  # jeepney and D-Bus errors of several kinds
            self.unregister()
            raise HotkeyError(
                f"the desktop's shortcut portal refused ({exc}); bind `callmemaybe quick` "
                "in your desktop's keyboard settings instead"
            ) from exc

    def _request(self, method: str, signature: str, *args: Any) -> dict[str, Any]:
        """Call a portal method and wait for its Request's Response signal."""
        from jeepney import DBusAddress, MatchRule, new_method_call

        token = "cmm" + secrets.token_hex(6)
        sender = self._connection.unique_name[1:].replace(".", "_")
        request_path = f"/org/freedesktop/portal/desktop/request/{sender}/{token}"
        rule = MatchRule(
            type="signal", interface="org.freedesktop.portal.Request", path=request_path
        )
        address = DBusAddress(PORTAL[1], bus_name=PORTAL[0], interface=INTERFACE)
        options = dict(args[-1])
        options["handle_token"] = ("s", token)
        with self._connection.filter(rule) as queue:
            self._connection.send_and_get_reply(
                new_method_call(address, method, signature, (*args[:-1], options))
            )
            reply = self._connection.recv_until_filtered(queue, timeout=60)
        code, results = reply.body
        if code != 0:
            raise HotkeyError("the shortcut was not accepted in the desktop's dialog")
        return dict(results)

    def _bind(self) -> None:
        from jeepney.io.blocking import open_dbus_connection

        self._connection = open_dbus_connection(bus="SESSION")
        token = "cmm" + secrets.token_hex(6)
        created = self._request("CreateSession", "a{sv}", {"session_handle_token": ("s", token)})
        session = created["session_handle"][1]
        shortcut = (
            SHORTCUT_ID,
            {
                "description": ("s", "Call-Me-Maybe quick command"),
                "preferred_trigger": ("s", _portal_trigger(self.hotkey)),
            },
        )
        self._request("BindShortcuts", "oa(sa{sv})sa{sv}", session, [shortcut], "", {})
        self._thread = threading.Thread(target=self._listen, name="portal-hotkey", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        from jeepney import MatchRule

        rule = MatchRule(type="signal", interface=INTERFACE, member="Activated")
        with self._connection.filter(rule) as queue:
            while not self._stop.is_set():
                try:
                    message = self._connection.recv_until_filtered(queue, timeout=0.5)
                except TimeoutError:
                    continue
                except Exception:
                    return  # connection closed by unregister()
                if message.body[1] == SHORTCUT_ID:
                    self.activated.emit()  # queued to the GUI thread by Qt

    def unregister(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1)
            self._thread = None
        if self._connection is not None:
            self._connection.close()
            self._connection = None
