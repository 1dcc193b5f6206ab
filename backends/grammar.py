r"""The grammar layer: tool schemas in, an llguidance grammar out.

This is the one place that turns tools into a decoding constraint; every backend (llama.cpp,
MLX) uses it, so a call is valid whichever runtime produced it. The grammar says: the answer is
either text, or one or more calls, each ``{"name": <one of the tools>, "arguments": <exactly
that tool's schema>}``, laid out the way the model family writes calls (see
:mod:`backends.call_format`). llguidance enforces enums, const, numeric ranges, patterns,
formats, nested objects, arrays, required keys and string escaping while decoding; objects get
``additionalProperties: false`` from :mod:`backends.schema`, so no extra keys either.

Free text (a string value with no enum, const, pattern or format) may also be kept free of
backslashes (:func:`without_backslashes`): a small model asked for a note "with milk and eggs"
wrote ``\\n`` (an escaped backslash, then ``n``) inside the JSON string and the note was
saved as ``- milk\n- eggs`` on one line. Without the escape ``\\`` a JSON string still holds
real line breaks (``\n``), quotes and tabs, but not a backslash the user never typed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
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

# A string without a backslash. llguidance matches ``pattern`` against the decoded string and
# writes it back as JSON, so this refuses the escapes ``\\`` and ``\u005c`` and keeps
# ``\n``, ``\t``, ``\"`` and the others. NUL is left out too, and must be: llguidance 1.9
# (derivre) quotes a class holding every control character as "any escape", the escaped
# backslash included, so ``^[^\\]*$`` alone refuses nothing.
NO_BACKSLASH_PATTERN = r"^[^\\\x00]*$"

# Keywords that already say what a string may hold: the schema's author decides there.
_STRING_CONSTRAINTS = ("enum", "const", "pattern", "format")


def call_schema(
    tool: ToolSpec,
    fmt: CallFormat,
    spellings: Sequence[str] = (),
    *,
    backslashes: bool = True,
) -> dict[str, Any]:
    """The JSON Schema of one call object of ``tool``, whose name may be written as any of
    ``spellings`` (see :func:`backends.call_format.name_spellings`; the exact name when empty).

    ``$defs`` (as pydantic writes them) move from the parameters to the root of the call schema,
    where their ``#/$defs/...`` references resolve. Without ``backslashes``, free-text values
    cannot hold a backslash (:func:`without_backslashes`); this is for llguidance, which reads
    ``pattern`` on the decoded string (a GBNF converter may not: see
    :mod:`backends.remote_dialects`).
    """
    parameters = tool.parameters if backslashes else without_backslashes(tool.parameters)
    parameters, defs = _hoist_defs(parameters)
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


def without_backslashes(schema: Any) -> Any:
    """``schema`` with every free-text string (type ``string``, no enum, const, pattern or
    format) limited to text without a backslash, wherever it sits: properties, items, tuple
    items, map values, ``anyOf``/``oneOf``/``allOf`` branches and ``$defs``.

    Strings the schema already constrains are left as their author wrote them (an enum of
    Windows paths stays callable), and so are values of no declared type.
    """
    if isinstance(schema, list):
        return [without_backslashes(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: without_backslashes(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "prefixItems", "anyOf", "oneOf", "allOf"):
            out[key] = without_backslashes(value)
        else:
            out[key] = value
    types = out.get("type")
    is_string = types == "string" or (isinstance(types, list) and "string" in types)
    if is_string and not any(key in out for key in _STRING_CONSTRAINTS):
        out["pattern"] = NO_BACKSLASH_PATTERN
    return out


def said_backslash(messages: Sequence[Mapping[str, Any]]) -> bool:
    r"""Whether the user or a tool wrote a backslash in ``messages``: what
    :attr:`backends.base.GenerateOptions.backslashes` should be.

    A tool's result counts (a Windows path a listing returned may be copied into a call), read
    as the JSON it usually is, so the escapes of its encoding (a note's ``\n``) do not.
    """
    for message in messages:
        role, content = message.get("role"), message.get("content")
        if role not in ("user", "tool") or not isinstance(content, str) or "\\" not in content:
            continue
        if role == "user":
            return True
        try:
            decoded = json.loads(content)
        except ValueError:
            return True  # plain text: its backslashes are the tool's own
        if _holds_backslash(decoded):
            return True
    return False


def _holds_backslash(value: Any) -> bool:
    """Whether a decoded JSON value has a backslash in any of its strings (keys included)."""
    if isinstance(value, str):
        return "\\" in value
    if isinstance(value, dict):
        return any(_holds_backslash(k) or _holds_backslash(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_backslash(item) for item in value)
    return False


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


def tool_call_lark(
    tools: Sequence[ToolSpec],
    fmt: CallFormat,
    *,
    allow_text: bool = True,
    backslashes: bool = True,
) -> str:
    """The Lark source of the grammar for ``tools`` (exposed for tests and debugging).

    Without ``backslashes``, the calls' free-text values cannot hold a backslash (see
    :func:`without_backslashes`).

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
        "anyOf": [
            call_schema(t, fmt, spelled.get(t.name, ()), backslashes=backslashes) for t in tools
        ],
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
    tools: Sequence[ToolSpec],
    fmt: CallFormat,
    *,
    allow_text: bool = True,
    backslashes: bool = True,
) -> str:
    """The llguidance grammar (serialized) for ``tools``, validated.

    Without ``backslashes`` (the user wrote none), the calls' free-text values cannot hold
    one: the model can write a line break as ``\\n`` but not an escaped backslash
    (:func:`without_backslashes`).

    Every tool is checked on its own as well: in a union, a tool whose schema can never be
    satisfied would otherwise just be silently uncallable.

    Raises:
        GrammarError: no tools, or a tool's schema cannot be compiled or satisfied; the message
            names the tool and repeats llguidance's reason.
    """
    lark = tool_call_lark(tools, fmt, allow_text=allow_text, backslashes=backslashes)
    for tool in tools:
        checked = call_schema(tool, fmt, backslashes=backslashes)
        error = _tool_error(json.dumps(checked, sort_keys=True))
        if error:
            raise GrammarError(f"the parameters of tool {tool.name!r} cannot be enforced: {error}")
    grammar = _compiled(lark)
    error = llguidance.LLMatcher.validate_grammar(grammar)
    if error:
        raise GrammarError(f"the tool grammar does not compile: {error.strip()}")
    return grammar
