"""A currency parameter gets the ISO code of the currency the model named in words."""

from __future__ import annotations

import pytest

from app.currency_codes import code_of, names_a_currency, with_currency_codes
from backends.generation import ToolCall
from backends.schema import parse_tools

(CONVERT,) = parse_tools(
    [
        {
            "name": "currency_exchange",
            "parameters": {
                "type": "object",
                "properties": {
                    "amount": {"type": "number"},
                    "from_currency": {"type": "string"},
                    "to_currency": {"type": "string"},
                    "note": {"type": "string"},
                },
                "required": ["amount", "from_currency", "to_currency"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("euros", "EUR"),
        ("us_dollars", "USD"),
        ("US Dollar", "USD"),
        ("Japanese yen", "JPY"),
        ("yen", "JPY"),
        ("pounds", "GBP"),
        ("Canadian dollars", "CAD"),
        ("€", "EUR"),
        ("usd", "USD"),
        # names several currencies share, and what no currency is called
        ("rupee", None),
        ("bitcoin", None),
    ],
)
def test_currency_names_read_as_codes(written: str, code: str | None) -> None:
    assert code_of(written) == code


def test_only_currency_parameters_change() -> None:
    call = ToolCall(
        name="currency_exchange",
        arguments={"amount": 200, "from_currency": "euros", "to_currency": "USD", "note": "euros"},
    )
    assert with_currency_codes(call, CONVERT).arguments == {
        "amount": 200,
        "from_currency": "EUR",
        "to_currency": "USD",
        "note": "euros",
    }


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("100 euro in USD", True),
        ("5000 US dollars into Japanese Yen", True),
        ("200 British pounds", True),
        ("20 pounds of flour", False),  # a weight
        ("ALL of them, TRY it", False),  # codes that are English words
        ("invest $5000", False),  # a sum, not a currency asked about
    ],
)
def test_a_request_names_a_currency(text: str, named: bool) -> None:
    assert names_a_currency(text) is named
