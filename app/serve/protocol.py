"""The request bodies ``callmemaybe serve`` accepts, as OpenAI's chat API defines them.

Declared with pydantic so a malformed body gets a 400 naming the field, before the model is
involved. Unknown fields are ignored, as OpenAI-compatible servers do (clients send vendor
extras such as ``stream_options`` or ``user``); fields this server cannot honour (``n > 1``,
images) are refused by :mod:`app.serve.translate` with a reason.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore")


class FunctionCall(_Loose):
    """A call the assistant made earlier in the conversation (arguments as a JSON string)."""

    name: str
    arguments: str | dict[str, Any] = "{}"


class ToolCallIn(_Loose):
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class ChatMessage(_Loose):
    """One message: ``content`` is a string, a list of text parts, or absent beside calls."""

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None


class FunctionDef(_Loose):
    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDef(_Loose):
    type: Literal["function"] = "function"
    function: FunctionDef


class NamedFunction(_Loose):
    name: str


class NamedToolChoice(_Loose):
    type: Literal["function"] = "function"
    function: NamedFunction


class JsonSchemaFormat(_Loose):
    name: str = "response"
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    strict: bool | None = None


class ResponseFormat(_Loose):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Loose):
    include_usage: bool = False


class ChatRequest(_Loose):
    """``POST /v1/chat/completions``."""

    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    tools: list[ToolDef] | None = None
    tool_choice: Literal["auto", "none", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    seed: int | None = None
    n: int | None = Field(default=None, ge=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
