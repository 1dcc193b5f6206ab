"""A name that holds another argument's words, asked again among the request's own words.

The bundled 0.5B model names a new event by copying the request from its start: "Trag morgen um
9 Joggen mit Lena ein" became an event called "Trag morgen", "Trag für Dienstag um 9 einen
Anruf beim Vermieter ein" one called "Trag für Dienstag um 9 Uhr", and "Pay rent on the 1st of
every month, starting in April" one called "Rent on the 1st of every month, starting in April".
The symptom is readable in any language: the name holds words of a value the tool itself read
from the request for another argument (the start "morgen um 9": ``Tool.said``), so it holds the
when, not the what.

Only then the model answers one narrow question: which words of the request are that argument,
among the stretches of the request (whole words, inside one clause) that hold none of the
values the tool read. The grammar allows those stretches alone, so the name is still the user's
own words and never the date again. A name that holds no such word is left as the model wrote
it: the pass costs nothing there.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from app.policy.decision import first_sentence
from backends.base import Backend, CancelToken, GenerateOptions
from backends.generation import ToolCall
from backends.schema import ToolSpec

MOST_STRETCHES = 200  # beyond this many the grammar costs more than the pass is worth
LONGEST = 6  # words a name holds at most
TELLING_LETTERS = 4
_REQUEST_CHARS = 400
_MAX_TOKENS = 48
_WORD = re.compile(r"\w+")
_PARTS = re.compile(r"[\"«»“”„,;:.!?()]|(?<!\w)'|'(?!\w)")

NAMING = (
    "The user's request is for the tool {tool}: {description}. Its argument {argument} is "
    "{about} Answer with the words of the request that say it, copied exactly. They are not "
    "the words of its other values: {others}."
)


def _words(text: str) -> set[str]:
    return {word.casefold() for word in _WORD.findall(text)}


def _telling(text: str) -> set[str]:
    """The words of ``text`` that can tell two values apart: numbers and words of four
    letters or more ("at", "um", "de", "a las" join a date to anything)."""
    return {w for w in _words(text) if len(w) >= TELLING_LETTERS or any(c.isdigit() for c in w)}


def _free_text(schema: Any) -> bool:
    """A string argument the grammar leaves free (no enum, const, pattern or format)."""
    return (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and not {"enum", "const", "pattern", "format"} & schema.keys()
    )


def stretches(text: str, longest: int = LONGEST) -> list[str]:
    """Every stretch of at most ``longest`` whole words of ``text`` inside one clause."""
    found: list[str] = []
    for part in _PARTS.split(text):
        words = part.split()
        for first in range(len(words)):
            for last in range(first, min(first + longest, len(words))):
                found.append(" ".join(words[first : last + 1]))
    return list(dict.fromkeys(found))


def mixed(call: ToolCall, tool: ToolSpec, said: Mapping[str, Sequence[object]]) -> list[str]:
    """The required free-text arguments of ``call`` whose value holds a word of a value the
    tool read from the request for another required argument and the call gives it (an
    event's title holding its start; a place in the title is no symptom: "Dinner at Solar")."""
    properties = tool.parameters.get("properties") or {}
    required = tool.parameters.get("required") or ()
    read = [
        value
        for name, values in said.items()
        if name in required
        and isinstance(value := call.arguments.get(name), str)
        and value in values
    ]
    if not read:
        return []
    taken = set().union(*(_telling(value) for value in read))
    return [
        name
        for name in required
        if name not in said
        and _free_text(properties.get(name))
        and isinstance(call.arguments.get(name), str)
        and _telling(call.arguments[name]) & taken
    ]


def unmixed(
    backend: Backend,
    request: str,
    call: ToolCall,
    tool: ToolSpec,
    said: Mapping[str, Sequence[object]],
    *,
    cancel: CancelToken | None = None,
) -> ToolCall:
    """``call`` with each :func:`mixed` argument chosen again by the model among the request's
    stretches that hold no value the tool read (one pass each); unchanged where none is left."""
    names = mixed(call, tool, said)
    if not names:
        return call
    values = [v for values in said.values() for v in values if isinstance(v, str)]
    taken = set().union(*(_telling(v) for v in values))
    offered = [
        s for s in stretches(request[:_REQUEST_CHARS]) if _telling(s) and not _telling(s) & taken
    ]
    if not offered or len(offered) > MOST_STRETCHES:
        return call
    arguments = dict(call.arguments)
    others = "; ".join(
        f"{name} {value!r}" for name, value in call.arguments.items() if name in said
    )
    properties = tool.parameters.get("properties") or {}
    for name in names:
        schema = properties.get(name)
        about = str(schema.get("description", "")) if isinstance(schema, dict) else ""
        prompt = NAMING.format(
            tool=tool.name,
            description=first_sentence(tool.description).rstrip("."),
            argument=name,
            about=about or "a name.",
            others=others,
        )
        options = GenerateOptions(
            max_tokens=_MAX_TOKENS, response_schema={"type": "string", "enum": offered}
        )
        messages = [
            {"role": "system", "content": prompt},
            {"role": "user", "content": request[:_REQUEST_CHARS]},
        ]
        completion = backend.generate(messages, None, options=options, cancel=cancel)
        try:
            chosen = json.loads(completion.text or '""')
        except json.JSONDecodeError:
            continue
        if chosen in offered:
            arguments[name] = chosen
    if arguments == call.arguments:
        return call
    return dataclasses.replace(call, arguments=arguments)
