""" "How many stores in each city": a call for each city the other calls name."""

from __future__ import annotations

from app.each_value import with_call_for_each
from backends.generation import ToolCall
from backends.schema import parse_tools

TOOLS = parse_tools(
    [
        {
            "name": name,
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "product": {"type": "string"}},
                "required": ["city", "product"],
            },
        }
        for name in ("lowest_price", "average_price", "store_count")
    ]
)
BY_NAME = {tool.name: tool for tool in TOOLS}


def _call(name: str, city: str) -> ToolCall:
    return ToolCall(name=name, arguments={"city": city, "product": "Yamaha Acoustic Guitar"})


CALLS = [
    _call("lowest_price", "Austin"),
    _call("average_price", "New York"),
    _call("store_count", "New York"),
]


def test_each_city_asks_the_store_count_of_both_cities() -> None:
    request = (
        "Find me the lowest price for a Yamaha Acoustic Guitar in Austin and compare it to"
        " the average price in New York. Also tell me how many stores carry it in each city."
    )
    assert with_call_for_each(CALLS, BY_NAME, request) == [*CALLS, _call("store_count", "Austin")]


def test_without_each_or_naming_another_tool_nothing_is_added() -> None:
    plain = "The lowest price in Austin, the average price in New York, the stores in New York."
    assert with_call_for_each(CALLS, BY_NAME, plain) == CALLS
    # "each city" in a sentence that asks no tool for anything
    trip = f"{plain} I fly to each city in May."
    assert with_call_for_each(CALLS, BY_NAME, trip) == CALLS
