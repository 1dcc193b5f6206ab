"""A value the user wrote for each call reaches the call the model left it out of."""

from __future__ import annotations

from app.repeated_values import with_repeated_values
from backends.generation import ToolCall
from backends.schema import parse_tools


def _farm(name: str, month: dict[str, object]) -> dict[str, object]:
    return {
        "name": name,
        "parameters": {
            "type": "object",
            "properties": {"size": {"type": "number"}, "month": month},
            "required": ["size"],
        },
    }


def _tools(month: dict[str, object]) -> dict[str, object]:
    solar, wind = parse_tools([_farm("solar_farm", month), _farm("wind_farm", month)])
    return {solar.name: solar, wind.name: wind}


REQUEST = (
    "The first project is a solar farm of 50000 square feet: its output for the month of"
    " July. The second is a wind farm of 100 turbines: its output for the month of July too."
)


def test_a_month_written_for_each_project_goes_to_each() -> None:
    by_name = _tools({"type": "string", "description": "The month."})
    calls = [
        ToolCall(name="solar_farm", arguments={"size": 50000}),
        ToolCall(name="wind_farm", arguments={"size": 100, "month": "July"}),
    ]
    assert with_repeated_values(calls, by_name, REQUEST)[0].arguments == {
        "size": 50000,
        "month": "July",
    }
    # written once: it is the wind farm's alone
    once = REQUEST.replace("for the month of July. The", "for this year. The")
    assert with_repeated_values(calls, by_name, once) == calls


def test_a_choice_written_in_passing_is_not_filled() -> None:
    """ "all roots, real or complex" writes 'real' without choosing it."""
    by_name = _tools({"type": "string", "description": "'July' for July, 'all' for a year."})
    calls = [
        ToolCall(name="solar_farm", arguments={"size": 50000}),
        ToolCall(name="wind_farm", arguments={"size": 100, "month": "July"}),
    ]
    assert with_repeated_values(calls, by_name, REQUEST) == calls
