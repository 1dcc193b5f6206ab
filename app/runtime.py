"""Opening the configured model runtime: the one place that wires settings to a backend.

Backends are looked up in a table of factories (no string if/elif chains), each importing its
runtime lazily so a missing extra fails with an install hint, not an ImportError at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.paths import cache_dir, models_dir
from app.settings import Settings
from backends.base import Backend
from backends.errors import BackendError
from backends.model_files import resolve_model

Progress = Callable[[int, int], None]


def _llama_cpp(settings: Settings) -> Backend:
    from backends.llamacpp import LlamaCppBackend, LlamaSettings

    return LlamaCppBackend(
        LlamaSettings(
            n_ctx=settings.context_tokens,
            n_threads=settings.threads,
            cache_dir=cache_dir() / "prefix",
        )
    )


BACKENDS: dict[str, Callable[[Settings], Backend]] = {
    "llama.cpp": _llama_cpp,
}


def model_path(settings: Settings, progress: Progress | None = None) -> Path:
    """The model file for ``settings.model``, joining or downloading it first if needed."""
    return resolve_model(settings.model, models_dir(), progress=progress)


def open_backend(settings: Settings, progress: Progress | None = None) -> Backend:
    """Create the configured backend and load its model.

    Raises:
        BackendError: unknown backend, or the model cannot be found, unpacked or loaded.
    """
    factory = BACKENDS.get(settings.backend)
    if factory is None:
        known = ", ".join(sorted(BACKENDS))
        raise BackendError(f"unknown backend {settings.backend!r}; choose one of: {known}")
    path = model_path(settings, progress)
    backend = factory(settings)
    backend.load(path)
    return backend
