"""A listing of notes gets the tag the request names and the trash it says, in any language.

The registry, the encrypted store, the tool specs and the assistant's turn are real; the model's
words are scripted (tests/scripted_backend.py). The bundled model's own behaviour is measured by
the product evaluation (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

import pytest

from app.assistant import Assistant, AssistantOptions
from app.events import ToolResultEvent
from app.policy import pipeline
from connectors.notes.said_filters import says_trash, tags
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

TAGS = ["home", "personal", "work", "travel"]


def test_a_tag_is_the_user_s_word_named_in_the_request() -> None:
    assert tags("List my personal notes", TAGS) == ["personal"]
    assert tags("Liste mes notes avec le tag #home", TAGS) == ["home"]
    assert tags("Show my notes about homework", TAGS) == []  # a whole word, not a piece


@pytest.mark.parametrize(
    "request_text",
    [
        "What's in the notes trash?",
        "Welche Notizen liegen im Papierkorb?",
        "Quelles notes sont dans la corbeille ?",
        "¿Qué notas borradas tengo?",
        "Que notas tenho no lixo?",
    ],
)
def test_the_trash_is_read_in_every_language(request_text: str) -> None:
    assert says_trash(request_text)


def test_a_listing_says_no_trash_by_default() -> None:
    assert not says_trash("Welche Notizen habe ich?")


def _listed(registry: Registry, tool_context: ToolContext, request: str) -> dict:
    reply = json.dumps({"name": "notes_list", "arguments": {}})
    backend = ScriptedBackend([reply] * 3 + ["Done."] * 2, routes=["notes_list"])
    assistant = Assistant(backend, registry, tool_context, AssistantOptions())
    results = [e for e in assistant.turn(None, request) if isinstance(e, ToolResultEvent)]
    return results[0].result


@pytest.fixture
def notes(tool_context: ToolContext) -> Registry:
    registry = load_registry()
    for title, tag in (("Diary", "personal"), ("Budget", "work"), ("Old", "home")):
        arguments = {"title": title, "body": "-", "tags": [tag]}
        registry.run("notes_create", arguments, tool_context, approved=True)
    registry.run("notes_delete", {"note": "Old"}, tool_context, approved=True)
    return registry


def test_a_listing_left_without_the_said_tag_or_trash_gets_them(
    notes: Registry, tool_context: ToolContext
) -> None:
    """The bundled model listed every note for "List my personal notes", and the notes out of
    the trash for "Welche Notizen liegen im Papierkorb?"."""
    personal = _listed(notes, tool_context, "List my personal notes")
    assert [n["title"] for n in personal["notes"]] == ["Diary"]
    trash = _listed(notes, tool_context, "Welche Notizen liegen im Papierkorb?")
    assert [n["title"] for n in trash["notes"]] == ["Old"]
    with pipeline.without(["said_values"]):
        every = _listed(notes, tool_context, "List my personal notes")
    assert sorted(n["title"] for n in every["notes"]) == ["Budget", "Diary"]
