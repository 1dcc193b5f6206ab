""" "using the reduced method": a left-out choice the user named with the parameter's word."""

from __future__ import annotations

from app.said_choices import with_said_choices
from backends.generation import ToolCall
from backends.schema import parse_tools

(LCM,) = parse_tools(
    [
        {
            "name": "calculate_lcm",
            "parameters": {
                "type": "object",
                "properties": {
                    "num1": {"type": "integer"},
                    "num2": {"type": "integer"},
                    "method": {
                        "type": "string",
                        "description": "The method. Supported values: 'standard', 'reduced'",
                    },
                },
                "required": ["num1", "num2"],
            },
        }
    ]
)
BY_NAME = {LCM.name: LCM}


def _lcm(num1: int, num2: int, **more: str) -> ToolCall:
    return ToolCall(name="calculate_lcm", arguments={"num1": num1, "num2": num2, **more})


def test_each_call_takes_the_choice_written_after_its_numbers() -> None:
    request = (
        "The least common multiple of 15 and 25 using the standard method, and then of 21"
        " and 14 using the reduced method."
    )
    calls = [_lcm(15, 25), _lcm(21, 14)]
    assert with_said_choices(calls, BY_NAME, request) == [
        _lcm(15, 25, method="standard"),
        _lcm(21, 14, method="reduced"),
    ]


def test_a_choice_without_the_parameters_word_or_out_of_order_stays_out() -> None:
    calls = [_lcm(15, 25), _lcm(21, 14)]
    # "reduced" is said, but not as a method
    loose = "The lcm of 15 and 25 in standard form, and of 21 and 14 reduced to lowest terms."
    assert with_said_choices(calls, BY_NAME, loose) == calls
    # both choices before the numbers: which call takes which is not written
    before = "Using the standard method and then the reduced method: lcm of 15 and 25, 21 and 14."
    assert with_said_choices(calls, BY_NAME, before) == calls


def test_an_article_may_stand_between_the_choice_and_the_parameters_word() -> None:
    (quadratic,) = parse_tools(
        [
            {
                "name": "solve_quadratic",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "a": {"type": "integer"},
                        "root_type": {
                            "type": "string",
                            "description": "'real' for real roots, 'all' for complex ones too.",
                        },
                    },
                    "required": ["a"],
                },
            }
        ]
    )
    call = ToolCall(name="solve_quadratic", arguments={"a": 3})
    request = "Find all the roots of a quadratic equation given coefficients a = 3."
    assert with_said_choices([call], {quadratic.name: quadratic}, request)[0].arguments == {
        "a": 3,
        "root_type": "all",
    }
