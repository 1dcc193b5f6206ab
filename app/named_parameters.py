"""The tool whose parameters the user named: "given distance is 8 meters and current is 12
Amperes".

Offered Ampère's law (``enclosed_current``, ``radius``) and the Biot-Savart law
(``current``, ``distance``) for "the strength of magnetic field given distance is 8 meters
and current is 12 Amperes", the bundled model calls Ampère's law with the user's two
numbers. The user labelled each number with a parameter's name, and those are the other
tool's parameters: the call they describe is that tool's, with each number where its label
says. Only for an answer of one call whose numbers are exactly the labelled numbers, to a
tool none of whose parameters the user named, where exactly one other tool has a parameter
for every label and takes no other required one: choosing the tool whose required
parameters the request merely mentions changed 150 of BFCL's answers. Over BFCL's AST
answers (2026-12-04) this changes none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from app.call_values import is_number
from app.request_words import name_words
from backends.generation import ToolCall
from backends.output import validate_arguments
from backends.schema import ToolSpec

# "distance is 8", "a length of 5", "x = 3": up to three words, then the number.
_LABELLED = re.compile(
    r"\b((?:[a-z_]+\s+){0,2}[a-z_]+)\s+(?:is|of|=|:|equals)\s+(-?\d+(?:\.\d+)?)(?![\d.])",
    re.IGNORECASE,
)


def with_tool_of_named_numbers(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, a single call of the user's labelled numbers made to the one other tool
    whose parameters the labels name."""
    if len(calls) != 1 or calls[0].name not in by_name:
        return list(calls)
    call = calls[0]
    labels = {
        tuple(m.group(1).lower().split()): float(m.group(2)) for m in _LABELLED.finditer(request)
    }
    numbers = sorted(float(v) for v in call.arguments.values() if is_number(v))
    if not labels or numbers != sorted(labels.values()):
        return list(calls)
    if _labelled(by_name[call.name], labels):
        return list(calls)
    named = []
    for tool in by_name.values():
        arguments = _labelled(tool, labels)
        required = tool.parameters.get("required") or []
        if (
            tool.name != call.name
            and len(arguments) == len(labels)
            and all(name in arguments for name in required)
            and not validate_arguments(tool, arguments)
        ):
            named.append(ToolCall(name=tool.name, arguments=arguments))
    return named if len(named) == 1 else list(calls)


def _labelled(tool: ToolSpec, labels: Mapping[tuple[str, ...], float]) -> dict[str, object]:
    """The arguments of ``tool`` that ``labels`` name (a label ending with a parameter's
    words), each with its number as the parameter's type takes it."""
    properties = tool.parameters.get("properties") or {}
    arguments: dict[str, object] = {}
    for name, schema in properties.items():
        words = name_words(name)
        for label, number in labels.items():
            if len(words) <= len(label) and list(label[-len(words) :]) == words:
                whole = isinstance(schema, dict) and schema.get("type") == "integer"
                arguments[name] = int(number) if whole and number.is_integer() else number
    return arguments
