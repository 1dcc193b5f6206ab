"""Which of the user's things a change means, when the grammar overrode the model there: the
model is asked on its own (the ``thing_pick`` pass), in any language."""

from __future__ import annotations

import json
from typing import Any

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending, ToolErrorEvent
from app.policy import pipeline
from app.policy.thing_choice import choosing_prompt
from backends.generation import Conflict, ToolCall
from backends.schema import parse_tools
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext
from tests.app.test_close_choices import _Substituting

REQUEST = "Añade huevos a la lista de la compra"


def _notes(tool_context: ToolContext) -> Registry:
    registry = load_registry()
    for title in ("Gift ideas", "Shopping list", "Meeting notes 9 March"):
        registry.run("notes_create", {"title": title, "body": "-"}, tool_context, approved=True)
    return registry


def _turn(registry: Registry, tool_context: ToolContext, routes: list[str]) -> list[Any]:
    """The model began "Lista" where the grammar allowed only the titles; it gave "Gift
    ideas". Returns the events, the pick prompts, and the notes the recorded calls name."""
    call = ToolCall(
        name="notes_append",
        arguments={"note": "Gift ideas", "text": "- huevos"},
        conflicts=(Conflict("arguments.note", "Lista", "Gift ideas"),),
    )
    raw = json.dumps({"name": call.name, "arguments": call.arguments})
    backend = _Substituting(call, [raw, raw, raw, raw], routes=routes)
    assistant = Assistant(backend, registry, tool_context, AssistantOptions())
    events = list(assistant.turn(None, REQUEST))
    picks = [p for p in backend.route_prompts if "existing ones" in p[0]["content"]]
    recorded = [
        c["function"]["arguments"]["note"]
        for m in assistant.conversations.messages(events[-1].conversation_id)
        for c in m.get("tool_calls") or ()
    ]
    return [events, picks, recorded]


def test_the_note_the_model_says_the_request_means_is_the_one_changed(
    tool_context: ToolContext,
) -> None:
    registry = _notes(tool_context)
    events, picks, recorded = _turn(registry, tool_context, ["notes_append", "Shopping list"])
    assert recorded == ["Shopping list"]  # the conversation shows the call as it ran
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert [(p.tool, p.arguments["note"]) for p in pending] == [("notes_append", "Shopping list")]
    assert not pending[0].conflicts
    assert len(picks) == 1 and picks[0][-1]["content"] == REQUEST
    assert "- Shopping list" in picks[0][0]["content"]


def test_a_thing_the_model_says_none_of_is_still_refused(tool_context: ToolContext) -> None:
    registry = _notes(tool_context)
    events, _, _ = _turn(registry, tool_context, ["notes_append", "none"])
    assert not [e for e in events if isinstance(e, ActionPending)]
    assert [e.name for e in events if isinstance(e, ToolErrorEvent)][:1] == ["notes_append"]


def test_without_the_pass_the_substituted_note_is_refused(tool_context: ToolContext) -> None:
    registry = _notes(tool_context)
    with pipeline.without(["thing_pick"]):
        events, picks, _ = _turn(registry, tool_context, ["notes_append", "Shopping list"])
    assert not picks
    assert not [e for e in events if isinstance(e, ActionPending)]


def test_the_question_names_the_argument_and_every_allowed_value() -> None:
    specs = {s.name: s for s in parse_tools(load_registry().definitions())}
    prompt = choosing_prompt(specs["calendar_cancel"], "event", ["Dentist", "Book club"])
    assert "calendar_cancel" in prompt and "- Dentist\n- Book club" in prompt
    assert "event" in prompt
