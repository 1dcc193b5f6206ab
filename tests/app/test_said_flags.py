""" "using current exchange rate": a flag is on where the user asked for what it does."""

from __future__ import annotations

import pytest

from app.said_flags import with_said_flags
from backends.generation import ToolCall
from backends.schema import parse_tools

(CONVERT,) = parse_tools(
    [
        {
            "name": "currency_exchange.convert",
            "parameters": {
                "type": "object",
                "properties": {
                    "amount": {"type": "integer"},
                    "live_conversion": {
                        "type": "boolean",
                        "description": "If true, use the latest exchange rate for conversion, "
                        "else use the last known rate. Default false",
                    },
                },
                "required": ["amount"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "on"),
    [
        ("Convert 200 euros to US dollars using current exchange rate.", True),
        ("Convert 200 euros to dollars; use today's exchange rate", True),
        ("Convert 200 euros to US dollars.", False),
        # the rate is mentioned, but not as what to use
        ("What is the exchange rate? Convert 200 euros to dollars", False),
        # "us" is no form of "use"
        ("Tell us the exchange rate for 200 euros", False),
    ],
)
def test_a_flag_is_on_where_the_user_asked_for_its_action(request_text: str, on: bool) -> None:
    call = ToolCall(name=CONVERT.name, arguments={"amount": 200})
    flagged = with_said_flags(call, CONVERT, request_text)
    assert flagged.arguments.get("live_conversion") is (True if on else None)


def test_a_flag_the_model_set_stays_as_it_is() -> None:
    call = ToolCall(name=CONVERT.name, arguments={"amount": 200, "live_conversion": False})
    assert with_said_flags(call, CONVERT, "Convert 200 euros using current exchange rate") == call
