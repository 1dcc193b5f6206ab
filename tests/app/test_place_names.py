"""A location the user wrote with its region keeps the region; a list or a city does not."""

from __future__ import annotations

import pytest

from app.place_names import with_whole_places
from backends.generation import ToolCall
from backends.schema import parse_tools

(HOTEL,) = parse_tools(
    [
        {
            "name": "hotel_availability",
            "parameters": {
                "type": "object",
                "properties": {
                    "hotel_name": {"type": "string"},
                    "location": {"type": "string"},
                    "city": {"type": "string"},
                    "stops": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["hotel_name"],
            },
        }
    ]
)


def _call(**arguments: object) -> ToolCall:
    return ToolCall(name="hotel_availability", arguments={"hotel_name": "Queens", **arguments})


@pytest.mark.parametrize(
    ("request_text", "written", "expected"),
    [
        ("Rooms at 'Queens Hotel' in Berlin, Germany from March 10", "Berlin", "Berlin, Germany"),
        ("Rooms in Boston, USA and Rome, Italy.", "Rome", "Rome, Italy"),
        ("A room near Springfield, IL.", "Springfield", "Springfield, IL"),
        ("A room in Washington, D.C. for two", "Washington", "Washington, D.C."),
        # a list goes on after the second place: it is no region
        ("Rooms in Philadelphia, Washington D.C., and Atlanta", "Philadelphia", "Philadelphia"),
        # the sentence goes on: "I" is no region
        ("A room in New York City, I would like one with a view", "New York City", "New York City"),
        # already whole
        ("I'm at Riga, Latvia, Can you find a room?", "Riga, Latvia", "Riga, Latvia"),
        # written without a region
        ("A room in Paris for two", "Paris", "Paris"),
    ],
)
def test_a_location_keeps_the_region_the_user_wrote(
    request_text: str, written: str, expected: str
) -> None:
    (mended,) = with_whole_places([_call(location=written)], [HOTEL], request_text)
    assert mended.arguments["location"] == expected


def test_a_city_parameter_and_a_region_used_as_a_value_are_left_alone() -> None:
    request = "A room in London, UK; then a route from Berlin, Potsdam and back"
    city = _call(city="London")
    route = _call(location="Berlin", stops=["Potsdam"])
    assert with_whole_places([city, route], [HOTEL], request) == [city, route]
