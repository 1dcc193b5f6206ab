"""An edit's passage is one the request quotes from a note, as the note writes it; removing a
list item takes its line away.

The registry, the encrypted store, the tool specs and the assistant's turn are real; the model's
words are scripted (tests/scripted_backend.py). The bundled model's own behaviour is measured by
the product evaluation (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

import pytest

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from app.policy import pipeline
from connectors.notes.said_passages import passages
from connectors.notes.service import replaced
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

NOTES = {
    "Todo": "- buy stamps\n- call the plumber\n- renew passport",
    "Shopping list": "- milk\n- eggs\n- coffee",
    "Pancake recipe": "Ingredients: 200 g flour, 2 eggs, 300 ml milk.",
    "Wifi": "Network: CasaAzul\nPassword: sardinha-2026\nThe router is in the hall cupboard.",
}


def test_the_passages_a_request_quotes_come_as_the_note_writes_them() -> None:
    assert passages("Cross BUY stamps off my todo list, done", NOTES) == ["buy stamps"]
    quoted = "Dans ma note todo, remplace 'renew passport' par 'renew ID card'"
    assert passages(quoted, NOTES) == ["renew passport"]  # not "renew" of the new words too


def test_a_named_note_is_the_one_read_and_small_words_say_no_passage() -> None:
    # "milk" stands in two notes; the request names the shopping list, so it is that one's.
    assert passages("Take milk off the shopping list", NOTES) == ["milk"]
    assert passages("Change the password in the Wifi note", NOTES) == ["Password"]  # no "in the"
    # No note named: a word two notes hold says no passage; another language, nothing at all.
    assert passages("Remove milk", NOTES) == []
    assert passages("Streich Eier von der Einkaufsliste", NOTES) == []


@pytest.mark.parametrize("find", ["buy stamps", "- buy stamps", "- buy stamps\n"])
def test_removing_a_list_item_takes_its_line_away(find: str) -> None:
    body, count = replaced(NOTES["Todo"], find, "", "Todo")
    assert (body, count) == ("- call the plumber\n- renew passport", 1)
    last, _ = replaced(NOTES["Todo"], "renew passport", "", "Todo")
    assert last == "- buy stamps\n- call the plumber"
    # Inside a line, or replaced by words, a passage is replaced alone.
    assert replaced(NOTES["Todo"], "plumber", "", "Todo")[0].startswith("- buy stamps\n- call the")
    assert "- renew ID card" in replaced(NOTES["Todo"], "renew passport", "renew ID card", "x")[0]


def _edit_grammar(registry: Registry, tool_context: ToolContext, request: str) -> dict:
    reply = json.dumps(
        {"name": "notes_edit", "arguments": {"note": "Todo", "find": "buy stamps", "replace": ""}}
    )
    backend = ScriptedBackend([reply] * 4, routes=["notes_edit"])
    assistant = Assistant(backend, registry, tool_context, AssistantOptions())
    events = list(assistant.turn(None, request))
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert [e.tool for e in pending] == ["notes_edit"]
    assert "-- buy stamps" in pending[0].preview["diff"]
    grammar = next(o.constrain_to for o in backend.options if o.constrain_to)
    return next(t for t in grammar if t.name == "notes_edit").parameters["properties"]


def test_the_grammar_offers_the_quoted_passage_as_what_to_replace(
    tool_context: ToolContext,
) -> None:
    """The bundled model wrote ``find: "- stamps"`` and the edit failed: not in the note."""
    registry = load_registry()
    for title, body in NOTES.items():
        registry.run("notes_create", {"title": title, "body": body}, tool_context, approved=True)
    request = "Cross buy stamps off my todo list, done"
    assert _edit_grammar(registry, tool_context, request)["find"]["enum"] == ["buy stamps"]
    with pipeline.without(["said_values"]):
        assert "enum" not in _edit_grammar(registry, tool_context, request).get("find", {})
