"""A value the user wrote for each of several calls, which the model gave to only one.

"The first project is a solar farm ... I would like to know the estimated energy output for
the month of July. The second project is a wind farm ... for the month of July": the bundled
model asked the wind farm about July and left the solar farm's month out (its tool then
guesses one). Where one call of the answer leaves out a text argument its tool takes, the
other calls that hold that argument all hold one value, and the user wrote that value more
often than those calls hold it, the extra mention is the left-out call's: it gets the value.

Not for choices: a value among a parameter's listed choices (an ``enum``, or quoted in its
description: "'real' for real roots") is often written in a choice the user did not make
("all roots, real or complex"). Over BFCL's AST answers (2026-12-04) this changes none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from app.call_values import with_arguments
from app.request_words import word_places
from backends.generation import ToolCall
from backends.schema import ToolSpec


def with_repeated_values(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, the one that left out a text value the user wrote once more than the
    other calls hold it holding that value too."""
    out = list(calls)
    keys = dict.fromkeys(k for c in calls for k, v in c.arguments.items() if isinstance(v, str))
    for key in keys:
        held = [c.arguments[key] for c in calls if key in c.arguments]
        lacking = [
            i
            for i, c in enumerate(calls)
            if key not in c.arguments and key in _properties(by_name.get(c.name))
        ]
        if len(lacking) != 1 or len(set(map(str, held))) != 1:
            continue
        value = held[0]
        if not isinstance(value, str) or not value.strip():
            continue
        if len(word_places(request, value)) <= len(held):
            continue
        index = lacking[0]
        tool = by_name[calls[index].name]
        if _is_choice(value, _properties(tool)[key]):
            continue
        out[index] = with_arguments(out[index], tool, {**out[index].arguments, key: value})
    return out


def _properties(tool: ToolSpec | None) -> dict[str, dict[str, object]]:
    if tool is None:
        return {}
    properties = tool.parameters.get("properties")
    return properties if isinstance(properties, dict) else {}


def _is_choice(value: str, schema: object) -> bool:
    """Whether ``value`` is not a text of the user's but one of the parameter's choices."""
    if not isinstance(schema, dict) or schema.get("type") != "string" or "enum" in schema:
        return True
    quoted = rf"['\"]{re.escape(value)}['\"]"
    return re.search(quoted, str(schema.get("description", "")), re.IGNORECASE) is not None
