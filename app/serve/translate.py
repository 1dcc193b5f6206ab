"""Between OpenAI's chat format and the backend's: requests in, completions and chunks out.

The backend speaks plain messages (assistant calls carry their arguments as objects, tool
results name their tool), :class:`~backends.schema.ToolSpec` lists and
:class:`~backends.base.GenerateOptions`. OpenAI's format carries call ids, arguments as JSON
strings and a ``tool_choice``; each maps onto a grammar setting:

========================  ==========================================================
``tool_choice``           grammar
========================  ==========================================================
``auto`` (default)        text, or calls of the offered tools
``none``                  text only (the tools stay in the prompt: its cache is reused)
``required``              one or more calls, no text
a named function          calls of that function only, no text
========================  ==========================================================

``parallel_tool_calls: false`` drops the list form (one call at most);
``response_format: json_schema`` replaces the whole grammar by that schema.
"""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.serve.protocol import ChatMessage, ChatRequest, NamedToolChoice
from backends.base import GenerateOptions
from backends.call_format import CallFormat
from backends.errors import GrammarError
from backends.generation import Completion, ToolCall
from backends.grammar import build_tool_grammar, json_schema_grammar
from backends.schema import ToolSpec, parse_tools


class RequestError(ValueError):
    """The request cannot be served as sent; the message says why (a 400).

    Attributes:
        param: the request field at fault, as OpenAI errors name it.
        code: a machine-readable reason (``context_length_exceeded``, ``invalid_schema``...).
    """

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.param = param
        self.code = code


@dataclass(frozen=True)
class Plan:
    """What one request asks of the backend.

    Attributes:
        messages: the conversation in the backend's form.
        tools: the tools shown in the prompt (``None`` without tools).
        options: the grammar and sampling settings.
        json_answer: the answer is a JSON document (``response_format``), not text or calls.
    """

    messages: list[dict[str, Any]]
    tools: list[ToolSpec] | None
    options: GenerateOptions
    json_answer: bool = False


def _text(message: ChatMessage, index: int) -> str:
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = []
    for part in content:
        if part.get("type") != "text" or not isinstance(part.get("text"), str):
            raise RequestError(
                f"messages[{index}]: only text content is supported, got a "
                f"{part.get('type')!r} part",
                param=f"messages[{index}].content",
            )
        parts.append(part["text"])
    return "".join(parts)


def _arguments(raw: str | dict[str, Any], where: str) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except json.JSONDecodeError as exc:
        raise RequestError(f"{where}: arguments are not valid JSON ({exc})", param=where) from exc
    if not isinstance(value, dict):
        raise RequestError(f"{where}: arguments must be a JSON object", param=where)
    return value


def to_backend_messages(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    """OpenAI messages as the backend's chat templates take them.

    ``developer`` is a system message; an assistant's calls get their arguments as objects; a
    tool result gets the name of the call it answers (found by ``tool_call_id``), which is how
    the templates label it.

    Raises:
        RequestError: a non-text part, arguments that are not a JSON object.
    """
    out: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for index, message in enumerate(messages):
        role = "system" if message.role == "developer" else message.role
        item: dict[str, Any] = {"role": role, "content": _text(message, index)}
        if role == "assistant" and message.tool_calls:
            calls = []
            for number, call in enumerate(message.tool_calls):
                where = f"messages[{index}].tool_calls[{number}].function.arguments"
                arguments = _arguments(call.function.arguments, where)
                calls.append(
                    {
                        "type": "function",
                        "function": {"name": call.function.name, "arguments": arguments},
                    }
                )
                if call.id:
                    names[call.id] = call.function.name
            item["tool_calls"] = calls
        if role == "tool":
            name = message.name or names.get(message.tool_call_id or "")
            if name:
                item["name"] = name
        out.append(item)
    return out


def plan(request: ChatRequest, *, max_tokens: int, call_format: CallFormat) -> Plan:
    """The backend's inputs for ``request``, its grammar compiled once to catch bad schemas.

    Args:
        max_tokens: the server's cap on an answer; a request may ask for less.
        call_format: how the served model writes calls (the grammar is checked in it).

    Raises:
        RequestError: an option this server does not support, a tool or schema the grammar
            cannot enforce (with llguidance's reason), a named tool that is not offered.
    """
    if request.n not in (None, 1):
        raise RequestError("only n=1 is supported", param="n")
    messages = to_backend_messages(request.messages)
    try:
        tools = parse_tools([t.model_dump(exclude_none=True) for t in request.tools or ()]) or None
    except GrammarError as exc:
        raise RequestError(str(exc), param="tools", code="invalid_schema") from exc
    choice = request.tool_choice
    asked = request.max_completion_tokens or request.max_tokens or max_tokens
    options = GenerateOptions(
        max_tokens=min(asked, max_tokens),
        temperature=request.temperature or 0.0,
        seed=request.seed or 0,
        single_call=request.parallel_tool_calls is False,
    )
    schema = _response_schema(request)
    if schema is not None:
        if tools and choice != "none":
            raise RequestError(
                "response_format json_schema cannot be combined with tools the model may call; "
                "send tool_choice 'none' or leave the tools out",
                param="response_format",
            )
        try:
            json_schema_grammar(schema)
        except GrammarError as exc:
            raise RequestError(str(exc), param="response_format", code="invalid_schema") from exc
        options = dataclasses.replace(options, single_call=False, response_schema=schema)
        return Plan(messages, None, options, json_answer=True)
    if not tools and (choice == "required" or isinstance(choice, NamedToolChoice)):
        raise RequestError(
            "tool_choice asks for a call but no tools were given", param="tool_choice"
        )
    if not tools:
        return Plan(messages, None, options)
    if choice == "none":
        options = dataclasses.replace(options, allow_calls=False)
    elif choice == "required":
        options = dataclasses.replace(options, allow_text=False)
    elif isinstance(choice, NamedToolChoice):
        named = [t for t in tools if t.name == choice.function.name]
        if not named:
            raise RequestError(
                f"tool_choice names {choice.function.name!r}, which is not among the tools",
                param="tool_choice",
            )
        options = dataclasses.replace(options, allow_text=False, constrain_to=tuple(named))
    if options.allow_calls:
        enforced = options.constrain_to or tools
        try:
            build_tool_grammar(enforced, call_format, allow_text=options.allow_text)
        except GrammarError as exc:
            raise RequestError(str(exc), param="tools", code="invalid_schema") from exc
    return Plan(messages, tools, options)


def _response_schema(request: ChatRequest) -> dict[str, Any] | None:
    fmt = request.response_format
    if fmt is None or fmt.type == "text":
        return None
    if fmt.type == "json_object":
        return {"type": "object"}
    if fmt.json_schema is None or fmt.json_schema.schema_ is None:
        raise RequestError(
            "response_format json_schema needs a json_schema.schema", param="response_format"
        )
    return fmt.json_schema.schema_


# -- responses -------------------------------------------------------------------------------


def new_id(prefix: str) -> str:
    """A fresh id such as ``chatcmpl-…`` or ``call_…``."""
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def openai_call(call: ToolCall) -> dict[str, Any]:
    """One call as OpenAI writes it (arguments as a JSON string)."""
    return {
        "id": new_id("call_"),
        "type": "function",
        "function": {
            "name": call.name,
            "arguments": json.dumps(call.arguments, ensure_ascii=False),
        },
    }


def finish_reason(completion: Completion) -> str:
    if completion.tool_calls:
        return "tool_calls"
    return completion.finish_reason


def usage(completion: Completion) -> dict[str, Any]:
    return {
        "prompt_tokens": completion.prompt_tokens,
        "completion_tokens": completion.completion_tokens,
        "total_tokens": completion.prompt_tokens + completion.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": completion.cached_tokens},
    }


def chat_response(completion: Completion, model: str, response_id: str) -> dict[str, Any]:
    """The ``chat.completion`` object for a finished generation."""
    message: dict[str, Any] = {"role": "assistant", "content": completion.text}
    if completion.tool_calls:
        message["content"] = None
        message["tool_calls"] = [openai_call(c) for c in completion.tool_calls]
    return {
        "id": response_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": finish_reason(completion),
                "logprobs": None,
            }
        ],
        "usage": usage(completion),
    }


def chunk(
    response_id: str,
    model: str,
    delta: dict[str, Any] | None,
    *,
    finish: str | None = None,
    usage_of: Completion | None = None,
) -> dict[str, Any]:
    """One ``chat.completion.chunk``: a delta, the closing one (``finish``), or usage alone."""
    body: dict[str, Any] = {
        "id": response_id,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
    }
    if usage_of is not None:
        body["usage"] = usage(usage_of)
    return body


def call_deltas(calls: Sequence[ToolCall], piece: int = 64) -> list[dict[str, Any]]:
    """The deltas that stream ``calls``: per call, one with its id and name, then its
    arguments in pieces, as OpenAI streams them (each carries the call's ``index``)."""
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(calls):
        whole = openai_call(call)
        deltas.append(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": whole["id"],
                        "type": "function",
                        "function": {"name": call.name, "arguments": ""},
                    }
                ]
            }
        )
        arguments = whole["function"]["arguments"]
        for start in range(0, len(arguments), piece):
            deltas.append(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "function": {"arguments": arguments[start : start + piece]},
                        }
                    ]
                }
            )
    return deltas
