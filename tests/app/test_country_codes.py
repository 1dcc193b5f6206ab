"""A parameter asking for a country code gets the code of the country the model named."""

from __future__ import annotations

import pytest

from app.country_codes import with_country_codes
from backends.generation import ToolCall
from backends.schema import parse_tools

(WEATHER,) = parse_tools(
    [
        {
            "name": "weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "country": {
                        "type": "string",
                        "description": "e.g. 'US'. Use ISO 3166-1 alpha-2 country codes.",
                    },
                    "region": {"type": "string", "description": "The country or region."},
                },
                "required": ["city"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("written", "expected"),
    [("UK", "GB"), ("United Kingdom", "GB"), ("Germany", "DE"), ("usa", "US"), ("FR", "FR")],
)
def test_a_country_is_written_as_its_code(written: str, expected: str) -> None:
    call = ToolCall(name="weather", arguments={"city": "London", "country": written})
    assert with_country_codes(call, WEATHER).arguments["country"] == expected


def test_a_parameter_not_asking_for_a_code_keeps_the_name() -> None:
    call = ToolCall(name="weather", arguments={"city": "London", "region": "United Kingdom"})
    assert with_country_codes(call, WEATHER) == call
