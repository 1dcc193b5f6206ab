"""A tool described by a JSON Schema that arrived from elsewhere (an MCP server)."""

from __future__ import annotations

import pytest

from connectors.errors import ApprovalRequiredError, InvalidArgumentsError
from connectors.registry import Registry
from connectors.schema_tool import JsonArguments, SchemaTool
from connectors.tool import Effect, ToolContext, ToolResult

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "lookupArguments",
    "type": "object",
    "properties": {
        "city": {"type": "string", "title": "City", "description": "Which city"},
        "days": {"type": "integer", "minimum": 1, "maximum": 7, "default": 1},
    },
    "required": ["city"],
}
CALLS: list[dict] = []


def _forecast(context: ToolContext, args: JsonArguments) -> ToolResult:
    CALLS.append(args.root)
    return ToolResult({"city": args.root["city"], "sky": "clear"})


def make(name: str = "weather.forecast", schema: dict | None = None) -> SchemaTool:
    return SchemaTool(
        name=name,
        description="Forecast for a city.",
        arguments=JsonArguments,
        effect=Effect.CHANGES,
        function=_forecast,
        schema=schema if schema is not None else SCHEMA,
    )


def test_the_model_sees_the_schema_without_titles_defaults_or_dialect() -> None:
    assert make().parameters() == {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "Which city"},
            "days": {"type": "integer", "minimum": 1, "maximum": 7},
        },
        "required": ["city"],
    }


def test_arguments_are_checked_against_the_schema_before_anything_runs() -> None:
    CALLS.clear()
    registry = Registry([make()])
    with pytest.raises(InvalidArgumentsError) as caught:
        registry.run("weather.forecast", {"days": 9}, ToolContext(), approved=True)
    assert ("days", "9 is greater than the maximum of 7") in caught.value.problems
    assert ("", "'city' is a required property") in caught.value.problems
    with pytest.raises(InvalidArgumentsError, match="not valid JSON"):
        registry.run("weather.forecast", "{city:", ToolContext(), approved=True)
    assert CALLS == []


def test_it_runs_through_the_registry_like_any_tool_and_needs_approval() -> None:
    CALLS.clear()
    registry = Registry([make()])
    with pytest.raises(ApprovalRequiredError):
        registry.run("weather.forecast", {"city": "Lyon"}, ToolContext())
    result = registry.run("weather.forecast", '{"city": "Lyon"}', ToolContext(), approved=True)
    assert result.data == {"city": "Lyon", "sky": "clear"}
    assert CALLS == [{"city": "Lyon"}]
    # What the action queue stores for it: the object itself.
    assert make().validate({"city": "Lyon"}).model_dump(mode="json", exclude_unset=True) == {
        "city": "Lyon"
    }


def test_a_schema_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid"):
        make(schema={"type": "object", "properties": {"x": {"type": "colour"}}})
    with pytest.raises(ValueError, match="must describe an object"):
        make(schema={"type": "string"})


def test_server_tool_names_are_accepted_and_others_still_refused() -> None:
    registry = Registry([make("time.get-current_Time")])
    assert registry.get("time.get-current_Time").name == "time.get-current_Time"
    for bad in ("Time.now", "time.", "time.now.later", ".now", "time.no w"):
        with pytest.raises(ValueError, match="must match"):
            registry.add(make(bad))


def test_a_removed_tool_is_gone_and_the_version_counts_changes() -> None:
    registry = Registry([make()])
    before = registry.version
    registry.remove("weather.forecast")
    registry.remove("weather.forecast")  # already gone: nothing happens
    assert registry.tools() == [] and registry.version == before + 1
