"""Starting the endpoint: load the configured model, then serve it with uvicorn.

The model is the one the settings choose (``--model``, ``--backend``), loaded once; uvicorn
runs one process and the model worker one generation at a time, which is what one model in
one memory can do. To serve several users at once, run a server made for batching (vLLM) and
point the assistants at it (docs/SCALING.md).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePosixPath
from typing import Any

from app.serve.app import ServeLimits, create_app
from app.serve.security import check_bind
from backends.base import Backend


def model_id_for(model_setting: str) -> str:
    """The id ``/v1/models`` lists: the model file's name (``qwen.gguf``: ``qwen``), the hub
    file's, or the setting itself (``bundled``)."""
    spec = model_setting.strip().split("@", 1)[0]
    if spec.startswith("hf:") or spec.endswith(".gguf") or "/" in spec:
        name = PurePosixPath(spec.removeprefix("hf:").replace("\\", "/")).name
        return name.removesuffix(".gguf") or "callmemaybe"
    return spec or "callmemaybe"


def serve(
    backend: Backend,
    *,
    model_id: str,
    host: str,
    port: int,
    api_key: str | None = None,
    limits: ServeLimits | None = None,
) -> None:
    """Serve ``backend`` until interrupted.

    Raises:
        UnsafeBindError: ``host`` is not loopback and there is no ``api_key``.
    """
    check_bind(host, api_key)
    import uvicorn

    app = create_app(backend, model_id=model_id, api_key=api_key, limits=limits)
    print(f"Serving {model_id} on http://{host}:{port}/v1", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


@contextmanager
def serving_in_thread(app: Any, host: str = "127.0.0.1") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free port of ``host`` in a thread of this process (for
    tests and benchmarks that hold the backend themselves); yields its root URL. Stops when the
    ``with`` block ends."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=0, log_level="error"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
