""" "50mH" is 0.05 henries to a tool that asks for henries."""

from __future__ import annotations

from app.si_prefixes import with_base_units
from backends.generation import ToolCall
from backends.schema import parse_tools

(CIRCUIT,) = parse_tools(
    [
        {
            "name": "resonant_frequency",
            "parameters": {
                "type": "object",
                "properties": {
                    "inductance": {"type": "number", "description": "In henries (H)."},
                    "capacitance": {"type": "number", "description": "The capacitance (F)."},
                    "mass": {"type": "number", "description": "Mass of the coil."},
                },
                "required": ["inductance", "capacitance"],
            },
        }
    ]
)


def _call(**arguments: float) -> ToolCall:
    return ToolCall(name="resonant_frequency", arguments=dict(arguments))


def test_prefixed_electrical_units_become_the_base_unit_asked_for() -> None:
    request = "The resonant frequency given capacitance of 100µF and inductance of 50mH."
    call = with_base_units(_call(inductance=50, capacitance=100), CIRCUIT, request)
    assert call.arguments == {"inductance": 0.05, "capacitance": 0.0001}


def test_other_units_and_unprefixed_numbers_stay() -> None:
    # no prefix: already henries; "kg" is no electrical unit; the mass asks for no unit
    request = "An inductance of 2 H, a capacitance of 3F, a 70kg coil"
    call = _call(inductance=2, capacitance=3, mass=70)
    assert with_base_units(call, CIRCUIT, request) == call
