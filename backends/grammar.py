"""The grammar layer: tool schemas in, an llguidance grammar out.

This is the one place that turns tools into a decoding constraint; every backend (llama.cpp,
MLX) uses it, so a call is valid whichever runtime produced it. The grammar says: the answer is
either text, or one or more calls, each ``{"name": <one of the tools>, "arguments": <exactly
that tool's schema>}``, laid out the way the model family writes calls (see
:mod:`backends.call_format`). llguidance enforces enums, const, numeric ranges, patterns,
formats, nested objects, arrays, required keys and string escaping while decoding; objects get
``additionalProperties: false`` from :mod:`backends.schema`, so no extra keys either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import llguidance

from backends.call_format import CallFormat
from backends.errors import GrammarError
from backends.schema import ToolSpec

# A text answer may not begin with what begins a call, nor with whitespace: that keeps the
# branch decidable from the first token and stops the model from padding before a call.
_TEXT_TERMINAL = r"/[^\s{\[`](?s:.)*/"


def call_schema(tool: ToolSpec, fmt: CallFormat) -> dict[str, Any]:
    """The JSON Schema of one call object of ``tool``."""
    return {
        "type": "object",
        "properties": {
            fmt.name_key: {"const": tool.name},
            fmt.arguments_key: tool.parameters,
        },
        "required": [fmt.name_key, fmt.arguments_key],
        "additionalProperties": False,
    }


def tool_call_lark(tools: Sequence[ToolSpec], fmt: CallFormat, *, allow_text: bool = True) -> str:
    """The Lark source of the grammar for ``tools`` (exposed for tests and debugging).

    Raises:
        GrammarError: no tools were given.
    """
    if not tools:
        raise GrammarError("no tools were given: a tool-call grammar needs at least one tool")
    schema: dict[str, Any] = {
        "x-guidance": {
            "whitespace_flexible": False,
            "key_separator": fmt.key_separator,
            "item_separator": fmt.item_separator,
        },
        "anyOf": [call_schema(t, fmt) for t in tools],
    }
    if len(tools) == 1:
        schema = {"x-guidance": schema["x-guidance"], **schema["anyOf"][0]}
    lines = [
        f"start: {'TEXT | ' if allow_text else ''}calls",
        f"TEXT: {_TEXT_TERMINAL}",
        f"WS: /{fmt.list_whitespace}/",
    ]
    bodies = ["body"] + [f'{json.dumps(f)} body "\\n```"' for f in fmt.fences]
    lines.append("calls: " + " | ".join(bodies))
    if fmt.allow_list:
        more = f"{{0,{fmt.max_calls - 1}}}"
        lines.append(f'body: call | "[" WS? call (WS? "," WS? call){more} WS? "]"')
    else:
        lines.append("body: call")
    lines.append("call: %json " + json.dumps(schema, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def text_only_lark() -> str:
    """A grammar for a plain text answer (used when no tools apply)."""
    return "start: TEXT\nTEXT: /(?s:.)+/\n"


@lru_cache(maxsize=64)
def _compiled(lark: str) -> str:
    return llguidance.LLMatcher.grammar_from_lark(lark)


def build_tool_grammar(
    tools: Sequence[ToolSpec], fmt: CallFormat, *, allow_text: bool = True
) -> str:
    """The llguidance grammar (serialized) for ``tools``, validated.

    Raises:
        GrammarError: no tools, or a tool's schema cannot be compiled; the message names the
            tool and repeats llguidance's reason.
    """
    grammar = _compiled(tool_call_lark(tools, fmt, allow_text=allow_text))
    error = llguidance.LLMatcher.validate_grammar(grammar)
    if error:
        raise GrammarError(_explain(tools, fmt, error))
    return grammar


def _explain(tools: Sequence[ToolSpec], fmt: CallFormat, error: str) -> str:
    """Find which tool's schema llguidance rejects, for a message that names it."""
    for tool in tools:
        single = llguidance.LLMatcher.grammar_from_json_schema(call_schema(tool, fmt))
        tool_error = llguidance.LLMatcher.validate_grammar(single)
        if tool_error:
            return f"the parameters of tool {tool.name!r} cannot be enforced: {tool_error.strip()}"
    return f"the tool grammar does not compile: {error.strip()}"
