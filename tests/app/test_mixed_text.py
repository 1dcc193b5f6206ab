"""An event named with the words of its own date is named again, among the request's words that
hold no date.

The registry, store, tool specs and the assistant's turn are real; the model's words are
scripted (tests/scripted_backend.py). The bundled model's own behaviour is measured by the
product evaluation (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from app.policy import pipeline
from app.policy.mixed_text import mixed, stretches
from backends.generation import ToolCall
from backends.schema import parse_tools
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

REQUEST = "Trag morgen um 9 Joggen mit Lena ein"


def _create():
    return next(
        s for s in parse_tools(load_registry().definitions()) if s.name == "calendar_create"
    )


def test_a_title_holding_the_words_of_the_said_start_is_mixed() -> None:
    said = {"start": ["morgen um 9"]}
    dated = ToolCall("calendar_create", {"title": "Trag morgen", "start": "morgen um 9"})
    assert mixed(dated, _create(), said) == ["title"]
    named = ToolCall("calendar_create", {"title": "Joggen mit Lena", "start": "morgen um 9"})
    assert mixed(named, _create(), said) == []
    # A start the tool did not read is no evidence: the words may be the user's title.
    free = ToolCall("calendar_create", {"title": "Trag morgen", "start": "2026-03-15 09:00"})
    assert mixed(free, _create(), said) == []


def test_stretches_stay_inside_a_clause() -> None:
    found = stretches("Pay rent on the 1st, every month")
    assert "Pay rent" in found and "every month" in found
    assert not [s for s in found if "1st, every" in s or "1st every" in s]


def _turn(tool_context: ToolContext, replies: list[str]) -> tuple[list, ScriptedBackend]:
    backend = ScriptedBackend(replies, routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    return list(assistant.turn(None, REQUEST)), backend


def test_the_title_is_asked_again_among_the_words_that_hold_no_date(
    tool_context: ToolContext,
) -> None:
    """The bundled model called the jogging "Trag morgen"."""
    call = json.dumps(
        {"name": "calendar_create", "arguments": {"title": "Trag morgen", "start": "morgen um 9"}}
    )
    events, backend = _turn(tool_context, [call, f"[{call}]", '"Joggen mit Lena"'])
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert [p.preview["title"] for p in pending] == ["Joggen mit Lena"]
    offered = backend.options[-1].response_schema["enum"]
    assert "Joggen mit Lena" in offered
    assert not [s for s in offered if "morgen" in s or "9" in s]  # never the date again
    with pipeline.without(["mixed_text"]):
        events, _ = _turn(tool_context, [call, f"[{call}]", call])
    assert [e.preview["title"] for e in events if isinstance(e, ActionPending)] == ["Trag morgen"]


def test_a_place_in_the_title_is_no_symptom() -> None:
    said = {"start": ["tomorrow at 8"], "location": ["Solar"]}
    call = ToolCall(
        "calendar_create",
        {"title": "Dinner at Solar", "start": "tomorrow at 8", "location": "Solar"},
    )
    assert mixed(call, _create(), said) == []
