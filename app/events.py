"""What one turn of the assistant yields: plain dataclasses every front end renders.

The terminal prints them, the Qt window turns them into signals, ``callmemaybe ask --json``
writes them as JSON lines, and tests assert on them: one stream, no front-end logic in the core.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TextDelta:
    """A piece of the assistant's text answer."""

    text: str


@dataclass(frozen=True)
class CallProposed:
    """The model called a tool (not yet run). ``conflicts`` says where the grammar overrode it."""

    name: str
    arguments: dict[str, Any]
    conflicts: tuple[str, ...] = ()


@dataclass(frozen=True)
class ActionPending:
    """A change waits for the user's approval (it is stored and survives a restart)."""

    action_id: int
    tool: str
    arguments: dict[str, Any]
    preview: dict[str, Any]
    conflicts: tuple[str, ...] = ()
    summary: str = ""


@dataclass(frozen=True)
class ToolResultEvent:
    """A tool ran; its result went back to the model."""

    name: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    summary: str = ""
    action_id: int | None = None


@dataclass(frozen=True)
class ToolErrorEvent:
    """A call was refused or failed; the message went back to the model."""

    name: str
    message: str


@dataclass(frozen=True)
class TurnDone:
    """The turn is over; ``text`` is the whole answer shown to the user."""

    conversation_id: int
    text: str
    pending: tuple[int, ...] = field(default=())


Event = TextDelta | CallProposed | ActionPending | ToolResultEvent | ToolErrorEvent | TurnDone

_KINDS = {
    TextDelta: "text",
    CallProposed: "call",
    ActionPending: "pending",
    ToolResultEvent: "result",
    ToolErrorEvent: "error",
    TurnDone: "done",
}


def event_to_json(event: Event) -> dict[str, Any]:
    """The event as a JSON object with a ``type`` field (``callmemaybe ask --json``)."""
    return {"type": _KINDS[type(event)], **asdict(event)}
