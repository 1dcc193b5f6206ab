""" "given distance is 8 meters and current is 12 Amperes": the call goes to the tool whose
parameters the user named."""

from __future__ import annotations

from app.named_parameters import with_tool_of_named_numbers
from backends.generation import ToolCall
from backends.schema import parse_tools


def _law(name: str, properties: dict[str, str]) -> dict[str, object]:
    return {
        "name": name,
        "description": "Calculate magnetic field strength.",
        "parameters": {
            "type": "object",
            "properties": {
                **{p: {"type": kind} for p, kind in properties.items()},
                "mu0": {"type": "float", "description": "Permeability of free space. Optional"},
            },
            "required": list(properties),
        },
    }


TOOLS = {
    tool.name: tool
    for tool in parse_tools(
        [
            _law("ampere_law", {"enclosed_current": "float", "radius": "float"}),
            _law("biot_savart_law", {"current": "integer", "distance": "integer"}),
        ]
    )
}
REQUEST = (
    "Calculate the strength of magnetic field given distance is 8 meters and current is 12 Amperes?"
)


def test_the_call_goes_to_the_tool_whose_parameters_the_user_named() -> None:
    calls = [ToolCall(name="ampere_law", arguments={"enclosed_current": 12, "radius": 8})]
    assert with_tool_of_named_numbers(calls, TOOLS, REQUEST) == [
        ToolCall(name="biot_savart_law", arguments={"current": 12, "distance": 8})
    ]


def test_a_call_to_a_tool_the_user_named_a_parameter_of_stays() -> None:
    calls = [ToolCall(name="biot_savart_law", arguments={"current": 12, "distance": 8})]
    assert with_tool_of_named_numbers(calls, TOOLS, REQUEST) == calls
    # "the radius is 8": the user named the chosen tool's own parameter
    asked = "The magnetic field where the radius is 8 meters and current is 12 Amperes"
    ampere = [ToolCall(name="ampere_law", arguments={"enclosed_current": 12, "radius": 8})]
    assert with_tool_of_named_numbers(ampere, TOOLS, asked) == ampere


def test_other_numbers_or_several_calls_stay() -> None:
    # the call holds a number the labels do not give
    other = [ToolCall(name="ampere_law", arguments={"enclosed_current": 12, "radius": 3})]
    assert with_tool_of_named_numbers(other, TOOLS, REQUEST) == other
    # an answer of several calls is a request of several parts
    two = [*other, ToolCall(name="ampere_law", arguments={"enclosed_current": 1, "radius": 8})]
    assert with_tool_of_named_numbers(two, TOOLS, REQUEST) == two
    # labels no other tool has every parameter for
    unnamed = "The magnetic field at a distance of 8 meters where a wire of 12 Amperes runs"
    asked = [ToolCall(name="ampere_law", arguments={"enclosed_current": 12, "radius": 8})]
    assert with_tool_of_named_numbers(asked, TOOLS, unnamed) == asked
