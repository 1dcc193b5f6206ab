"""The HTTP application: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Built on FastAPI (Starlette underneath), served by uvicorn (:mod:`app.serve.run`). Each request
is checked and turned into a grammar before it queues (a schema the grammar cannot enforce is
a 400 with llguidance's reason, never a 500), then waits for the model worker. Every call in an
answer is checked against its tool's schema once more before it is sent; a call that fails is
never returned. Errors use OpenAI's error object, so OpenAI clients raise their usual
exceptions (``BadRequestError``, ``AuthenticationError``, ``RateLimitError``...).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse

from app.serve.protocol import ChatRequest
from app.serve.security import BodyLimit, bearer_matches, error_body
from app.serve.translate import (
    Plan,
    RequestError,
    call_deltas,
    chat_response,
    chunk,
    finish_reason,
    new_id,
    plan,
)
from app.serve.worker import ModelWorker, PromptTooLong, QueueFull, watch_disconnect
from backends.base import Backend, CancelToken
from backends.chat_template import ChatTemplateError
from backends.errors import (
    BackendError,
    ContextOverflowError,
    GenerationCancelled,
    GenerationIncomplete,
    GrammarError,
)
from backends.generation import CallDelta, Completion, TextDelta


@dataclass(frozen=True)
class ServeLimits:
    """What one client may ask of the server.

    Attributes:
        max_body_bytes: largest request body (a 413 beyond).
        max_prompt_tokens: longest rendered prompt (a 400 beyond).
        max_tokens: longest answer; a request may ask for less.
        max_queue: requests that may wait while one runs (a 429 with Retry-After beyond).
    """

    max_body_bytes: int = 1_000_000
    max_prompt_tokens: int = 8192
    max_tokens: int = 1024
    max_queue: int = 8


class _Unauthorized(Exception):
    """No key, or the wrong one."""


class InvalidCallError(BackendError):
    """A call the model wrote does not match its tool's schema (never sent to the client)."""


def _error(status: int, message: str, kind: str, **extra: Any) -> JSONResponse:
    headers = extra.pop("headers", None)
    return JSONResponse(error_body(message, kind, **extra), status_code=status, headers=headers)


def _failure(exc: BaseException) -> JSONResponse:
    """The HTTP answer for an error raised while serving a request."""
    if isinstance(exc, RequestError):
        return _error(400, str(exc), "invalid_request_error", param=exc.param, code=exc.code)
    if isinstance(exc, GrammarError):
        return _error(400, str(exc), "invalid_request_error", param="tools", code="invalid_schema")
    if isinstance(exc, ContextOverflowError | PromptTooLong):
        return _error(400, str(exc), "invalid_request_error", code="context_length_exceeded")
    if isinstance(exc, ChatTemplateError):
        return _error(400, str(exc), "invalid_request_error", param="messages")
    if isinstance(exc, QueueFull):
        return _error(
            429,
            str(exc),
            "rate_limit_error",
            code="queue_full",
            headers={"Retry-After": str(exc.retry_after)},
        )
    return _error(500, str(exc) or type(exc).__name__, "server_error")


def _checked(completion: Completion) -> Completion:
    """``completion`` if every call matches its schema.

    Raises:
        InvalidCallError: a call does not (the grammar should make this impossible).
    """
    bad = [c for c in completion.tool_calls if not c.valid]
    if bad:
        reasons = "; ".join(f"{c.name}: {', '.join(c.errors)}" for c in bad)
        raise InvalidCallError(f"the model wrote a call that does not match its schema ({reasons})")
    return completion


def create_app(
    backend: Backend,
    *,
    model_id: str,
    api_key: str | None = None,
    limits: ServeLimits | None = None,
) -> FastAPI:
    """The application serving ``backend`` (already loaded) as ``model_id``.

    Args:
        api_key: when set, every request must send ``Authorization: Bearer <api_key>``.
        limits: request, prompt, answer and queue bounds.
    """
    limits = limits or ServeLimits()
    worker = ModelWorker(
        backend, max_queue=limits.max_queue, max_prompt_tokens=limits.max_prompt_tokens
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        worker.close()

    app = FastAPI(title="Call-Me-Maybe", docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.worker = worker
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)

    async def authenticate(request: Request) -> None:
        if api_key and not bearer_matches(request.headers.get("authorization"), api_key):
            raise _Unauthorized

    @app.exception_handler(_Unauthorized)
    async def unauthorized(_request: Request, _exc: _Unauthorized) -> JSONResponse:
        return _error(
            401,
            "missing or wrong API key: send 'Authorization: Bearer KEY'",
            "invalid_request_error",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_body(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body')}: {e['msg']}" for e in exc.errors()
        )
        return _error(400, f"invalid request: {problems}", "invalid_request_error")

    @app.get("/v1/models", dependencies=[Depends(authenticate)])
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": model_id,
                    "object": "model",
                    "created": 0,
                    "owned_by": "callmemaybe",
                    "architecture": backend.architecture,
                }
            ],
        }

    @app.post("/v1/chat/completions", response_model=None, dependencies=[Depends(authenticate)])
    async def chat(body: ChatRequest, request: Request) -> Response:
        try:
            planned = plan(body, max_tokens=limits.max_tokens, call_format=backend.call_format)
        except RequestError as exc:
            return _failure(exc)
        cancel = CancelToken()
        try:
            events = worker.submit(planned, cancel)
        except QueueFull as exc:
            return _failure(exc)
        watcher = asyncio.create_task(watch_disconnect(request.is_disconnected, cancel))
        response_id = new_id("chatcmpl-")
        if body.stream:
            include_usage = bool(body.stream_options and body.stream_options.include_usage)
            return await _stream(
                events, planned, cancel, watcher, response_id, model_id, include_usage
            )
        try:
            completion = None
            async for event in events:
                if isinstance(event, Completion):
                    completion = event
        except GenerationCancelled:
            return Response(status_code=499)
        except GenerationIncomplete:
            completion = Completion(text=None, tool_calls=(), raw="", finish_reason="length")
        except Exception as exc:
            return _failure(exc)
        finally:
            watcher.cancel()
        if completion is None:  # pragma: no cover - the backend always ends with one
            return _error(500, "the model stopped without an answer", "server_error")
        try:
            return JSONResponse(chat_response(_checked(completion), model_id, response_id))
        except InvalidCallError as exc:
            return _failure(exc)

    return app


async def _stream(
    events: AsyncIterator[Any],
    planned: Plan,
    cancel: CancelToken,
    watcher: asyncio.Task[None],
    response_id: str,
    model_id: str,
    include_usage: bool,
) -> Response:
    """Answer with server-sent events once the first event is known.

    Waiting for the first event lets an error that comes before any output (a prompt too
    long, a grammar the runtime refuses) still be an HTTP error status. Text streams as it is
    decoded; calls are sent once decoded and checked (a call is only valid whole), as OpenAI's
    tool-call deltas.
    """
    try:
        first = await anext(events, None)
    except GenerationCancelled:
        watcher.cancel()
        return Response(status_code=499)
    except Exception as exc:
        watcher.cancel()
        return _failure(exc)

    def sse(data: dict[str, Any]) -> str:
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def body() -> AsyncIterator[str]:
        try:
            yield sse(chunk(response_id, model_id, {"role": "assistant", "content": ""}))
            async for event in _after(first, events):
                shown = isinstance(event, TextDelta) or (
                    isinstance(event, CallDelta) and planned.json_answer
                )
                if shown and event.text:
                    yield sse(chunk(response_id, model_id, {"content": event.text}))
                elif isinstance(event, Completion):
                    completion = _checked(event)
                    for delta in call_deltas(completion.tool_calls):
                        yield sse(chunk(response_id, model_id, delta))
                    finish = finish_reason(completion)
                    yield sse(chunk(response_id, model_id, {}, finish=finish))
                    if include_usage:
                        yield sse(chunk(response_id, model_id, None, usage_of=completion))
        except GenerationIncomplete:
            yield sse(chunk(response_id, model_id, {}, finish="length"))
        except GenerationCancelled:
            return
        except Exception as exc:  # headers are sent: the error travels as an event
            failure = _failure(exc)
            yield sse(json.loads(bytes(failure.body)))
            return
        finally:
            cancel.cancel()  # a client that left mid-stream stops the generation
            watcher.cancel()
        yield "data: [DONE]\n\n"

    return StreamingResponse(body(), media_type="text/event-stream")


async def _after(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """``first`` (unless ``None``), then the rest of the events."""
    if first is not None:
        yield first
    async for event in rest:
        yield event
