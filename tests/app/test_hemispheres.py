"""Coordinates written west or south are negative; other numbers keep their sign."""

from __future__ import annotations

from app.hemispheres import with_hemisphere_signs
from backends.generation import ToolCall
from backends.schema import parse_tools

FORECAST, DISTANCE = parse_tools(
    [
        {
            "name": "forecast",
            "parameters": {
                "type": "object",
                "properties": {
                    "latitude": {"type": "number"},
                    "longitude": {"type": "number"},
                    "days": {"type": "integer"},
                },
                "required": ["latitude", "longitude"],
            },
        },
        {
            "name": "distance",
            "parameters": {
                "type": "object",
                "properties": {
                    "coord1": {"type": "array", "items": {"type": "number"}},
                    "coord2": {"type": "array", "items": {"type": "number"}},
                },
                "required": ["coord1", "coord2"],
            },
        },
    ]
)


def test_west_and_south_are_negative() -> None:
    request = "The forecast for 10 days at 37.8651 N, 119.5383 W, please"
    call = ToolCall(
        name="forecast", arguments={"latitude": 37.8651, "longitude": 119.5383, "days": 10}
    )
    assert with_hemisphere_signs(call, FORECAST, request).arguments == {
        "latitude": 37.8651,
        "longitude": -119.5383,
        "days": 10,
    }
    south = "Sydney is at 33.8688° S, 151.2093° E"
    call = ToolCall(name="forecast", arguments={"latitude": 33.8688, "longitude": 151.2093})
    assert with_hemisphere_signs(call, FORECAST, south).arguments == {
        "latitude": -33.8688,
        "longitude": 151.2093,
    }


def test_coordinate_lists_and_signed_values() -> None:
    request = "Distance between (33.4484 N, 112.0740 W) and (34.0522 N, 118.2437 W)"
    call = ToolCall(
        name="distance", arguments={"coord1": [33.4484, 112.074], "coord2": [34.0522, -118.2437]}
    )
    assert with_hemisphere_signs(call, DISTANCE, request).arguments == {
        "coord1": [33.4484, -112.074],
        "coord2": [34.0522, -118.2437],  # already negative: stays
    }
    # no hemisphere letters: the user's signs stand
    plain = ToolCall(name="forecast", arguments={"latitude": 40.7, "longitude": 74.0})
    assert with_hemisphere_signs(plain, FORECAST, "at 40.7, 74.0") == plain
