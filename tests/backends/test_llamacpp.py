"""What only the llama.cpp backend does: reading GGUF files and its context cap.

The behaviour every backend shares (templates, streaming, the grammar on random weights, cache
reuse, cancelling, budgets, the disk prefix cache) is tested once for all backends in
``test_backend_contract.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.errors import ModelFileError
from backends.llamacpp import LlamaCppBackend, LlamaSettings


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    """Pointing at a file that is not there says so."""
    with pytest.raises(ModelFileError):
        LlamaCppBackend().load(tmp_path / "nope.gguf")


def test_truncated_model_file_is_a_clear_error(tiny_gguf_path: Path, tmp_path: Path) -> None:
    """A GGUF cut short (an interrupted copy) is refused before llama.cpp touches it."""
    truncated = tmp_path / "cut.gguf"
    data = tiny_gguf_path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        LlamaCppBackend().load(truncated)


def test_context_is_capped_at_what_the_model_was_trained_for(tiny_gguf_path: Path) -> None:
    """Asking for more context than the model knows gives the trained length, not garbage."""
    wide = LlamaCppBackend(LlamaSettings(n_ctx=8192, n_threads=1))
    wide.load(tiny_gguf_path)
    try:
        assert wide.n_ctx == 2048
        assert wide.llm.n_ctx() == 2048
    finally:
        wide.close()
