"""A word the user wrote inside one call's value is that call's, not its neighbours'.

Asked "a Chicken Noodle Soup recipe and a Vegan Salad recipe", the bundled model gives both
recipe searches ``diet: "Vegan"``: the word is there, but as part of the salad's name. A
user asking so wants a vegan salad and a plain soup. So where calls of one tool share an
optional value and every place the user wrote it lies inside another call's own value
("Vegan" of "Vegan Salad"), the calls that do not hold that value drop it (the tool's
default stands). A value written on its own ("classical concerts in Berlin and Paris") is
everyone's and stays.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.call_values import typed_arguments, with_arguments
from app.request_words import word_places
from backends.generation import ToolCall
from backends.schema import ToolSpec


def without_borrowed_values(
    calls: Sequence[ToolCall], by_name: dict[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, each without the optional values the user wrote only inside another
    call's value."""
    out = list(calls)
    for index, call in enumerate(calls):
        tool = by_name.get(call.name)
        if tool is None:
            continue
        others = [c for c in calls if c.name == call.name and c is not call]
        if not others:
            continue
        required = set(tool.parameters.get("required") or ())
        borrowed = [
            name
            for name, value, _ in typed_arguments(call, tool, "string")
            if name not in required and _inside_others(request, value, call, others, tool)
        ]
        if borrowed:
            kept = {k: v for k, v in call.arguments.items() if k not in borrowed}
            out[index] = with_arguments(call, tool, kept)
    return out


def _inside_others(
    request: str, value: str, call: ToolCall, others: Sequence[ToolCall], tool: ToolSpec
) -> bool:
    """Whether every place ``value`` is written lies inside a longer value of another
    call and none inside one of ``call``'s own."""
    places = word_places(request, value) if value.strip() else []
    if not places:
        return False
    own = _spans(request, [call], tool, value)
    theirs = _spans(request, others, tool, value)
    return all(
        any(a <= p < b for a, b in theirs) and not any(a <= p < b for a, b in own) for p in places
    )


def _spans(
    request: str, calls: Sequence[ToolCall], tool: ToolSpec, value: str
) -> list[tuple[int, int]]:
    """Where the calls' text values longer than ``value`` are written."""
    return [
        (place, place + len(text))
        for c in calls
        for _, text, _ in typed_arguments(c, tool, "string")
        if len(text) > len(value)
        for place in word_places(request, text)
    ]
