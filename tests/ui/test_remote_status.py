"""The window's status bar says where a remote model runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.serve.run import serving_in_thread as serving


def test_the_status_bar_names_the_remote_server(
    qtbot: Any, make_desktop: Any, tiny_gguf_path: Path
) -> None:
    from app.runtime import open_backend
    from app.serve.app import create_app
    from app.settings import Settings
    from backends.llamacpp import LlamaCppBackend, LlamaSettings

    model = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1))
    model.load(tiny_gguf_path)
    try:
        with serving(create_app(model, model_id="tiny")) as url:
            settings = Settings(backend="openai", base_url=url + "/v1")
            desktop = make_desktop(lambda progress: open_backend(settings, progress), settings)
            with qtbot.waitSignal(desktop.bridge.modelReady, timeout=60_000):
                desktop.start()
            status = desktop.window.model_status.text()
            desktop.bridge.shutdown()
    finally:
        model.close()
    assert status == f"Model ready: tiny on {url}/v1."
