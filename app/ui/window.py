"""The main window: conversations, the chat, the approvals panel, the model's status.

It renders the bridge's signals for turns it started (the quick popup renders its own) and
forwards the user's intents; the app object (:mod:`app.ui.app`) owns the tray, the hotkey and
the settings, and tells the window what to do through plain methods.
"""

from __future__ import annotations

import time
from datetime import datetime

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.events import ActionPending, CallProposed, ToolErrorEvent, ToolResultEvent, TurnDone
from app.ui.approvals import ApprovalsPanel
from app.ui.bridge import AssistantBridge
from app.ui.chat import Card, ChatPanel, Message, items_from_messages
from app.ui.first_run import ModelProgressDialog
from app.ui.icons import app_icon
from connectors.errors import ConnectorError

TITLE = "Call-Me-Maybe"


def human_bytes(count: float) -> str:
    """``1536`` -> ``"1.5 KB"`` (decimal units, as download tools show them)."""
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"  # pragma: no cover


class MainWindow(QMainWindow):
    """The everyday window.

    Signals:
        quickRequested(): open the quick command popup.
        settingsRequested(): open the settings dialog.
        quitRequested(): leave the app (not just hide the window).
        unlockRequested(): ask again for the store's passphrase (after a cancelled dialog).
    """

    quickRequested = Signal()
    settingsRequested = Signal()
    quitRequested = Signal()
    unlockRequested = Signal()

    def __init__(self, bridge: AssistantBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.close_to_tray = False
        self.conversation_id: int | None = None
        self.pending_count = 0
        self.setWindowTitle(TITLE)
        self.setWindowIcon(app_icon())
        self.resize(1100, 700)

        self.conversations = QListWidget()
        self.conversations.setAccessibleName("Conversations")
        new_button = QPushButton("&New conversation")
        new_button.setAccessibleName("New conversation")
        new_button.clicked.connect(self.new_conversation)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(new_button)
        left_layout.addWidget(self.conversations, 1)
        self.chat = ChatPanel(bridge)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.chat)
        splitter.setSizes([220, 600])
        self.setCentralWidget(splitter)

        self.approvals = ApprovalsPanel(bridge)
        self.approvals_dock = QDockWidget("Approvals", self)
        self.approvals_dock.setObjectName("approvals")
        self.approvals_dock.setWidget(self.approvals)
        self.approvals_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.approvals_dock)
        self.resizeDocks([self.approvals_dock], [340], Qt.Orientation.Horizontal)
        self._turn_started: float | None = None

        self.model_status = QLabel("Loading the model…")
        self.model_status.setAccessibleName("Model status")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Model loading progress")
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(220)
        self.statusBar().addWidget(self.model_status, 1)
        self.statusBar().addPermanentWidget(self.progress)
        self._progress_start: tuple[float, int] | None = None
        self.model_dialog: ModelProgressDialog | None = None

        self._build_menu()
        self.chat.sendRequested.connect(self.send)
        self.chat.stopRequested.connect(bridge.stop)
        self.conversations.currentItemChanged.connect(self._open_selected)
        self.approvals.decided.connect(self._decided)
        self.approvals.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.chat.view.decided.connect(self._decided_in_chat)
        self.chat.view.message.connect(lambda text: self.statusBar().showMessage(text, 8000))
        bridge.modelProgress.connect(self._on_progress)
        bridge.modelReady.connect(self._on_ready)
        bridge.modelFailed.connect(self._on_failed_model)
        bridge.busyChanged.connect(self._on_busy)
        bridge.textDelta.connect(self._on_text)
        bridge.callProposed.connect(self._on_call)
        bridge.actionPending.connect(self._on_pending)
        bridge.toolResult.connect(self._on_result)
        bridge.toolError.connect(self._on_error)
        bridge.turnDone.connect(self._on_done)
        bridge.turnFailed.connect(self._on_turn_failed)
        bridge.pendingChanged.connect(self.set_pending_count)
        if bridge.model_loaded:
            self._on_ready()

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&File")
        entries = [
            ("&New conversation", "Ctrl+N", self.new_conversation),
            ("&Quick command", "Ctrl+K", self.quickRequested.emit),
            ("&Approvals", "Ctrl+Shift+A", self.focus_approvals),
            ("&Message box", "Ctrl+L", self.chat.input.setFocus),
            ("&Stop answer", "Esc", self.bridge.stop),
            ("S&ettings…", "Ctrl+,", self.settingsRequested.emit),
            ("&Unlock the store…", "", self.unlockRequested.emit),
            ("&Quit", "Ctrl+Q", self.quitRequested.emit),
        ]
        for text, keys, slot in entries:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(slot)
            menu.addAction(action)

    # -- data ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Reload the conversation list and the badge from the store."""
        try:
            listed = self.bridge.conversation_list()
            self.set_pending_count(self.bridge.pending_count())
        except ConnectorError as exc:
            self.statusBar().showMessage(f"The store cannot be read: {exc}")
            return
        self.conversations.blockSignals(True)
        self.conversations.clear()
        for info in listed:
            item = QListWidgetItem(info.title or f"Conversation {info.id}")
            item.setData(Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(f"{info.updated:%Y-%m-%d %H:%M}")
            self.conversations.addItem(item)
            if info.id == self.conversation_id:
                self.conversations.setCurrentItem(item)
        self.conversations.blockSignals(False)

    def open_conversation(self, conversation_id: int | None) -> None:
        """Show a stored conversation (None: a new, empty one, with the welcome)."""
        self.conversation_id = conversation_id
        messages, times = (
            self.bridge.timed_messages(conversation_id) if conversation_id is not None else ([], [])
        )
        self.chat.view.set_items(items_from_messages(messages, times))
        self.chat.refresh_prompt()

    @Slot()
    def new_conversation(self) -> None:
        """Start afresh: the next message opens a new conversation."""
        if self.bridge.busy:
            return
        self.conversations.clearSelection()
        self.conversations.setCurrentItem(None)
        self.open_conversation(None)
        self.chat.input.setFocus()

    def _open_selected(self, current: QListWidgetItem | None, _previous: object = None) -> None:
        if current is not None and not self.bridge.busy:
            self.open_conversation(int(current.data(Qt.ItemDataRole.UserRole)))

    def focus_approvals(self) -> None:
        """Show the approvals panel and put the keyboard focus in its list."""
        self.approvals_dock.show()
        self.approvals.list.setFocus()

    @Slot(int)
    def set_pending_count(self, count: int) -> None:
        """The badge: window title, dock title and window icon."""
        self.pending_count = count
        suffix = f" — {count} waiting for approval" if count else ""
        self.setWindowTitle(TITLE + suffix)
        self.approvals_dock.setWindowTitle(f"Approvals ({count})" if count else "Approvals")
        self.setWindowIcon(app_icon(count))

    # -- sending -------------------------------------------------------------------------------

    @Slot(str)
    def send(self, text: str) -> bool:
        """Send ``text`` in the current conversation; False when a turn is already running."""
        if not self.bridge.send(self.conversation_id, text, owner=self):
            return False
        self.chat.input.clear()
        self.chat.view.add(Message("user", text, datetime.now().astimezone()))
        self._turn_started = time.monotonic()
        if not self.bridge.model_loaded:
            self.chat.set_busy_text("Waiting for the model to load…")
        return True

    def _mine(self) -> bool:
        return self.bridge.turn_owner is self

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if self._mine():
            self.chat.set_busy(busy)
        if not busy:
            self.refresh()

    @Slot(str)
    def _on_text(self, text: str) -> None:
        if self._mine():
            self.chat.view.append_text(text)

    @Slot(object)
    def _on_call(self, event: CallProposed) -> None:
        if self._mine():
            self.chat.view.add(Card(event.name, dict(event.arguments), flags=list(event.conflicts)))

    @Slot(object)
    def _on_pending(self, event: ActionPending) -> None:
        if self._mine():
            card = self.chat.view.card_for(event.tool)
            if card is not None:
                card.state, card.action_id = "pending", event.action_id
                card.detail = event.summary
                self.chat.view.schedule()

    @Slot(object)
    def _on_result(self, event: ToolResultEvent) -> None:
        if self._mine():
            card = self.chat.view.card_for(event.name)
            if card is not None:
                card.state, card.detail = "done", event.summary
                card.action_id = event.action_id  # a change run by an "always" policy: Undo
                self.chat.view.schedule()

    @Slot(object)
    def _on_error(self, event: ToolErrorEvent) -> None:
        if self._mine():
            card = self.chat.view.card_for(event.name)
            if card is not None:
                card.state, card.detail = "error", event.message
                self.chat.view.schedule()

    @Slot(object)
    def _on_done(self, event: TurnDone) -> None:
        if self._mine():
            self.conversation_id = event.conversation_id
            if self._turn_started is not None:
                answer = self.chat.view.items[-1] if self.chat.view.items else None
                if isinstance(answer, Message) and answer.role == "assistant":
                    answer.seconds = time.monotonic() - self._turn_started
                self._turn_started = None
            self.chat.view.render_now()

    @Slot(str)
    def _on_turn_failed(self, problem: str) -> None:
        if self._mine():
            self.chat.view.add(Message("assistant", f"*{problem}*"))

    def _decided(self, action_id: int, state: str) -> None:
        """An action decided in the panel or the popup: its card in the chat follows."""
        self.chat.view.set_action_state(action_id, "pending" if state == "edited" else state)

    def _decided_in_chat(self, _action_id: int, _state: str) -> None:
        self.approvals.refresh()

    # -- model ---------------------------------------------------------------------------------

    @Slot(int, int)
    def _on_progress(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._progress_start is None:
            self._progress_start = (now, done)
        started, first = self._progress_start
        speed = (done - first) / (now - started) if now > started else 0.0
        self.progress.setRange(0, 1000)
        permille = int(1000 * done / total) if total else 0
        self.progress.setValue(permille)
        rate = f" at {human_bytes(speed)}/s" if speed else ""
        left = ""
        if speed and total > done:
            left = f", about {max(1, round((total - done) / speed))} s left"
        text = f"Preparing the model: {human_bytes(done)} of {human_bytes(total)}{rate}{left}"
        self.model_status.setText(text)
        if self.model_dialog is None and done < total:
            self.model_dialog = ModelProgressDialog(self)
            self.model_dialog.show()
        if self.model_dialog is not None:
            self.model_dialog.report(
                text + "\n\nThis happens once; the window can be used meanwhile.", permille
            )

    def _close_model_dialog(self) -> None:
        if self.model_dialog is not None:
            self.model_dialog.close()
            self.model_dialog.deleteLater()
            self.model_dialog = None

    @Slot()
    def _on_ready(self) -> None:
        self._close_model_dialog()
        self.progress.hide()
        where = self.bridge.model_where
        self.model_status.setText(f"Model ready: {where}." if where else "Model ready.")
        self.chat.set_busy_text("Thinking…")

    @Slot(str)
    def _on_failed_model(self, message: str) -> None:
        self._close_model_dialog()
        self.progress.hide()
        self.model_status.setText(f"The model could not be loaded: {message}")
        self.chat.status.setText("Change the model in Settings (Ctrl+,).")

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.close_to_tray:
            event.ignore()
            self.hide()
            return
        event.accept()
        self.quitRequested.emit()
