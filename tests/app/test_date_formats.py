"""A date is written in the format the tool's description states, and only a plain date."""

from __future__ import annotations

import pytest

from app.date_formats import (
    described_date_format,
    with_24_hour_times,
    with_described_dates,
    with_said_days,
)
from backends.generation import ToolCall
from backends.schema import ToolSpec, parse_tools


def _tool(description: str) -> ToolSpec:
    (tool,) = parse_tools(
        [
            {
                "name": "uv_index",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "location": {"type": "string"},
                        "date": {"type": "string", "description": description},
                    },
                    "required": ["location", "date"],
                },
            }
        ]
    )
    return tool


@pytest.mark.parametrize(
    ("description", "written", "expected"),
    [
        ("The date, in the format mm-dd-yyyy.", "2023-06-01", "06-01-2023"),
        ("The date, formatted as 'DD/MM/YYYY'.", "June 1, 2023", "01/06/2023"),
        ("The date in the format 'YYYY-MM-DD'.", "2023/6/1", "2023-06-01"),
        # month and day could be either way round: left as the model wrote it
        ("The date, in the format mm-dd-yyyy.", "01/06/2023", "01/06/2023"),
        # a datetime or a range format is not a plain date
        ("Start, formatted as 'YYYY-MM-DD HH:mm:ss'.", "2024-03-19", "2024-03-19"),
        ("Range, formatted as 'YYYY-MM-DD to YYYY-MM-DD'.", "2023-10-01", "2023-10-01"),
        # no format stated
        ("The date of the forecast.", "2023-06-01", "2023-06-01"),
        # not a date at all
        ("The date, in the format mm-dd-yyyy.", "2023-13-45", "2023-13-45"),
    ],
)
def test_date_written_as_described(description: str, written: str, expected: str) -> None:
    call = ToolCall(name="uv_index", arguments={"location": "Tokyo", "date": written})
    mended = with_described_dates(call, _tool(description))
    assert mended.arguments == {"location": "Tokyo", "date": expected}


def test_a_format_needs_year_month_and_day_once_each() -> None:
    assert described_date_format("Use MM-DD-MM here.") is None
    assert described_date_format("in yyyy.mm.dd form") == "%Y.%m.%d"


@pytest.mark.parametrize(
    ("request_text", "description", "written", "expected"),
    [
        # a made-up day for the user's "next Friday": the user's words
        (
            "UV index in Tokyo next Friday?",
            "The date of the forecast.",
            "2023-05-15",
            "next Friday",
        ),
        ("UV index in Tokyo tomorrow?", "The date of the forecast.", "May 15, 2023", "tomorrow"),
        # a stated format: the date stays a date
        ("UV index in Tokyo next Friday?", "The date, as YYYY-MM-DD.", "2023-05-15", "2023-05-15"),
        # the user wrote a date too: the model's may be it
        ("UV index in Tokyo on June 2 and next Friday", "The date.", "2023-06-02", "2023-06-02"),
        # two days said: which one is not plain
        ("UV index in Tokyo today and tomorrow", "The date.", "2023-06-02", "2023-06-02"),
        # no day said at all
        ("UV index in Tokyo", "The date.", "2023-06-02", "2023-06-02"),
    ],
)
def test_a_made_up_date_for_a_said_day_is_the_users_words(
    request_text: str, description: str, written: str, expected: str
) -> None:
    call = ToolCall(name="uv_index", arguments={"location": "Tokyo", "date": written})
    mended = with_said_days(call, _tool(description), request_text)
    assert mended.arguments == {"location": "Tokyo", "date": expected}


def test_an_afternoon_hour_is_given_on_the_24_hour_clock_asked_for() -> None:
    (restaurant,) = parse_tools(
        [
            {
                "name": "vegan_restaurant",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "operating_hours": {
                            "type": "integer",
                            "description": "Latest closing time. This is in 24 hour format.",
                        },
                        "seats": {"type": "integer"},
                    },
                    "required": ["operating_hours"],
                },
            }
        ]
    )
    call = ToolCall(name="vegan_restaurant", arguments={"operating_hours": 11, "seats": 11})
    request = "A vegan restaurant open until at least 11 PM with 11 seats"
    assert with_24_hour_times(call, restaurant, request).arguments == {
        "operating_hours": 23,
        "seats": 11,  # no clock asked for
    }
    morning = "A vegan restaurant open until at least 11 AM with 11 seats"
    assert with_24_hour_times(call, restaurant, morning) == call
