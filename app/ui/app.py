"""Wiring the desktop app: one QApplication, one bridge, the window, popup, tray and hotkey.

:func:`run_gui` is what ``callmemaybe`` and ``callmemaybe gui`` run: it forwards to an
instance that is already running, else shows the window first and loads the model after, so
the window appears in a fraction of a second whatever the model costs. :func:`screenshot`
renders the window over a sample conversation in a throwaway store, for documentation and CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from app import autostart
from app.settings import Settings, load_settings, save_settings
from app.ui.bridge import AssistantBridge, Core
from app.ui.hotkey import GlobalHotkey, HotkeyError, create_hotkey
from app.ui.quick import QuickPopup
from app.ui.settings_dialog import SettingsDialog
from app.ui.single import SingleInstance, send_command
from app.ui.tray import Tray
from app.ui.ui_settings import UiSettings, load_ui_settings, save_ui_settings
from app.ui.window import MainWindow
from connectors.errors import ConnectorError

if TYPE_CHECKING:
    from app.reminders import ReminderWatch
    from app.ui.first_run import PassphraseDialog


REMINDER_CHECK_MS = 30_000  # how often due event reminders are looked for


def open_core(settings: Settings) -> Core:
    """The core for the user's settings: tools, their lazily opened store, the model loader.

    The configured MCP servers start here without waiting: their tools join the registry as
    each one connects, and closing the core (on quit) stops them.
    """
    from app.runtime import open_backend
    from app.toolbox import open_toolbox

    toolbox = open_toolbox(settings, mcp_wait=0)
    return Core(
        registry=toolbox.registry,
        context=toolbox.context,
        settings=settings,
        load_backend=lambda progress: open_backend(settings, progress),
        close=toolbox.close,
    )


def application() -> QApplication:
    """The process's QApplication (created once; a QCoreApplication first would abort)."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Call-Me-Maybe")
    app.setDesktopFileName("callmemaybe")
    app.setQuitOnLastWindowClosed(False)
    return app


class DesktopApp(QObject):
    """Owns the pieces and routes the user's intents between them."""

    def __init__(
        self,
        core: Core | Callable[[], Core],
        ui: UiSettings | None = None,
        *,
        instance: SingleInstance | None = None,
        use_tray: bool = True,
        use_hotkey: bool = True,
    ) -> None:
        super().__init__()
        self.ui = ui or UiSettings()
        self.bridge = AssistantBridge(core, self)
        self.window = MainWindow(self.bridge)
        self.popup = QuickPopup(self.bridge)
        self.tray: Tray | None = Tray(self) if use_tray and Tray.available() else None
        self.hotkey: GlobalHotkey | None = None
        self.hotkey_problem: str | None = None
        self.instance = instance
        self.reminders: ReminderWatch | None = None
        self.passphrase_dialog: PassphraseDialog | None = None
        self._reminder_timer = QTimer(self)
        self._reminder_timer.setInterval(REMINDER_CHECK_MS)
        self._reminder_timer.timeout.connect(self.check_reminders)
        self.window.close_to_tray = self.ui.close_to_tray and self.tray is not None
        self.window.quickRequested.connect(self.quick)
        self.window.settingsRequested.connect(self.open_settings)
        self.window.quitRequested.connect(self.quit)
        self.window.unlockRequested.connect(lambda: self.unlock_store() and self._after_show())
        self.popup.decided.connect(lambda *_: self.window.approvals.refresh())
        self.bridge.pendingChanged.connect(self._badge)
        if self.tray is not None:
            self.tray.openRequested.connect(self.show_window)
            self.tray.quickRequested.connect(self.quick)
            self.tray.approvalsRequested.connect(self.show_approvals)
            self.tray.quitRequested.connect(self.quit)
            self.tray.show()
        if instance is not None:
            instance.commandReceived.connect(self.command)
        if use_hotkey and self.ui.hotkey:
            self.hotkey_problem = self.set_hotkey(self.ui.hotkey)

    def set_hotkey(self, text: str) -> str | None:
        """Grab ``text`` as the quick-command hotkey; returns why not, or None."""
        new: GlobalHotkey | None = None
        if text:
            try:
                new = create_hotkey(text, self)
                new.register()
            except HotkeyError as exc:
                return f"The shortcut {text} cannot be used: {exc}"
        if self.hotkey is not None:
            self.hotkey.unregister()
        self.hotkey = new
        if new is not None:
            new.activated.connect(self.quick)
        return None

    def start(self) -> None:
        """Show the window now, read the store right after, then load the model."""
        self.show_window()
        QTimer.singleShot(0, self._after_show)
        if self.hotkey_problem:
            self.window.statusBar().showMessage(self.hotkey_problem, 15000)

    def _after_show(self) -> None:
        """Build the core (store, tools), fill the lists, then start loading the model.

        Without a keyring the store needs a passphrase: the model starts loading while the
        passphrase dialog is open, and the lists fill once the store opens.
        """
        if not self.unlock_store():
            self.bridge.start()
            return
        self.window.refresh()
        self.window.approvals.refresh()
        self.bridge.start()
        from app.reminders import ReminderWatch  # the calendar layer: after the window is up

        self.reminders = ReminderWatch(self.bridge.core.context)
        self._reminder_timer.start()

    def unlock_store(self, problem: str = "") -> bool:
        """Open the store now; when it needs a passphrase, ask for it and return False.

        The dialog's passphrase reaches the store the way a script's does
        (``CALLMEMAYBE_PASSPHRASE``, see :func:`app.ui.first_run.use_passphrase`); once it is
        given, start-up goes on from :meth:`_after_show`. A wrong one asks again, saying so.
        """
        from connectors.errors import KeyringUnavailableError, WrongKeyError

        try:
            self.bridge.core.context.store()
        except KeyringUnavailableError:
            self.ask_passphrase(self._passphrase_mode(), problem)
            return False
        except WrongKeyError:
            self.ask_passphrase(
                "open", "That passphrase does not open your store. Check it and try again."
            )
            return False
        except ConnectorError:
            return True  # the window says why in its status bar when it reads the lists
        return True

    def _passphrase_mode(self) -> Literal["create", "open"]:
        """Whether to ask for a new passphrase (an empty store) or the one that opens it."""
        from connectors.store import keys

        database = self.bridge.core.context.data_dir / "store" / "store.db"
        needed = getattr(keys, "passphrase_needed", None)
        if needed is not None:
            return "open" if needed(database) == "open" else "create"
        return "open" if database.exists() and database.stat().st_size > 0 else "create"

    def ask_passphrase(
        self, mode: Literal["create", "open"], problem: str = ""
    ) -> PassphraseDialog:
        """Open the passphrase dialog over the window (returned for tests)."""
        from app.ui.first_run import PassphraseDialog, use_passphrase

        if self.passphrase_dialog is not None:
            self.passphrase_dialog.close()
        dialog = PassphraseDialog(mode, problem, self.window)
        self.passphrase_dialog = dialog

        def chosen(passphrase: str) -> None:
            use_passphrase(passphrase)
            QTimer.singleShot(0, self._after_show)

        def cancelled() -> None:
            self.window.model_status.setText(
                "Your calendar and notes stay locked until you give the passphrase "
                "(File → Unlock the store…)."
            )

        dialog.chosen.connect(chosen)
        dialog.rejected.connect(cancelled)
        dialog.open()
        return dialog

    def check_reminders(self) -> list[str]:
        """Show the event reminders that fell due (a notification, else the status bar).

        Returns the texts shown (for tests).
        """
        if self.reminders is None:
            return []
        shown = []
        for reminder in self.reminders.due():
            text = reminder.message()
            if self.tray is not None and self.tray.can_notify():
                self.tray.notify(reminder.title, text)
            else:
                self.window.statusBar().showMessage(f"Reminder: {reminder.title} — {text}", 60000)
            shown.append(f"{reminder.title}: {text}")
        return shown

    def command(self, name: str) -> None:
        """A command from another launch (``show`` or ``quick``)."""
        if name == "quick":
            self.quick()
        else:
            self.show_window()

    def show_window(self) -> None:
        """Show and raise the main window."""
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()

    def show_approvals(self) -> None:
        """The window with the keyboard in the approvals list."""
        self.show_window()
        self.window.focus_approvals()

    def quick(self) -> None:
        """Open the quick-command popup."""
        self.popup.popup()

    def _badge(self, count: int) -> None:
        if self.tray is not None:
            self.tray.set_count(count)

    def open_settings(self) -> SettingsDialog:
        """Open the settings dialog (returned for tests)."""
        names = sorted(t.name for t in self.bridge.core.registry.tools() if t.offered)
        dialog = SettingsDialog(load_settings(), self.ui, names, self.apply_settings, self.window)
        dialog.open()
        return dialog

    def apply_settings(self, settings: Settings, ui: UiSettings) -> str | None:
        """Save the settings; refuse (saving nothing) when the new hotkey is taken."""
        if ui.hotkey != self.ui.hotkey:
            problem = self.set_hotkey(ui.hotkey)
            if problem:
                return problem
        if settings.start_at_login != load_settings().start_at_login:
            try:
                autostart.sync(settings.start_at_login)
            except autostart.AutostartError as exc:
                return f"Start at login could not be changed: {exc}"
        save_settings(settings)
        save_ui_settings(ui)
        self.ui = ui
        self.window.close_to_tray = ui.close_to_tray and self.tray is not None
        self.window.statusBar().showMessage(
            "Settings saved. A new model, thread count or policy applies at the next start.", 10000
        )
        return None

    def quit(self) -> None:
        """Stop everything and leave the event loop."""
        self.popup.hide()
        self.window.close_to_tray = False
        self.window.hide()
        if self.hotkey is not None:
            self.hotkey.unregister()
            self.hotkey = None
        self._reminder_timer.stop()
        if self.tray is not None:
            self.tray.hide()
        if self.instance is not None:
            self.instance.close()
        self.bridge.shutdown()
        QApplication.quit()


def run_gui(command: str = "show") -> int:
    """``callmemaybe gui`` / ``callmemaybe quick``: forward to the running app or start one."""
    if send_command(command):
        return 0
    app = application()
    instance = SingleInstance()
    if not instance.listen():  # another instance won the race since send_command above
        return 0 if send_command(command) else 1
    settings = load_settings()
    if settings.start_at_login:  # point the login entry at this installation, wherever it is now
        with contextlib.suppress(autostart.AutostartError):
            autostart.sync(True)
    desktop = DesktopApp(lambda: open_core(settings), load_ui_settings(), instance=instance)
    desktop.start()
    if command == "quick":
        desktop.quick()
    return app.exec()


SHOT_STATES = ("pending", "result", "question", "welcome", "popup")
SAMPLE_NOW = datetime(2027, 1, 12, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))  # a Tuesday


def _sample_core(folder: Path, state: str) -> Core:
    """A core over a throwaway store holding sample conversations for ``state``.

    The clock is fixed (:data:`SAMPLE_NOW`), so the screenshots say the same dates every run.
    """
    from app.actions import Actions
    from app.conversations import Conversations
    from app.decisions import Decisions
    from backends.errors import BackendError
    from connectors.registry import load_registry
    from connectors.store.database import open_store
    from connectors.tool import ToolContext

    store = open_store(folder / "store", key=secrets.token_bytes(32))
    context = ToolContext(
        open_store=lambda: store,
        timezone=SAMPLE_NOW.tzinfo,
        now=lambda: SAMPLE_NOW,
        data_dir=folder,
    )
    registry = load_registry()
    conversations = Conversations(context.store, context.current_time)
    actions = Actions(registry, context)
    registry.run(
        "calendar_create",
        {"title": "Team sync", "start": "2027-01-14 12:00", "end": "12:45"},
        context,
        approved=True,
    )
    registry.run(
        "notes_create",
        {"title": "Dentist", "body": "Dr Moreau, Fri 15 Jan 09:00"},
        context,
        approved=True,
    )
    older = conversations.create("What can you do?")
    conversations.append(older, {"role": "user", "content": "What can you do?"})
    conversations.append(
        older,
        {
            "role": "assistant",
            "content": "I can help with:\n\n- **calendar** events\n- **notes**\n"
            "- **files** in the folders you grant\n\nChanges wait for your approval.",
        },
    )
    shopping = conversations.create("Shopping list")
    note = {"title": "Shopping", "body": "- milk\n- eggs\n- coffee", "tags": ["home"]}
    conversations.append(
        shopping,
        {"role": "user", "content": "Make a note called Shopping with milk, eggs and coffee"},
    )
    _sample_call(conversations, shopping, "notes_create", note)
    note_action = actions.propose("notes_create", note, conversation_id=shopping)
    _sample_waiting(conversations, shopping, note_action)

    if state == "question":
        chat = conversations.create("Move the dentist")
        conversations.append(chat, {"role": "user", "content": "Move my dentist appointment"})
        conversations.append(
            chat,
            {
                "role": "assistant",
                "content": "**Dentist** is on Fri 15 Jan at 09:00. Which day should I move it to?",
            },
        )
    elif state != "welcome":
        chat = conversations.create("Lunch with Ana")
        lunch = {
            "title": "Lunch with Ana",
            "start": "2027-01-14 12:30",
            "end": "13:30",
            "location": "Cafe Luz",
            "attendees": ["Ana"],
        }
        conversations.append(
            chat, {"role": "user", "content": "Lunch with Ana on Thursday 12:30 at Cafe Luz"}
        )
        _sample_call(conversations, chat, "calendar_create", lunch)
        action = actions.propose("calendar_create", lunch, conversation_id=chat)
        _sample_waiting(conversations, chat, action)
        if state == "result":
            Decisions(actions, conversations).approve(action.id)

    def no_model(_progress: object) -> object:
        raise BackendError("the screenshot shows a sample; no model is loaded")

    return Core(registry, context, Settings(), no_model, close=store.close)  # type: ignore[arg-type]


def _sample_call(conversations: Any, chat: int, tool: str, arguments: dict[str, Any]) -> None:
    call = {"type": "function", "function": {"name": tool, "arguments": arguments}}
    conversations.append(chat, {"role": "assistant", "content": "", "tool_calls": [call]})


def _sample_waiting(conversations: Any, chat: int, action: Any) -> None:
    from app.assistant import _pending_text

    waiting = {"status": "waiting for the user's approval", "action": action.id}
    conversations.append(
        chat, {"role": "tool", "name": action.tool, "content": json.dumps(waiting)}
    )
    conversations.append(chat, {"role": "assistant", "content": _pending_text([action])})


def render_sample(
    size: tuple[int, int] = (1100, 700), theme_name: str | None = None, state: str = "pending"
) -> tuple[DesktopApp, Callable[[], None]]:
    """The app over a sample store, drawn for ``state`` at ``size`` in ``theme_name``.

    Returns the app (for checks) and a function that closes it and removes the sample store.
    """
    from app.ui import theme

    if state not in SHOT_STATES:
        raise ValueError(f"unknown state {state!r}; choose one of {', '.join(SHOT_STATES)}")
    app = application()
    if theme_name is not None:
        theme.apply_scheme(app, theme_name)
    folder = tempfile.TemporaryDirectory(prefix="callmemaybe-shot-")
    core = _sample_core(Path(folder.name), state)
    desktop = DesktopApp(core, UiSettings(close_to_tray=False), use_tray=False, use_hotkey=False)
    window = desktop.window
    window.resize(*size)
    window.show()
    window.refresh()
    window.approvals.refresh()
    window.progress.hide()
    window.model_status.setText("Sample conversation (no model loaded)")
    if state == "welcome":
        window.new_conversation()
    else:
        window.conversations.setCurrentRow(0)
    if state == "popup":
        popup = desktop.popup
        popup.popup()
        popup.input.setText("Lunch with Ana on Thursday 12:30 at Cafe Luz")
        popup.request = popup.input.text()
        pending = [a for a in desktop.bridge.pending() if a.tool == "calendar_create"]
        popup.card.show_action(pending[0])
        popup.card.show()
        popup.hint.show()
        popup.action_id = pending[0].id
        popup.adjustSize()
    for _ in range(3):  # layouts settle over a few passes (word-wrapped labels)
        app.processEvents()
        window.chat.view.render_now()
    if state == "popup":
        desktop.popup.adjustSize()
    app.processEvents()

    def close() -> None:
        desktop.popup.hide()
        window.close_to_tray = False
        window.hide()
        desktop.bridge.shutdown()
        window.deleteLater()
        desktop.popup.deleteLater()
        app.processEvents()
        folder.cleanup()

    return desktop, close


def screenshot(
    out: Path,
    size: tuple[int, int] = (1100, 700),
    *,
    theme: str | None = None,
    state: str = "pending",
) -> Path:
    """Render the main window (or the quick popup) over a sample conversation into ``out``.

    Works without a display (Qt's offscreen platform); nothing touches the user's data.

    Args:
        size: the window's width and height in pixels.
        theme: "light" or "dark" (default: the system's).
        state: "pending" (a change waiting in the chat), "result" (after approval, with
            Undo), "question" (the assistant asks back), "welcome" (an empty conversation),
            or "popup" (the quick popup with its card).
    """
    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    desktop, close = render_sample(size, theme, state)
    try:
        widget = desktop.popup if state == "popup" else desktop.window
        out.parent.mkdir(parents=True, exist_ok=True)
        if not widget.grab().save(str(out), "PNG"):
            raise OSError(f"cannot write {out}")
    finally:
        close()
    return out
