"""The quick-command popup: a line to type in, a read-only answer, an approval card.

Opened by the global hotkey, the tray or ``callmemaybe quick``. Each request starts a new
conversation (it shows in the window's list afterwards). When the turn proposes a change, the
same approval card as in the window shows what will change. Approving takes a deliberate key:
Ctrl+Enter, or Tab to the card's Approve button and Space. Enter in the line never approves:
after the turn the keyboard is back in the line, which still holds the request, and a stray
Enter there must not change the user's data. Esc closes the popup and leaves the action
waiting in the approvals panel, so nothing is lost by a stray key either.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QTextBrowser, QVBoxLayout, QWidget

from app.events import ActionPending, TurnDone
from app.ui.action_card import ActionCard
from app.ui.bridge import AssistantBridge
from connectors.errors import ConnectorError

APPROVE_HINT = "Ctrl+Enter approves · Tab reaches the buttons · Esc closes (it stays in Approvals)"


class QuickInput(QLineEdit):
    """The popup's line: Enter sends; Ctrl+Enter asks to approve the card shown.

    Signals:
        approveRequested(): the user pressed Ctrl+Enter.
    """

    approveRequested = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.approveRequested.emit()
            return
        super().keyPressEvent(event)


class QuickPopup(QWidget):
    """A small always-on-top window for one request.

    Signals:
        decided(int, str): an action was decided from the card (its new state).
    """

    decided = Signal(int, str)

    def __init__(self, bridge: AssistantBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.bridge = bridge
        self.setWindowTitle("Call-Me-Maybe — quick command")
        self.setAccessibleName("Quick command")
        self.input = QuickInput()
        self.input.setPlaceholderText("Ask or tell… (Enter)")
        self.input.setAccessibleName("Quick request")
        self.answer = QTextBrowser()
        self.answer.setAccessibleName("Answer")
        self.answer.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.answer.setMaximumHeight(160)
        self.answer.hide()
        self.card = ActionCard(bridge)
        self.card.setAccessibleName("Action waiting for approval")
        self.card.hide()
        self.hint = QLabel(APPROVE_HINT)
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("How to approve")
        self.hint.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.input)
        layout.addWidget(self.answer)
        layout.addWidget(self.card)
        layout.addWidget(self.hint)
        layout.addStretch(1)
        self.setTabOrder(self.input, self.card.approve_button)
        self.setMinimumWidth(560)
        self.resize(560, 80)
        self.action_id: int | None = None
        self.request = ""  # the line that proposed the card's action
        self._text = ""
        self.input.returnPressed.connect(self.enter)
        self.input.approveRequested.connect(self.approve)
        self.card.decided.connect(self._card_decided)
        bridge.textDelta.connect(self._on_text)
        bridge.actionPending.connect(self._on_pending)
        bridge.turnDone.connect(self._on_done)
        bridge.turnFailed.connect(self._on_failed)
        bridge.busyChanged.connect(self._on_busy)

    @property
    def card_text(self) -> QLabel:
        """The card's sentence (or its outcome once decided)."""
        return self.card.outcome if self.card.outcome.text() else self.card.sentence

    def popup(self) -> None:
        """Show, cleared, centred on the screen, with the keyboard focus in the line."""
        if not self.bridge.busy or self.bridge.turn_owner is not self:
            self._reset()
        screen = self.screen().availableGeometry()
        self.move(screen.center().x() - self.width() // 2, screen.top() + screen.height() // 4)
        self.show()
        self.raise_()
        self.activateWindow()
        self.input.setFocus()

    def _reset(self) -> None:
        self.input.clear()
        self.input.setEnabled(True)
        self.answer.clear()
        self.answer.hide()
        self.card.hide()
        self.hint.hide()
        self.action_id = None
        self.request = ""
        self._text = ""
        self.adjustSize()

    @Slot()
    def enter(self) -> None:
        """Send the line. Never approves: with a card shown and the same line, it only reminds
        the user how to approve."""
        text = self.input.text().strip()
        if not text:
            return
        if self.action_id is not None and text == self.request:
            self.hint.setText("To approve this change press Ctrl+Enter; Esc leaves it waiting.")
            self.hint.show()
            return
        if self.bridge.send(None, text, owner=self):
            self._text = ""
            self.request = text
            self.action_id = None
            self.card.hide()
            self.hint.hide()
            self.answer.setPlainText("…")
            self.answer.show()
            self.input.setEnabled(False)

    def approve(self) -> None:
        """Approve the shown action (Ctrl+Enter) and say what happened on the card."""
        if self.action_id is None or not self.card.waiting:
            return
        self.card.approve()

    def _card_decided(self, action_id: int, state: str) -> None:
        if state != "edited":
            self.action_id = None
            self.hint.hide()
        self.decided.emit(action_id, state)
        self.adjustSize()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if self.bridge.busy and self.bridge.turn_owner is self:
                self.bridge.stop()
            self.hide()
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        """Repaint the card when the system switches light/dark (it has a style sheet, so it
        gets no palette change of its own)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.card.repaint_theme()

    def _mine(self) -> bool:
        return self.bridge.turn_owner is self

    @Slot(str)
    def _on_text(self, text: str) -> None:
        if self._mine():
            self._text += text
            self.answer.setMarkdown(self._text)

    @Slot(object)
    def _on_pending(self, event: ActionPending) -> None:
        if not self._mine():
            return
        try:
            action = self.bridge.actions.get(event.action_id)
        except ConnectorError as exc:
            self.answer.setPlainText(str(exc))
            return
        self.card.show_action(action)
        self.card.show()
        self.hint.setText(APPROVE_HINT)
        self.hint.show()
        self.action_id = event.action_id
        self.adjustSize()

    @Slot(object)
    def _on_done(self, event: TurnDone) -> None:
        if not self._mine():
            return
        if self.action_id is not None:
            self.answer.hide()  # the card says it; "This needs your approval" adds nothing
        elif not self._text.strip():
            self.answer.setMarkdown(event.text or "(no answer)")

    @Slot(str)
    def _on_failed(self, problem: str) -> None:
        if self._mine():
            self.answer.setPlainText(problem)

    @Slot(bool)
    def _on_busy(self, busy: bool) -> None:
        if self._mine() and not busy:
            self.input.setEnabled(True)
            self.input.setFocus()
            self.adjustSize()
