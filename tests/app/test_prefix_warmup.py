"""The assistant's tool prefixes are computed in the background before a user needs them."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from app.prefix_warmup import ModelUse, PrefixWarmup, tool_sets
from backends.base import GenerateOptions
from backends.schema import ToolSpec, parse_tools
from tests.backends.test_backend_contract import make_backend


def _tool(name: str) -> dict:
    return {
        "name": name,
        "description": f"{name} things",
        "parameters": {"type": "object", "properties": {"what": {"type": "string"}}},
    }


SYSTEM = "You help with calendars and notes."
SPECS = parse_tools([_tool("calendar_add"), _tool("calendar_list"), _tool("notes_add")])


def _names(sets: list[list[ToolSpec]]) -> list[list[str]]:
    return [[t.name for t in tools] for tools in sets]


def test_tool_sets_are_the_connectors_the_assistant_offers_alone() -> None:
    assert _names(tool_sets(SPECS, 0)) == [["calendar_add", "calendar_list", "notes_add"]]
    assert _names(tool_sets(SPECS, 3)) == [["calendar_add", "calendar_list", "notes_add"]]
    assert _names(tool_sets(SPECS, 2)) == [["calendar_add", "calendar_list"], ["notes_add"]]
    assert tool_sets([], 2) == []


def test_first_request_of_each_kind_finds_its_prefix_ready(
    tiny_gguf_path: Path, tmp_path: Path
) -> None:
    """After the background warm-up, a fresh backend's first calendar request and first notes
    request both reuse their whole prefix instead of computing it."""
    warm = make_backend("llama.cpp", tiny_gguf_path, cache_dir=tmp_path / "kv")
    warmup = PrefixWarmup(warm, lambda: SPECS, limit=2, system=SYSTEM, delay_s=0)
    warmup.start()
    assert warmup.wait(timeout=120)
    warm.close()

    backend = make_backend("llama.cpp", tiny_gguf_path, cache_dir=tmp_path / "kv")
    try:
        for tools in tool_sets(SPECS, 2):
            messages = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": "hello"},
            ]
            prefix = backend.prefix_tokens(messages, tools)
            answer = backend.generate(messages, tools)
            assert answer.cached_tokens >= len(prefix) > 100, [t.name for t in tools]
    finally:
        backend.close()


def test_unchanged_tools_are_not_warmed_twice(tiny_gguf_path: Path, tmp_path: Path) -> None:
    backend = make_backend("llama.cpp", tiny_gguf_path, cache_dir=tmp_path / "kv")
    try:
        specs = list(SPECS[:2])
        warmup = PrefixWarmup(backend, lambda: specs, limit=2, system=SYSTEM, delay_s=0)
        warmup.start()
        assert warmup.wait(timeout=120)
        first = warmup._thread
        warmup.start()
        assert warmup._thread is first  # nothing new to compute
        specs.append(SPECS[2])  # a tool joined: its connector is warmed
        warmup.start()
        assert warmup._thread is not first
        assert warmup.wait(timeout=120)
    finally:
        backend.close()


def test_closing_soon_after_loading_does_not_wait_for_a_warm_up(tiny_gguf_path: Path) -> None:
    """A warm-up waits before computing anything, so the app starts (and quits) first."""
    backend = make_backend("llama.cpp", tiny_gguf_path)
    try:
        warmup = PrefixWarmup(backend, lambda: SPECS, limit=2, system=SYSTEM, delay_s=60)
        warmup.start()
        warmup.stop(timeout=5)
        assert warmup.wait(timeout=0)
        assert list(backend._cached_tokens()) == []
    finally:
        backend.close()


def _starts(records: list[logging.LogRecord]) -> list[float]:
    """When the warm-up began computing each prefix (wall-clock seconds)."""
    return [r.created for r in records if r.getMessage().startswith("computing the tool prefix")]


def test_no_prefix_starts_during_a_turn_or_right_after_it(
    tiny_gguf_path: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The user's turn has the model to itself (no prefix competes with its answer for the
    cores, the GIL or the model), and the connectors are warmed once the model rests."""
    caplog.set_level(logging.DEBUG, logger="app.prefix_warmup")
    backend = make_backend("llama.cpp", tiny_gguf_path, cache_dir=tmp_path / "kv")
    use = ModelUse()
    warmup = PrefixWarmup(
        backend, lambda: SPECS, limit=2, system=SYSTEM, delay_s=0, use=use, quiet_s=0.5
    )
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "hello"}]
    try:
        with use.turn():
            warmup.start()
            for _ in range(3):  # a turn's model calls, the model free between them
                backend.generate(messages, SPECS, options=GenerateOptions(max_tokens=4))
                time.sleep(0.2)
            assert not warmup.wait(timeout=0)  # still waiting for the user
            assert _starts(caplog.records) == []
        ended = time.time()
        assert warmup.wait(timeout=120)
        starts = _starts(caplog.records)
        assert len(starts) == 2  # each connector, once the model rested half a second
        assert min(starts) >= ended + 0.45
        for tools in tool_sets(SPECS, 2):  # and each is ready for its first request now
            prefix = backend.prefix_tokens(messages, tools)
            answer = backend.generate(messages, tools, options=GenerateOptions(max_tokens=4))
            assert answer.cached_tokens >= len(prefix) > 100, [t.name for t in tools]
    finally:
        warmup.stop(timeout=30)
        backend.close()


def test_quitting_during_a_turn_does_not_wait_for_the_warm_up(tiny_gguf_path: Path) -> None:
    """A warm-up waiting for the user's turn to end stops at once when the app quits."""
    backend = make_backend("llama.cpp", tiny_gguf_path)
    use = ModelUse()
    try:
        warmup = PrefixWarmup(backend, lambda: SPECS, limit=2, system=SYSTEM, delay_s=0, use=use)
        use.begin()  # a turn that never ends (the app quits in the middle of it)
        warmup.start()
        assert not warmup.wait(timeout=0.3)
        warmup.stop(timeout=5)
        assert warmup.wait(timeout=0)
        assert list(backend._cached_tokens()) == []
    finally:
        backend.close()
