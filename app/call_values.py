"""Mending values a small model copies or orders wrong, before a call runs.

Each rule acts only where what the user wrote says plainly what the value is, and leaves the
call as the model wrote it when the mended arguments would not fit the tool's schema.
"""

from __future__ import annotations

import dataclasses
import re

from backends.generation import ToolCall
from backends.output import validate_arguments
from backends.schema import ToolSpec


def with_arguments(call: ToolCall, tool: ToolSpec, arguments: dict[str, object]) -> ToolCall:
    """``call`` with ``arguments``, or ``call`` itself when they are the same or would not
    fit the tool's schema (a mended call must stay a valid one)."""
    if arguments == call.arguments or validate_arguments(tool, arguments):
        return call
    return dataclasses.replace(call, arguments=arguments)


# A phrase in quote marks, not an apostrophe ("don't ... what's" quotes nothing).
_QUOTE_MARKED = re.compile(r"(?<!\w)'([^']+)'(?!\w)|\"([^\"]+)\"")
_SENTENCE_AROUND = 3  # words around the phrase that make a value a copied sentence


def with_quoted_values(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with a value that copies the user's sentence around a quoted phrase cut down
    to the phrase.

    "Remove the 'todo random' item from my todo list": the bundled model wrote the whole
    sentence, quotes included, as the item to delete. A value that is a verbatim piece of
    what the user said and holds one of their quoted phrases, quote marks and all, among
    three or more other words is that phrase; a short value around a quote (``Meeting
    'Q3'``) and text the model composed are left alone.
    """
    changed = dict(call.arguments)
    for name, value in call.arguments.items():
        if not isinstance(value, str) or value not in context:
            continue
        quoted = list(_QUOTE_MARKED.finditer(value))
        if len(quoted) != 1:
            continue
        around = value[: quoted[0].start()] + value[quoted[0].end() :]
        if len(around.split()) >= _SENTENCE_AROUND:
            changed[name] = quoted[0].group(1) or quoted[0].group(2)
    return with_arguments(call, tool, changed)


# Argument names of the two ends of a route, a transfer or a translation.
_START_NAMES = re.compile(r"start|origin|from|source|depart", re.IGNORECASE)
_END_NAMES = re.compile(r"end|destination|^to$|^to_|_to$|arriv|dest", re.IGNORECASE)
_BETWEEN = r"(?:the\s+)?"


def _said_from_to(context: str, start: str, end: str) -> bool:
    """Whether ``context`` says "from ``start`` ... to ``end``" in one clause."""
    pattern = (
        rf"\bfrom\s+{_BETWEEN}{re.escape(start)}(?!\w)[^.;?!]{{0,40}}?"
        rf"\bto\s+{_BETWEEN}{re.escape(end)}(?!\w)"
    )
    return re.search(pattern, context, re.IGNORECASE) is not None


def with_route_order(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with the two ends of a route the right way round.

    "Traffic from Las Vegas to Los Angeles": the bundled model wrote ``start_location: "Los
    Angeles", end_location: "Las Vegas"``, a trip the other way. Where a call has one start
    argument and one end argument (by their names) and the user said "from B to A" for the
    call's A and B, never "from A to B", the two values swap.
    """
    args = call.arguments
    starts = [k for k, v in args.items() if isinstance(v, str) and _START_NAMES.search(k)]
    ends = [
        k
        for k, v in args.items()
        if isinstance(v, str) and _END_NAMES.search(k) and k not in starts
    ]
    if len(starts) != 1 or len(ends) != 1:
        return call
    start, end = args[starts[0]], args[ends[0]]
    if not start or not end or start.casefold() == end.casefold():
        return call
    if not _said_from_to(context, end, start) or _said_from_to(context, start, end):
        return call
    return with_arguments(call, tool, {**args, starts[0]: end, ends[0]: start})


# A phrase of a dozen characters or more said three times or more in a row, with or without
# spaces between: a loop the decoder ended (backends.decoding), not something to send.
_REPEATED = re.compile(r"(\S.{10,}?\S)(?:\s*\1){2,}", re.DOTALL)


def without_repeats(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with a phrase repeated three times or more in a string value written once.

    The bundled model wrote "This is a sample news article for testing purposes." over and
    over as a meta description until its budget ran out; the decoder now ends such a value
    after the third time (in the middle of the next round: "... purposes. This"), and the
    value keeps one. A repeat the user wrote stays.
    """
    changed = dict(call.arguments)
    for name, value in call.arguments.items():
        if not isinstance(value, str) or value in context:
            continue
        loop = _REPEATED.search(value)
        if loop is None:
            continue
        rest = value[loop.end() :].strip()
        if loop.group(1).startswith(rest):  # the loop was cut in its next round
            rest = ""
        changed[name] = f"{value[: loop.start()]}{loop.group(1)} {rest}".strip()
    return with_arguments(call, tool, changed)
