"""The terminal front end: renders a turn's events and asks for approvals inline.

Only presentation lives here; what happens is decided in :mod:`app.assistant` and
:mod:`app.decisions`, which the Qt window uses too.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from typing import TextIO

from app.actions import Action
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
            out.write(f"  ⏸ pending #{event.action_id}: {event.summary or event.tool}\n")
            for key, value in event.preview.items():
                if key != "summary":
                    out.write(
                        f"      {key}: {json.dumps(value, ensure_ascii=False, default=str)}\n"
                    )
            for flag in event.conflicts:
                out.write(f"      check: {flag}\n")
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


def ask_inline(
    decisions: Decisions,
    action_ids: Iterable[int],
    read: Callable[[str], str] = input,
    out: TextIO = sys.stdout,
) -> list[Action]:
    """Ask about each pending action: [a]pprove, [r]eject, [e]dit, or later (Enter)."""
    decided = []
    for action_id in action_ids:
        answer = read(f"approve #{action_id}? [a]pprove / [r]eject / [e]dit / later: ").strip()
        choice = answer[:1].lower()
        if choice == "a":
            action = decisions.approve(action_id)
        elif choice == "r":
            action = decisions.reject(action_id)
        elif choice == "e":
            edited = read("new arguments (JSON): ")
            action = decisions.approve(action_id, edited=edited)
        else:
            out.write(f"  #{action_id} stays pending (`callmemaybe approve {action_id}`)\n")
            continue
        out.write(f"  {describe_outcome(action)}\n")
        decided.append(action)
    return decided


def describe_outcome(action: Action) -> str:
    """One line about a decided action."""
    if action.state.value in ("done", "failed"):
        return outcome_text(action)
    return action.describe()
