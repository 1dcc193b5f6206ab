"""Who may reach the endpoint and how much they may send.

The model runs on the user's machine: by default only programs on that machine (loopback) can
reach it. Listening on any other interface needs an API key, which every request must present
as ``Authorization: Bearer KEY``, compared in constant time (``hmac.compare_digest``) so the
time of a refusal says nothing about the key. Request bodies are bounded before they are read
whole, so a client cannot fill the memory with one request.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class UnsafeBindError(ValueError):
    """Listening beyond loopback was asked for without an API key."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name resolves to who knows what: treat it as public


def check_bind(host: str, api_key: str | None) -> None:
    """Refuse to listen beyond loopback without a key.

    Raises:
        UnsafeBindError: ``host`` is not loopback and ``api_key`` is empty.
    """
    if not is_loopback(host) and not api_key:
        raise UnsafeBindError(
            f"listening on {host} lets other machines use the model: pass --api-key KEY "
            "(clients then send 'Authorization: Bearer KEY'), or keep the default 127.0.0.1"
        )


def bearer_matches(header: str | None, api_key: str) -> bool:
    """Whether an ``Authorization`` header carries ``api_key`` (constant-time comparison)."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer":
        token = ""
    return hmac.compare_digest(token.strip().encode("utf-8"), api_key.encode("utf-8"))


class BodyLimit:
    """ASGI middleware: a request body longer than ``max_bytes`` gets a 413, whether it
    announces its length or streams in chunks, and is never read past the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._refuse(send)
                return
        seen = 0
        too_long = False

        async def bounded() -> Message:
            nonlocal seen, too_long
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_long = True
                    raise _TooLarge
            return message

        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, watched)
        except _TooLarge:
            if not started:
                await self._refuse(send)
        except Exception:
            if too_long and not started:
                await self._refuse(send)
            else:
                raise

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            error_body(
                f"the request body is larger than {self.max_bytes} bytes",
                "invalid_request_error",
                code="request_too_large",
            )
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def error_body(
    message: str, kind: str, *, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error object, which its clients turn into typed exceptions."""
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
