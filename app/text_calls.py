"""Calls the model wrote inside a text answer: "you can use the `currency_conversion`
function. Here's the JSON: {...}".

Asked "I have 100 euro. How much is it in USD?", the bundled model sometimes answers in text
and writes the right call inside it, which runs nothing: the user asked for an answer and
gets instructions. The same habit shows on requests no tool serves ("the price of a Tesla in
India": a text holding ``get_exchange_rate`` with INR and USD), so a written call counts
only where it is one a constrained answer could have been: a tool offered to the model, its
arguments valid against the tool's schema, and every value in them the user's own (the
caller decides what that means; :func:`app.tool_choice.value_in_request`). Over BFCL's first
100 irrelevance answers (2026-12-04), 14 text answers hold a call to an offered tool and
none has only the user's values; over the other categories' first 100, four do (multiple
52 and 83, live_simple 68 and 84), each the call the request asks for or a look-up of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping

from app.call_values import leaf_values
from backends.generation import ToolCall
from backends.output import validate_arguments
from backends.schema import ToolSpec

_DECODER = json.JSONDecoder()
# Keys of the schema the model copies into a written call ("type": "object"); the grammar
# keeps them out of a constrained call, so a written one is read without them.
_SCHEMA_WORDS = frozenset({"type", "additionalProperties", "required", "properties"})


def calls_in_text(
    text: str, tools: Mapping[str, ToolSpec], said: Callable[[object], bool]
) -> list[ToolCall]:
    """The calls written as JSON objects in ``text`` (``{"name": ..., "arguments": {...}}``)
    to one of ``tools``, valid against its schema once schema keys the model copied in are
    left out, with at least one value and every value one that ``said`` accepts (empty
    texts and flags are no values)."""
    found: list[ToolCall] = []
    for written in _json_objects(text):
        name, arguments = written.get("name"), written.get("arguments")
        tool = tools.get(name) if isinstance(name, str) else None
        if tool is None or not isinstance(arguments, dict):
            continue
        properties = tool.parameters.get("properties") or {}
        arguments = {
            k: v for k, v in arguments.items() if k in properties or k not in _SCHEMA_WORDS
        }
        if validate_arguments(tool, arguments):
            continue
        leaves = leaf_values(arguments).values()
        values = [v for v in leaves if v not in ("", None) and not isinstance(v, bool)]
        if not values or not all(said(v) for v in values):
            continue
        call = ToolCall(name=tool.name, arguments=arguments)
        if call not in found:
            found.append(call)
    return found


def _json_objects(text: str) -> Iterator[dict[str, object]]:
    """The JSON objects written in ``text``, outermost first (in a fence or bare)."""
    start = text.find("{")
    while start >= 0:
        try:
            value, length = _DECODER.raw_decode(text[start:])
        except ValueError:
            start = text.find("{", start + 1)
            continue
        if isinstance(value, dict):
            yield value
        start = text.find("{", start + length)
