"""llama.cpp finds a CPU backend whichever way it was built: native (registered statically) or
portable (``GGML_BACKEND_DL`` with one library per CPU level, loaded by
:mod:`backends.ggml_backends`). Each case runs in a fresh process, since the backend registry is
per process, and loads and runs the tiny model through the app's own backend.

With a portable build also: every variant library reports a score for this processor, the
baseline ``x64`` runs anywhere, and the one loaded is the best scored.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

llama_cpp = pytest.importorskip("llama_cpp")

from backends.ggml_backends import cpu_variant_libraries, variant_folders  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VARIANTS = [p for folder in variant_folders(llama_cpp) for p in cpu_variant_libraries(folder)]
PORTABLE = bool(VARIANTS)


def _python(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_installed_llama_cpp_runs_the_tiny_model(tiny_gguf_path: Path) -> None:
    code = f"""
import json
from backends.base import GenerateOptions
from backends.ggml_backends import loaded_cpu_variant
from backends.llamacpp import LlamaCppBackend, LlamaSettings
backend = LlamaCppBackend(LlamaSettings(n_ctx=512, n_threads=1))
backend.load({str(tiny_gguf_path)!r})
options = GenerateOptions(max_tokens=4)
done = backend.generate([{{"role": "user", "content": "hi"}}], options=options)
backend.close()
print(json.dumps({{"variant": loaded_cpu_variant(), "tokens": done.completion_tokens}}))
"""
    result = json.loads(_python(code))
    assert result["tokens"] > 0
    if PORTABLE:
        names = {p.name.split("libggml-cpu-")[1].split(".so")[0] for p in VARIANTS}
        assert result["variant"] in names
    else:
        assert result["variant"] is None


@pytest.mark.skipif(not PORTABLE, reason="llama.cpp here is a native build (no CPU variants)")
def test_each_variant_scores_this_processor_and_the_best_is_loaded() -> None:
    code = f"""
import ctypes, json
import llama_cpp
from backends.ggml_backends import ensure_cpu_backend, loaded_cpu_variant
ensure_cpu_backend(llama_cpp)
loaded = loaded_cpu_variant()
scores = {{}}
for path in {[str(p) for p in VARIANTS]!r}:
    lib = ctypes.CDLL(path)
    lib.ggml_backend_score.restype = ctypes.c_int
    scores[path.rsplit("libggml-cpu-", 1)[1].split(".so")[0]] = lib.ggml_backend_score()
print(json.dumps({{"scores": scores, "loaded": loaded}}))
"""
    result = json.loads(_python(code))
    scores = result["scores"]
    assert scores["x64"] > 0, scores  # the baseline runs on every x86-64 processor
    best = max(scores, key=scores.get)
    assert result["loaded"] == best, scores
