"""Fixtures shared by every test.

Every test runs with its own empty data directory, so no test can read or damage the user's real
models, settings or store, and tests cannot leak state into each other through it. The tiny
random-weight GGUF stands in for the bundled model wherever the real llama.cpp loading, chat
template and decoding code should run without shipping weights.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny_model import build_tiny_gguf


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point ``CALLMEMAYBE_HOME`` at a fresh folder and keep Hugging Face tooling offline-quiet."""
    home = tmp_path / "home"
    monkeypatch.setenv("CALLMEMAYBE_HOME", str(home))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    return home


@pytest.fixture(scope="session")
def tiny_gguf_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny Qwen2-format GGUF (seed 0, default sizes), built once per test session.

    Tests must treat the file as read-only; build another with ``build_tiny_gguf`` to vary it.
    """
    return build_tiny_gguf(tmp_path_factory.mktemp("tiny_model") / "tiny-qwen2.gguf")
