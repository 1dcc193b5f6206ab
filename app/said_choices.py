"""A choice the user named with the parameter's own word: "using the reduced method".

"... the least common multiple of 15 and 25 using the standard method. And finally, could
you find the least common multiple of 21 and 14 using the reduced method?": the bundled
model left ``method`` out of both calls, and the second ran with the tool's default. The
user wrote each choice right before the parameter's name ("reduced method" for ``method``,
"binary algorithm" for ``algorithm``), which names the parameter as plainly as "method:
reduced". So where every call of a tool leaves a text parameter with choices (its ``enum``,
or two or more values its description quotes) out, and the request writes a choice followed
by a word of the parameter's name ("all the roots" for ``root_type``) once per call, the
calls take the choices in the order
written: each after the values that start its call and before the next call's.

A choice written without the parameter's word is no choice made ("my house" gave
``genre: "House"`` when that was tried: 9 right answers of BFCL turned wrong). Over BFCL's
AST answers (2026-12-04) this rule changes five answers, all still right.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.call_lists import quoted_examples
from app.call_values import with_arguments
from app.request_words import WORD, content_words, same_stem, word_places
from backends.generation import ToolCall
from backends.schema import ToolSpec

_ARTICLES = frozenset({"the", "a", "an"})


def with_said_choices(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, those of a tool that all left a choice out taking the choices the user
    named with the parameter's word, one per call in the order written."""
    out = list(calls)
    for name in dict.fromkeys(c.name for c in calls):
        tool = by_name.get(name)
        if tool is None:
            continue
        group = [i for i, c in enumerate(calls) if c.name == name]
        properties = tool.parameters.get("properties") or {}
        for key, schema in properties.items():
            if not isinstance(schema, dict) or schema.get("type") != "string":
                continue
            if any(key in calls[i].arguments for i in group):
                continue
            said = _said(request, _choices(schema), content_words(key))
            starts = [_start(calls[i], request) for i in group]
            if len(said) != len(group) or None in starts:
                continue
            order = sorted(zip(starts, group, strict=True))
            bounds = [start for start, _ in order[1:]] + [len(request)]
            if len(group) > 1 and not all(
                start <= place < bound
                for (start, _), (place, _), bound in zip(order, said, bounds, strict=True)
            ):
                continue  # the choices do not follow their calls' values
            for (_, index), (_, choice) in zip(order, said, strict=True):
                out[index] = with_arguments(out[index], tool, {**out[index].arguments, key: choice})
    return out


def _choices(schema: dict[str, object]) -> list[str]:
    enum = schema.get("enum")
    if isinstance(enum, list):
        return [c for c in enum if isinstance(c, str)]
    return quoted_examples(schema)


def _said(request: str, choices: list[str], names: set[str]) -> list[tuple[int, str]]:
    """Where the request writes a choice followed by a word of the parameter's name."""
    found = []
    for choice in choices:
        for place in word_places(request, choice):
            after = [w for w in WORD.findall(request[place + len(choice) :].lower())[:2]]
            if after and after[0] in _ARTICLES:
                after = after[1:]  # "all the roots"
            if after and any(same_stem(after[0], n) for n in names):
                found.append((place, choice))
    return sorted(found)


def _start(call: ToolCall, request: str) -> int | None:
    """Where the first of the call's values that the request writes stands."""
    places = []
    for value in call.arguments.values():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        places += word_places(request, str(value))[:1]
    return min(places) if places else None
