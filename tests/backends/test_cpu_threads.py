"""The decoding thread count follows the machine's idle cores, and a setting overrides it."""

from __future__ import annotations

from pathlib import Path

import psutil

from backends.cpu_threads import idle_threads, threads_for
from backends.llamacpp import LlamaCppBackend, LlamaSettings


def test_a_busy_core_is_not_given_a_thread() -> None:
    """Two cores, one of them taken by another program: one thread, not two."""
    assert threads_for([97.0, 3.0], physical=2) == 1
    assert threads_for([10.0, 5.0], physical=2) == 2
    assert threads_for([100.0, 100.0], physical=2) == 1  # never none


def test_hyper_threads_and_the_upper_bound_limit_the_count() -> None:
    assert threads_for([0.0] * 8, physical=4) == 4
    assert threads_for([0.0] * 16, physical=16) == 4


def test_measured_count_fits_this_machine() -> None:
    measured = idle_threads(window_s=0.05)
    assert 1 <= measured <= min(4, psutil.cpu_count(logical=False) or 1)


def test_setting_overrides_the_measured_count(tiny_gguf_path: Path) -> None:
    backend = LlamaCppBackend(LlamaSettings(n_ctx=512, n_threads=3))
    backend.load(tiny_gguf_path)
    try:
        assert backend.n_threads == 3
        assert backend.llm.context_params.n_threads == 3
    finally:
        backend.close()


def test_without_a_setting_the_model_loads_with_the_idle_cores(tiny_gguf_path: Path) -> None:
    backend = LlamaCppBackend(LlamaSettings(n_ctx=512))
    backend.load(tiny_gguf_path)
    try:
        assert 1 <= backend.n_threads <= 4
        assert backend.llm.context_params.n_threads == backend.n_threads
    finally:
        backend.close()
