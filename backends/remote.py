"""A model run elsewhere: any OpenAI-compatible server, driven through the official client.

For people who outgrow one laptop: llama.cpp's server, vLLM, Ollama, or another
``callmemaybe serve`` runs the model; this backend sends each request with the constraint that
server accepts (:mod:`backends.remote_dialects`) and then checks every call it gets back
against its tool's JSON Schema (``jsonschema``), because a server may enforce less than the
schema says (a GBNF grammar converted from JSON Schema does not enforce numeric ranges) or
ignore a field. A call that fails is asked for once more; failing again, the request ends in
:class:`RemoteCallError`. Nothing here runs a call: the backend only reports what the model
wrote, as every backend does.

What only the local decode loop can do is not done here (see docs/SCALING.md): the token-level
nudges and guards of :class:`~backends.base.GenerateOptions` (``more_calls``, ``numbers``,
``unsaid_examples``), conflict flags (they need the model's own pick where the grammar
overrode it), the prefix cache, and exact token counts (prompt sizes here are estimates).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backends.base import Backend, CancelToken, GenerateOptions, Message
from backends.call_format import CallFormat, call_format_for, starts_call, tools_by_name
from backends.errors import (
    BackendError,
    ContextOverflowError,
    GenerationCancelled,
    GenerationIncomplete,
    RuntimeNotInstalledError,
)
from backends.generation import Completion, GenerationEvent, TextDelta, Timings, ToolCall
from backends.output import assemble, validate_arguments
from backends.remote_dialects import DIALECTS, OWNERS, Dialect
from backends.schema import ToolSpec


class RemoteError(BackendError):
    """The model server could not be used; the message says which server and why."""


class RemoteUnreachableError(RemoteError):
    """Nothing answers at the server's address."""


class RemoteTimeoutError(RemoteError):
    """The server took longer than the timeout."""


class RemoteProtocolError(RemoteError):
    """The server answered in a shape this backend does not expect."""


class RemoteCallError(RemoteError):
    """The server's model wrote a call that does not match its schema, twice. Not run."""


@dataclass(frozen=True)
class RemoteSettings:
    """Where the model server is and how to talk to it.

    Attributes:
        base_url: the server's OpenAI API root, e.g. ``http://127.0.0.1:8080/v1``.
        api_key: sent as ``Authorization: Bearer``; ``None`` for servers without one.
        model: the model id to ask for; ``None`` takes the first the server lists.
        timeout_s: longest wait for one answer.
        dialect: how to send the constraint (``tools``, ``llama.cpp``, ``vllm``); ``None``
            decides from what ``/v1/models`` says the server is (``tools`` when unknown).
        architecture: the model family, which picks how calls are written when they come
            back as text; ``None`` takes it from the server when it says (``callmemaybe
            serve`` does), plain JSON calls otherwise.
    """

    base_url: str
    api_key: str | None = None
    model: str | None = None
    timeout_s: float = 120.0
    dialect: str | None = None
    architecture: str | None = None


def _client_module() -> Any:
    try:
        import openai
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeNotInstalledError(
            "the remote backend needs the openai client: pip install 'openai'"
        ) from exc
    return openai


def to_openai_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The backend's messages in OpenAI's form: calls get ids and JSON-string arguments, and a
    tool result the id of the call it answers (the earliest unanswered call of its name)."""
    out: list[dict[str, Any]] = []
    unanswered: list[tuple[str, str]] = []  # (id, name)
    for index, message in enumerate(messages):
        item: dict[str, Any] = {"role": message.get("role"), "content": message.get("content")}
        if message.get("role") == "assistant" and message.get("tool_calls"):
            calls = []
            for number, call in enumerate(message["tool_calls"]):
                function = call.get("function", call)
                arguments = function.get("arguments", {})
                call_id = call.get("id") or f"call_{index}_{number}"
                calls.append(
                    {
                        "id": call_id,
                        "type": "function",
                        "function": {
                            "name": function.get("name"),
                            "arguments": arguments
                            if isinstance(arguments, str)
                            else json.dumps(arguments, ensure_ascii=False),
                        },
                    }
                )
                unanswered.append((call_id, str(function.get("name"))))
            item["tool_calls"] = calls
            # "" rather than null: llama-cpp-python's server refuses a null content (a 500
            # from its request model), and OpenAI and vLLM take either.
            item["content"] = message.get("content") or ""
        if message.get("role") == "tool":
            name = message.get("name")
            match = next(
                (c for c in unanswered if c[1] == name), unanswered[0] if unanswered else None
            )
            if message.get("tool_call_id"):
                item["tool_call_id"] = message["tool_call_id"]
            elif match is not None:
                item["tool_call_id"] = match[0]
            if match is not None:
                unanswered.remove(match)
            if name:
                item["name"] = name
        out.append(item)
    return out


class RemoteBackend(Backend):
    """A model served by an OpenAI-compatible server.

    Safe to share between threads: each request is one HTTP exchange.
    """

    name = "openai"
    supports_grammar = True  # the server enforces what its dialect can; calls are checked after
    supports_prefix_cache = False

    def __init__(self, settings: RemoteSettings) -> None:
        self.settings = settings
        self._client: Any = None
        self._model = settings.model or ""
        self._arch = settings.architecture or ""
        self._dialect: Dialect | None = None
        self.requests = 0  # chat requests sent, retries included

    # -- connecting ----------------------------------------------------------------------------

    def load(self, model_path: Path | None = None) -> None:
        """Connect: list the server's models, pick the model and the dialect.

        ``model_path`` is ignored (the model lives on the server).

        Raises:
            RemoteError: unreachable, slow, refused the key, or not an OpenAI-compatible API.
        """
        openai = _client_module()
        self._client = openai.OpenAI(
            base_url=self.settings.base_url,
            api_key=self.settings.api_key or "none",
            timeout=self.settings.timeout_s,
            max_retries=0,
        )
        listed = self._call(lambda: self._client.models.with_raw_response.list())
        models = listed.get("data") if isinstance(listed, dict) else None
        if not isinstance(models, list) or not all(isinstance(m, dict) for m in models):
            raise RemoteProtocolError(
                f"{self.settings.base_url}/models did not list models as an OpenAI-compatible "
                f"server does (got {_short(listed)})"
            )
        chosen = next((m for m in models if m.get("id") == self.settings.model), None)
        if self.settings.model and chosen is None:
            ids = ", ".join(str(m.get("id")) for m in models) or "none"
            raise RemoteError(
                f"the server at {self.settings.base_url} has no model {self.settings.model!r} "
                f"(it has: {ids})"
            )
        if chosen is None:
            if not models:
                raise RemoteError(f"the server at {self.settings.base_url} lists no models")
            chosen = models[0]
        self._model = str(chosen.get("id"))
        if not self._arch and isinstance(chosen.get("architecture"), str):
            self._arch = chosen["architecture"]
        dialect = self.settings.dialect or OWNERS.get(str(chosen.get("owned_by")), "tools")
        kind = DIALECTS.get(dialect)
        if kind is None:
            known = ", ".join(sorted(DIALECTS))
            raise RemoteError(f"unknown server dialect {dialect!r}; choose one of: {known}")
        self._dialect = kind()

    @property
    def model(self) -> str:
        """The model id the server serves this backend's requests with."""
        return self._model

    @property
    def dialect(self) -> str:
        """How the constraint is sent (see :mod:`backends.remote_dialects`)."""
        return self._dialect.name if self._dialect is not None else ""

    def describe(self) -> str:
        """One line for a status bar: which model, on which server."""
        return f"{self._model} on {self.settings.base_url}"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- what a local model would tokenize -----------------------------------------------------

    @property
    def architecture(self) -> str:
        return self._arch

    @property
    def call_format(self) -> CallFormat:
        return call_format_for(self._arch)

    def tokenize(self, text: str) -> list[int]:
        """An estimate: one "token" per UTF-8 byte (never fewer than the server counts)."""
        return list(text.encode("utf-8"))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return bytes(t & 0xFF for t in tokens).decode("utf-8", "replace")

    def render(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        add_generation_prompt: bool = True,
    ) -> str:
        """The request as JSON: the server renders the real prompt with its template."""
        return json.dumps(
            {
                "messages": to_openai_messages(messages),
                "tools": [t.to_openai() for t in tools or ()],
            },
            ensure_ascii=False,
        )

    # -- generating ----------------------------------------------------------------------------

    def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[GenerationEvent]:
        """Ask the server (once more if a call fails its schema); the text arrives whole.

        Raises:
            RemoteError: unreachable, timeout, refused, unexpected answer, or a call that
                failed its schema twice (:class:`RemoteCallError`).
            ContextOverflowError: the server says the prompt is too long.
            GenerationCancelled: ``cancel`` was set (the server's answer is dropped).
        """
        if self._client is None or self._dialect is None:
            raise BackendError("the remote backend is not connected (call load first)")
        options = options or GenerateOptions()
        enforced = options.constrain_to if options.constrain_to is not None else tools
        if not options.constrained:
            enforced = None
        ask = self._dialect.ask(tools, enforced, options, self.call_format)
        body: dict[str, Any] = {
            "model": self._model,
            "messages": to_openai_messages(messages),
            "max_tokens": options.max_tokens,
            "temperature": options.temperature,
            **ask.fields,
        }
        if options.temperature > 0:
            body["seed"] = options.seed
        if not options.constrained:
            body.pop("tool_choice", None)
        check_against = list(enforced or tools or ())
        problems: tuple[str, ...] = ()
        for _attempt in range(2):
            if cancel is not None and cancel.cancelled:
                raise GenerationCancelled("generation was cancelled")
            self.requests += 1
            data = self._call(
                lambda: self._client.chat.completions.with_raw_response.create(
                    **body, extra_body=ask.extra or None
                )
            )
            if cancel is not None and cancel.cancelled:
                raise GenerationCancelled("generation was cancelled")
            completion = self._completion(data, check_against, ask.calls_as_text, options)
            problems = tuple(
                f"{c.name}: {'; '.join(c.errors)}" for c in completion.tool_calls if not c.valid
            )
            if not problems or not options.constrained:
                if completion.text:
                    yield TextDelta(completion.text)
                yield completion
                return
        raise RemoteCallError(
            f"the model at {self.settings.base_url} wrote a call that does not match its "
            f"schema, twice; it was not run ({' | '.join(problems)})"
        )

    def _completion(
        self,
        data: Any,
        tools: Sequence[ToolSpec],
        calls_as_text: bool,
        options: GenerateOptions,
    ) -> Completion:
        """Read a ``chat.completion`` body; every call validated against its tool.

        Raises:
            RemoteProtocolError: the body is not a chat completion.
        """
        try:
            choice = data["choices"][0]
            message = choice["message"]
            content = message.get("content")
            finish = choice.get("finish_reason") or "stop"
            usage = data.get("usage") or {}
            if content is not None and not isinstance(content, str):
                raise TypeError("content is not a string")
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise RemoteProtocolError(
                f"the server at {self.settings.base_url} answered in a shape this backend "
                f"does not expect ({exc!s}; got {_short(data)})"
            ) from exc
        counts = {
            "prompt_tokens": int(usage.get("prompt_tokens") or 0),
            "completion_tokens": int(usage.get("completion_tokens") or 0),
            "cached_tokens": int(
                (usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
            ),
        }
        finish_reason = "length" if finish == "length" else "stop"
        if options.response_schema is not None or not tools:
            return Completion(
                text=(content or "").strip(),
                tool_calls=(),
                raw=content or "",
                finish_reason=finish_reason,
                timings=Timings(),
                **counts,
            )
        if calls_as_text:
            if finish_reason == "length" and starts_call(content or "", self.call_format):
                raise GenerationIncomplete(
                    f"the model used its whole budget of {options.max_tokens} tokens before "
                    "finishing the tool call; nothing was run",
                    partial_text=content or "",
                )
            return assemble(
                content or "", tools, self.call_format, finish_reason=finish_reason, **counts
            )
        calls = tuple(self._tool_call(c, tools) for c in message.get("tool_calls") or ())
        return Completion(
            text=None if calls else (content or "").strip(),
            tool_calls=calls,
            raw=content or json.dumps(message.get("tool_calls"), ensure_ascii=False),
            finish_reason=finish_reason,
            **counts,
        )

    def _tool_call(self, raw: Any, tools: Sequence[ToolSpec]) -> ToolCall:
        """One ``tool_calls`` entry, checked: a known tool, a JSON object, its schema."""
        try:
            function: Mapping[str, Any] = raw["function"]
            name = str(function["name"])
            text = function.get("arguments") or "{}"
        except (KeyError, TypeError) as exc:
            raise RemoteProtocolError(
                f"the server at {self.settings.base_url} sent a tool call without a function "
                f"name ({_short(raw)})"
            ) from exc
        try:
            arguments = json.loads(text) if isinstance(text, str) else text
        except json.JSONDecodeError:
            return ToolCall(name, {}, valid=False, errors=(f"arguments are not JSON: {text!r}",))
        tool = tools_by_name(tools).get(name)
        if tool is None:
            return ToolCall(name, {}, valid=False, errors=(f"unknown tool {name!r}",))
        if not isinstance(arguments, dict):
            return ToolCall(tool.name, {}, valid=False, errors=("arguments must be a JSON object",))
        errors = validate_arguments(tool, arguments)
        return ToolCall(tool.name, arguments, valid=not errors, errors=errors)

    def _call(self, request: Any) -> Any:
        """Run one client request; its JSON body, or the error said for a person.

        Raises:
            RemoteError and subclasses, ContextOverflowError.
        """
        openai = _client_module()
        url = self.settings.base_url
        try:
            raw = request()
        except openai.APITimeoutError as exc:
            raise RemoteTimeoutError(
                f"the model server at {url} did not answer within {self.settings.timeout_s:g} s"
            ) from exc
        except openai.APIConnectionError as exc:
            raise RemoteUnreachableError(
                f"cannot reach the model server at {url}: is it running? ({exc.__cause__ or exc})"
            ) from exc
        except openai.AuthenticationError as exc:
            raise RemoteError(f"the model server at {url} refused the API key") from exc
        except openai.APIStatusError as exc:
            message = _server_message(exc)
            if exc.status_code == 400 and "context" in message.lower():
                raise ContextOverflowError(f"the model server says: {message}") from exc
            raise RemoteError(
                f"the model server at {url} answered {exc.status_code}: {message}"
            ) from exc
        try:
            return raw.http_response.json()
        except ValueError as exc:
            raise RemoteProtocolError(
                f"the server at {url} did not answer with JSON: is it an OpenAI-compatible API?"
            ) from exc


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if isinstance(body.get("detail"), str):
            return body["detail"]
    return str(getattr(exc, "message", exc))


def _short(value: Any, limit: int = 200) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"
