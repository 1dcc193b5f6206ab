"""What only the llama.cpp backend does: reading GGUF files, its context cap, AMX processors.

The behaviour every backend shares (templates, streaming, the grammar on random weights, cache
reuse, cancelling, budgets, the disk prefix cache) is tested once for all backends in
``test_backend_contract.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import GenerateOptions
from backends.errors import ModelFileError
from backends.llamacpp import LlamaCppBackend, LlamaSettings, cpu_has_amx
from backends.schema import parse_tools


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


WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 12}},
            "required": ["city"],
        },
    },
}
_SAPPHIRE_RAPIDS_FLAGS = "fpu vme avx2 avx512f avx512_vnni amx_bf16 amx_tile amx_int8 arch_lbr"


@pytest.mark.parametrize(
    ("cpuinfo", "expected"),
    [
        (f"processor\t: 0\nflags\t\t: {_SAPPHIRE_RAPIDS_FLAGS}\n", True),
        ("processor\t: 0\nflags\t\t: fpu vme avx2 avx512f avx512_vnni\n", False),
        ("processor\t: 0\nmodel name\t: amx_tile lookalike\nflags\t\t: fpu avx2\n", False),
    ],
)
def test_amx_is_read_from_the_processor_flags(tmp_path: Path, cpuinfo: str, expected: bool) -> None:
    """Only the flags line counts (a model name that mentions it does not)."""
    path = tmp_path / "cpuinfo"
    path.write_text(cpuinfo)
    assert cpu_has_amx(path) is expected


def test_no_cpuinfo_means_no_amx(tmp_path: Path) -> None:
    """macOS and Windows have no /proc/cpuinfo: the model loads as llama.cpp chooses."""
    assert cpu_has_amx(tmp_path / "missing") is False


def test_model_without_extra_buffers_answers_the_same(tiny_gguf_path: Path) -> None:
    """Switching llama.cpp's AMX and repacked buffers off (what an AMX processor gets, where
    llama.cpp's AMX code crashes) changes no answer, and later loads get llama.cpp's default
    parameters back."""
    import llama_cpp

    tools = parse_tools([WEATHER])
    options = GenerateOptions(allow_text=False, max_tokens=200)
    messages = [{"role": "system", "content": "You help."}, {"role": "user", "content": "Paris?"}]
    raws = []
    for extra in (True, False):
        backend = LlamaCppBackend(LlamaSettings(n_threads=1, extra_buffers=extra))
        backend.load(tiny_gguf_path)
        try:
            assert backend.llm.model_params.use_extra_bufts is extra
            raws.append(backend.generate(messages, tools, options=options).raw)
        finally:
            backend.close()
    assert raws[0] == raws[1]
    assert llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts is True
