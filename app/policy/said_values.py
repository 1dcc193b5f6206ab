"""The values a request itself gives an argument, as the only values decoding may write there.

A tool that can read a kind of value from the request says which stretches of it are such
values (``Tool.said``: the dates a request says, for the calendar, read by dateparser in the
user's language). The grammar then offers those stretches alone, so the bundled 0.5B model
copies "tomorrow at 12:30" instead of writing a date of its own (it wrote "2026-12-14 12:30":
the month of an example in a description, the day of the clock line), and the tool resolves
the words against the user's clock.

An argument the request gives no value for is left out of the grammar; if the tool requires it,
the tool cannot be called yet, and the user is asked for it (:mod:`app.policy.clarify`) rather
than given an invented value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from backends.generation import ToolCall
from backends.schema import ToolSpec

Said = Mapping[str, Sequence[str | int]]


def missing(tool: ToolSpec, said: Said) -> list[str]:
    """The required arguments of ``tool`` the request gives no value for."""
    required = tool.parameters.get("required") or ()
    return [name for name in required if name in said and not said[name]]


def _enum_of(schema: Any, values: Sequence[str | int]) -> dict[str, Any]:
    """The argument's schema with its values limited to ``values`` (strings, or the numbers
    a tool reads: a free slot's length in minutes)."""
    description = schema.get("description") if isinstance(schema, dict) else None
    if all(isinstance(v, bool) for v in values):
        kind = "boolean"  # a flag the request says ("im Papierkorb": in_trash)
    elif all(isinstance(v, int) for v in values):
        kind = "integer"
    else:
        kind = "string"
    narrowed: dict[str, Any] = {"type": kind, "enum": list(dict.fromkeys(values))}
    if description:
        narrowed["description"] = description
    return narrowed


def with_said(scoped: ToolSpec, full: ToolSpec, said: Said) -> ToolSpec | None:
    """``scoped`` (the grammar's tool, maybe narrowed already) with every argument in ``said``
    limited to its values; an argument with no values is left out. The first argument of
    ``said`` (the one the request's values are for first: a listing's start) is taken back
    from ``full`` when the narrowing had left it out, as its English words missed "amanhã";
    so is an argument whose values are its own reading, none of the first's (a repetition:
    "jedes Jahr" names no English word of ``repeat``); the others stay out (offered an end
    or a last repetition, the model filled them with the start's words).
    ``None`` when a required argument has none: the tool cannot be called yet."""
    if not said:
        return scoped
    if missing(full, said):
        return None
    properties = dict(scoped.parameters.get("properties") or {})
    every = full.parameters.get("properties") or {}
    first = set(next(iter(said.values()), ()))
    for position, (name, values) in enumerate(said.items()):
        if name not in every:
            continue
        if not values:
            properties.pop(name, None)
        elif name in properties or position == 0 or first.isdisjoint(values):
            properties[name] = _enum_of(every[name], values)
    # In the schema's order: an argument taken back went last, and the grammar keeps the
    # order, so the bundled model, which writes a slot's length first, closed the call empty
    # ("uma reunião de uma hora" on "terça": ``{}``).
    ordered = {name: properties[name] for name in every if name in properties}
    ordered.update((name, schema) for name, schema in properties.items() if name not in ordered)
    least = scoped.parameters.get("minProperties")
    if isinstance(least, int) and len(ordered) < least:
        return None  # "What's 17 times 23?": an update with nothing to change cannot be called
    return dataclasses.replace(scoped, parameters={**scoped.parameters, "properties": ordered})


def one_each(calls: Sequence[ToolCall], said: Mapping[str, Said]) -> tuple[ToolCall, ...]:
    """Calls of one tool that share a value the request said, while another it said for that
    argument goes unused, get one each, in the order the request says them.

    "Marca cabeleireiro na sexta às 11h e jantar com a Rita no sábado às 20h": the bundled model
    made both events on Saturday at 20:00. When there are as many calls as said values, and
    two calls hold the same one, the n-th call takes the n-th value. Reads no words: the
    values are the tool's own reading of the request (``Tool.said``)."""
    mended = list(calls)
    for name in dict.fromkeys(call.name for call in calls):
        places = [i for i, call in enumerate(calls) if call.name == name]
        if len(places) < 2:
            continue
        for argument, values in said.get(name, {}).items():
            given = [mended[i].arguments.get(argument) for i in places]
            distinct = list(dict.fromkeys(values))
            if len(distinct) != len(places) or _overlapping(distinct):
                continue
            if len(set(map(str, given))) == len(given) or not all(v in distinct for v in given):
                continue
            for place, value in zip(places, distinct, strict=True):
                call = mended[place]
                arguments = {**call.arguments, argument: value}
                mended[place] = dataclasses.replace(call, arguments=arguments)
    return tuple(mended)


def _overlapping(values: Sequence[str | int]) -> bool:
    """Whether some of ``values`` are stretches of one another: one place said, offered as
    "Cafe" and "Cafe Luz", is one value to choose the length of, not two for two calls."""
    texts = [v.casefold() for v in values if isinstance(v, str)]
    return any(a != b and a in b for a in texts for b in texts)


def with_said_filled(call: ToolCall, said: Said) -> ToolCall:
    """``call`` with each argument the model left out that the request gives exactly one
    value for (a listing's start, a free slot's length).

    "¿Qué hay hoy en mi agenda?": offered only "hoy" for ``start``, the bundled model closed
    the call empty, and the listing showed the next seven days; offered only 120 for the
    length of "un créneau libre de deux heures jeudi", it searched for the default hour. Only
    for a tool that reads (the caller's choice): a change's missing value is asked for, not
    filled in."""
    filled = dict(call.arguments)
    for name, values in said.items():
        distinct = list(dict.fromkeys(values))
        # A value another argument holds is taken: "free for 30 minutes next week" offers
        # "next week" as start and end, and both read as one week's first day.
        if len(distinct) == 1 and name not in filled and distinct[0] not in filled.values():
            filled[name] = distinct[0]
    if filled == call.arguments:
        return call
    return dataclasses.replace(call, arguments=filled)
