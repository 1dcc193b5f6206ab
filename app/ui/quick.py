"""The quick-command popup: a line to type in, a read-only answer, an approval card.

Opened by the global hotkey, the tray or ``callmemaybe quick``. Each request starts a new
conversation (it shows in the window's list afterwards). When the turn proposes a change the
card shows its summary and flags: Enter approves it, Esc closes the popup and leaves the action
waiting in the approvals panel, so nothing is lost by a stray key.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QTextBrowser, QVBoxLayout, QWidget

from app.events import ActionPending, TurnDone
from app.ui import theme
from app.ui.bridge import AssistantBridge
from connectors.errors import ConnectorError


class QuickPopup(QWidget):
    """A small always-on-top window for one request.

    Signals:
        decided(int, str): an action was approved from the card (its new state).
    """

    decided = Signal(int, str)

    def __init__(self, bridge: AssistantBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Tool | Qt.WindowType.WindowStaysOnTopHint)
        self.bridge = bridge
        self.setWindowTitle("Call-Me-Maybe — quick command")
        self.setAccessibleName("Quick command")
        self.input = QLineEdit()
        self.input.setPlaceholderText("Ask or tell… (Enter)")
        self.input.setAccessibleName("Quick request")
        self.answer = QTextBrowser()
        self.answer.setAccessibleName("Answer")
        self.answer.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.answer.hide()
        self.card = QFrame()
        self.card.setFrameShape(QFrame.Shape.StyledPanel)
        self.card.setStyleSheet(f"QFrame {{ background: {theme.colour('pending')}; }}")
        self.card_text = QLabel()
        self.card_text.setWordWrap(True)
        self.card_text.setAccessibleName("Action waiting for approval")
        hint = QLabel("Enter approves · Esc closes (it stays in Approvals)")
        card_layout = QVBoxLayout(self.card)
        card_layout.addWidget(self.card_text)
        card_layout.addWidget(hint)
        self.card.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.input)
        layout.addWidget(self.answer)
        layout.addWidget(self.card)
        self.resize(520, 80)
        self.action_id: int | None = None
        self._text = ""
        self.input.returnPressed.connect(self.enter)
        bridge.textDelta.connect(self._on_text)
        bridge.actionPending.connect(self._on_pending)
        bridge.turnDone.connect(self._on_done)
        bridge.turnFailed.connect(self._on_failed)
        bridge.busyChanged.connect(self._on_busy)

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
        self.action_id = None
        self._text = ""
        self.adjustSize()

    @Slot()
    def enter(self) -> None:
        """Approve the card's action if one is shown, else send the line."""
        if self.action_id is not None:
            self.approve()
            return
        text = self.input.text().strip()
        if not text:
            return
        if self.bridge.send(None, text, owner=self):
            self._text = ""
            self.answer.setPlainText("…")
            self.answer.show()
            self.input.setEnabled(False)

    def approve(self) -> None:
        """Approve the shown action and say what happened."""
        if self.action_id is None:
            return
        action_id, self.action_id = self.action_id, None
        try:
            action = self.bridge.approve(action_id)
        except ConnectorError as exc:
            self.card_text.setText(str(exc))
            return
        from app.decisions import outcome_text

        self.card_text.setText(outcome_text(action))
        self.decided.emit(action_id, action.state.value)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if self.bridge.busy and self.bridge.turn_owner is self:
                self.bridge.stop()
            self.hide()
            return
        super().keyPressEvent(event)

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
        flags = "".join(f"\n⚠ Check: {flag}" for flag in event.conflicts)
        self.card_text.setText(f"#{event.action_id} {event.summary or event.tool}{flags}")
        self.card.show()
        self.action_id = event.action_id

    @Slot(object)
    def _on_done(self, event: TurnDone) -> None:
        if not self._mine():
            return
        if not self._text.strip():
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
