"""Tools defined once: schema from the argument model, validation on every run, approval for
changes, and connectors found through the same entry-point group a third-party package uses."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from connectors.errors import (
    ApprovalRequiredError,
    ConnectorError,
    InvalidArgumentsError,
    UnknownToolError,
)
from connectors.registry import Registry, load_registry
from connectors.tool import Arguments, Effect, ToolContext, ToolResult, Undo, tool


class ReminderArgs(Arguments):
    text: str
    """What to be reminded of, e.g. "call mum"."""
    minutes: int = Field(ge=1, le=1440)
    """In how many minutes."""
    priority: Literal["low", "high"] = "low"
    """How urgent."""


made: list[str] = []


@tool("remind_me", effect=Effect.CHANGES, arguments=ReminderArgs)
def remind_me(context: ToolContext, args: ReminderArgs) -> ToolResult:
    """Set a reminder.

    Longer explanation that is not part of the description.
    """
    made.append(args.text)
    return ToolResult({"text": args.text}, undo=Undo("forget", {"text": args.text}))


class NoArgs(Arguments):
    pass


@tool("count_reminders", effect=Effect.READS, arguments=NoArgs)
def count_reminders(context: ToolContext, args: NoArgs) -> ToolResult:
    """Count the reminders."""
    return ToolResult({"count": len(made)})


def test_definition_is_generated_from_the_argument_model() -> None:
    definition = remind_me.definition()
    assert definition["type"] == "function"
    function = definition["function"]
    assert function["name"] == "remind_me"
    assert function["description"] == "Set a reminder."
    params = function["parameters"]
    assert params["required"] == ["text", "minutes"]
    assert params["properties"]["minutes"]["minimum"] == 1
    assert params["properties"]["minutes"]["maximum"] == 1440
    assert params["properties"]["priority"]["enum"] == ["low", "high"]
    assert params["properties"]["text"]["description"] == 'What to be reminded of, e.g. "call mum".'
    assert params["additionalProperties"] is False
    assert "title" not in json.dumps(params)


def test_arguments_are_validated_with_a_message_per_field() -> None:
    registry = Registry([remind_me])
    with pytest.raises(InvalidArgumentsError) as caught:
        registry.run(
            "remind_me",
            '{"minutes": 0, "priority": "urgent", "colour": "red"}',
            ToolContext(),
            approved=True,
        )
    fields = {field for field, _ in caught.value.problems}
    assert fields == {"text", "minutes", "priority", "colour"}
    message = str(caught.value)
    assert "minutes: Input should be greater than or equal to 1" in message
    assert "colour: not a parameter of this tool" in message
    assert made == [] or "urgent" not in made


def test_malformed_json_is_a_clear_error() -> None:
    registry = Registry([remind_me])
    with pytest.raises(InvalidArgumentsError, match="not valid JSON"):
        registry.run("remind_me", '{"text": "x", ', ToolContext(), approved=True)
    with pytest.raises(InvalidArgumentsError, match="expected a JSON object"):
        registry.run("remind_me", "[1, 2]", ToolContext(), approved=True)


def test_changes_need_approval_and_reads_do_not() -> None:
    registry = Registry([remind_me, count_reminders])
    before = len(made)
    with pytest.raises(ApprovalRequiredError, match="needs your approval"):
        registry.run("remind_me", {"text": "water plants", "minutes": 5}, ToolContext())
    assert len(made) == before
    assert registry.run("count_reminders", {}, ToolContext()).data == {"count": before}
    result = registry.run(
        "remind_me", {"text": "water plants", "minutes": 5}, ToolContext(), approved=True
    )
    assert result.undo == Undo("forget", {"text": "water plants"})
    assert made[-1] == "water plants"


def test_unknown_tool_lists_the_tools() -> None:
    registry = Registry([remind_me, count_reminders])
    with pytest.raises(UnknownToolError, match="count_reminders, remind_me"):
        registry.run("delete_everything", {}, ToolContext(), approved=True)


def test_duplicate_or_invalid_names_are_refused() -> None:
    registry = Registry([remind_me])
    with pytest.raises(ValueError, match="two tools"):
        registry.add(remind_me)
    bad = remind_me.__class__(**{**remind_me.__dict__, "name": "Remind Me"})
    with pytest.raises(ValueError, match="must match"):
        registry.add(bad)


def _install_plugin(root: Path, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A third-party distribution on sys.path with an entry point in our group."""
    (root / "thirdparty_weather.py").write_text(textwrap.dedent(body))
    info = root / "thirdparty_weather-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: thirdparty-weather\nVersion: 1.0\n"
    )
    (info / "entry_points.txt").write_text(
        "[callmemaybe.connectors]\nweather = thirdparty_weather:register\n"
    )
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delitem(sys.modules, "thirdparty_weather", raising=False)


def test_a_third_party_connector_registers_through_the_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(
        tmp_path,
        """
        from connectors.tool import Arguments, Effect, ToolResult, tool

        class Where(Arguments):
            city: str
            '''The city, e.g. "Lyon".'''

        @tool("weather_today", effect=Effect.READS, arguments=Where)
        def weather_today(context, args):
            '''Today's weather in a city.'''
            return ToolResult({"city": args.city, "sky": "clear"})

        def register(registry):
            registry.add(weather_today)
        """,
        monkeypatch,
    )
    registry = load_registry()
    names = [t.name for t in registry.tools()]
    assert "weather_today" in names
    result = registry.run("weather_today", {"city": "Lyon"}, ToolContext())
    assert result.data == {"city": "Lyon", "sky": "clear"}


def test_a_broken_connector_is_named_in_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _install_plugin(tmp_path, "def register(registry):\n    raise KeyError('boom')\n", monkeypatch)
    with pytest.raises(ConnectorError, match=r"'weather'.*failed to load"):
        load_registry()
