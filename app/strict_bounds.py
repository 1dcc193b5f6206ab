"""A strict bound on a count: "less than 5 ingredients" is at most 4.

Asked for "a recipe for apple pie using less than 5 ingredients", the bundled model sends
``ingredientLimit: 5`` to a parameter described as the "Max number of ingredients the
recipe should use": a recipe with five ingredients, which the user ruled out. A count is a
whole number, so a strict bound on it is the inclusive bound one step inside: "less than 5"
or "fewer than 5" is a maximum of 4, "more than 5 players" a minimum of 6. Only where the
parameter is an integer described as the maximum (or minimum) number or count of the very
thing the user counted ("5 ingredients" for "number of ingredients"): a maximum of calories
or minutes is a measure, where "under 500 calories" means 500 (BFCL's answers keep it), and
"under"/"over" a count say the same as "less"/"more" only for a minimum ("over 5 players").
Over BFCL's AST answers (2026-12-04) this changes none.
"""

from __future__ import annotations

import re

from app.call_values import typed_arguments, with_arguments
from app.request_words import same_stem
from backends.generation import ToolCall
from backends.schema import ToolSpec

# "less than 5 ingredients": the bound's words, its number and the word it counts.
_BOUND = re.compile(r"\b(less|fewer|more|over)\s+(?:than\s+)?(\d+)\s+([a-z]+)", re.IGNORECASE)
# "Max number of ingredients", "The minimum player count".
_COUNTED = re.compile(
    r"\b(max|maximum|min|minimum)\s+(?:number\s+of\s+([a-z]+)|([a-z]+)\s+count)\b", re.IGNORECASE
)
_BELOW = {"less", "fewer"}  # bound a maximum (with "than"); "more"/"over" bound a minimum


def with_strict_bounds(call: ToolCall, tool: ToolSpec, request: str) -> ToolCall:
    """``call`` with a count the user bounded strictly ("less than 5 ingredients") moved
    one step inside, where its parameter is the inclusive maximum or minimum of that
    count."""
    bounds = [
        (m.group(1).lower(), "than" in m.group(0).lower(), int(m.group(2)), m.group(3).lower())
        for m in _BOUND.finditer(request)
    ]
    if not bounds:
        return call
    changed: dict[str, object] = {}
    for name, value, schema in typed_arguments(call, tool, "integer"):
        described = _COUNTED.search(str(schema.get("description", "")))
        if described is None:
            continue
        counted = (described.group(2) or described.group(3)).lower()
        is_maximum = described.group(1).lower().startswith("max")
        steps = {
            -1 if word in _BELOW else 1
            for word, with_than, number, noun in bounds
            if number == value
            and same_stem(noun, counted)
            and (word in _BELOW and with_than if is_maximum else word not in _BELOW)
        }
        if len(steps) == 1:
            changed[name] = value + steps.pop()
    return with_arguments(call, tool, {**call.arguments, **changed}) if changed else call
