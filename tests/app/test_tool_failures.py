"""A tool that fails with something other than a ConnectorError (a bug, or hostile input no
check foresaw) must still end the turn with an error the front ends show: the window's worker
and the terminal only render events, so an exception escaping the turn leaves them busy."""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ToolErrorEvent, TurnDone
from connectors.registry import Registry
from connectors.tool import Arguments, Effect, ToolContext, ToolResult, tool
from tests.scripted_backend import ScriptedBackend


class KeyArgs(Arguments):
    key: str
    """Which key."""


@tool("shelf_peek", effect=Effect.READS, arguments=KeyArgs)
def shelf_peek(context: ToolContext, args: KeyArgs) -> ToolResult:
    """Read a value from the shelf."""
    raise TypeError("can't compare offset-naive and offset-aware datetimes")


def _broken_preview(context: ToolContext, args: KeyArgs) -> dict[str, str]:
    raise OverflowError("date value out of range")


@tool("shelf_clear", effect=Effect.CHANGES, arguments=KeyArgs, preview=_broken_preview)
def shelf_clear(context: ToolContext, args: KeyArgs) -> ToolResult:
    """Clear a place on the shelf."""
    return ToolResult({"cleared": args.key})


def _turn(tool_context: ToolContext, name: str) -> list[object]:
    replies = [json.dumps({"name": name, "arguments": {"key": "door"}}), "Sorry."]
    assistant = Assistant(
        ScriptedBackend(replies),  # type: ignore[arg-type]
        Registry([shelf_peek, shelf_clear]),
        tool_context,
        AssistantOptions(),
    )
    return list(assistant.turn(None, "What is on the shelf at the door? Clear the door."))


def test_an_unexpected_exception_in_a_read_tool_becomes_a_tool_error(
    tool_context: ToolContext,
) -> None:
    events = _turn(tool_context, "shelf_peek")
    errors = [e for e in events if isinstance(e, ToolErrorEvent)]
    assert len(errors) == 1
    assert "unexpected error (TypeError: can't compare" in errors[0].message
    assert isinstance(events[-1], TurnDone)


def test_an_unexpected_exception_in_a_preview_becomes_a_tool_error(
    tool_context: ToolContext,
) -> None:
    events = _turn(tool_context, "shelf_clear")
    errors = [e for e in events if isinstance(e, ToolErrorEvent)]
    assert len(errors) == 1
    assert "unexpected error (OverflowError: date value out of range)" in errors[0].message
    assert isinstance(events[-1], TurnDone)
    assert not events[-1].pending
