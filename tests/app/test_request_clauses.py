"""A second thing asked after "and", in any of the five languages, gets its own call.

The model's words are scripted (tests/scripted_backend.py); the clause reading, the planner
that asks the model again, the notes connector on a real encrypted store and the pending
actions are the real ones.
"""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from app.policy import pipeline
from app.policy.request_clauses import clauses, unused
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend


def calls(*pairs: tuple[str, dict[str, object]]) -> str:
    return json.dumps([{"name": n, "arguments": a} for n, a in pairs], ensure_ascii=False)


def test_each_clause_keeps_the_words_no_other_clause_has() -> None:
    assert clauses("Cancel yoga this Thursday and book club this month") == [
        frozenset({"cancel", "yoga", "thursday"}),
        frozenset({"book", "club", "month"}),
    ]
    assert clauses("Copia la factura a reports y borra el archivo del presupuesto viejo") == [
        frozenset({"copia", "factura", "reports"}),
        frozenset({"borra", "archivo", "presupuesto", "viejo"}),
    ]
    assert clauses("Trag morgen um 9 Joggen mit Lena ein") == []  # one thing asked


def test_a_clause_the_calls_use_asks_for_nothing_more() -> None:
    joined = clauses("Make a note called Groceries with milk, eggs and bread")
    written = calls(("notes_create", {"title": "Groceries", "body": "- milk\n- eggs\n- bread"}))
    assert unused(joined, written) == 0
    cancel = clauses("Cancel yoga this Thursday and book club this month")
    one = calls(("calendar_cancel", {"event": "Yoga", "occurrence": "Thursday"}))
    both = calls(
        ("calendar_cancel", {"event": "Yoga"}), ("calendar_cancel", {"event": "Book club"})
    )
    assert (unused(cancel, one), unused(cancel, both)) == (1, 0)


def _assistant(tool_context: ToolContext, backend: ScriptedBackend) -> Assistant:
    registry = load_registry()
    for title in ("Shopping list", "Cosas por hacer"):
        arguments = {"title": title, "body": "- milk"}
        registry.run("notes_create", arguments, tool_context, approved=True)
    return Assistant(backend, registry, tool_context, AssistantOptions())


REQUEST = "Pon huevos en la lista de la compra y borra la nota cosas por hacer"
FIRST = calls(("notes_append", {"note": "Shopping list", "text": "- huevos"}))
BOTH = calls(
    ("notes_append", {"note": "Shopping list", "text": "- huevos"}),
    ("notes_delete", {"note": "Cosas por hacer"}),
)


def test_a_second_clause_no_call_used_is_asked_for_again(tool_context: ToolContext) -> None:
    backend = ScriptedBackend([FIRST, BOTH, "Done."], routes=["notes_append"])
    events = list(_assistant(tool_context, backend).turn(None, REQUEST))
    pending = [e.tool for e in events if isinstance(e, ActionPending)]
    assert pending == ["notes_append", "notes_delete"]


def test_without_the_clauses_the_first_call_stands(tool_context: ToolContext) -> None:
    backend = ScriptedBackend([FIRST, BOTH, "Done."], routes=["notes_append"])
    with pipeline.without(["clause_calls"]):
        events = list(_assistant(tool_context, backend).turn(None, REQUEST))
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["notes_append"]
