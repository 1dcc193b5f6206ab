"""The conversation view: Markdown answers as they stream, a card per tool call, approvals inline.

The view keeps a list of items (messages and cards) and one widget per item, brought up to
date at most every ``RENDER_MS`` while text streams, so a fast model never floods the event
loop with layout work. A change waiting for approval is an :class:`~app.ui.action_card.ActionCard`
right in the conversation (the same card as in the approvals panel and the quick popup); a call
that only read something is one line, with its arguments behind "Details". A question the
assistant asks back is shown as a question, and the message box invites the answer.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme
from app.ui.action_card import ActionCard
from connectors.errors import ConnectorError

if TYPE_CHECKING:
    from app.ui.bridge import AssistantBridge

RENDER_MS = 40
QUESTION_CHARS = 400
QUESTION_END = re.compile(r"\?[*_)\"']*(\s|$)")
COLLAPSE_LINES = 14  # a longer answer or result shows this many lines and "Show all"
COLLAPSE_CHARS = 1400
EXAMPLES = (
    "Make a note called Shopping with milk, eggs and coffee",
    "Lunch with Ana on Thursday at 12:30 at Cafe Luz",
    "What is on my calendar this week?",
)
# How app.assistant's confirmation of proposed changes begins (its _pending_text).
PENDING_HEADS = ("This needs your approval:", "These need your approval:")
STATE_WORDS = {
    "called": "working…",
    "pending": "waiting for your approval",
    "done": "done",
    "error": "refused",
    "rejected": "rejected",
    "failed": "failed",
    "undone": "undone",
}


@dataclass
class Message:
    """Text said by the user or the assistant (Markdown), and when."""

    role: str
    text: str
    at: datetime | None = None
    seconds: float | None = None  # how long the assistant took to answer (this session's turns)

    @property
    def is_question(self) -> bool:
        """An assistant message that asks the user something back: short, with a sentence that
        ends in a question mark (a 0.5B model's clarifying questions look like this)."""
        if self.role != "assistant" or len(self.text) > QUESTION_CHARS:
            return False
        return QUESTION_END.search(self.text) is not None


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


def items_from_messages(
    messages: list[dict[str, Any]], times: list[datetime | None] | None = None
) -> list[Item]:
    """Rebuild a stored conversation (OpenAI chat format) as view items.

    The sentence the core writes after a decision ("Done #3: ...") is left out: the action's
    card already shows that outcome.
    """
    items: list[Item] = []
    open_cards: list[Card] = []
    skip_note = False
    for index, message in enumerate(messages):
        at = times[index] if times is not None and index < len(times) else None
        role = message.get("role")
        if role == "user":
            skip_note = False
            items.append(Message("user", str(message.get("content", "")), at))
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
            if content and not skip_note:
                items.append(Message("assistant", content, at))
            skip_note = False
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
                skip_note = True
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


def tool_words(name: str) -> str:
    """``notes_search`` -> ``Notes search`` (a tool's name as words)."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def rendered_text(markdown: str) -> str:
    """What a reader sees of ``markdown`` (markup rendered away)."""
    document = QTextDocument()
    document.setMarkdown(markdown)
    return document.toPlainText()


def _collapsed(text: str) -> str | None:
    """The first lines of a long text, or None when it is short enough to show whole."""
    lines = text.splitlines()
    if len(lines) <= COLLAPSE_LINES and len(text) <= COLLAPSE_CHARS:
        return None
    shown = "\n".join(lines[:COLLAPSE_LINES])
    return shown[:COLLAPSE_CHARS].rstrip() + "\n\n…"


class MessageBubble(QFrame):
    """One message: who and when, then the Markdown text (long ones collapsed)."""

    def __init__(self, message: Message, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bubble")
        self.header = QLabel()
        self.header.setAccessibleName("Who and when")
        self.body = QLabel()
        self.body.setTextFormat(Qt.TextFormat.MarkdownText)
        self.body.setWordWrap(True)
        self.body.setOpenExternalLinks(True)
        self.body.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.body.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.body.setMinimumWidth(60)
        self.more = QToolButton()
        self.more.setCheckable(True)
        self.more.setAccessibleName("Show the whole text")
        self.more.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(self.body)
        layout.addWidget(self.more, 0, Qt.AlignmentFlag.AlignLeft)
        self.more.toggled.connect(lambda _on: self._fill())
        self.message = message
        self.update_from(message)

    def update_from(self, message: Message) -> None:
        self.message = message
        self.source = message.text
        if message.role == "user":
            who = "You"
        elif message.is_question:
            who = "The assistant asks"
        else:
            who = "Assistant"
        when = f" · {message.at:%H:%M}" if message.at is not None else ""
        took = f" · answered in {message.seconds:.1f} s" if message.seconds is not None else ""
        self.header.setText(f"<b>{who}</b>{when}{took}")
        self.body.setAccessibleName(f"{who} said")
        self._fill()
        self._paint()

    def _fill(self) -> None:
        text = self.message.text or "…"
        short = _collapsed(text)
        self.more.setVisible(short is not None)
        if short is not None and not self.more.isChecked():
            self.body.setText(short)
            lines = len(text.splitlines())
            self.more.setText(f"Show all ({lines} lines)")
        else:
            self.body.setText(text)
            self.more.setText("Show less")

    def _paint(self) -> None:
        if self.message.role == "user":
            background = theme.colour("user")
        elif self.message.is_question:
            background = theme.colour("question")
        else:
            background = "transparent"
        theme.restyle(self, f"QFrame#bubble {{ background: {background}; border-radius: 6px; }}")

    def repaint_theme(self) -> None:
        self._paint()

    def visible_text(self) -> str:
        return rendered_text(self.body.text())


class CallRow(QFrame):
    """A call that ran (or was refused) without waiting for approval: one line, Details below."""

    def __init__(self, card: Card, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("callRow")
        self.line = QLabel()
        self.line.setWordWrap(True)
        self.line.setTextFormat(Qt.TextFormat.PlainText)
        self.line.setAccessibleName("Tool call")
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setAccessibleName("Show what the assistant passed to the tool")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.details.setAccessibleName("Arguments")
        self.details.hide()
        top = QHBoxLayout()
        top.addWidget(self.line, 1)
        top.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addLayout(top)
        layout.addWidget(self.details)
        self.details_button.toggled.connect(self._toggle)
        self.card = card
        self.update_from(card)

    def update_from(self, card: Card) -> None:
        self.card = card
        mark = {"done": "✓", "error": "✗", "failed": "✗", "called": "…"}.get(card.state, "•")
        state = STATE_WORDS.get(card.state, card.state)
        text = f"{mark} {tool_words(card.tool)} — {card.detail or state}"
        if card.state == "error":
            text = f"{mark} {tool_words(card.tool)} was refused: {card.detail}"
        self.line.setText(text)
        lines = [f"{tool_words(k)}: {_plain(v)}" for k, v in card.arguments.items()]
        lines += [f"⚠ {flag}" for flag in card.flags]
        self.details.setText("\n".join(lines) or "(no arguments)")
        theme.restyle(
            self,
            f"QFrame#callRow {{ background: {theme.colour(card.state)}; "
            f"border: 1px solid {theme.colour('border')}; border-radius: 6px; }}",
        )

    def _toggle(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def repaint_theme(self) -> None:
        self.update_from(self.card)


def _plain(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_plain(v)}" for k, v in value.items())
    return str(value)


class Welcome(QFrame):
    """What an empty conversation shows: a line on what the assistant does, three examples.

    Signals:
        chosen(str): the user picked an example request.
    """

    chosen = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = QLabel("<h3>Welcome to Call-Me-Maybe</h3>")
        text = QLabel(
            "Ask in your own words. The assistant reads your calendar, notes and the folders you "
            "grant, and every change waits for your approval. Everything stays on this computer."
        )
        text.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addWidget(QLabel("Try one (click it, or Tab to it and press Enter):"))
        self.examples: list[QLabel] = []
        for index, example in enumerate(EXAMPLES):
            # A link in a wrapping label, not a button: a button cannot wrap its text, and a
            # long example would make the conversation wider than a small window.
            label = QLabel(f'<a href="{index}">“{html.escape(example)}”</a>')
            label.setWordWrap(True)
            label.setTextInteractionFlags(
                Qt.TextInteractionFlag.LinksAccessibleByMouse
                | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
            )
            label.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            label.setAccessibleName(f"Example: {example}")
            label.linkActivated.connect(lambda href: self.chosen.emit(EXAMPLES[int(href)]))
            layout.addWidget(label)
            self.examples.append(label)


class ChatView(QScrollArea):
    """The conversation, one widget per item.

    Signals:
        decided(int, str): an action was decided from its card here.
        message(str): a sentence about what a card just did (for the status bar).
        exampleChosen(str): the user picked a welcome example.
    """

    decided = Signal(int, str)
    message = Signal(str)
    exampleChosen = Signal(str)

    def __init__(
        self, bridge: AssistantBridge | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setAccessibleName("Conversation")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._host = QWidget()
        self._host.setObjectName("conversation")
        self._layout = QVBoxLayout(self._host)
        self._layout.setContentsMargins(8, 8, 8, 8)
        self._layout.setSpacing(8)
        self._layout.addStretch(1)
        self.setWidget(self._host)
        self.welcome = Welcome()
        self.welcome.chosen.connect(self.exampleChosen)
        self._layout.insertWidget(0, self.welcome)
        self.items: list[Item] = []
        self.widgets: list[QWidget] = []
        self._stick = True
        self.verticalScrollBar().rangeChanged.connect(self._keep_bottom)
        self.verticalScrollBar().valueChanged.connect(self._note_position)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RENDER_MS)
        self._timer.timeout.connect(self.render_now)

    def set_items(self, items: list[Item]) -> None:
        """Show a whole conversation."""
        self.items = list(items)
        for widget in self.widgets:
            widget.hide()
            widget.deleteLater()
        self.widgets = []
        self._stick = True
        self.render_now()

    def add(self, item: Item) -> None:
        """Append a message or card."""
        self.items.append(item)
        self._stick = True
        self.schedule()

    def append_text(self, text: str) -> None:
        """Add streamed text to the assistant's current message (starting one if needed)."""
        last = self.items[-1] if self.items else None
        if isinstance(last, Message) and last.role == "assistant":
            last.text += text
        else:
            self.items.append(Message("assistant", text.lstrip(), datetime.now().astimezone()))
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

    def last_question(self) -> Message | None:
        """The assistant's question, when the conversation ends with one."""
        last = self.items[-1] if self.items else None
        return last if isinstance(last, Message) and last.is_question else None

    def action_cards(self) -> list[ActionCard]:
        """The approval cards shown, oldest first."""
        return [w for w in self.widgets if isinstance(w, ActionCard)]

    def selected_text(self) -> str:
        """The text selected in any message or card ('' when none)."""
        for label in self._host.findChildren(QLabel):
            if label.hasSelectedText():
                return label.selectedText()
        return ""

    def visible_text(self) -> str:
        """All that a reader sees in the conversation now (hidden Details excluded)."""
        parts: list[str] = []
        if self.welcome.isVisibleTo(self):
            parts.append("Welcome")
        for widget in self.widgets:
            for label in widget.findChildren(QLabel):
                if not label.isVisibleTo(self):
                    continue
                if label.textFormat() == Qt.TextFormat.MarkdownText:
                    parts.append(rendered_text(label.text()))
                else:
                    parts.append(
                        rendered_text(label.text()) if "<" in label.text() else label.text()
                    )
        return "\n".join(parts)

    def changeEvent(self, event: QEvent) -> None:
        """Repaint the cards in the new colours when the system switches light/dark."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            # Widgets with a style sheet get no palette change of their own: repaint them here.
            for widget in self.widgets:
                widget.repaint_theme()  # type: ignore[attr-defined]

    def schedule(self) -> None:
        """Update soon (coalescing the many deltas of a fast model)."""
        if not self._timer.isActive():
            self._timer.start()

    def render_now(self) -> None:
        """Bring the widgets up to date with the items."""
        self._timer.stop()
        self.welcome.setVisible(not self.items)
        for index, item in enumerate(self.items):
            widget = self.widgets[index] if index < len(self.widgets) else None
            fresh = self._updated(widget, item)
            fresh.setVisible(not self._restates_cards(index))
            if fresh is not widget:
                if widget is not None:
                    self._layout.replaceWidget(widget, fresh)
                    widget.hide()
                    widget.deleteLater()
                    self.widgets[index] = fresh
                else:
                    self._layout.insertWidget(self._layout.count() - 1, fresh)
                    self.widgets.append(fresh)
        for widget in self.widgets[len(self.items) :]:
            widget.hide()
            widget.deleteLater()
        del self.widgets[len(self.items) :]

    def _restates_cards(self, index: int) -> bool:
        """Whether item ``index`` is the core's "This needs your approval: ..." line right
        after the approval cards it repeats (the cards say it, with the buttons)."""
        item = self.items[index]
        if not isinstance(item, Message) or item.role != "assistant" or index == 0:
            return False
        before = self.items[index - 1]
        shown = isinstance(before, Card) and before.action_id is not None
        return shown and self.bridge is not None and item.text.startswith(PENDING_HEADS)

    def _updated(self, widget: QWidget | None, item: Item) -> QWidget:
        """``widget`` updated to show ``item``, or a new widget when it cannot."""
        if isinstance(item, Message):
            if isinstance(widget, MessageBubble):
                if widget.message is not item or widget.source != item.text:
                    widget.update_from(item)
                return widget
            return MessageBubble(item)
        if item.action_id is not None and self.bridge is not None:
            if isinstance(widget, ActionCard) and widget.action_id == item.action_id:
                if widget.action is not None and widget.action.state.value != item.state:
                    widget.reload()
                return widget
            card = self._action_card(item)
            if card is not None:
                return card
        if isinstance(widget, CallRow):
            widget.update_from(item)
            return widget
        return CallRow(item)

    def _action_card(self, item: Card) -> ActionCard | None:
        assert self.bridge is not None and item.action_id is not None
        try:
            action = self.bridge.actions.get(item.action_id)
        except ConnectorError:
            return None
        card = ActionCard(self.bridge, action)
        card.decided.connect(lambda action_id, state: self._card_decided(action_id, state))
        card.message.connect(self.message)
        return card

    def _card_decided(self, action_id: int, state: str) -> None:
        for item in self.items:
            if isinstance(item, Card) and item.action_id == action_id:
                item.state = state if state != "edited" else "pending"
        self.decided.emit(action_id, state)

    def _note_position(self, value: int) -> None:
        bar = self.verticalScrollBar()
        self._stick = value >= bar.maximum() - 4

    def _keep_bottom(self, _minimum: int, maximum: int) -> None:
        if self._stick:
            self.verticalScrollBar().setValue(maximum)


class MessageInput(QPlainTextEdit):
    """The message box: Enter sends, Shift+Enter starts a new line.

    Shift+Tab from the box goes to the newest card waiting for approval, so a keyboard user
    reaches it in one key; the focus never moves there by itself (a stray Enter or Space would
    then decide a change).

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
        self.back_target: Callable[[], QWidget | None] = lambda: None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        enter = event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
            return
        super().keyPressEvent(event)

    def focusNextPrevChild(self, next: bool) -> bool:
        target = None if next else self.back_target()
        if target is not None:
            target.setFocus(Qt.FocusReason.BacktabFocusReason)
            return True
        return super().focusNextPrevChild(next)


SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"


class ChatPanel(QWidget):
    """The view, the message box and the Send / Stop / Copy buttons, with a spinner.

    Signals:
        sendRequested(str): the user wants to send this text.
        stopRequested(): the user pressed Stop (or Esc).
    """

    sendRequested = Signal(str)
    stopRequested = Signal()

    def __init__(
        self, bridge: AssistantBridge | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.view = ChatView(bridge)
        self.input = MessageInput()
        self.input.back_target = self._newest_card_target
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
        self.view.exampleChosen.connect(self.use_example)
        self._spin = QTimer(self)
        self._spin.setInterval(120)
        self._spin.timeout.connect(self._turn)
        self._spin_step = 0
        self._busy_since = 0.0
        self._busy_text = "Thinking…"

    def _newest_card_target(self) -> QWidget | None:
        for card in reversed(self.view.action_cards()):
            if card.waiting:
                self.view.ensureWidgetVisible(card)
                return card.approve_button
        return None

    def _send(self) -> None:
        text = self.input.toPlainText().strip()
        if text:
            self.sendRequested.emit(text)

    def use_example(self, text: str) -> None:
        """Put a welcome example in the message box, ready to send or change."""
        self.input.setPlainText(text)
        self.input.setFocus()
        self.input.moveCursor(self.input.textCursor().MoveOperation.End)

    def copy_answer(self) -> None:
        """Copy the selection if there is one, else the last answer."""
        text = self.view.selected_text() or self.view.last_answer()
        QGuiApplication.clipboard().setText(text)

    def set_busy(self, busy: bool, text: str = "Thinking…") -> None:
        """Swap Send and Stop while a turn runs; a spinner and the seconds so far."""
        import time

        self.send_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        self._busy_text = text
        if busy:
            self._busy_since = time.monotonic()
            self._spin_step = 0
            self._spin.start()
            self._turn()
        else:
            self._spin.stop()
            self.status.setText("")
            self.refresh_prompt()

    def set_busy_text(self, text: str) -> None:
        """Change what the spinner says (e.g. once the model has loaded)."""
        self._busy_text = text
        if self._spin.isActive():
            self._turn()

    def _turn(self) -> None:
        import time

        self._spin_step = (self._spin_step + 1) % len(SPINNER)
        seconds = time.monotonic() - self._busy_since
        self.status.setText(f"{SPINNER[self._spin_step]} {self._busy_text} {seconds:.0f} s")

    def refresh_prompt(self) -> None:
        """Invite an answer when the assistant asked a question, else a request."""
        if self.view.last_question() is not None:
            self.input.setPlaceholderText("Type your answer to the question above (Enter sends)")
        else:
            self.input.setPlaceholderText(
                "Ask something… (Enter sends, Shift+Enter for a new line)"
            )
