"""Coordinates the user wrote west or south ("119.5383 W") are negative numbers.

Asked for the forecast "at the coordinates 37.8651 N, 119.5383 W", the bundled model wrote
``longitude: 119.5383``: a point in China instead of Yosemite. Decimal degrees put the
western and southern hemispheres below zero, which is how every coordinate parameter reads
them (BFCL's answers agree in all three requests that write a hemisphere letter). So a
coordinate value (an argument named for a latitude, a longitude or coordinates, or a number
in a list of them) that the user wrote with ``W`` or ``S`` after it is made negative.
"""

from __future__ import annotations

import re

from app.call_values import with_arguments
from backends.generation import ToolCall
from backends.schema import ToolSpec

_HEMISPHERE = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*°?\s*([NSEW])(?![A-Za-z])")
_COORDINATE_NAME = re.compile(r"lat|lon|lng|coord", re.IGNORECASE)


def _negative_magnitudes(context: str) -> set[float]:
    """The numbers the user wrote as west or south, without their sign."""
    return {float(m.group(1)) for m in _HEMISPHERE.finditer(context) if m.group(2) in "SW"}


def with_hemisphere_signs(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with each coordinate written west or south of zero made negative."""
    negative = _negative_magnitudes(context)
    if not negative:
        return call

    def signed(value: object) -> object:
        if isinstance(value, list):
            return [signed(item) for item in value]
        if isinstance(value, int | float) and not isinstance(value, bool) and value in negative:
            return -value
        return value

    changed = {
        name: signed(value)
        for name, value in call.arguments.items()
        if _COORDINATE_NAME.search(name)
    }
    if all(changed[name] == call.arguments[name] for name in changed):
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})
