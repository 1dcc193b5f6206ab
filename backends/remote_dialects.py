"""How each family of OpenAI-compatible server takes a decoding constraint.

The OpenAI chat API has no field for "text, or a call matching exactly one of these schemas";
each server family has its own way to say it, and one class per family here writes it (a
table picks the class, by what the server says it is in ``/v1/models``):

* :class:`ToolsDialect` (``callmemaybe serve``, and any server that enforces ``tools`` and
  ``tool_choice`` itself): the tools, ``tool_choice`` and ``parallel_tool_calls``; calls come
  back as ``tool_calls``.
* :class:`LlamaCppDialect` (llama.cpp's ``llama-server`` and llama-cpp-python's
  ``llama_cpp.server``): a GBNF ``grammar`` in the request body, "text, or the calls'
  JSON Schema" (converted by llama-cpp-python's own JSON-Schema-to-GBNF converter); calls
  come back as text and are parsed like local output.
* :class:`VllmDialect` (vLLM with the ``guidance`` structured-output backend): the same
  llguidance Lark grammar the local decode loop uses, as ``structured_outputs.grammar``.

Whatever the server enforces, the backend validates every call against its schema afterwards
(:mod:`backends.remote`): a GBNF grammar converted from JSON Schema does not enforce every
keyword (numeric ranges, ``multipleOf``, string formats), and a server may ignore a field.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

from backends.base import GenerateOptions
from backends.call_format import CallFormat
from backends.errors import GrammarError
from backends.grammar import call_schema, tool_call_lark
from backends.schema import ToolSpec

# The GBNF form of the text branch of the tool grammar (see backends.grammar._TEXT_TERMINAL):
# a text answer may not start with what starts a call, nor with whitespace.
_GBNF_TEXT = "answer-text ::= [^{\\[`<\\x20\\t\\n\\r] [^\\x00]*"


@dataclasses.dataclass(frozen=True)
class Ask:
    """What to add to one chat request, and how to read its answer.

    Attributes:
        fields: request fields (``tools``, ``tool_choice``, ``response_format``...).
        extra: server-specific body fields (sent through the client's ``extra_body``).
        calls_as_text: the calls come back in ``content`` (parse them) rather than as
            ``tool_calls``.
    """

    fields: dict[str, Any]
    extra: dict[str, Any]
    calls_as_text: bool


class Dialect:
    """One server family's way to carry the constraint. Subclasses set :meth:`ask`."""

    name: ClassVar[str]

    def ask(
        self,
        tools: Sequence[ToolSpec] | None,
        enforced: Sequence[ToolSpec] | None,
        options: GenerateOptions,
        fmt: CallFormat,
    ) -> Ask:
        """The request fields for ``tools`` shown and ``enforced`` (the grammar's), under
        ``options``."""
        raise NotImplementedError


class ToolsDialect(Dialect):
    """The server enforces OpenAI's ``tools``/``tool_choice`` itself (``callmemaybe serve``).

    OpenAI's fields have no way to say ``backslashes``: such a server's grammar lets a call's
    text hold an escaped backslash, whatever the request said.
    """

    name = "tools"

    def ask(
        self,
        tools: Sequence[ToolSpec] | None,
        enforced: Sequence[ToolSpec] | None,
        options: GenerateOptions,
        fmt: CallFormat,
    ) -> Ask:
        fields: dict[str, Any] = {}
        if options.response_schema is not None:
            fields["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "answer", "schema": options.response_schema},
            }
            return Ask(fields, {}, calls_as_text=False)
        # The server shows and enforces the same tools: the grammar's, when narrower.
        offered = list(enforced or tools or ())
        if not offered:
            return Ask(fields, {}, calls_as_text=False)
        fields["tools"] = [t.to_openai() for t in offered]
        if not options.allow_calls:
            fields["tool_choice"] = "none"
        elif not options.allow_text:
            fields["tool_choice"] = (
                {"type": "function", "function": {"name": offered[0].name}}
                if len(offered) == 1
                else "required"
            )
        else:
            fields["tool_choice"] = "auto"
        if options.allow_calls:
            fields["parallel_tool_calls"] = not options.single_call
        return Ask(fields, {}, calls_as_text=False)


def _calls_schema(tools: Sequence[ToolSpec], fmt: CallFormat, *, many: bool) -> dict[str, Any]:
    """One JSON Schema for "a call of one of ``tools``" (or a list of them, with ``many``)."""
    calls = [call_schema(t, fmt) for t in tools]
    one: dict[str, Any] = calls[0] if len(calls) == 1 else {"anyOf": calls}
    if not many:
        return one
    return {
        "anyOf": [one, {"type": "array", "items": one, "minItems": 1, "maxItems": fmt.max_calls}]
    }


class LlamaCppDialect(Dialect):
    """llama.cpp servers: a GBNF ``grammar`` field (text, or the calls' JSON Schema)."""

    name = "llama.cpp"

    def ask(
        self,
        tools: Sequence[ToolSpec] | None,
        enforced: Sequence[ToolSpec] | None,
        options: GenerateOptions,
        fmt: CallFormat,
    ) -> Ask:
        fields: dict[str, Any] = {}
        if tools:
            fields["tools"] = [t.to_openai() for t in tools]  # the template shows them
        if options.response_schema is not None:
            return Ask(fields, {"grammar": _gbnf(options.response_schema)}, calls_as_text=True)
        grammar_tools = list(enforced or tools or ())
        if not grammar_tools:
            return Ask(fields, {}, calls_as_text=True)
        if not options.allow_calls:
            return Ask(
                fields, {"grammar": f"root ::= answer-text\n{_GBNF_TEXT}\n"}, calls_as_text=True
            )
        schema = _calls_schema(grammar_tools, fmt, many=fmt.allow_list and not options.single_call)
        calls = _gbnf(schema)
        if not options.backslashes:
            calls = _without_backslashes(calls)
        calls = calls.replace("\nroot ::=", "\nanswer-calls ::=")
        if calls.startswith("root ::="):
            calls = "answer-calls ::=" + calls.removeprefix("root ::=")
        root = (
            "root ::= answer-text | answer-calls" if options.allow_text else "root ::= answer-calls"
        )
        return Ask(fields, {"grammar": f"{root}\n{_GBNF_TEXT}\n{calls}"}, calls_as_text=True)


# llama-cpp-python's converter writes a bound of N as N nested optional items: a file's
# "text" limited to 1,000,000 characters became an 8 MB rule (16 MB of grammar for the
# assistant's tools, which the server then parsed and ran for every token). Bounds above these
# are left to the check after decoding.
_GBNF_MAX_LENGTH = 256
_GBNF_MAX_ITEMS = 32


def _loose_bounds(node: Any) -> Any:
    """``node`` without length and item bounds too large for the GBNF converter."""
    if isinstance(node, list):
        return [_loose_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _loose_bounds(value) for key, value in node.items()}
    for key, most in (("maxLength", _GBNF_MAX_LENGTH), ("maxItems", _GBNF_MAX_ITEMS)):
        if isinstance(out.get(key), int) and out[key] > most:
            del out[key]
    for key, most in (("minLength", _GBNF_MAX_LENGTH), ("minItems", _GBNF_MAX_ITEMS)):
        if isinstance(out.get(key), int) and out[key] > most:
            out[key] = most
    return out


def _gbnf(schema: dict[str, Any]) -> str:
    """``schema`` as GBNF, by llama-cpp-python's converter (the one its server uses), with
    bounds too large for it left to the check after decoding (:func:`_loose_bounds`).

    Raises:
        GrammarError: llama-cpp-python is not installed, or the schema cannot be converted.
    """
    try:
        from llama_cpp.llama_grammar import json_schema_to_gbnf
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise GrammarError(
            "a llama.cpp server needs its grammar written as GBNF, which needs "
            "llama-cpp-python here: pip install 'call-me-maybe[llama]'"
        ) from exc
    try:
        return _converted(json.dumps(_loose_bounds(schema)), json_schema_to_gbnf)
    except Exception as exc:  # the converter raises plain exceptions of many kinds
        raise GrammarError(f"the schema cannot be written as GBNF: {exc}") from exc


# The converter writes every free-text string (no enum, const, pattern or format) with one
# rule, "char": any character but '"' and the backslash, or an escape. Without backslashes it
# becomes the same rule less the escapes that write one: \\ and \u005c (in any case).
# A ``pattern`` would not do here, as it does for llguidance: the converter matches a pattern
# against the raw JSON text, so ^[^\\]*$ would refuse the escape \n and allow a bare '"'.
_HEX = "[0-9a-fA-F]"
_CHAR_WITHOUT_BACKSLASH = (
    'char ::= [^"\\\\] | "\\\\" (["/bfnrt] | "u" ('
    f"[1-9a-fA-F] {_HEX} {_HEX} {_HEX}"
    f' | "0" ([1-9a-fA-F] {_HEX} {_HEX}'
    f' | "0" ([0-46-9a-fA-F] {_HEX} | "5" [0-9abd-fABD-F]))))'
)
_CHAR_RULE = re.compile(r"^char ::= .*$", re.MULTILINE)


def _without_backslashes(gbnf: str) -> str:
    """The converter's GBNF with its free-text strings unable to hold a backslash (see
    :attr:`backends.base.GenerateOptions.backslashes`)."""
    return _CHAR_RULE.sub(lambda _: _CHAR_WITHOUT_BACKSLASH, gbnf)


@lru_cache(maxsize=64)
def _converted(schema_json: str, convert: Any) -> str:
    """The converter's output, once per schema (it takes about a second for the assistant's
    tools, and the same tools come with every request)."""
    return str(convert(schema_json))


class VllmDialect(Dialect):
    """vLLM with the ``guidance`` backend: the same llguidance Lark grammar as local decoding."""

    name = "vllm"

    def ask(
        self,
        tools: Sequence[ToolSpec] | None,
        enforced: Sequence[ToolSpec] | None,
        options: GenerateOptions,
        fmt: CallFormat,
    ) -> Ask:
        fields: dict[str, Any] = {}
        if tools:
            fields["tools"] = [t.to_openai() for t in tools]
            fields["tool_choice"] = "none"  # the grammar, not vLLM's tool parser, reads calls
        if options.response_schema is not None:
            return Ask(fields, {"structured_outputs": {"json": options.response_schema}}, True)
        grammar_tools = list(enforced or tools or ())
        if not grammar_tools:
            return Ask(fields, {}, calls_as_text=True)
        if not options.allow_calls:
            lark = "start: TEXT\nTEXT: /[^\\s{\\[`<](?s:.)*/\n"
        else:
            if options.single_call:
                fmt = dataclasses.replace(fmt, allow_list=False, list_only=False)
            lark = tool_call_lark(
                grammar_tools,
                fmt,
                allow_text=options.allow_text,
                backslashes=options.backslashes,
            )
        return Ask(fields, {"structured_outputs": {"grammar": lark}}, calls_as_text=True)


DIALECTS: dict[str, type[Dialect]] = {
    d.name: d for d in (ToolsDialect, LlamaCppDialect, VllmDialect)
}

# What ``/v1/models`` says in ``owned_by``, per server family.
OWNERS: dict[str, str] = {
    "callmemaybe": "tools",
    "llamacpp": "llama.cpp",  # llama.cpp's llama-server
    "me": "llama.cpp",  # llama-cpp-python's llama_cpp.server
    "vllm": "vllm",
}
