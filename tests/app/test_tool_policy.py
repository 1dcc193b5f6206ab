"""Policies in a turn: "ask" holds read-only tools too, and a call whose value the grammar
substituted waits for approval whatever the policy. The model's words are scripted; the
grammar's substitution is given as the override the decode loop records, and everything else
is real (call parsing and conflict flags, the registry, the files and notes connectors, the
encrypted store, the action queue)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.actions import Actions
from app.assistant import Assistant, AssistantOptions
from app.conversations import Conversations
from app.decisions import Decisions
from app.events import ActionPending, Event, ToolErrorEvent, ToolResultEvent, TurnDone
from app.records import ActionState
from app.tool_policy import disposition
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend
from tests.substituting_backend import SubstitutingBackend

SECRET = "the door code is 4711"


def call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments})


# A flagged call goes back to the model; the model then repeats it beside a new call (a lone
# repeat ends the turn with the reason). The repeat is what "always" used to run.
TODO = call("files_write", path="todo.txt", text="milk")


@pytest.fixture
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def granted(tool_context: ToolContext) -> Path:
    folder = tool_context.granted_folders[0]
    (folder / "secret.txt").write_text(SECRET)
    (folder / "report.txt").write_text("Q3 report\n")
    return folder


def run_turn(assistant: Assistant, text: str) -> list[Event]:
    events = list(assistant.turn(None, text))
    assert isinstance(events[-1], TurnDone)
    return events


def said_to_model(assistant: Assistant, events: list[Event]) -> str:
    done = events[-1]
    assert isinstance(done, TurnDone)
    return json.dumps(assistant.conversations.messages(done.conversation_id))


def test_dispositions() -> None:
    assert disposition("never", ("x",)) == "refuse"
    assert disposition("ask") == "wait"
    assert disposition("always") == "run"
    assert disposition("always", ("path: the model wanted '/etc' …",)) == "wait"


def test_ask_holds_a_read_only_tool_until_the_user_approves(
    registry: Registry, tool_context: ToolContext, granted: Path
) -> None:
    """files_read set to "ask" used to run at once: the file's text reached the model."""
    backend = ScriptedBackend([call("files_read", path="secret.txt")])
    options = AssistantOptions(policies={"files_read": "ask"})
    assistant = Assistant(backend, registry, tool_context, options)
    events = run_turn(assistant, "Read the file secret.txt")
    assert not [e for e in events if isinstance(e, ToolResultEvent)]
    [pending] = [e for e in events if isinstance(e, ActionPending)]
    assert pending.tool == "files_read" and pending.arguments == {"path": "secret.txt"}
    assert events[-1].pending == (pending.action_id,)  # type: ignore[union-attr]
    assert "needs your approval" in events[-1].text  # type: ignore[union-attr]
    assert "4711" not in said_to_model(assistant, events)  # nothing was read
    assert Actions(registry, tool_context).get(pending.action_id).state is ActionState.PENDING

    decisions = Decisions(
        Actions(registry, tool_context),
        Conversations(tool_context.store, tool_context.current_time),
    )
    done = decisions.approve(pending.action_id)
    assert done.state is ActionState.DONE and done.result["text"] == SECRET  # type: ignore[index]
    assert "4711" in said_to_model(assistant, events)  # the approved read's result goes back
    audit = Actions(registry, tool_context).audit()
    assert (pending.action_id, "run") in [(a.action_id, a.event) for a in audit]


def test_by_default_a_read_only_tool_runs_at_once(
    registry: Registry, tool_context: ToolContext, granted: Path
) -> None:
    """The control: without "ask", the same read runs and nothing waits."""
    backend = ScriptedBackend([call("files_read", path="secret.txt"), "It says the code."])
    assistant = Assistant(backend, registry, tool_context, AssistantOptions())
    events = run_turn(assistant, "Read the file secret.txt")
    [ran] = [e for e in events if isinstance(e, ToolResultEvent)]
    assert ran.result["text"] == SECRET
    assert events[-1].pending == ()  # type: ignore[union-attr]


def test_always_does_not_run_a_value_the_grammar_substituted(
    registry: Registry, tool_context: ToolContext, granted: Path
) -> None:
    """The model wanted to delete /etc/passwd; the grammar could only write report.txt. The
    flagged call goes back to the model; repeated, it used to run under "always" with no
    approval and no warning. Now it waits, with the flag shown."""
    flagged = call("files_delete", path="report.txt")
    backend = SubstitutingBackend([flagged, f"[{flagged}, {TODO}]"], {"report.txt": "/etc/passwd"})
    options = AssistantOptions(policies={"files_delete": "always"})
    assistant = Assistant(backend, registry, tool_context, options)
    events = run_turn(assistant, "Delete the old file and write todo.txt with milk")
    errors = [e for e in events if isinstance(e, ToolErrorEvent)]
    assert errors and "a value is not allowed" in errors[0].message  # first: back to the model
    assert not [e for e in events if isinstance(e, ToolResultEvent)]
    pending = next(e for e in events if isinstance(e, ActionPending) and e.tool == "files_delete")
    assert pending.conflicts and "/etc/passwd" in pending.conflicts[0]
    assert (granted / "report.txt").read_text() == "Q3 report\n"  # nothing ran
    stored = Actions(registry, tool_context).get(pending.action_id)
    assert stored.state is ActionState.PENDING and stored.conflicts == pending.conflicts
    assert "Check:" in events[-1].text  # type: ignore[union-attr]


def test_a_substituted_value_holds_a_read_only_tool_too(
    registry: Registry, tool_context: ToolContext, granted: Path
) -> None:
    """Reads run at once by default, but not with a value nobody chose."""
    flagged = call("files_read", path="secret.txt")
    backend = SubstitutingBackend([flagged, f"[{flagged}, {TODO}]"], {"secret.txt": "../id_rsa"})
    assistant = Assistant(backend, registry, tool_context, AssistantOptions())
    events = run_turn(assistant, "Read the old file and write todo.txt with milk")
    assert not [e for e in events if isinstance(e, ToolResultEvent)]
    pending = next(e for e in events if isinstance(e, ActionPending) and e.tool == "files_read")
    assert pending.tool == "files_read" and pending.conflicts
    assert "4711" not in said_to_model(assistant, events)


def test_never_refuses_even_a_substituted_value(
    registry: Registry, tool_context: ToolContext, granted: Path
) -> None:
    flagged = call("files_delete", path="report.txt")
    backend = SubstitutingBackend([flagged, f"[{flagged}, {TODO}]"], {"report.txt": "/etc/passwd"})
    options = AssistantOptions(policies={"files_delete": "never"})
    assistant = Assistant(backend, registry, tool_context, options)
    events = run_turn(assistant, "Delete the old file and write todo.txt with milk")
    assert not [e for e in events if isinstance(e, ToolResultEvent)]
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["files_write"]
    refused = [e.message for e in events if isinstance(e, ToolErrorEvent)]
    assert any("does not allow files_delete" in m for m in refused), refused
    assert (granted / "report.txt").exists()
