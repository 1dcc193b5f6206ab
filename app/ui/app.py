"""Wiring the desktop app: one QApplication, one bridge, the window, popup, tray and hotkey.

:func:`run_gui` is what ``callmemaybe`` and ``callmemaybe gui`` run: it forwards to an
instance that is already running, else shows the window first and loads the model after, so
the window appears in a fraction of a second whatever the model costs. :func:`screenshot`
renders the window over a sample conversation in a throwaway store, for documentation and CI.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from app.reminders import ReminderWatch


REMINDER_CHECK_MS = 30_000  # how often due event reminders are looked for


def open_core(settings: Settings) -> Core:
    """The core for the user's settings: tools, their lazily opened store, the model loader."""
    from app.runtime import open_backend
    from app.toolbox import open_toolbox

    toolbox = open_toolbox(settings)
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
        self._reminder_timer = QTimer(self)
        self._reminder_timer.setInterval(REMINDER_CHECK_MS)
        self._reminder_timer.timeout.connect(self.check_reminders)
        self.window.close_to_tray = self.ui.close_to_tray and self.tray is not None
        self.window.quickRequested.connect(self.quick)
        self.window.settingsRequested.connect(self.open_settings)
        self.window.quitRequested.connect(self.quit)
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
        """Build the core (store, tools), fill the lists, then start loading the model."""
        self.window.refresh()
        self.window.approvals.refresh()
        self.bridge.start()
        from app.reminders import ReminderWatch  # the calendar layer: after the window is up

        self.reminders = ReminderWatch(self.bridge.core.context)
        self._reminder_timer.start()

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


def _sample_core(folder: Path) -> Core:
    """A core over a throwaway store holding one conversation and one pending action."""
    from zoneinfo import ZoneInfo

    from app.actions import Actions
    from app.conversations import Conversations
    from backends.errors import BackendError
    from connectors.registry import load_registry
    from connectors.store.database import open_store
    from connectors.tool import ToolContext

    store = open_store(folder / "store", key=secrets.token_bytes(32))
    context = ToolContext(
        open_store=lambda: store, timezone=ZoneInfo("Europe/Paris"), data_dir=folder
    )
    registry = load_registry()
    conversations = Conversations(context.store, context.current_time)
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
    chat = conversations.create("Shopping list")
    request = "Make a note called Shopping with milk, eggs and coffee"
    arguments = {"title": "Shopping", "body": "- milk\n- eggs\n- coffee", "tags": ["home"]}
    conversations.append(chat, {"role": "user", "content": request})
    conversations.append(
        chat,
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"type": "function", "function": {"name": "notes_create", "arguments": arguments}}
            ],
        },
    )
    action = Actions(registry, context).propose("notes_create", arguments, conversation_id=chat)
    conversations.append(
        chat,
        {
            "role": "tool",
            "name": "notes_create",
            "content": f'{{"status": "waiting for the user\'s approval", "action": {action.id}}}',
        },
    )
    conversations.append(
        chat,
        {
            "role": "assistant",
            "content": f"This needs your approval:\n#{action.id} {action.summary or action.tool}.",
        },
    )

    def no_model(_progress: object) -> object:
        raise BackendError("the screenshot shows a sample; no model is loaded")

    return Core(registry, context, Settings(), no_model, close=store.close)  # type: ignore[arg-type]


def screenshot(out: Path, size: tuple[int, int] = (1100, 700)) -> Path:
    """Render the main window over a sample conversation and a pending action into ``out``.

    Works without a display (Qt's offscreen platform); nothing touches the user's data.
    """
    if QApplication.instance() is None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = application()
    with tempfile.TemporaryDirectory(prefix="callmemaybe-shot-") as folder:
        core = _sample_core(Path(folder))
        desktop = DesktopApp(
            core, UiSettings(close_to_tray=False), use_tray=False, use_hotkey=False
        )
        window = desktop.window
        window.resize(*size)
        window.show()
        window.refresh()
        window.progress.hide()
        window.model_status.setText("Sample conversation (no model loaded)")
        window.conversations.setCurrentRow(0)
        window.approvals.refresh()
        app.processEvents()
        window.chat.view.render_now()
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not window.grab().save(str(out), "PNG"):
            raise OSError(f"cannot write {out}")
        window.close_to_tray = False
        window.hide()
        desktop.bridge.shutdown()
        window.deleteLater()
        desktop.popup.deleteLater()
        app.processEvents()
    return out
