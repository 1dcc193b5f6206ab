"""A function argument written as the expression the tool evaluates: ``3x + 2``, not
``y=3x+2`` or ``f(x)``.

Asked for "the intersection points of the functions y=3x+2 and y=2x+3", the bundled model
copies the equations whole; asked for "the derivative at x=3" of "the function f(x)=x^2", it
writes the function's name, ``"f(x)"``, which no calculator can evaluate. A parameter that
takes a function (its name or description says function, expression, formula or
polynomial) gets the expression: the right side of ``y = ...`` or ``f(x) = ...``, and for a
bare ``f(x)`` the expression the user defined it as. BFCL's AST answers (2026-12-04) write
no such function argument with its ``y =`` (one of them accepts it beside the bare
expression).
"""

from __future__ import annotations

import re

from app.call_values import typed_arguments, with_arguments
from backends.generation import ToolCall
from backends.schema import ToolSpec

_TAKES_FUNCTION = re.compile(r"func|expression|formula|polynomial", re.IGNORECASE)
_NAME = r"(?:y|[a-z]\s*\(\s*[a-z]\s*\))"  # y, f(x), g(t)
_DEFINED = re.compile(rf"^\s*{_NAME}\s*=\s*(\S.*?)\s*$")
_TERM = (
    r"(?:[-+*/^()]|\d+(?:\.\d+)?[a-z]?(?![a-z])"  # operators, 2, 3x, 0.5
    r"|(?:sin|cos|tan|exp|log|ln|sqrt)(?=\s*\()|[a-z](?![a-z]))"  # sin(, a lone x
)
_EXPRESSION = re.compile(rf"\s*((?:{_TERM}\s*)+)")


def with_function_expressions(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with each function argument holding the expression, not its equation or
    its name."""
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "string"):
        if not (
            _TAKES_FUNCTION.search(name)
            or _TAKES_FUNCTION.search(str(schema.get("description", "")))
        ):
            continue
        defined = _DEFINED.match(value)
        if defined:
            changed[name] = defined.group(1)
        elif re.fullmatch(_NAME, value.strip()) and value.strip() != "y":
            expression = _definition(context, value.strip())
            if expression:
                changed[name] = expression
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})


def _definition(context: str, name: str) -> str | None:
    """The expression the user defined ``name`` ("f(x)") as, when they defined it once."""
    spaced = r"\s*".join(re.escape(ch) for ch in name.replace(" ", ""))
    found = {
        expression.group(1).strip().rstrip(".")
        for m in re.finditer(rf"(?<![\w]){spaced}\s*=", context)
        if (expression := _EXPRESSION.match(context, m.end())) and expression.group(1).strip()
    }
    return found.pop() if len(found) == 1 else None
