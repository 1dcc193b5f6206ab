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

from backends.call_format import CallFormat, name_spellings
from backends.errors import GrammarError
from backends.schema import ToolSpec

# A text answer may not begin with what begins a call, nor with whitespace: that keeps the
# branch decidable from the first token and stops the model from padding before a call. Nor
# with "<": what the bundled model writes there is markup copied from its prompt (the
# template's "<tools>" block, "<tool_call>" tags), never an answer.
_TEXT_TERMINAL = r"/[^\s{\[`<](?s:.)*/"


def call_schema(tool: ToolSpec, fmt: CallFormat, spellings: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON Schema of one call object of ``tool``, whose name may be written as any of
    ``spellings`` (see :func:`backends.call_format.name_spellings`; the exact name when empty).

    ``$defs`` (as pydantic writes them) move from the parameters to the root of the call schema,
    where their ``#/$defs/...`` references resolve.
    """
    parameters, defs = _hoist_defs(tool.parameters)
    names = sorted(set(spellings) | {tool.name})
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            fmt.name_key: {"const": tool.name} if len(names) == 1 else {"enum": names},
            fmt.arguments_key: parameters,
        },
        "required": [fmt.name_key, fmt.arguments_key],
        "additionalProperties": False,
    }
    if defs:
        schema["$defs"] = defs
    return schema


def _hoist_defs(parameters: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split ``$defs``/``definitions`` off a schema, pointing its references at ``#/$defs``."""
    defs: dict[str, Any] = {}
    rest = dict(parameters)
    for key in ("$defs", "definitions"):
        defs.update(rest.pop(key, None) or {})
    if not defs:
        return parameters, {}
    return _retarget_refs(rest), _retarget_refs(defs)


def _retarget_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _retarget_refs(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/definitions/"):
            out["$ref"] = "#/$defs/" + ref.removeprefix("#/definitions/")
        return out
    if isinstance(node, list):
        return [_retarget_refs(v) for v in node]
    return node


def tool_call_lark(tools: Sequence[ToolSpec], fmt: CallFormat, *, allow_text: bool = True) -> str:
    """The Lark source of the grammar for ``tools`` (exposed for tests and debugging).

    Raises:
        GrammarError: no tools were given.
    """
    if not tools:
        raise GrammarError("no tools were given: a tool-call grammar needs at least one tool")
    spelled: dict[str, list[str]] = {}
    for spelling, name in name_spellings(tools).items():
        spelled.setdefault(name, []).append(spelling)
    schema: dict[str, Any] = {
        "x-guidance": {
            "whitespace_flexible": False,
            "key_separator": fmt.key_separator,
            "item_separator": fmt.item_separator,
        },
        "anyOf": [call_schema(t, fmt, spelled.get(t.name, ())) for t in tools],
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
        array = f'"[" WS? call (WS? "," WS? call){more} WS? "]"'
        lines.append(f"body: {array}" if fmt.list_only else f"body: call | {array}")
    else:
        lines.append("body: call")
    lines.append("call: %json " + json.dumps(schema, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def json_schema_grammar(schema: Any) -> str:
    """The llguidance grammar (serialized) of one JSON value matching ``schema`` (compact, as
    calls are), for answers that must be a JSON document rather than text or a call.

    Raises:
        GrammarError: the schema is not an object or cannot be compiled or satisfied; the
            message repeats llguidance's reason.
    """
    if not isinstance(schema, dict):
        raise GrammarError(f"a response schema must be a JSON object, got {schema!r}")
    guided = {
        "x-guidance": {"whitespace_flexible": False, "key_separator": ": ", "item_separator": ", "},
        **schema,
    }
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(json.dumps(guided))
    except (TypeError, ValueError) as exc:
        raise GrammarError(f"the response schema cannot be enforced: {exc}") from exc
    error = llguidance.LLMatcher.validate_grammar(grammar).strip()
    if error:
        raise GrammarError(f"the response schema cannot be enforced: {error}")
    return grammar


def text_only_grammar() -> str:
    """The grammar of a text answer alone: what the tool grammar's text branch allows.

    Used when the tools stay in the prompt (so its cached prefix is reused) but the answer
    must not be a call, for example after a call was judged not to fit the request.
    """
    return _compiled(f"start: TEXT\nTEXT: {_TEXT_TERMINAL}\n")


@lru_cache(maxsize=64)
def _compiled(lark: str) -> str:
    return llguidance.LLMatcher.grammar_from_lark(lark)


@lru_cache(maxsize=512)
def _tool_error(call_schema_json: str) -> str:
    """llguidance's complaint about one tool's call schema, or "" (cached per schema)."""
    grammar = llguidance.LLMatcher.grammar_from_json_schema(call_schema_json)
    return llguidance.LLMatcher.validate_grammar(grammar).strip()


def build_tool_grammar(
    tools: Sequence[ToolSpec], fmt: CallFormat, *, allow_text: bool = True
) -> str:
    """The llguidance grammar (serialized) for ``tools``, validated.

    Every tool is checked on its own as well: in a union, a tool whose schema can never be
    satisfied would otherwise just be silently uncallable.

    Raises:
        GrammarError: no tools, or a tool's schema cannot be compiled or satisfied; the message
            names the tool and repeats llguidance's reason.
    """
    lark = tool_call_lark(tools, fmt, allow_text=allow_text)
    for tool in tools:
        error = _tool_error(json.dumps(call_schema(tool, fmt), sort_keys=True))
        if error:
            raise GrammarError(f"the parameters of tool {tool.name!r} cannot be enforced: {error}")
    grammar = _compiled(lark)
    error = llguidance.LLMatcher.validate_grammar(grammar)
    if error:
        raise GrammarError(f"the tool grammar does not compile: {error.strip()}")
    return grammar
