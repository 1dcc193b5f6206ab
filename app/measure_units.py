"""The units of length and mass a user writes after a number ("5 meters", "10m", "2 lbs").

Read so that a call's ``unit`` argument can be checked against what the user measured in
(:func:`app.call_values.with_said_unit`): the bundled model copies a tool's default unit
("Defaults to cm") over the user's "a radius of 5 meters".
"""

from __future__ import annotations

import re
from typing import NamedTuple

from app.request_words import name_words
from backends.generation import ToolCall


class Unit(NamedTuple):
    dimension: str  # "length" or "mass"
    symbol: str  # one name per unit: "m", "kg"


_FORMS: dict[Unit, tuple[str, ...]] = {
    Unit("length", "m"): ("m", "meter", "meters", "metre", "metres"),
    Unit("length", "cm"): ("cm", "centimeter", "centimeters", "centimetre", "centimetres"),
    Unit("length", "mm"): ("mm", "millimeter", "millimeters", "millimetre", "millimetres"),
    Unit("length", "km"): ("km", "kilometer", "kilometers", "kilometre", "kilometres"),
    Unit("length", "mi"): ("mi", "mile", "miles"),
    Unit("length", "ft"): ("ft", "foot", "feet"),
    Unit("length", "in"): ("inch", "inches"),  # "in" is read as a unit only in a value
    Unit("length", "yd"): ("yd", "yard", "yards"),
    Unit("mass", "kg"): ("kg", "kilogram", "kilograms", "kilo", "kilos"),
    Unit("mass", "g"): ("g", "gram", "grams"),
    Unit("mass", "lb"): ("lb", "lbs", "pound", "pounds"),
    Unit("mass", "oz"): ("oz", "ounce", "ounces"),
}
_BY_FORM = {form: unit for unit, forms in _FORMS.items() for form in forms}
_SINGLE_LETTER = frozenset({"m", "g"})  # lower case only: "5G" is a network, "5M" a million

# A number, then a unit word right after it ("5 meters", "10m", "1,500 km"), not the start
# of a compound unit ("6 m/s²").
_AFTER_NUMBER = re.compile(r"(?<![\w.])\d(?:[\d,]*\d)?(?:\.\d+)?\s*([A-Za-z]+)\b(?!\s*[/^²³])")


def unit_of(text: str) -> Unit | None:
    """The unit ``text`` names ("meters", "m", "in"), or ``None``."""
    word = text.strip()
    if word.casefold() == "in":
        return Unit("length", "in")
    if len(word) == 1 and word not in _SINGLE_LETTER:
        return None
    return _BY_FORM.get(word.casefold())


def said_units(text: str) -> dict[str, dict[Unit, str]]:
    """The units ``text`` measures in, by dimension, each with the word first written for it
    ("a radius of 5 meters and 10 meters" -> length: {m: "meters"})."""
    said: dict[str, dict[Unit, str]] = {}
    for match in _AFTER_NUMBER.finditer(text):
        word = match.group(1)
        if word.casefold() == "in":
            continue  # "5 in Paris"
        unit = unit_of(word)
        if unit is not None:
            said.setdefault(unit.dimension, {}).setdefault(unit, word)
    return said


# Parameter-name words that say which kind of quantity an argument takes.
_DIMENSION_WORDS = {
    "mass": frozenset({"weight", "mass"}),
    "length": frozenset(
        {"height", "length", "width", "distance", "radius", "diameter", "depth", "altitude"}
    ),
}


def argument_dimension(name: str) -> str | None:
    """The kind of quantity a parameter's name asks for ("height_m": length), if one."""
    words = set(name_words(name))
    kinds = [kind for kind, named in _DIMENSION_WORDS.items() if words & named]
    return kinds[0] if len(kinds) == 1 else None


def measured_as(text: str) -> dict[float, set[str]]:
    """The numbers ``text`` writes with a unit, each with the kinds of those units ("10
    meters": {10.0: {"length"}})."""
    kinds: dict[float, set[str]] = {}
    for match in _AFTER_NUMBER.finditer(text):
        word = match.group(1)
        unit = unit_of(word) if word.casefold() != "in" else None
        if unit is not None:
            number = float(match.group(0)[: match.start(1) - match.start(0)].replace(",", ""))
            kinds.setdefault(number, set()).add(unit.dimension)
    return kinds


def misreads_measures(call: ToolCall, context: str) -> bool:
    """Whether ``call`` sends a number the user measured as one kind of quantity as
    another: "a triangle given the base is 10 meters and height is 5 meters" answered with
    a body-mass-index tool's ``weight: 10``. A tool that takes a length as a weight answers
    some other question, so the call is treated like one to an unrelated tool. Only where
    the parameter's name says its kind (weight, mass; height, length, width, distance,
    radius ...) and every place the user wrote the number gives it one other kind. Over
    BFCL's AST answers (2026-12-04) no right call does this; of the first 100 irrelevance
    answers it turns one made-up call into a text answer."""
    measured = measured_as(context)
    for name, value in call.arguments.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        kind = argument_dimension(name)
        kinds = measured.get(float(value), set())
        if kind is not None and len(kinds) == 1 and kind not in kinds:
            return True
    return False
