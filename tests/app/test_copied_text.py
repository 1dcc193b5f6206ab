"""A title or a place is words the user said: the grammar offers only stretches of the request
for them (the ``copied_text`` pass), never the request's dates, in any language.

The registry, store, tool specs and the assistant's turn are real; the model's words are
scripted (tests/scripted_backend.py), and the grammar the main pass was given is read back.
"""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from app.policy import pipeline
from app.policy.copied_text import MAX_REQUEST_WORDS, stretches
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

REQUEST = "Trag mir für morgen um 15 Uhr Kaffee mit Jonas im Café Luz ein"


def call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def _offered(backend: ScriptedBackend, tool: str, argument: str) -> dict:
    tools = backend.options[0].constrain_to or ()
    spec = next(t for t in tools if t.name == tool)
    return spec.parameters["properties"][argument]


def test_stretches_are_runs_of_the_users_words_outside_the_dates() -> None:
    found = stretches([REQUEST], ["morgen um 15 Uhr"])
    assert found is not None
    assert "Kaffee mit Jonas" in found and "Café Luz" in found
    assert "Trag mir für" in found
    assert not [s for s in found if "morgen" in s or "15" in s or "Uhr" in s]
    assert "Kaffee" in found and "kaffee mit Jonas" not in found
    assert "Lunch with Ana" in (stretches(["lunch with Ana"]) or [])  # capitalised too


def test_a_pasted_text_leaves_the_words_free() -> None:
    assert stretches(["word " * (MAX_REQUEST_WORDS + 1)]) is None
    assert stretches([""]) is None


def test_the_grammar_offers_an_events_title_and_place_from_the_request_alone(
    tool_context: ToolContext,
) -> None:
    reply = call("calendar_create", title="Kaffee mit Jonas", start="morgen um 15 Uhr")
    backend = ScriptedBackend([reply, f"[{reply}]", reply], routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, REQUEST))
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert pending and pending[0].arguments["title"] == "Kaffee mit Jonas"
    titles = _offered(backend, "calendar_create", "title")["enum"]
    assert "Kaffee mit Jonas" in titles
    assert all(t.casefold() in REQUEST.casefold() for t in titles)  # nothing invented
    assert not [t for t in titles if "morgen" in t]  # the date is not a title


def test_without_the_pass_the_title_is_free_text(tool_context: ToolContext) -> None:
    reply = call("calendar_create", title="Zahnarzttermin", start="morgen um 15 Uhr")
    backend = ScriptedBackend([reply, f"[{reply}]", reply], routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    with pipeline.without(["copied_text"]):
        list(assistant.turn(None, REQUEST))
    assert "enum" not in _offered(backend, "calendar_create", "title")


def test_a_notes_new_title_is_the_users_words(tool_context: ToolContext) -> None:
    request = "Benenn die Notiz 'Books to read' in Leseliste um"
    reply = call("notes_rename", note="Books to read", new_title="Leseliste")
    backend = ScriptedBackend([reply, f"[{reply}]", reply, "OK."], routes=["notes_rename"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    list(assistant.turn(None, request))
    offered = _offered(backend, "notes_rename", "new_title")["enum"]
    assert "Leseliste" in offered and "Reading list" not in offered
