"""Opening the configured model runtime: the one place that wires settings to a backend.

Backends are looked up in a table (no string if/elif chains): each entry makes the backend and
turns the model setting into the files that runtime reads (a GGUF for llama.cpp, an mlx-lm
folder for MLX), importing its runtime lazily so a missing extra fails with an install hint,
not an ImportError at start-up. ``auto`` picks MLX on Apple Silicon when the ``mlx`` extra is
installed, llama.cpp everywhere else.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.paths import cache_dir, models_dir
from app.settings import Settings
from backends.base import Backend
from backends.errors import BackendError, ModelDownloadError, ModelFileError
from backends.mlx_convert import is_apple_silicon
from backends.model_files import resolve_model

Progress = Callable[[int, int], None]
AUTO = "auto"


@dataclass(frozen=True)
class BackendKind:
    """How to open one runtime.

    Attributes:
        make: a backend configured from the settings (its model not loaded yet).
        resolve: the model setting to a local path this runtime loads.
    """

    make: Callable[[Settings], Backend]
    resolve: Callable[[str, Path, Progress | None], Path]


def _llama_cpp(settings: Settings) -> Backend:
    from backends.llamacpp import LlamaCppBackend, LlamaSettings

    return LlamaCppBackend(
        LlamaSettings(
            n_ctx=settings.context_tokens,
            n_threads=settings.threads,
            cache_dir=cache_dir() / "prefix",
        )
    )


def _mlx(settings: Settings) -> Backend:
    from backends.mlxlm import MlxBackend, MlxSettings

    return MlxBackend(MlxSettings(n_ctx=settings.context_tokens, cache_dir=cache_dir() / "prefix"))


def _remote(settings: Settings) -> Backend:
    from backends.remote import RemoteBackend, RemoteSettings

    if not settings.base_url:
        raise BackendError(
            "the 'openai' backend needs the model server's address: --base-url URL "
            "(e.g. http://127.0.0.1:8765/v1) or base_url in the settings"
        )
    model = settings.model.strip()
    return RemoteBackend(
        RemoteSettings(
            base_url=settings.base_url,
            api_key=settings.api_key or os.environ.get("CALLMEMAYBE_API_KEY") or None,
            model=None if model in ("", "bundled") else model,
        )
    )


def _resolve_remote(spec: str, models: Path, progress: Progress | None) -> Path:
    """Nothing to resolve: the model lives on the server (the backend names it)."""
    return Path(spec)


def _resolve_mlx(spec: str, models: Path, progress: Progress | None) -> Path:
    from backends.mlx_models import resolve_mlx_model

    return resolve_mlx_model(spec, models, progress)


BACKENDS: dict[str, BackendKind] = {
    "llama.cpp": BackendKind(_llama_cpp, resolve_model),
    "mlx": BackendKind(_mlx, _resolve_mlx),
    "openai": BackendKind(_remote, _resolve_remote),
}


def backend_name(settings: Settings) -> str:
    """The runtime the settings ask for, with ``auto`` decided for this machine."""
    if settings.backend != AUTO:
        return settings.backend
    mlx_installed = importlib.util.find_spec("mlx_lm") is not None
    return "mlx" if is_apple_silicon() and mlx_installed else "llama.cpp"


def _kind(settings: Settings) -> BackendKind:
    name = backend_name(settings)
    kind = BACKENDS.get(name)
    if kind is None:
        known = ", ".join([AUTO, *sorted(BACKENDS)])
        raise BackendError(f"unknown backend {name!r}; choose one of: {known}")
    return kind


LOCAL_MODEL_WAY_OUT = (
    "put a complete copy back, or choose another model in the settings "
    "('bundled' is the one that ships with the app)"
)


@contextmanager
def _way_out(settings: Settings) -> Iterator[None]:
    """A model file the user chose that is missing, cut short or not a model: the message
    also says what to do. (The bundled model is joined again by itself, and a download's
    errors say what to do already.)"""
    try:
        yield
    except ModelDownloadError:
        raise
    except ModelFileError as exc:
        if settings.model.strip() in ("", "bundled") or settings.model.startswith("hf:"):
            raise
        raise ModelFileError(f"{str(exc).rstrip('.')}; {LOCAL_MODEL_WAY_OUT}.") from exc


def model_path(settings: Settings, progress: Progress | None = None) -> Path:
    """The model for ``settings.model`` in the chosen runtime's format, made ready first
    (joined, downloaded or converted)."""
    with _way_out(settings):
        return _kind(settings).resolve(settings.model, models_dir(), progress)


def open_backend(settings: Settings, progress: Progress | None = None) -> Backend:
    """Create the configured backend and load its model.

    Raises:
        BackendError: unknown backend, or the model cannot be found, unpacked or loaded.
    """
    kind = _kind(settings)
    with _way_out(settings):
        path = kind.resolve(settings.model, models_dir(), progress)
        backend = kind.make(settings)
        backend.load(path)
    return backend
