""" "95% confidence interval": the percentage fills the parameter its word names."""

from __future__ import annotations

from app.named_percents import with_named_percents
from backends.generation import ToolCall
from backends.schema import parse_tools


def _interval(level: dict[str, object]) -> dict[str, object]:
    (tool,) = parse_tools(
        [
            {
                "name": "confidence_interval",
                "parameters": {
                    "type": "object",
                    "properties": {"sample_size": {"type": "integer"}, "confidence_level": level},
                    "required": ["sample_size"],
                },
            }
        ]
    )
    return {tool.name: tool}


def _call(**arguments: object) -> ToolCall:
    return ToolCall(name="confidence_interval", arguments=dict(arguments))


REQUEST = "A 95% confidence interval for a sample size of 50, and the same for 150"


def test_the_percentage_before_the_parameters_word_is_its_value() -> None:
    by_name = _interval({"type": "number", "description": "The level. Default is 0.9."})
    calls = [_call(sample_size=50), _call(sample_size=150)]
    assert with_named_percents(calls, by_name, REQUEST) == [
        _call(sample_size=50, confidence_level=0.95),
        _call(sample_size=150, confidence_level=0.95),
    ]
    # a description in percent takes the number as written
    in_percent = _interval({"type": "number", "description": "The level in percent."})
    assert with_named_percents(calls, in_percent, REQUEST)[0].arguments["confidence_level"] == 95


def test_a_percentage_of_something_else_or_a_given_value_stays() -> None:
    by_name = _interval({"type": "number", "description": "The level."})
    calls = [_call(sample_size=50)]
    # "95% of the samples" names no parameter
    other = "A confidence interval where 95% of the samples fall, for a sample size of 50"
    assert with_named_percents(calls, by_name, other) == calls
    # the model's own value is kept
    given = [_call(sample_size=50, confidence_level=0.99)]
    assert with_named_percents(given, by_name, REQUEST) == given
