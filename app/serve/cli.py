"""The ``callmemaybe serve`` subcommand: its options and what it runs.

Kept apart from :mod:`app.cli` so the command's wiring there is two lines; the web stack
(FastAPI, uvicorn) is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable
from contextlib import closing
from typing import Any

from app.serve.security import UnsafeBindError, check_bind
from app.settings import Settings, SettingsError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


def add_parser(sub: Any, add_model_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add ``serve`` to the subcommands ``sub``."""
    serve = sub.add_parser(
        "serve",
        help="offer the model as an OpenAI-compatible endpoint (valid tool calls guaranteed)",
    )
    serve.add_argument("--host", default=DEFAULT_HOST, help="interface (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port (default: 8765)")
    serve.add_argument(
        "--api-key",
        dest="serve_api_key",
        metavar="KEY",
        default=None,
        help="require 'Authorization: Bearer KEY' (default: $CALLMEMAYBE_SERVE_KEY); "
        "needed to listen beyond loopback",
    )
    serve.add_argument(
        "--max-queue", type=int, default=8, help="requests that may wait (429 beyond; default 8)"
    )
    add_model_options(serve)


def command(
    args: argparse.Namespace,
    stack: contextlib.ExitStack,
    settings: Settings,
    open_backend: Callable[..., Any],
    progress: Callable[[int, int], None],
) -> int:
    """Load the model and serve it until interrupted."""
    from app.serve.app import ServeLimits
    from app.serve.run import model_id_for, serve

    api_key = args.serve_api_key or os.environ.get("CALLMEMAYBE_SERVE_KEY") or None
    try:
        check_bind(args.host, api_key)  # before the model loads: fail fast
    except UnsafeBindError as exc:
        raise SettingsError(str(exc)) from exc
    backend = stack.enter_context(closing(open_backend(settings, progress)))
    limits = ServeLimits(
        max_tokens=settings.max_tokens,
        max_prompt_tokens=getattr(backend, "n_ctx", 8192),
        max_queue=max(0, args.max_queue),
    )
    serve(
        backend,
        model_id=model_id_for(settings.model),
        host=args.host,
        port=args.port,
        api_key=api_key,
        limits=limits,
    )
    return 0
