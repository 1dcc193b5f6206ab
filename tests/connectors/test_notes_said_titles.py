"""A note's new title is one of the stretches of the request, never a note's title or part of
one: the grammar offers those alone.

The registry, store, tool specs and the assistant's turn are real; the model's words are
scripted (tests/scripted_backend.py). The bundled model's own behaviour is measured by the
product evaluation (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from app.policy import pipeline
from connectors.notes.said_titles import new_titles, stretches
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

REQUEST = "Benenn die Notiz 'Books to read' in Leseliste um"


def test_stretches_stay_inside_a_quote_and_keep_apostrophes_in_words() -> None:
    found = stretches(REQUEST)
    assert "Leseliste" in found and "Books to read" in found
    assert not [s for s in found if "read in" in s or "Notiz Books" in s]  # no quote crossed
    assert "Marta's lunch" in stretches("Rename Marta's lunch note to Lunch")


def test_a_new_title_is_never_an_existing_title_or_part_of_one() -> None:
    offered = new_titles(REQUEST, ["Books to read", "Wifi"])
    assert "Leseliste" in offered
    assert not {"Books to read", "Books to", "read"} & set(offered)  # the model gave them back
    porto = new_titles("Rename the Porto trip note to Porto weekend", ["Trip to Porto"])
    assert "Porto weekend" in porto and "Porto" not in porto


def _grammar(registry: Registry, tool_context: ToolContext) -> dict:
    reply = json.dumps(
        {"name": "notes_rename", "arguments": {"note": "Books to read", "new_title": "Leseliste"}}
    )
    backend = ScriptedBackend([reply] * 4, routes=["notes_rename"])
    assistant = Assistant(backend, registry, tool_context, AssistantOptions())
    events = list(assistant.turn(None, REQUEST))
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["notes_rename"]
    grammar = next(o.constrain_to for o in backend.options if o.constrain_to)
    return next(t for t in grammar if t.name == "notes_rename").parameters["properties"]


def test_the_grammar_offers_the_request_stretches_as_the_new_title(
    tool_context: ToolContext,
) -> None:
    registry = load_registry()
    registry.run(
        "notes_create", {"title": "Books to read", "body": "-"}, tool_context, approved=True
    )
    offered = _grammar(registry, tool_context)["new_title"]
    assert "Leseliste" in offered["enum"] and "Books to read" not in offered["enum"]
    with pipeline.without(["said_values"]):
        assert "enum" not in _grammar(registry, tool_context)["new_title"]  # free text: "Read"
