"""The tray icon: open, quick command, pending count, quit; the badge on the icon itself."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from app.ui.icons import app_icon


class Tray(QObject):
    """Wraps QSystemTrayIcon (absent on desktops without a tray: then nothing is shown).

    Signals:
        openRequested(), quickRequested(), approvalsRequested(), quitRequested().
    """

    openRequested = Signal()
    quickRequested = Signal()
    approvalsRequested = Signal()
    quitRequested = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.icon = QSystemTrayIcon(app_icon(), self)
        self.menu = QMenu()
        self.open_action = QAction("&Open Call-Me-Maybe", self.menu)
        self.quick_action = QAction("&Quick command", self.menu)
        self.pending_action = QAction("Nothing waiting for approval", self.menu)
        self.quit_action = QAction("Q&uit", self.menu)
        for action in (self.open_action, self.quick_action, self.pending_action):
            self.menu.addAction(action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.open_action.triggered.connect(self.openRequested)
        self.quick_action.triggered.connect(self.quickRequested)
        self.pending_action.triggered.connect(self.approvalsRequested)
        self.quit_action.triggered.connect(self.quitRequested)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._activated)
        self.count = 0
        self.set_count(0)

    @staticmethod
    def available() -> bool:
        """Whether this desktop shows tray icons."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    def show(self) -> None:
        """Show the icon if the desktop has a tray."""
        if self.available():
            self.icon.show()

    def hide(self) -> None:
        """Remove the icon."""
        self.icon.hide()

    def set_count(self, count: int) -> None:
        """Badge and menu entry for ``count`` pending approvals."""
        self.count = count
        self.icon.setIcon(app_icon(count))
        text = f"{count} waiting for approval" if count else "Nothing waiting for approval"
        self.pending_action.setText(text)
        self.pending_action.setEnabled(count > 0)
        self.icon.setToolTip(f"Call-Me-Maybe — {text.lower()}")

    def can_notify(self) -> bool:
        """Whether the desktop shows this icon's notifications."""
        return self.icon.isVisible() and QSystemTrayIcon.supportsMessages()

    def notify(self, title: str, text: str) -> None:
        """A desktop notification (reminders, alarms, finished quick commands)."""
        if self.can_notify():
            self.icon.showMessage(title, text, app_icon(), 8000)

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.openRequested.emit()
