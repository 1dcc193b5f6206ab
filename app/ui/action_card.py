"""The approval card: one change the assistant proposed, in words, with Approve / Edit / Reject.

The same widget sits in the chat (under the request that led to it), in the approvals panel
and in the quick popup, so a change reads the same wherever the user decides on it. What it
says comes from :mod:`app.action_summary` (plain data, shared with ``callmemaybe pending``):
a sentence in the future tense, then what will change, then what to check. The raw arguments
are only behind the "Details" disclosure.

Before running, the card reads the action again from the store: if its arguments were edited
elsewhere (``callmemaybe approve --edit`` in a terminal) after the card was drawn, it shows the
new values and waits for a second, informed approval instead of running what the user never saw.
After approval the card becomes the result, with Undo.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from connectors.errors import ConnectorError

if TYPE_CHECKING:
    from app.action_summary import ActionSummary
    from app.actions import Action
    from app.ui.bridge import AssistantBridge

# Action states by value (app.records.ActionState is a StrEnum): importing app.records would
# load SQLAlchemy before the window is shown, which costs about half a second.
WAITING = ("pending", "edited")
STATE_HEADINGS = {
    "pending": "Waiting for your approval",
    "edited": "Edited — waiting for your approval",
    "approved": "Running…",
    "done": "Done",
    "failed": "Failed — nothing was changed",
    "rejected": "Rejected — nothing was changed",
    "expired": "Expired — nothing was changed",
    "undone": "Undone",
}
CHANGED_ELSEWHERE = (
    "This change was edited elsewhere since it was shown. Check the new values above, "
    "then approve again."
)


def fixed_label(text: str) -> QLabel:
    """A row label that never wraps, so a word is never broken across lines ("titl / e")."""
    label = QLabel(text)
    label.setWordWrap(False)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Preferred)
    label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label


def value_label(text: str, *, block: bool = False) -> QLabel:
    """A value that wraps at word boundaries (a block keeps its lines, in a fixed font)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    label.setTextInteractionFlags(
        Qt.TextInteractionFlag.TextSelectableByMouse
        | Qt.TextInteractionFlag.TextSelectableByKeyboard
    )
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
    label.setMinimumWidth(40)
    if block:
        label.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    return label


class ActionCard(QFrame):
    """One action: what it will do, the decision buttons, then its outcome.

    Signals:
        decided(int, str): the action got a new state from this card ("done", "failed",
            "rejected", "undone", "edited").
        message(str): a sentence for the user about what just happened.
    """

    decided = Signal(int, str)
    message = Signal(str)

    def __init__(
        self,
        bridge: AssistantBridge | None,
        action: Action | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.action: Action | None = None
        self.summary: ActionSummary | None = None
        self.setObjectName("actionCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setAccessibleName("Action state")
        self.sentence = QLabel()
        self.sentence.setWordWrap(True)
        self.sentence.setTextFormat(Qt.TextFormat.PlainText)
        self.sentence.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.sentence.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.08)
        self.sentence.setFont(font)
        self.sentence.setAccessibleName("What this change will do")
        self.rows = QGridLayout()
        self.rows.setColumnStretch(1, 1)
        self.rows.setHorizontalSpacing(12)
        self.rows_box = QWidget()
        self.rows_box.setLayout(self.rows)
        self.rows_box.setAccessibleName("What will change")
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setTextFormat(Qt.TextFormat.PlainText)
        self.warnings.setAccessibleName("Please check")
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setTextFormat(Qt.TextFormat.PlainText)
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.outcome.setAccessibleName("Outcome")
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setAccessibleName("Show the raw arguments")
        self.details = value_label("", block=True)
        self.details.setAccessibleName("Raw arguments")
        self.details.hide()
        self.approve_button = QPushButton("Approve")
        self.approve_button.setAccessibleName("Approve this change (Ctrl+Enter)")
        self.approve_button.setToolTip("Run this change now (Ctrl+Enter)")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setAccessibleName("Edit this change before approving")
        self.reject_button = QPushButton("Reject")
        self.reject_button.setAccessibleName("Reject this change; nothing runs")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo this change")
        for button in (self.approve_button, self.edit_button, self.reject_button, self.undo_button):
            button.setAutoDefault(False)
        top = QHBoxLayout()
        top.addWidget(self.heading, 1)
        top.addWidget(self.details_button)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.approve_button, self.edit_button, self.reject_button, self.undo_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.sentence)
        layout.addWidget(self.rows_box)
        layout.addWidget(self.warnings)
        layout.addWidget(self.outcome)
        layout.addWidget(self.details)
        layout.addLayout(buttons)
        self.setTabOrder(self.approve_button, self.edit_button)
        self.setTabOrder(self.edit_button, self.reject_button)
        self.setTabOrder(self.reject_button, self.undo_button)
        self.setTabOrder(self.undo_button, self.details_button)
        self.details_button.toggled.connect(self._toggle_details)
        self.approve_button.clicked.connect(self.approve)
        self.edit_button.clicked.connect(self.edit)
        self.reject_button.clicked.connect(self.reject)
        self.undo_button.clicked.connect(self.undo)
        if action is not None:
            self.show_action(action)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Ctrl+Enter anywhere in the card (its buttons pass it up) approves this card only."""
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.approve()
            return
        super().keyPressEvent(event)

    # -- showing -------------------------------------------------------------------------------

    @property
    def action_id(self) -> int | None:
        return self.action.id if self.action is not None else None

    @property
    def waiting(self) -> bool:
        return self.action is not None and self.action.state in WAITING

    def show_action(self, action: Action, outcome: str = "") -> None:
        """Show ``action`` as it is now (its summary, rows, flags, buttons for its state)."""
        self.action = action
        from app.action_summary import summarize_action  # loaded with the first card, not at start

        self.summary = summarize_action(action)
        self.sentence.setText(self.summary.sentence)
        self.setAccessibleName(f"Change #{action.id}: {self.summary.sentence}")
        self.heading.setText(
            f"#{action.id} · {STATE_HEADINGS.get(action.state, action.state.value)}"
        )
        while self.rows.count():
            item = self.rows.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().hide()
                item.widget().deleteLater()
        for row, change in enumerate(self.summary.changes):
            self.rows.addWidget(fixed_label(change.label), row, 0)
            self.rows.addWidget(value_label(change.value, block=change.block), row, 1)
        self.rows_box.setVisible(bool(self.summary.changes))
        self.warnings.setText("\n".join(f"⚠ {w}" for w in self.summary.warnings))
        self.warnings.setVisible(bool(self.summary.warnings))
        self.details.setText(json.dumps(action.arguments, ensure_ascii=False, indent=2))
        self.set_outcome(outcome or self._default_outcome(action))
        waiting = action.state in WAITING
        for button in (self.approve_button, self.edit_button, self.reject_button):
            button.setVisible(waiting)
            button.setEnabled(waiting and self.bridge is not None)
        self.undo_button.setVisible(action.undoable)
        self.undo_button.setEnabled(action.undoable and self.bridge is not None)
        self._paint()

    def _default_outcome(self, action: Action) -> str:
        if action.state == "done":
            return action.summary
        if action.state == "failed":
            return action.error or "the tool reported an error"
        return ""

    def set_outcome(self, text: str) -> None:
        self.outcome.setText(text)
        self.outcome.setVisible(bool(text))

    def _paint(self) -> None:
        state = self.action.state.value if self.action is not None else "called"
        theme.restyle(
            self,
            f"QFrame#actionCard {{ background: {theme.colour(state)}; "
            f"border: 1px solid {theme.colour('border')}; border-radius: 6px; }}",
        )
        theme.restyle(self.warnings, f"color: {theme.colour('warning')}")

    def repaint_theme(self) -> None:
        """Paint the card in the colours of the scheme now (light or dark)."""
        self._paint()

    def _toggle_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    # -- deciding ------------------------------------------------------------------------------

    def reload(self) -> Action | None:
        """Read the action again from the store and show it; None when it cannot be read."""
        if self.bridge is None or self.action is None:
            return None
        try:
            action = self.bridge.actions.get(self.action.id)
        except ConnectorError as exc:
            self._say(str(exc))
            return None
        self.show_action(action)
        return action

    def approve(self) -> None:
        """Run the change as shown; if it was edited elsewhere since, show that and wait."""
        if self.bridge is None or self.action is None or not self.waiting:
            return
        shown = self.action
        try:
            now = self.bridge.actions.get(shown.id)
        except ConnectorError as exc:
            self._say(str(exc))
            return
        if now.state not in WAITING:
            self.show_action(now)
            self._say(f"#{now.id} is {now.state.value} already; nothing was run from here.")
            return
        if (now.arguments, now.preview) != (shown.arguments, shown.preview):
            self.show_action(now, CHANGED_ELSEWHERE)
            self.message.emit(CHANGED_ELSEWHERE)
            return
        try:
            action = self.bridge.approve(shown.id)
        except ConnectorError as exc:
            self.reload()
            self._say(str(exc))
            return
        from app.decisions import outcome_text

        self.show_action(action, action.summary if action.state == "done" else "")
        self.message.emit(outcome_text(action))
        self.decided.emit(action.id, action.state.value)

    def reject(self) -> None:
        """Reject the change; nothing runs."""
        if self.bridge is None or self.action is None or not self.waiting:
            return
        try:
            action = self.bridge.reject(self.action.id)
        except ConnectorError as exc:
            self.reload()
            self._say(str(exc))
            return
        self.show_action(action)
        self.message.emit(f"Rejected #{action.id}: nothing was changed.")
        self.decided.emit(action.id, "rejected")

    def edit(self) -> QWidget | None:
        """Open the form generated from the tool's schema (returns the dialog, for tests)."""
        if self.bridge is None or self.action is None or not self.waiting:
            return None
        from app.ui.approvals import EditDialog

        current = self.reload() or self.action
        dialog = EditDialog(self.bridge, current, self.window())
        dialog.finished.connect(lambda _result: self._edited(dialog))
        dialog.open()
        return dialog

    def _edited(self, dialog: QWidget) -> None:
        edited = getattr(dialog, "result_action", None)
        if edited is not None:
            self.show_action(edited, "Edited: check the new values, then approve.")
            self.message.emit(f"Edited #{edited.id}; check it and approve.")
            self.decided.emit(edited.id, "edited")
            self.approve_button.setFocus()

    def undo(self) -> None:
        """Revert the done change and say what was reverted."""
        if self.bridge is None or self.action is None or not self.action.undoable:
            return
        try:
            said = self.bridge.undo(self.action.id)
        except ConnectorError as exc:
            self._say(str(exc))
            return
        self.reload()
        self.set_outcome(said)
        self.message.emit(said)
        self.decided.emit(self.action.id, "undone")

    def _say(self, text: str) -> None:
        self.set_outcome(text)
        self.message.emit(text)
