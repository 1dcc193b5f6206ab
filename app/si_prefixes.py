"""Electrical quantities the user wrote with a prefix ("50mH", "100µF"), in the base unit
the tool asks for (henries, farads).

"The resonant frequency of an LC circuit given capacitance of 100µF and inductance of 50mH",
offered ``inductance`` "in henries (H)" and ``capacitance`` "in farads (F)": the bundled
model copies 50 and 100, a circuit a thousand and a million times too large. Where a number
argument holds a number the user wrote with a metric prefix glued to an electrical unit
symbol, and the parameter's description names that unit's base (its name or its symbol in
parentheses), the number is scaled to the base unit. Only electrical units: "70kg" and "6mm"
are what tools take as written. Over BFCL's AST answers (2026-12-04) one request writes such
a unit, and its answer is in the base units.
"""

from __future__ import annotations

import re

from app.call_values import typed_arguments, with_arguments
from backends.generation import ToolCall
from backends.schema import ToolSpec

_PREFIXES = {"p": 1e-12, "n": 1e-9, "µ": 1e-6, "μ": 1e-6, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6}
_UNITS = {"H": "henr", "F": "farad", "A": "amp", "V": "volt", "W": "watt", "Hz": "hertz"}
_PREFIXED = re.compile(
    rf"(?<![\w.])(\d+(?:\.\d+)?)\s?([{''.join(_PREFIXES)}])({'|'.join(_UNITS)})\b"
)


def with_base_units(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with each number the user wrote as "50mH" given in henries (0.05), where
    the parameter's description asks for henries."""
    written = [
        (float(m.group(1)), _PREFIXES[m.group(2)], m.group(3)) for m in _PREFIXED.finditer(context)
    ]
    if not written:
        return call
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "number"):
        description = str(schema.get("description", ""))
        scales = {
            factor
            for number, factor, unit in written
            if number == float(value) and _asks_for(description, unit)
        }
        if len(scales) == 1:
            changed[name] = float(f"{float(value) * scales.pop():.12g}")
    return with_arguments(call, tool, {**call.arguments, **changed}) if changed else call


def _asks_for(description: str, unit: str) -> bool:
    """Whether the description names the base unit ("in henries (H)")."""
    return _UNITS[unit] in description.lower() or f"({unit})" in description
