"""The conversation view: Markdown answers as they stream, and a card per tool call.

The view keeps a list of items (messages and cards) and redraws its document from them at
most every ``RENDER_MS`` while text streams, so a fast model never floods the event loop with
layout work. Copying is the browser's own selection, plus a button for the last answer.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme

RENDER_MS = 40
STATE_WORDS = {
    "called": "called",
    "pending": "waiting for your approval",
    "done": "done",
    "error": "refused",
    "rejected": "rejected",
    "failed": "failed",
    "undone": "undone",
}


@dataclass
class Message:
    """Text said by the user or the assistant (Markdown)."""

    role: str
    text: str


@dataclass
class Card:
    """One tool call and what became of it."""

    tool: str
    arguments: dict[str, Any]
    state: str = "called"
    detail: str = ""
    action_id: int | None = None
    flags: list[str] = field(default_factory=list)


Item = Message | Card


def items_from_messages(messages: list[dict[str, Any]]) -> list[Item]:
    """Rebuild a stored conversation (OpenAI chat format) as view items."""
    items: list[Item] = []
    open_cards: list[Card] = []
    for message in messages:
        role = message.get("role")
        if role == "user":
            items.append(Message("user", str(message.get("content", ""))))
        elif role == "assistant":
            for call in message.get("tool_calls") or []:
                function = call.get("function", {})
                arguments = function.get("arguments", {})
                if isinstance(arguments, str):
                    try:
                        arguments = json.loads(arguments)
                    except json.JSONDecodeError:
                        arguments = {"raw": arguments}
                card = Card(str(function.get("name", "?")), dict(arguments))
                items.append(card)
                open_cards.append(card)
            content = str(message.get("content") or "")
            if content:
                items.append(Message("assistant", content))
        elif role == "tool":
            try:
                content = json.loads(str(message.get("content", "")))
            except json.JSONDecodeError:
                content = {}
            if not isinstance(content, dict):
                continue
            if "state" in content and "action" in content:  # a later decision on an action
                for item in items:
                    if isinstance(item, Card) and item.action_id == content["action"]:
                        item.state = str(content["state"])
                continue
            card = next((c for c in open_cards if c.tool == message.get("name")), None)
            if card is None:
                continue
            open_cards.remove(card)
            if "error" in content:
                card.state, card.detail = "error", str(content["error"])
            elif "action" in content and "result" not in content:
                card.state, card.action_id = "pending", int(content["action"])
            else:
                card.state = "done"
    return items


def _card_html(card: Card) -> str:
    state = STATE_WORDS.get(card.state, card.state)
    if card.action_id is not None:
        state += f" (#{card.action_id})"
    args = html.escape(json.dumps(card.arguments, ensure_ascii=False))
    background = theme.colour(card.state)
    detail = f"<br/>{html.escape(card.detail)}" if card.detail else ""
    flags = "".join(f"<br/>⚠ Check: {html.escape(f)}" for f in card.flags)
    return (
        f'<table width="100%" cellpadding="6" cellspacing="0" border="1" '
        f'style="border-color:{theme.colour("border")}; background-color:{background}"><tr><td>'
        f"Tool call <b>{html.escape(card.tool)}</b> — {html.escape(state)}<br/>"
        f'<code style="font-size:small">{args}</code>{detail}{flags}</td></tr></table>'
    )


class ChatView(QTextBrowser):
    """Read-only rendering of a conversation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenExternalLinks(True)
        self.setAccessibleName("Conversation")
        self.items: list[Item] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RENDER_MS)
        self._timer.timeout.connect(self.render_now)

    def set_items(self, items: list[Item]) -> None:
        """Show a whole conversation."""
        self.items = list(items)
        self.render_now()

    def add(self, item: Item) -> None:
        """Append a message or card."""
        self.items.append(item)
        self.schedule()

    def append_text(self, text: str) -> None:
        """Add streamed text to the assistant's current message (starting one if needed)."""
        last = self.items[-1] if self.items else None
        if isinstance(last, Message) and last.role == "assistant":
            last.text += text
        else:
            self.items.append(Message("assistant", text.lstrip()))
        self.schedule()

    def card_for(self, tool: str) -> Card | None:
        """The newest card of ``tool`` still marked "called" (the one an outcome belongs to)."""
        for item in reversed(self.items):
            if isinstance(item, Card) and item.tool == tool and item.state == "called":
                return item
        return None

    def set_action_state(self, action_id: int, state: str) -> None:
        """Update the card of an action decided elsewhere (the panel, the popup)."""
        for item in self.items:
            if isinstance(item, Card) and item.action_id == action_id:
                item.state = state
        self.schedule()

    def last_answer(self) -> str:
        """The newest assistant text (what the Copy button copies)."""
        for item in reversed(self.items):
            if isinstance(item, Message) and item.role == "assistant":
                return item.text
        return ""

    def changeEvent(self, event: QEvent) -> None:
        """Redraw the cards in the new colours when the system switches light/dark."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.schedule()

    def schedule(self) -> None:
        """Redraw soon (coalescing the many deltas of a fast model)."""
        if not self._timer.isActive():
            self._timer.start()

    def render_now(self) -> None:
        """Redraw the document from the items, keeping the view at the bottom if it was."""
        self._timer.stop()
        bar = self.verticalScrollBar()
        at_bottom = bar.value() >= bar.maximum() - 4
        self.document().clear()
        cursor = QTextCursor(self.document())
        for index, item in enumerate(self.items):
            if index:
                cursor.insertBlock()
            if isinstance(item, Message):
                who = "You" if item.role == "user" else "Assistant"
                cursor.insertHtml(f"<p><b>{who}</b></p>")
                cursor.insertBlock()
                cursor.insertMarkdown(item.text or "…")
            else:
                cursor.insertHtml(_card_html(item))
        if at_bottom:
            bar.setValue(bar.maximum())


class MessageInput(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter starts a new line.

    Signals:
        submitted(): the user pressed Enter.
    """

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)
        self.setPlaceholderText("Ask something… (Enter sends, Shift+Enter for a new line)")
        self.setAccessibleName("Message")
        self.setFixedHeight(72)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class ChatPanel(QWidget):
    """The view, the message box and the Send / Stop / Copy buttons.

    Signals:
        sendRequested(str): the user wants to send this text.
        stopRequested(): the user pressed Stop (or Esc).
    """

    sendRequested = Signal(str)
    stopRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = ChatView()
        self.input = MessageInput()
        self.send_button = QPushButton("&Send")
        self.send_button.setAccessibleName("Send message")
        self.stop_button = QPushButton("S&top")
        self.stop_button.setAccessibleName("Stop the answer")
        self.stop_button.setEnabled(False)
        self.copy_button = QPushButton("&Copy answer")
        self.copy_button.setAccessibleName("Copy the last answer")
        self.status = QLabel()
        self.status.setAccessibleName("Chat status")
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.send_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.input)
        layout.addLayout(buttons)
        self.input.submitted.connect(self._send)
        self.send_button.clicked.connect(self._send)
        self.stop_button.clicked.connect(self.stopRequested)
        self.copy_button.clicked.connect(self.copy_answer)

    def _send(self) -> None:
        text = self.input.toPlainText().strip()
        if text:
            self.sendRequested.emit(text)

    def copy_answer(self) -> None:
        """Copy the selection if there is one, else the last answer."""
        selected = self.view.textCursor().selectedText()
        text = selected.replace("\u2029", "\n") if selected else self.view.last_answer()
        QGuiApplication.clipboard().setText(text)

    def set_busy(self, busy: bool) -> None:
        """Swap Send and Stop while a turn runs."""
        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self.status.setText("Thinking…" if busy else "")
