"""The approvals panel: every pending action with its preview, and undo for done ones.

What a change will do is shown from the stored preview (an event's resolved times, a note's
diff, a file's source and destination), with conflict flags in plain words. Approve, Edit and
Reject go to the bridge; Edit opens a form generated from the tool's schema, and the core
validates what the user typed.
"""

from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.bridge import AssistantBridge
from app.ui.schema_form import SchemaForm
from connectors.errors import ConnectorError, InvalidArgumentsError

if TYPE_CHECKING:
    from app.actions import Action


def preview_html(action: Action) -> str:
    """The preview of ``action`` as HTML: summary, each detail, conflicts in plain words."""
    parts = [f"<p><b>#{action.id} {html.escape(action.summary or action.tool)}</b></p>"]
    parts.append(f"<p>Tool: <code>{html.escape(action.tool)}</code> — {action.state.value}</p>")
    if action.conflicts:
        flags = "".join(f"<li>{html.escape(flag)}</li>" for flag in action.conflicts)
        parts.append(
            f'<p style="color:{theme.colour("warning")}"><b>Please check:</b> the assistant '
            "could not use the value it wanted here, so a permitted value was put in its "
            f"place:</p><ul>{flags}</ul>"
        )
    rows = []
    for key, value in action.preview.items():
        if key == "summary":
            continue
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if key == "diff" or "\n" in str(shown):
            cell = f"<pre>{html.escape(str(shown))}</pre>"
        else:
            cell = html.escape(str(shown))
        rows.append(f"<tr><td nowrap><b>{html.escape(key)}</b></td><td>{cell}</td></tr>")
    args = html.escape(json.dumps(action.arguments, ensure_ascii=False, indent=1))
    rows.append(f"<tr><td nowrap><b>arguments</b></td><td><pre>{args}</pre></td></tr>")
    parts.append(f'<table cellpadding="3">{"".join(rows)}</table>')
    return "".join(parts)


class EditDialog(QDialog):
    """Edit a waiting action's arguments; Save is refused until the core accepts them."""

    def __init__(self, bridge: AssistantBridge, action: Action, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.action = action
        self.result_action: Action | None = None
        self.setWindowTitle(f"Edit #{action.id}: {action.tool}")
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
        self.list = QListWidget()
        self.list.setAccessibleName("Pending actions")
        self.details = QTextBrowser()
        self.details.setAccessibleName("What the selected action will do")
        self.approve_button = QPushButton("&Approve")
        self.approve_button.setAccessibleName("Approve the selected action")
        self.edit_button = QPushButton("&Edit…")
        self.edit_button.setAccessibleName("Edit the selected action")
        self.reject_button = QPushButton("&Reject")
        self.reject_button.setAccessibleName("Reject the selected action")
        self.outcome = QLabel()
        self.outcome.setWordWrap(True)
        self.outcome.setAccessibleName("Last outcome")
        self.outcome.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.done_list = QListWidget()
        self.done_list.setAccessibleName("Done actions that can be undone")
        self.undo_button = QPushButton("&Undo")
        self.undo_button.setAccessibleName("Undo the selected done action")
        buttons = QHBoxLayout()
        for button in (self.approve_button, self.edit_button, self.reject_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.details, 2)
        layout.addLayout(buttons)
        layout.addWidget(self.outcome)
        layout.addWidget(QLabel("<b>Done (can be undone)</b>"))
        layout.addWidget(self.done_list, 1)
        layout.addWidget(self.undo_button)
        self.list.currentItemChanged.connect(self._show_current)
        self.approve_button.clicked.connect(self.approve_current)
        self.edit_button.clicked.connect(self.edit_current)
        self.reject_button.clicked.connect(self.reject_current)
        self.undo_button.clicked.connect(self.undo_current)
        QShortcut(QKeySequence("Ctrl+Return"), self.list, self.approve_current)
        QShortcut(QKeySequence.StandardKey.Delete, self.list, self.reject_current)
        bridge.pendingChanged.connect(lambda _n: self.refresh())
        bridge.actionsChanged.connect(self.refresh)
        self._actions: dict[int, Action] = {}
        self._show_current()  # the lists fill on refresh(), called once the window is up

    def refresh(self) -> None:
        """Reload both lists from the store, keeping the selection where possible."""
        current = self.current_id()
        try:
            waiting = self.bridge.pending()
            done = self.bridge.recent_done()
        except ConnectorError as exc:
            self.outcome.setText(f"The store cannot be read: {exc}")
            return
        self._actions = {a.id: a for a in waiting}
        self.list.blockSignals(True)
        self.list.clear()
        for action in waiting:
            flag = " ⚠" if action.conflicts else ""
            item = QListWidgetItem(f"#{action.id} {action.summary or action.tool}{flag}")
            item.setData(Qt.ItemDataRole.UserRole, action.id)
            self.list.addItem(item)
            if action.id == current:
                self.list.setCurrentItem(item)
        self.list.blockSignals(False)
        if self.list.currentItem() is None and self.list.count():
            self.list.setCurrentRow(0)
        self._show_current()
        self.title.setText(f"<b>Waiting for approval ({len(waiting)})</b>")
        self.done_list.clear()
        for action in done:
            item = QListWidgetItem(f"#{action.id} {action.summary or action.tool}")
            item.setData(Qt.ItemDataRole.UserRole, action.id)
            self.done_list.addItem(item)
        self.undo_button.setEnabled(self.done_list.count() > 0)

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
        self.details.setHtml(preview_html(action) if action else "<p>Nothing is waiting.</p>")
        for button in (self.approve_button, self.edit_button, self.reject_button):
            button.setEnabled(action is not None)

    def approve_current(self) -> None:
        """Run the selected action and say what happened."""
        action_id = self.current_id()
        if action_id is None:
            return
        try:
            action = self.bridge.approve(action_id)
        except ConnectorError as exc:
            self._say(str(exc))
            return
        from app.decisions import outcome_text

        self._say(outcome_text(action))
        self.decided.emit(action_id, action.state.value)

    def reject_current(self) -> None:
        """Reject the selected action; nothing runs."""
        action_id = self.current_id()
        if action_id is None:
            return
        try:
            self.bridge.reject(action_id)
        except ConnectorError as exc:
            self._say(str(exc))
            return
        self._say(f"Rejected #{action_id}: nothing was changed.")
        self.decided.emit(action_id, "rejected")

    def edit_current(self) -> EditDialog | None:
        """Open the edit form for the selected action (returns the dialog, for tests)."""
        action = self._actions.get(self.current_id() or -1)
        if action is None:
            return None
        dialog = EditDialog(self.bridge, action, self)
        dialog.finished.connect(lambda _r: self._edited(dialog))
        dialog.open()
        return dialog

    def _edited(self, dialog: EditDialog) -> None:
        if dialog.result_action is not None:
            self._say(f"Edited #{dialog.result_action.id}; check it and approve.")
            self.decided.emit(dialog.result_action.id, "edited")
            self.select(dialog.result_action.id)

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
