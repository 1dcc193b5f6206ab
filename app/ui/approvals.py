"""The approvals panel: every pending action as a card, and undo for done ones.

What a change will do is said by :mod:`app.action_summary` and shown by the same card as in
the chat (:class:`~app.ui.action_card.ActionCard`): a sentence, what will change (an event's
resolved times, a note's text or diff, a file's source and destination), conflict flags in
plain words. Approve, Edit and Reject go to the bridge; Edit opens a form generated from the
tool's schema (:class:`EditDialog`), and the core validates what the user typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.action_card import WAITING, ActionCard
from app.ui.bridge import AssistantBridge
from app.ui.schema_form import SchemaForm
from connectors.errors import ConnectorError, InvalidArgumentsError

if TYPE_CHECKING:
    from app.actions import Action

EMPTY_TEXT = (
    "Nothing is waiting for your approval.\n\nWhen the assistant proposes a change (a new "
    "event, a note, a file), it waits here and in the chat until you approve, edit or reject it."
)


class EditDialog(QDialog):
    """Edit a waiting action's arguments; Save is refused until the core accepts them."""

    def __init__(self, bridge: AssistantBridge, action: Action, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.action = action
        self.result_action: Action | None = None
        from app.action_summary import summarize_action

        self.setWindowTitle(f"Edit change #{action.id}: {summarize_action(action).sentence}")
        self.form = SchemaForm(bridge.tool_schema(action.tool), action.arguments)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.colour('problem')}")
        self.problem.setAccessibleName("Problems")
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(480, 420)

    def save(self) -> None:
        """Ask the core to store the new arguments; stay open with its reasons if it refuses."""
        try:
            self.result_action = self.bridge.edit(self.action.id, self.form.values())
        except InvalidArgumentsError as exc:
            rest = self.form.show_problems(exc.problems)
            self.problem.setText("; ".join(rest) if rest else "Please correct the fields marked.")
            return
        except ConnectorError as exc:
            self.problem.setText(str(exc))
            return
        self.accept()


class ApprovalsPanel(QWidget):
    """Pending actions (decide) and recently done ones (undo).

    The list names each waiting change by its sentence; the selected one is shown below it
    as the same :class:`~app.ui.action_card.ActionCard` the chat shows, with Approve, Edit
    and Reject. With nothing waiting, the panel says so and what will appear here.

    Signals:
        decided(int, str): an action got a new state ("done", "failed", "rejected", "undone",
            "edited"); the chat updates its card.
        message(str): a sentence for the user about what just happened.
    """

    decided = Signal(int, str)
    message = Signal(str)

    def __init__(self, bridge: AssistantBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.title = QLabel("<b>Waiting for approval</b>")
        self.title.setAccessibleName("Waiting for approval")
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setAccessibleName("Nothing is waiting")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.list = QListWidget()
        self.list.setAccessibleName("Pending actions")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        self.list.setMaximumHeight(110)
        self.card = ActionCard(bridge)
        self.card_scroll = QScrollArea()
        self.card_scroll.setWidgetResizable(True)
        self.card_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.card_scroll.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()  # the card at its natural height, the rest of the space below it
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(self.card)
        holder_layout.addStretch(1)
        self.card_scroll.setWidget(holder)
        self.card_scroll.setAccessibleName("The selected change")
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setAccessibleName("Last outcome")
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.done_title = QLabel("<b>Done (can be undone)</b>")
        self.done_list = QListWidget()
        self.done_list.setAccessibleName("Done actions that can be undone")
        self.done_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.done_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.undo_button = QPushButton("&Undo")
        self.undo_button.setAccessibleName("Undo the selected done action")
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.empty)
        layout.addWidget(self.list)
        layout.addWidget(self.card_scroll, 3)
        layout.addWidget(self.outcome)
        layout.addWidget(self.done_title)
        layout.addWidget(self.done_list, 1)
        layout.addWidget(self.undo_button)
        self.list.currentItemChanged.connect(self._show_current)
        self.undo_button.clicked.connect(self.undo_current)
        self.card.decided.connect(self._card_decided)
        self.card.message.connect(self._say)
        for keys, slot in (("Ctrl+Return", self.approve_current), ("Delete", self.reject_current)):
            shortcut = QShortcut(QKeySequence(keys), self.list, slot)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)  # not the chat cards' keys
        bridge.pendingChanged.connect(lambda _n: self.refresh())
        bridge.actionsChanged.connect(self.refresh)
        self._actions: dict[int, Action] = {}
        self._show_current()  # the lists fill on refresh(), called once the window is up

    # The card's buttons, under the names the panel always had.
    @property
    def approve_button(self) -> QPushButton:
        return self.card.approve_button

    @property
    def edit_button(self) -> QPushButton:
        return self.card.edit_button

    @property
    def reject_button(self) -> QPushButton:
        return self.card.reject_button

    def refresh(self) -> None:
        """Reload both lists from the store, keeping the selection where possible."""
        current = self.current_id()
        try:
            waiting = self.bridge.pending()
            done = self.bridge.recent_done()
        except ConnectorError as exc:
            self.outcome.setText(f"The store cannot be read: {exc}")
            return
        from app.action_summary import summarize_action  # after start-up: the store is open

        self._actions = {a.id: a for a in waiting}
        self.list.blockSignals(True)
        self.list.clear()
        for action in waiting:
            summary = summarize_action(action)
            flag = "⚠ " if summary.warnings else ""
            item = QListWidgetItem(f"{flag}#{action.id} {summary.sentence}")
            item.setToolTip(summary.sentence)
            item.setData(Qt.ItemDataRole.UserRole, action.id)
            self.list.addItem(item)
            if action.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._show_current()
        self.title.setText(
            f"<b>Waiting for approval ({len(waiting)})</b>" if waiting else "<b>Approvals</b>"
        )
        self.done_list.clear()
        for action in done:
            item = QListWidgetItem(f"#{action.id} {action.summary or action.tool}")
            item.setToolTip(action.summary or action.tool)
            item.setData(Qt.ItemDataRole.UserRole, action.id)
            self.done_list.addItem(item)
        has_done = self.done_list.count() > 0
        self.undo_button.setEnabled(has_done)
        for widget in (self.done_title, self.done_list, self.undo_button):
            widget.setVisible(has_done)

    def current_id(self) -> int | None:
        """The selected pending action's id."""
        item = self.list.currentItem()
        return int(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select(self, action_id: int) -> None:
        """Select a pending action (e.g. the one the tray or a chat card points to)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == action_id:
                self.list.setCurrentRow(row)

    def _show_current(self, *_: Any) -> None:
        action = self._actions.get(self.current_id() or -1)
        nothing = not self._actions
        self.empty.setVisible(nothing)
        self.list.setVisible(not nothing)
        self.card_scroll.setVisible(action is not None)
        if action is not None and (
            self.card.action is None
            or self.card.action.id != action.id
            or self.card.action.state not in WAITING
            or (self.card.action.arguments, self.card.action.preview)
            != (action.arguments, action.preview)
        ):
            self.card.show_action(action)

    def approve_current(self) -> None:
        """Approve the selected action (the card checks it was not edited elsewhere first)."""
        if self.current_id() is not None:
            self.card.approve()

    def reject_current(self) -> None:
        """Reject the selected action; nothing runs."""
        if self.current_id() is not None:
            self.card.reject()

    def edit_current(self) -> EditDialog | None:
        """Open the edit form for the selected action (returns the dialog, for tests)."""
        if self.current_id() is None:
            return None
        dialog = self.card.edit()
        return dialog if isinstance(dialog, EditDialog) else None

    def _card_decided(self, action_id: int, state: str) -> None:
        self.decided.emit(action_id, state)
        if state == "edited":
            self.select(action_id)

    def undo_current(self) -> None:
        """Undo the selected done action (the newest if none is selected)."""
        item = self.done_list.currentItem() or self.done_list.item(0)
        if item is None:
            return
        action_id = int(item.data(Qt.ItemDataRole.UserRole))
        try:
            said = self.bridge.undo(action_id)
        except ConnectorError as exc:
            self._say(str(exc))
            return
        self._say(said)
        self.decided.emit(action_id, "undone")

    def _say(self, text: str) -> None:
        self.outcome.setText(text)
        self.message.emit(text)

    def changeEvent(self, event: QEvent) -> None:
        """Repaint the card when the system switches light/dark (it has a style sheet, so it
        gets no palette change of its own)."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.card.repaint_theme()
