"""The assistant through the remote ``openai`` backend: pending, approve, undo.

Everything on the way is real: the assistant's turn loop and decision passes, the remote
backend and the official ``openai`` client, HTTP on loopback, ``callmemaybe serve`` with its
grammar check, the real notes connector on a real encrypted store, approvals and undo. Only the
served model's words are scripted (as in tests/app/test_assistant.py), because a turn that
ends in one particular pending change needs a model that means it; the tiny random model
behind the same server is covered in tests/backends/test_remote.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from app.actions import Actions
from app.assistant import Assistant, AssistantOptions
from app.conversations import Conversations
from app.decisions import Decisions
from app.events import ActionPending, CallProposed, ToolResultEvent, TurnDone
from app.records import ActionState
from app.serve.app import create_app
from app.serve.run import serving_in_thread as serving
from backends.remote import RemoteBackend, RemoteSettings
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.backends.test_remote import llama_cpp_server
from tests.scripted_backend import ScriptedBackend


def note_titles(registry: object, context: ToolContext) -> list[str]:
    listed = registry.run("notes_list", {}, context)  # type: ignore[attr-defined]
    return [n["title"] for n in listed.data["notes"]]


def test_a_change_through_a_remote_model_waits_runs_when_approved_and_undoes(
    tool_context: ToolContext,
) -> None:
    registry = load_registry()
    model = ScriptedBackend([json.dumps({"name": "notes_create", "arguments": {"title": "Milk"}})])
    with serving(create_app(model, model_id="scripted")) as url:
        remote = RemoteBackend(RemoteSettings(base_url=url + "/v1"))
        remote.load(None)
        assistant = Assistant(remote, registry, tool_context, AssistantOptions())
        events = list(assistant.turn(None, "Make a note called Milk"))
        remote.close()

    assert model.offered and "notes_create" in model.offered[0]  # the server saw the tools
    proposed = [e for e in events if isinstance(e, CallProposed)]
    assert [(p.name, p.arguments) for p in proposed] == [("notes_create", {"title": "Milk"})]
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert len(pending) == 1
    done = events[-1]
    assert isinstance(done, TurnDone) and done.pending == (pending[0].action_id,)
    assert "Milk" not in note_titles(registry, tool_context)  # nothing ran yet

    decisions = Decisions(
        Actions(registry, tool_context),
        Conversations(tool_context.store, tool_context.current_time),
    )
    action = decisions.approve(pending[0].action_id)
    assert action.state is ActionState.DONE
    assert "Milk" in note_titles(registry, tool_context)

    undone, said = decisions.undo(action.id)
    assert undone.state is ActionState.UNDONE
    assert "Milk" not in note_titles(registry, tool_context)
    assert said


def test_the_bundled_model_behind_llama_cpp_server_reads_what_it_is_asked_to_read(
    tool_context: ToolContext, bundled_model_path: Path
) -> None:
    """The whole turn through ``llama_cpp.server`` on the bundled model: a request to show the
    notes runs the listing, and nothing waits for approval. With the grammar's keys sorted the
    model wrote a call's arguments before its name, and asked to read, it created (the
    product evaluation through this server: 10 of 13 calendar reads became a create)."""
    registry = load_registry()
    registry.run(
        "notes_create", {"title": "Groceries", "body": "- milk"}, tool_context, approved=True
    )
    with llama_cpp_server(bundled_model_path, n_ctx=4096, threads=2) as url:
        remote = RemoteBackend(RemoteSettings(base_url=url))
        remote.load(None)
        assistant = Assistant(remote, registry, tool_context, AssistantOptions())
        events = list(assistant.turn(None, "Show me all my notes"))
        remote.close()
    ran = [e.name for e in events if isinstance(e, ToolResultEvent)]
    assert ran == ["notes_list"], [type(e).__name__ for e in events]
    assert not [e for e in events if isinstance(e, ActionPending)]
    assert "Groceries" in events[-1].text
