"""Mending values a small model copies or orders wrong, before a call runs.

Each rule acts only where what the user wrote says plainly what the value is, and leaves the
call as the model wrote it when the mended arguments would not fit the tool's schema.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterator

from app.measure_units import Unit, said_units, unit_of
from app.request_words import word_places
from backends.generation import ToolCall
from backends.output import validate_arguments
from backends.schema import ToolSpec


def with_arguments(call: ToolCall, tool: ToolSpec, arguments: dict[str, object]) -> ToolCall:
    """``call`` with ``arguments``, or ``call`` itself when they are the same or would not
    fit the tool's schema (a mended call must stay a valid one)."""
    if arguments == call.arguments or validate_arguments(tool, arguments):
        return call
    return dataclasses.replace(call, arguments=arguments)


def typed_arguments(
    call: ToolCall, tool: ToolSpec, *types: str
) -> Iterator[tuple[str, str | int | float, dict[str, object]]]:
    """The arguments of ``call`` whose parameter has one of the JSON ``types`` ("string",
    "number", "integer") and whose value is of that kind (a bool is no number), each with
    the parameter's schema."""
    properties = tool.parameters.get("properties") or {}
    for name, value in call.arguments.items():
        schema = properties.get(name)
        if not isinstance(schema, dict) or schema.get("type") not in types:
            continue
        if schema["type"] == "string":
            if isinstance(value, str):
                yield name, value, schema
        elif isinstance(value, int | float) and not isinstance(value, bool):
            yield name, value, schema


def left_out(
    call: ToolCall, tool: ToolSpec, *types: str
) -> Iterator[tuple[str, dict[str, object]]]:
    """The parameters of ``tool`` with one of the JSON ``types`` that ``call`` leaves out,
    each with its schema: where a rule may fill in what the user said for them."""
    properties = tool.parameters.get("properties") or {}
    for name, schema in properties.items():
        if name not in call.arguments and isinstance(schema, dict) and schema.get("type") in types:
            yield name, schema


def is_number(value: object) -> bool:
    """Whether ``value`` is a JSON number (a bool is none)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def leaf_values(value: object, path: str = "") -> dict[str, object]:
    """Leaf values of an arguments object by path (``{"a": {"b": 1}}`` -> ``{"a.b": 1}``)."""
    if isinstance(value, dict):
        out: dict[str, object] = {}
        for key, item in value.items():
            out.update(leaf_values(item, f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(leaf_values(item, f"{path}[{index}]"))
        return out
    return {path: value}


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


_NUMBERED = re.compile(r"^(.*?)(_?)1$")


def with_numbered_order(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with numbered arguments (``city_1``, ``city_2``) in the order the user wrote
    their values.

    "The time difference between Beijing and Tokyo": the bundled model wrote ``city_1:
    "Tokyo", city_2: "Beijing"``. Where both texts are written once each in ``context``, the
    first written goes to the argument numbered 1. Over BFCL's AST answers the numbered pairs
    whose values the request writes once each all follow the request's order (22 of 22).
    """
    args = call.arguments
    changed = dict(args)
    for first, value in args.items():
        match = _NUMBERED.match(first)
        second = f"{match.group(1)}{match.group(2)}2" if match else ""
        other = args.get(second)
        if not isinstance(value, str) or not isinstance(other, str) or not value or not other:
            continue
        at_first, at_second = word_places(context, value), word_places(context, other)
        if len(at_first) == 1 and len(at_second) == 1 and at_second[0] < at_first[0]:
            changed[first], changed[second] = other, value
    return with_arguments(call, tool, changed)


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


_COPIED_WORDS = 3  # words a text must have to count as copied rather than shared


def without_copied_options(call: ToolCall, tool: ToolSpec) -> ToolCall:
    """``call`` without the optional text values that repeat another argument's text.

    Asked to "add a news article titled 'Julian is testing'", the bundled model filled the
    CMS tool's optional meta title and URL name with the title, and a content it made up
    into the meta description too: fields the user left to their defaults. An optional
    value of three words or more written in another argument as well is such a copy, and
    goes (both copies, where neither argument is required). Shorter equal values are often
    meant (a track and its album both "The Getaway", a county and a city both "San
    Francisco"); over BFCL's AST answers (2026-12-04) no answer holds an optional text of
    three words or more twice.
    """
    required = set(tool.parameters.get("required") or ())
    copied = {
        name
        for name, value in call.arguments.items()
        if name not in required
        and isinstance(value, str)
        and len(value.split()) >= _COPIED_WORDS
        and any(other != name and text == value for other, text in call.arguments.items())
    }
    if not copied:
        return call
    kept = {name: value for name, value in call.arguments.items() if name not in copied}
    return with_arguments(call, tool, kept)


_IDENTIFIER = re.compile(r"(?<![\w.])([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)(?!\w)")


def with_named_identifiers(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with a text value that is the user's description of an identifier followed by
    the identifier written as just the identifier.

    Asked to "analyze the sentiment of today's journal entry my_journal_entry_text", the
    bundled model sent ``text: "Today's journal entry my_journal_entry_text"``: the user
    named the data twice, in words and by its identifier, and the tool gets the identifier.
    Only where the value is the user's words up to the identifier, and the word right before
    it is one of the identifier's own ("entry" of ``my_journal_entry_text``): "ideas for
    project_alpha" stays a title. Over BFCL's AST answers (2026-12-04) no answer holds such
    a value.
    """
    changed = {}
    for name, value, _ in typed_arguments(call, tool, "string"):
        found = _IDENTIFIER.findall(value)
        if len(found) != 1 or not value.endswith(found[0]) or " " not in value.strip():
            continue
        identifier = found[0]
        before = value[: -len(identifier)].split()
        parts = identifier.casefold().split("_")
        if not before or before[-1].casefold() not in parts:
            continue
        if value.casefold() in context.casefold():  # the user's words, up to the identifier
            changed[name] = identifier
    return with_arguments(call, tool, {**call.arguments, **changed}) if changed else call


# A ``unit`` argument of a measured value; not one end of a conversion (``to_unit``).
_UNIT_ARGUMENT = re.compile(
    r"^(?!(?:from|to|target|source|output|input|result|desired|convert)_)(?:\w+_)?units?$",
    re.IGNORECASE,
)


def with_said_unit(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with a unit argument the model copied from the tool's default set to the unit
    the user measured in.

    "Two circles, one with a radius of 5 meters and the other of 10 meters": the bundled
    model wrote ``"unit": "cm"``, the description's default, in both calls. Where a string
    ``unit`` argument names a unit of length or mass and the user wrote numbers in exactly
    one other unit of that kind, the argument becomes the user's word for it (or the tool's
    enum member for it). A call without the argument is left as it is.
    """
    said = said_units(context)
    if not said:
        return call
    changed = dict(call.arguments)
    for name, value, schema in typed_arguments(call, tool, "string"):
        if not _UNIT_ARGUMENT.search(name):
            continue
        current = unit_of(str(value))
        if current is None or len(said.get(current.dimension, {})) != 1:
            continue
        ((unit, word),) = said[current.dimension].items()
        if unit == current:
            continue
        written = _unit_as_taken(unit, word, schema)
        if written is not None:
            changed[name] = written
    return with_arguments(call, tool, changed)


def _unit_as_taken(unit: Unit, word: str, schema: dict[str, object]) -> str | None:
    """The user's word for ``unit``, or the parameter's one enum member for it (``None``
    where its enum has none or several)."""
    enum = schema.get("enum")
    if not isinstance(enum, list) or not enum:
        return word
    members = [m for m in enum if isinstance(m, str) and unit_of(m) == unit]
    return members[0] if len(members) == 1 else None


_NUMBER_AFTER = r"\s*(?:of|=|:|is|equals|equal to|as|to)?\s*(-?\d[\d,]*(?:\.\d+)?)(?![\d.]*\s*%)"


# "in miles", "in square meters": the unit a user asks the answer in; not "in km/h", a rate
_IN_UNIT = re.compile(r"\bin\s+(?:square\s+|cubic\s+)?([a-z]+)\b(?!\s*[/^²³])", re.IGNORECASE)


def with_asked_unit(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with a left-out unit argument set to the one unit the user asked "in".

    "What is the shortest driving distance in miles from New York City to Los Angeles": the
    bundled model leaves ``unit`` out, and the tool answers in its default kilometres. Where
    a string ``unit`` argument is left out and the user asked for exactly one unit of length
    or mass with "in" ("in miles", "in square meters"), the argument becomes the user's word
    (or the tool's enum member for it). A rate ("in km/h") is no unit of length. Over BFCL's
    AST answers (2026-12-04) this changes none.
    """
    asked = {
        unit: match.group(1)
        for match in _IN_UNIT.finditer(context)
        if match.group(1).casefold() != "in" and (unit := unit_of(match.group(1))) is not None
    }
    if len(asked) != 1:
        return call
    ((unit, word),) = asked.items()
    properties = tool.parameters.get("properties") or {}
    added = {}
    for name, schema in properties.items():
        if name in call.arguments or not _UNIT_ARGUMENT.search(name):
            continue
        if not isinstance(schema, dict) or schema.get("type") != "string":
            continue
        written = _unit_as_taken(unit, word, schema)
        if written is not None:
            added[name] = written
    return with_arguments(call, tool, {**call.arguments, **added}) if added else call


# "221B", "12A": a house or flat number the user wrote with its letter
_LETTERED_NUMBER = re.compile(r"\b(\d+)([A-Za-z])\b")


def with_lettered_numbers(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with a number the user wrote with a letter ("221B Baker Street") written
    with it again where the model dropped the letter ("221 Baker Street").

    The decoder's number guard keeps a number the user wrote from being glued to the next
    one; "221B" is a number with a letter, and the bundled model stopped at "221". Where a
    text value holds the number alone and the same text with the letter is what the user
    wrote, the value takes the user's text. Over BFCL's AST answers (2026-12-04) this
    changes none."""
    changed = {}
    for name, value in call.arguments.items():
        if not isinstance(value, str) or value.casefold() in context.casefold():
            continue  # the user's own text
        for match in _LETTERED_NUMBER.finditer(context):
            digits, written = match.group(1), match.group(0)
            places = word_places(value, digits)
            if not places or word_places(value, written):
                continue
            at = places[0]
            mended = value[:at] + written + value[at + len(digits) :]
            if mended.casefold() in context.casefold():
                changed[name] = value = mended
    return with_arguments(call, tool, {**call.arguments, **changed}) if changed else call


def numbers_named(name: str, context: str) -> set[float]:
    """The numbers ``context`` gives right after the words of an argument's name ("a width
    of 30", "length = 50")."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    words = [w for w in re.split(r"[_\W]+", spaced.lower()) if w]
    if not words:
        return set()
    pattern = r"\b" + r"[\s_-]+".join(map(re.escape, words)) + r"s?\b" + _NUMBER_AFTER
    return {
        float(m.group(1).replace(",", "")) for m in re.finditer(pattern, context, re.IGNORECASE)
    }


def with_named_numbers(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with two numbers swapped back where the user named each one's argument.

    "A playground with a length of 50 meters and a width of 30 meters": the bundled model
    wrote ``width: 50, length: 30``. Where the user put each of two numeric arguments' names
    right before the other one's value, and neither's own value, the two values swap.
    """
    numbers = {
        name: float(value) for name, value, _ in typed_arguments(call, tool, "number", "integer")
    }
    named = {name: numbers_named(name, context) for name in numbers}
    changed = dict(call.arguments)
    for a, b in itertools.combinations(numbers, 2):
        va, vb = numbers[a], numbers[b]
        if vb in named[a] and va in named[b] and va not in named[a] and vb not in named[b]:
            changed[a], changed[b] = call.arguments[b], call.arguments[a]
    return with_arguments(call, tool, changed)
