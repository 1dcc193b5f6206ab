"""An event keeps no details nobody gave: the model's own text in an optional ``notes`` is left
out of the call before it is proposed, in any language.

The registry, store, tool specs and the assistant's turn are real; the model's words are
scripted (tests/scripted_backend.py). The bundled model's own behaviour is measured by the
product evaluation (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from app.policy import pipeline
from app.policy.unsaid_details import without_unsaid_details
from backends.generation import ToolCall
from backends.schema import parse_tools
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

REQUEST = "La comida con Marta al final es en el restaurante Solar, cámbialo"
INVENTED = "I can't send messages; I manage your calendar, notes and files."


def update_spec():
    return next(
        s for s in parse_tools(load_registry().definitions()) if s.name == "calendar_update"
    )


def test_an_invented_detail_is_left_out_of_the_call() -> None:
    call = ToolCall(
        "calendar_update", {"event": "Lunch with Marta", "location": "Solar", "notes": INVENTED}
    )
    mended = without_unsaid_details(call, update_spec(), [REQUEST])
    assert mended.arguments == {"event": "Lunch with Marta", "location": "Solar"}


def test_a_detail_the_user_gave_stays() -> None:
    request = "Add to the dentist's notes: bring the X-rays"
    given = ToolCall("calendar_update", {"event": "Dentist", "notes": "Bring the X-rays"})
    assert without_unsaid_details(given, update_spec(), [request]) == given
    # the only change stays too: the approval shows it, the call is not left with none
    alone = ToolCall("calendar_update", {"event": "Dentist", "notes": "New location."})
    assert without_unsaid_details(alone, update_spec(), ["Move the dentist"]) == alone


def _pending(registry: Registry, tool_context: ToolContext) -> list[ActionPending]:
    reply = json.dumps(
        {
            "name": "calendar_update",
            "arguments": {"event": "Lunch with Marta", "location": "Solar", "notes": INVENTED},
        }
    )
    backend = ScriptedBackend([reply] * 4, routes=["calendar_update"])
    assistant = Assistant(backend, registry, tool_context, AssistantOptions())
    return [e for e in assistant.turn(None, REQUEST) if isinstance(e, ActionPending)]


def test_the_proposed_change_holds_the_place_and_no_invented_notes(
    registry_with_lunch: Registry, tool_context: ToolContext
) -> None:
    pending = _pending(registry_with_lunch, tool_context)
    assert [p.tool for p in pending] == ["calendar_update"]
    assert pending[0].arguments == {"event": "Lunch with Marta", "location": "Solar"}


def test_without_the_pass_the_invented_notes_would_be_saved(
    registry_with_lunch: Registry, tool_context: ToolContext
) -> None:
    with pipeline.without(["unsaid_details"]):
        pending = _pending(registry_with_lunch, tool_context)
    assert pending[0].arguments.get("notes") == INVENTED
