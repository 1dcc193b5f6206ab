"""A value that copies the user's "the museum" names the museum the user named earlier."""

from __future__ import annotations

from app.back_references import with_named_referents
from backends.generation import ToolCall
from backends.schema import parse_tools

PATH, TIMES = parse_tools(
    [
        {
            "name": "shortest_path",
            "parameters": {
                "type": "object",
                "properties": {
                    "start_location": {"type": "string"},
                    "end_location": {"type": "string"},
                },
                "required": ["start_location", "end_location"],
            },
        },
        {
            "name": "route_times",
            "parameters": {
                "type": "object",
                "properties": {"route": {"type": "string"}},
                "required": ["route"],
            },
        },
    ]
)
BY_NAME = {PATH.name: PATH, TIMES.name: TIMES}
MUSEUM = "Metropolitan Museum of Art"


def _path(start: str, end: str) -> ToolCall:
    return ToolCall(name="shortest_path", arguments={"start_location": start, "end_location": end})


def _times(route: str) -> ToolCall:
    return ToolCall(name="route_times", arguments={"route": route})


def test_the_museum_is_the_museum_named_before() -> None:
    request = (
        "Find the shortest path from New York City to the Metropolitan Museum of Art. After"
        " visiting the museum, I plan to bike to Central Park: the path and how long it takes"
    )
    calls = [
        _path("New York City", MUSEUM),
        _path("Museum", "Central Park"),
        _times("Museum to Central Park"),
    ]
    assert with_named_referents(calls, BY_NAME, request) == [
        _path("New York City", MUSEUM),
        _path(MUSEUM, "Central Park"),
        _times(f"{MUSEUM} to Central Park"),
    ]


def test_a_museum_the_user_named_as_such_stays() -> None:
    calls = [_path("New York City", MUSEUM), _path("Museum", "Central Park")]
    # "Museum" is the user's own name for the place, not a reference back
    named = f"From New York City to the {MUSEUM}, then from Museum station to Central Park"
    assert with_named_referents(calls, BY_NAME, named) == calls
    # two museums named before: "the museum" could be either
    calls = [*calls, _path("Central Park", "Louvre Museum")]
    two = f"From New York City to the {MUSEUM}, then the Louvre Museum; from the museum on"
    assert with_named_referents(calls, BY_NAME, two) == calls
