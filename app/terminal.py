"""The terminal front end: renders a turn's events and asks for approvals inline.

Only presentation lives here; what happens is decided in :mod:`app.assistant` and
:mod:`app.decisions`, which the Qt window uses too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import TextIO

from app.actions import Action, ActionError
from app.decisions import Decisions, outcome_text
from app.events import (
    ActionPending,
    CallProposed,
    Event,
    TextDelta,
    ToolErrorEvent,
    ToolResultEvent,
    TurnDone,
    event_to_json,
)
from connectors.errors import ConnectorError


def render(events: Iterable[Event], out: TextIO = sys.stdout) -> TurnDone | None:
    """Print a turn as it happens; returns its final event."""
    done: TurnDone | None = None
    started_text = False
    for event in events:
        if isinstance(event, TextDelta):
            out.write(event.text)
            out.flush()
            started_text = True
        elif isinstance(event, CallProposed):
            args = json.dumps(event.arguments, ensure_ascii=False)
            out.write(f"  → {event.name} {args}\n")
        elif isinstance(event, ToolResultEvent):
            out.write(f"  ✓ {event.summary or event.name}\n")
        elif isinstance(event, ToolErrorEvent):
            out.write(f"  ✗ {event.name}: {event.message}\n")
        elif isinstance(event, ActionPending):
            # The window's approval card says the same: a sentence, what will change (the
            # text a note or file will hold), then what to check (app.action_summary).
            from app.action_summary import summarize_action

            lines = summarize_action(event).lines("      ")
            out.write(f"  ⏸ pending #{event.action_id}: {lines[0]}\n")
            out.writelines(f"{line}\n" for line in lines[1:])
        elif isinstance(event, TurnDone):
            done = event
    if started_text:
        out.write("\n")
    return done


def render_json(events: Iterable[Event], out: TextIO = sys.stdout) -> TurnDone | None:
    """Print each event as one JSON line (``callmemaybe ask --json``)."""
    done = None
    for event in events:
        out.write(json.dumps(event_to_json(event), ensure_ascii=False, default=str) + "\n")
        out.flush()
        if isinstance(event, TurnDone):
            done = event
    return done


APPROVE_WORDS = frozenset({"approve", "yes", "y"})
REJECT_WORDS = frozenset({"reject", "no", "n"})
EDIT_WORDS = frozenset({"edit", "e"})
APPROVE_PROMPT = (
    "approve #{id}? type approve (or yes), reject (or no), edit, or press Enter to decide later: "
)
EDIT_PROMPT = "new arguments for #{id} as JSON (an empty line keeps them as they are): "


def understood(answer: str) -> str:
    """What an answer to the approval prompt means: "approve", "reject", "edit", "later"
    (an empty answer), or "unclear".

    Approval takes one of :data:`APPROVE_WORDS`, whole: an answer that only starts like one
    ("abort", "actually no", "ok I guess") approves nothing, so a stray key or a second thought
    typed at the prompt cannot run a change.
    """
    word = " ".join(answer.split()).casefold()
    if not word:
        return "later"
    if word in APPROVE_WORDS:
        return "approve"
    if word in REJECT_WORDS:
        return "reject"
    if word in EDIT_WORDS:
        return "edit"
    return "unclear"


def ask_inline(
    decisions: Decisions,
    action_ids: Iterable[int],
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
) -> list[Action]:
    """Ask about each pending action: approve, reject, edit, or later (Enter).

    An answer that is none of these is said back and asked again; an edit is validated and
    shown, then asked about again, so what runs is always what the user last saw. A decision
    the store refuses (the window decided first, the action expired) is said, and the chat
    goes on. ``read`` raising EOFError ends the questions (the actions stay pending).
    """
    decided = []
    for action_id in action_ids:
        action = _decide_one(decisions, action_id, read, out)
        if action is not None:
            out.write(f"  {describe_outcome(action)}\n")
            decided.append(action)
    return decided


def _decide_one(
    decisions: Decisions, action_id: int, read: Callable[[str], str], out: TextIO
) -> Action | None:
    while True:
        answer = read(APPROVE_PROMPT.format(id=action_id))
        meaning = understood(answer)
        if meaning == "later":
            out.write(f"  #{action_id} stays pending (`callmemaybe approve {action_id}`)\n")
            return None
        if meaning == "unclear":
            out.write(
                f"  {answer.strip()!r} is not an answer I understand, so #{action_id} was not "
                "approved: type approve (or yes), reject (or no), edit, or press Enter.\n"
            )
            continue
        try:
            if meaning == "approve":
                out.write(f"  approving #{action_id}\n")
                return decisions.approve(action_id)
            if meaning == "reject":
                return decisions.reject(action_id)
            if _edit(decisions, action_id, read, out):
                _show(decisions.actions.get(action_id), out)
        except ConnectorError as exc:
            out.write(f"  #{action_id}: {exc}\n")
            return None


def _edit(decisions: Decisions, action_id: int, read: Callable[[str], str], out: TextIO) -> bool:
    """Replace the action's arguments with what the user types; True once they are replaced.

    Invalid JSON or arguments the tool refuses are said and asked for again; an empty line
    keeps the arguments as they were. Nothing runs here.
    """
    current = decisions.actions.get(action_id)
    out.write(f"  arguments now: {json.dumps(current.arguments, ensure_ascii=False)}\n")
    while True:
        typed = read(EDIT_PROMPT.format(id=action_id)).strip()
        if not typed:
            out.write(f"  #{action_id} keeps its arguments\n")
            return False
        try:
            arguments = json.loads(typed)
        except json.JSONDecodeError as exc:
            out.write(f"  that is not valid JSON ({exc}); nothing was changed, try again\n")
            continue
        if not isinstance(arguments, dict):
            out.write("  the arguments must be a JSON object ({...}); try again\n")
            continue
        try:
            decisions.actions.edit(action_id, arguments)
        except ActionError:
            raise  # decided elsewhere or expired meanwhile: nothing to edit any more
        except ConnectorError as exc:  # the schema or the preview refuses these arguments
            out.write(f"  {exc}; nothing was changed, try again\n")
            continue
        return True


def _show(action: Action, out: TextIO) -> None:
    """An edited action as it now stands, before it is asked about again."""
    out.write(f"  ⏸ #{action.id} now: {action.summary or action.tool}\n")
    out.write(f"      arguments: {json.dumps(action.arguments, ensure_ascii=False)}\n")
    for key, value in action.preview.items():
        if key != "summary":
            out.write(f"      {key}: {json.dumps(value, ensure_ascii=False, default=str)}\n")


def describe_outcome(action: Action) -> str:
    """One line about a decided action."""
    if action.state.value in ("done", "failed"):
        return outcome_text(action)
    return action.describe()
