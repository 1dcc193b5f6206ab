"""The terminal chat's approval prompt: only a deliberate word approves, and a typo at the edit
prompt loses nothing (real store, real notes connector, real action queue)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

import pytest

from app.actions import Action, Actions
from app.conversations import Conversations
from app.decisions import Decisions
from app.records import ActionState
from app.terminal import ask_inline, understood
from connectors.errors import NotFoundError
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext

GROCERIES = {"title": "Groceries", "body": "milk and eggs"}


@pytest.fixture
def registry() -> Registry:
    return load_registry()


@pytest.fixture
def decisions(registry: Registry, tool_context: ToolContext) -> Decisions:
    return Decisions(
        Actions(registry, tool_context),
        Conversations(tool_context.store, tool_context.current_time),
    )


def answers(*typed: str) -> tuple[list[str], Callable[[str], str]]:
    """A reader that types ``typed`` in order, and the prompts it was shown."""
    prompts: list[str] = []
    queue: Iterator[str] = iter(typed)

    def read(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(queue)
        except StopIteration:
            raise EOFError from None

    return prompts, read


def note_body(registry: Registry, context: ToolContext, title: str) -> str | None:
    try:
        return registry.run("notes_read", {"note": title}, context).data["body"]
    except NotFoundError:
        return None


@pytest.mark.parametrize(
    "answer",
    ["abort", "actually no", "a", "ok", "sure", "approve it later", "yes please", "yess", "A"],
)
def test_an_answer_that_only_starts_like_approval_approves_nothing(answer: str) -> None:
    assert understood(answer) == "unclear"


@pytest.mark.parametrize("answer", ["approve", "yes", "y", " Yes ", "APPROVE", "Y"])
def test_approval_takes_a_whole_approval_word(answer: str) -> None:
    assert understood(answer) == "approve"


def test_a_stray_answer_is_said_back_and_the_change_does_not_run(
    decisions: Decisions, registry: Registry, tool_context: ToolContext
) -> None:
    """Answers like "abort" and "actually no" used to approve (any answer starting with "a")."""
    action = decisions.actions.propose("notes_create", GROCERIES)
    prompts, read = answers("abort", "actually no", "")
    out = io.StringIO()
    decided = ask_inline(decisions, [action.id], read=read, out=out)
    said = out.getvalue()
    assert decided == []
    assert "'abort' is not an answer I understand" in said
    assert "'actually no' is not an answer I understand" in said
    assert f"#{action.id} stays pending" in said
    assert len(prompts) == 3 and all("type approve (or yes)" in p for p in prompts)
    assert decisions.actions.get(action.id).state is ActionState.PENDING
    assert note_body(registry, tool_context, "Groceries") is None  # nothing ran


def test_yes_approves_and_runs(
    decisions: Decisions, registry: Registry, tool_context: ToolContext
) -> None:
    action = decisions.actions.propose("notes_create", GROCERIES)
    _prompts, read = answers("yes")
    out = io.StringIO()
    [done] = ask_inline(decisions, [action.id], read=read, out=out)
    assert done.state is ActionState.DONE
    assert f"Done #{action.id}: Created note 'Groceries'" in out.getvalue()
    assert note_body(registry, tool_context, "Groceries") == "milk and eggs"


def test_no_rejects_and_nothing_runs(
    decisions: Decisions, registry: Registry, tool_context: ToolContext
) -> None:
    action = decisions.actions.propose("notes_create", GROCERIES)
    _prompts, read = answers("no")
    [rejected] = ask_inline(decisions, [action.id], read=read, out=io.StringIO())
    assert rejected.state is ActionState.REJECTED
    assert note_body(registry, tool_context, "Groceries") is None


def test_invalid_json_at_the_edit_prompt_is_said_and_asked_again(
    decisions: Decisions, registry: Registry, tool_context: ToolContext
) -> None:
    """Invalid JSON used to raise out of the chat (ending it); now it says what is wrong, asks
    again, and the edited action is shown and asked about before it runs."""
    action = decisions.actions.propose("notes_create", GROCERIES)
    prompts, read = answers(
        "edit",
        '{"title": "Groceries", "body": ',  # cut short
        "[1, 2]",  # not an object
        '{"titel": "Groceries"}',  # a parameter the tool does not have
        '{"title": "Groceries", "body": "oat milk"}',
        "yes",
    )
    out = io.StringIO()
    [done] = ask_inline(decisions, [action.id], read=read, out=out)
    said = out.getvalue()
    assert "that is not valid JSON" in said
    assert "must be a JSON object" in said
    assert "titel: not a parameter of this tool" in said
    assert '"body": "oat milk"' in said.split(f"#{action.id} now:")[1]  # shown again
    assert prompts[-1].startswith(f"approve #{action.id}?")  # asked again after the edit
    assert done.state is ActionState.DONE
    assert done.arguments["body"] == "oat milk"
    assert note_body(registry, tool_context, "Groceries") == "oat milk"


def test_an_empty_edit_keeps_the_arguments_and_loses_nothing(
    decisions: Decisions, registry: Registry, tool_context: ToolContext
) -> None:
    action = decisions.actions.propose("notes_create", GROCERIES)
    _prompts, read = answers("edit", '{"title": ', "", "")
    out = io.StringIO()
    assert ask_inline(decisions, [action.id], read=read, out=out) == []
    kept: Action = decisions.actions.get(action.id)
    assert kept.state is ActionState.PENDING and kept.arguments == GROCERIES
    assert "keeps its arguments" in out.getvalue()


def test_a_decision_the_store_refuses_is_said_and_the_chat_goes_on(
    decisions: Decisions, registry: Registry, tool_context: ToolContext
) -> None:
    """The window rejected it meanwhile: the terminal says so instead of ending the chat."""
    first = decisions.actions.propose("notes_create", GROCERIES)
    second = decisions.actions.propose("notes_create", {"title": "Ideas", "body": "x"})
    decisions.actions.reject(first.id)
    _prompts, read = answers("yes", "yes")
    out = io.StringIO()
    decided = ask_inline(decisions, [first.id, second.id], read=read, out=out)
    assert f"#{first.id}: action #{first.id} is rejected" in out.getvalue()
    assert [a.id for a in decided] == [second.id]
    assert note_body(registry, tool_context, "Groceries") is None
    assert note_body(registry, tool_context, "Ideas") == "x"
