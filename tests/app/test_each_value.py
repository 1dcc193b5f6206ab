""" "How many stores in each city": a call for each city the other calls name."""

from __future__ import annotations

from app.each_value import with_call_for_each, with_call_per_number
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


(VOLUME, MASS) = parse_tools(
    [
        {
            "name": name,
            "parameters": {
                "type": "object",
                "properties": {
                    "radius": {"type": "number"},
                    "height": {"type": "number"},
                    **extra,
                },
                "required": ["radius", "height"],
            },
        }
        for name, extra in (
            ("cone_volume", {}),
            ("cone_mass", {"density": {"type": "number"}}),
        )
    ]
)
CONES = {VOLUME.name: VOLUME, MASS.name: MASS}


def _cone(name: str, **more: float) -> ToolCall:
    return ToolCall(name=name, arguments={"radius": 10, "height": 30, **more})


def test_each_density_the_user_gave_gets_its_mass() -> None:
    request = (
        "The first material has a density of 5.2 g/cm^3 and the second material has a"
        " density of 7.8 g/cm^3. Two cones of radius 10 cm and height 30 cm: the volume of"
        " each, and the mass of each cone using their respective densities."
    )
    calls = [_cone("cone_volume"), _cone("cone_mass", density=7.8)]
    assert with_call_per_number(calls, CONES, request) == [*calls, _cone("cone_mass", density=5.2)]
    # one density written: nothing to add
    one = "A density of 7.8 g/cm^3, a cone of radius 10 and height 30: its volume and mass."
    assert with_call_per_number(calls, CONES, one) == calls
