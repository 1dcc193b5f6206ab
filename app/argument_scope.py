"""Keeping a small model to the arguments the user talked about.

Measured on the bundled 0.5B model: given a tool with many optional arguments it writes all of
them, inventing values (``"attendees": ["ana@example.com"], "repeat": "weekly"`` for "a dentist
appointment tomorrow at 12:30"), which is wrong, slow, and can make the call invalid
("repeat_until and repeat_count, not both"). A logit nudge towards closing the arguments did
not stop it. So the grammar offers an optional argument only when the request mentions it:
a word of the request shares a stem with the argument's name or description, or is a value
of the argument's kind ("in December" mentions ``month``). The prompt still
shows the full tools (its cached prefix does not change per request); only decoding is
narrowed, and required arguments are never touched.

Arguments that name something the user has (a note's title) are narrowed to the names that
exist now, when the tool says what they are (``Tool.choices``): the model then copies a real
title instead of writing the text to append, or the new title, in its place.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.policy import pipeline
from app.policy.retrieval import closest_values
from app.request_words import content_words, same_stem
from app.tool_choice import _WRITTEN_TEXT
from backends.schema import ToolSpec


def _argument_words(name: str, schema: Any) -> set[str]:
    """The words that say an argument is wanted: its name, description and enum values."""
    if not isinstance(schema, dict):
        return content_words(name)
    text = [name, str(schema.get("description", ""))]
    for holder in (schema, schema.get("items") or {}):
        if isinstance(holder, dict):
            text.extend(str(v) for v in holder.get("enum") or ())
    return content_words(" ".join(text))


# Values that name their kind: "in December" asks for a month, "on Friday" for a day.
_MONTHS_TEXT = (
    "january february march april may june july august september october november december"
)
_MONTHS = frozenset(_MONTHS_TEXT.split())
_WEEKDAYS_TEXT = "monday tuesday wednesday thursday friday saturday sunday"
_WEEKDAYS = frozenset(_WEEKDAYS_TEXT.split())


def _kinds_named(asked: set[str]) -> set[str]:
    """The words a request's values stand for ("december" is a month)."""
    kinds = set()
    if asked & _MONTHS - {"may", "march"}:  # "may" and "march" are verbs too
        kinds.add("month")
    if asked & _WEEKDAYS:
        kinds.add("day")
    return kinds


# Names people use for the text to send or write: asking to "include a message" asks for the
# ``body`` argument (BFCL live_simple_78 lost the quoted message to scoping).
_TEXT_NAMES_TEXT = "message messages body text content wording"
_TEXT_NAMES = frozenset(_TEXT_NAMES_TEXT.split())


# Text the user dictates, in any language: a phrase in quotes ('...', "...", «...», “...”,
# „...“), or words after a colon ("Schreib dir auf: Reifenwechsel kostet 60 Euro"). A single
# quoted word names something (a title, a subject: "with the subject 'Forecast'" asks for no
# body); an apostrophe inside a word ("l'anniversaire", "Marta's") opens no quote.
_QUOTED_PHRASE = re.compile(
    r"(?<!\w)'[^']*\w\s+\w[^']*'(?!\w)|\"[^\"]*\w\s+\w[^\"]*\"|«[^»]*\w\s+\w[^»]*»"
    r"|“[^”]*\w\s+\w[^”]*”|„[^“”]*\w\s+\w[^“”]*[“”]"
)
_AFTER_COLON = re.compile(r":\s+\w")


def _text_arguments(asked: set[str], request: str = "") -> set[str]:
    """The argument names a request that names the text to write mentions, or that gives
    text in quotes or after a colon: the words naming the text are English ("message",
    "text"), and the bundled model, not offered a note's ``body``, saved "Schreib dir auf:
    Reifenwechsel kostet 60 Euro bei Auto Silva" as a title alone."""
    dictated = _QUOTED_PHRASE.search(request) or _AFTER_COLON.search(request)
    return set(_WRITTEN_TEXT) if asked & _TEXT_NAMES or dictated else set()


def _mentions(asked: set[str], words: set[str]) -> bool:
    return any(same_stem(a, w) or a.rstrip("s") == w.rstrip("s") for a in asked for w in words)


_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def _is_flag(schema: Any) -> bool:
    """A yes/no argument (maybe nullable: ``anyOf`` boolean, null)."""
    if not isinstance(schema, dict):
        return False
    types = [schema.get("type")] + [s.get("type") for s in schema.get("anyOf") or () if s]
    return "boolean" in types and not {"string", "integer", "number"} & set(types)


def _is_number(schema: Any) -> bool:
    return isinstance(schema, dict) and schema.get("type") in ("integer", "number")


def _spare_numbers(
    request: str, properties: Mapping[str, Any], required: set[str], taken: Sequence[str] = ()
) -> bool:
    """Whether the request gives more numbers than the required numeric arguments can take.

    A number left over is meant for an optional argument, named or not ("open until at
    least 11 PM": ``operating_hours``; "in 2020": ``year``), so numeric optional arguments
    stay in the grammar then (BFCL, first 100 entries: this kept the arguments its answers
    need in 7 more entries than the name rule alone: 16 lost one, now 9). Only numbers in
    digits count: "a one hour meeting" is the meeting's length, and offering the hour
    bounds of the search made the bundled model narrow the day to 9-10.

    The numbers inside ``taken`` (stretches of the request that are already the values of
    other arguments: the dates a calendar tool reads, ``Tool.said``) are not spare: "am 12.
    Mai" and "von 19 bis 20:30" are the event's dates, and counting their digits offered
    ``repeat_count``, ``duration_minutes`` and ``reminder_minutes``, which the bundled model
    then filled with invented numbers in any language.
    """
    for value in sorted(taken, key=len, reverse=True):
        if value:
            request = request.replace(value, " ")
    required_numbers = sum(1 for name in required if _is_number(properties.get(name)))
    return len(_DIGITS.findall(request)) > required_numbers


def scoped_tool(
    request: str, tool: ToolSpec, taken: Sequence[str] = (), given: Sequence[str] = ()
) -> ToolSpec:
    """``tool`` with the optional top-level arguments the request does not mention removed
    (``taken``: stretches of the request that are other arguments' values, see
    :func:`_spare_numbers`; ``given``: the arguments those values are for, which the said
    values pass offers whatever this one keeps, :mod:`app.policy.said_values`)."""
    params = tool.parameters
    properties = params.get("properties")
    if not isinstance(properties, dict):
        return tool
    required = set(params.get("required") or ())
    # The words naming the tool ("notes", "calendar") pick the tool, not an argument.
    said = content_words(request) - content_words(tool.name)
    # A value of a kind ("Thursday" is a day) asks for an argument that can hold it, never a
    # yes/no: every weekday offered ``all_day``, and the bundled model then set it to true for
    # "move my dentist to Thursday, same time" and a standup at 9:15 (dev split).
    kinds = _kinds_named(said)
    texts = _text_arguments(said, request)
    spare = _spare_numbers(request, properties, required, taken)
    kept = {
        name: schema
        for name, schema in properties.items()
        if name in required
        or name.casefold() in texts
        or _mentions(said if _is_flag(schema) else said | kinds, _argument_words(name, schema))
        or (spare and _is_number(schema))
    }
    offered = len(kept) + len([name for name in given if name in properties and name not in kept])
    if len(kept) == len(properties) or offered < _least_properties(params):
        return tool
    return dataclasses.replace(tool, parameters={**params, "properties": kept})


def _least_properties(params: Mapping[str, Any]) -> int:
    """How many arguments a call needs (the schema's ``minProperties``): an update needs the
    thing and one change. When the request's words name none of the changes (any language
    but English: "cámbialo al restaurante Solar", and English too: "cross stamps off my
    todo list"), dropping them all left the model a call that could only fail, "nothing to
    change", which it then retried in prose. Such a tool keeps every argument. A change the
    request gives a value for counts ("Schieb den Zahnarzt auf Donnerstag": the said date,
    the new start): offered every argument beside it, the model filled them all with
    invented values."""
    least = params.get("minProperties")
    return least if isinstance(least, int) else 0


def with_choices(tool: ToolSpec, choices: Mapping[str, Sequence[str]]) -> ToolSpec:
    """``tool`` with each string argument in ``choices`` limited to those values."""
    properties = tool.parameters.get("properties")
    if not isinstance(properties, dict) or not choices:
        return tool
    narrowed = dict(properties)
    for name, values in choices.items():
        schema = properties.get(name)
        if isinstance(schema, dict) and schema.get("type") == "string" and values:
            kept = {k: v for k, v in schema.items() if k not in ("minLength", "maxLength")}
            narrowed[name] = {**kept, "enum": list(dict.fromkeys(values))}
    if narrowed == properties:
        return tool
    return dataclasses.replace(tool, parameters={**tool.parameters, "properties": narrowed})


def _named(text: str, values: Sequence[str]) -> list[str]:
    """The values ``text`` names word for word (whole words, any case)."""
    return [
        v
        for v in values
        if v.strip() and re.search(rf"(?<!\w){re.escape(v.strip())}(?!\w)", text, re.I)
    ]


def named_in(request: str, values: Sequence[str], earlier: str = "") -> list[str]:
    """The values the request names (whole words, any case), or all of them if it names none.

    When the user names the note ("append ... to my Wifi note") there is nothing left to
    choose: measured on the bundled model, given every title it still picked the wrong one
    where it wanted to write the text to append. When the request names none word for word
    (the ``close_choices`` pass), the values whose character n-grams it shares most
    (:func:`app.policy.retrieval.closest_values`): "o almoço com a Marta" keeps "Lunch with
    Marta", where the model, writing Portuguese, began "Al" and the grammar gave "Dentist".
    When it shares none either (the ``earlier_things`` pass), those the previous answer
    showed (``earlier``: the last turn's tool results and text): "append it there" after a
    search that found one note means that note, in any language.
    """
    named = _named(request, values)
    if named:
        return named
    if pipeline.enabled("close_choices"):
        close = closest_values(request, values)
        if len(close) < len([v for v in values if v.strip()]):
            return close
    if earlier and pipeline.enabled("earlier_things"):
        shown = _named(earlier, values)
        if shown:
            return shown
    return list(values)


def scoped_tools(
    request: str,
    tools: Sequence[ToolSpec],
    choices: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
    earlier: str = "",
    said: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
) -> tuple[ToolSpec, ...]:
    """Every tool narrowed to the optional arguments ``request`` mentions, and to the values
    ``choices[tool name]`` allows for its arguments (those the request names, or else those
    the previous answer, ``earlier``, showed; see :func:`named_in`). ``said[tool name]``:
    the values the request gives the tool's arguments (their numbers are not spare)."""
    narrowed = []
    for tool in tools:
        allowed = (choices or {}).get(tool.name, {})
        named = {name: named_in(request, values, earlier) for name, values in allowed.items()}
        given = (said or {}).get(tool.name, {})
        taken = [v for values in given.values() for v in values if isinstance(v, str)]
        scoped = scoped_tool(request, tool, taken, [name for name, v in given.items() if v])
        narrowed.append(with_choices(scoped, named))
    return tuple(narrowed)
