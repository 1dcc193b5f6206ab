"""A function argument holds the expression, not the user's equation or the function's name."""

from __future__ import annotations

import pytest

from app.function_values import with_function_expressions
from backends.generation import ToolCall
from backends.schema import parse_tools

(DERIVATIVE,) = parse_tools(
    [
        {
            "name": "derivative",
            "parameters": {
                "type": "object",
                "properties": {
                    "function": {"type": "string", "description": "The function to derive."},
                    "x": {"type": "number"},
                    "label": {"type": "string"},
                },
                "required": ["function", "x"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "written", "expected"),
    [
        ("The slope of y=3x+2 at x=3", "y=3x+2", "3x+2"),
        ("The slope of f(x) = x^2 - 1 at x=3", "f(x) = x^2 - 1", "x^2 - 1"),
        # the function's name: the expression the user defined it as
        ("The area for f(x)=x^2. And the derivative at x=3.", "f(x)", "x^2"),
        ("Let g(t) = sin(t) + 2 and derive it at 3", "g(t)", "sin(t) + 2"),
        # an equation to solve is no definition; a name defined twice is not plain
        ("Solve 2x+3=7 at x=3", "2x+3=7", "2x+3=7"),
        ("f(x)=x^2 here, f(x)=x^3 there: derive f(x) at 3", "f(x)", "f(x)"),
    ],
)
def test_a_function_argument_holds_the_expression(
    request_text: str, written: str, expected: str
) -> None:
    call = ToolCall(name="derivative", arguments={"function": written, "x": 3})
    mended = with_function_expressions(call, DERIVATIVE, request_text)
    assert mended.arguments == {"function": expected, "x": 3}


def test_other_text_arguments_are_left_alone() -> None:
    call = ToolCall(name="derivative", arguments={"function": "x^2", "x": 3, "label": "y=2"})
    assert with_function_expressions(call, DERIVATIVE, "derive x^2 at 3, label y=2") == call
