"""The on-disk cache of prompt-prefix KV state.

It is a cache, never a source of errors: a damaged file is a miss (and is removed), a full or
read-only disk means nothing is stored, and it never grows past its file limit.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from backends.prefix_cache import PrefixCache, prefix_key

TOKENS = [151644, 8948, 198, 2610, 525]
PAYLOAD = bytes(range(256)) * 40


def _set_age(path: Path, seconds_ago: float) -> None:
    stamp = time.time() - seconds_ago
    os.utime(path, (stamp, stamp))


def test_save_then_load_round_trips(tmp_path: Path) -> None:
    """Saved bytes come back identical, and the directory is created on first save."""
    cache = PrefixCache(tmp_path / "kv" / "nested")
    key = prefix_key("qwen", TOKENS)
    cache.save(key, len(TOKENS), PAYLOAD)
    assert cache.load(key, len(TOKENS)) == PAYLOAD
    assert cache.load(key, len(TOKENS)) == PAYLOAD
    assert list((tmp_path / "kv" / "nested").glob("*.tmp")) == []


def test_empty_payload_round_trips(tmp_path: Path) -> None:
    """A zero-length state is stored and read back, not mistaken for damage."""
    cache = PrefixCache(tmp_path)
    cache.save("k", 0, b"")
    assert cache.load("k", 0) == b""


def test_save_replaces_an_older_state(tmp_path: Path) -> None:
    """Saving a key again overwrites it."""
    cache = PrefixCache(tmp_path)
    cache.save("k", 3, b"old")
    cache.save("k", 3, b"new")
    assert cache.load("k", 3) == b"new"


def test_missing_entry_or_directory_is_a_miss(tmp_path: Path) -> None:
    """Nothing saved yet, or no directory at all, is a plain miss."""
    assert PrefixCache(tmp_path / "absent").load("k", 1) is None
    cache = PrefixCache(tmp_path)
    cache.save("a", 1, b"x")
    assert cache.load("b", 1) is None


def test_key_depends_on_model_and_tokens() -> None:
    """Another model, other tokens, another order or another length never share a key."""
    key = prefix_key("qwen", TOKENS)
    assert key == prefix_key("qwen", list(TOKENS))
    assert len(key) == 40
    assert int(key, 16) >= 0
    others = {
        prefix_key("llama", TOKENS),
        prefix_key("qwen", TOKENS[:-1]),
        prefix_key("qwen", [*TOKENS, 0]),
        prefix_key("qwen", list(reversed(TOKENS))),
        prefix_key("qwen", [t + 1 for t in TOKENS]),
        prefix_key("qwen2", TOKENS),
    }
    assert key not in others
    assert len(others) == 6


def test_wrong_token_count_is_a_miss(tmp_path: Path) -> None:
    """A state saved for another prefix length is never restored."""
    cache = PrefixCache(tmp_path)
    cache.save("k", 5, PAYLOAD)
    assert cache.load("k", 4) is None
    assert cache.load("k", 6) is None


@pytest.mark.parametrize(
    "damage",
    ["flip payload byte", "truncate payload", "truncate header", "wrong magic", "empty file"],
)
def test_damaged_file_is_a_miss_and_is_deleted(tmp_path: Path, damage: str) -> None:
    """A file that fails its checks is removed so it cannot fail again."""
    cache = PrefixCache(tmp_path)
    cache.save("k", 5, PAYLOAD)
    path = tmp_path / "k.kv"
    data = bytearray(path.read_bytes())
    if damage == "flip payload byte":
        data[-100] ^= 0xFF
    elif damage == "truncate payload":
        data = data[:-1]
    elif damage == "truncate header":
        data = data[:20]
    elif damage == "wrong magic":
        data[0:8] = b"NOTKV999"
    else:
        data = bytearray()
    path.write_bytes(bytes(data))
    assert cache.load("k", 5) is None
    assert not path.exists()


def test_pruning_keeps_the_newest_files(tmp_path: Path) -> None:
    """After a save only ``max_files`` states remain: the most recently used ones."""
    cache = PrefixCache(tmp_path, max_files=3)
    for index in range(4):
        cache.save(f"k{index}", 1, b"x")
        _set_age(tmp_path / f"k{index}.kv", 100 - index)
    cache.save("k4", 1, b"x")
    assert sorted(p.name for p in tmp_path.glob("*.kv")) == ["k2.kv", "k3.kv", "k4.kv"]
    assert cache.load("k1", 1) is None
    assert cache.load("k4", 1) == b"x"


def test_loading_protects_a_file_from_pruning(tmp_path: Path) -> None:
    """A state just used survives over newer but unused ones."""
    cache = PrefixCache(tmp_path, max_files=2)
    cache.save("old", 1, b"a")
    _set_age(tmp_path / "old.kv", 100)
    cache.save("mid", 1, b"b")
    _set_age(tmp_path / "mid.kv", 50)
    assert cache.load("old", 1) == b"a"
    cache.save("new", 1, b"c")
    assert sorted(p.name for p in tmp_path.glob("*.kv")) == ["new.kv", "old.kv"]


def test_pruning_ignores_other_files(tmp_path: Path) -> None:
    """Only cache files are counted and deleted."""
    (tmp_path / "notes.txt").write_text("keep me")
    cache = PrefixCache(tmp_path, max_files=1)
    cache.save("a", 1, b"a")
    cache.save("b", 1, b"b")
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.glob("*.kv")] == ["b.kv"]


def test_save_into_read_only_directory_does_not_raise(tmp_path: Path) -> None:
    """A read-only cache folder means nothing is stored, silently."""
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running with privileges that ignore directory permissions")
        cache = PrefixCache(folder)
        cache.save("k", 1, b"x")
        assert cache.load("k", 1) is None
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o700)


def test_save_where_no_directory_can_exist_does_not_raise(tmp_path: Path) -> None:
    """A cache path that runs through a regular file cannot be created; save just gives up."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    cache = PrefixCache(blocker / "kv")
    cache.save("k", 1, b"x")
    assert cache.load("k", 1) is None


def test_failed_rename_leaves_no_temporary_file(tmp_path: Path) -> None:
    """If the final rename fails, the half-written temporary file is removed too."""
    (tmp_path / "k.kv").mkdir()  # a directory where the file should go
    cache = PrefixCache(tmp_path)
    cache.save("k", 1, b"x")
    assert list(tmp_path.glob("*.tmp")) == []
    assert cache.load("k", 1) is None


def test_permission_denied_on_write_does_not_raise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Permission errors while writing (a read-only folder, even for root) are swallowed."""

    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("backends.prefix_cache.tempfile.mkstemp", refuse)
    cache = PrefixCache(tmp_path)
    cache.save("k", 1, b"x")
    assert cache.load("k", 1) is None


def test_latest_state_is_found_by_its_tokens(tmp_path: Path) -> None:
    """The most recently used state that names its tokens, and belongs to the caller, is found;
    pruning takes its token list with it."""
    cache = PrefixCache(tmp_path, max_files=2)
    cache.save("older", 2, b"a", tokens=[1, 2])
    _set_age(tmp_path / "older.kv", 100)
    cache.save("newer", 3, b"b", tokens=[1, 2, 3])
    cache.save("unnamed", 1, b"c")  # saved without its tokens: not a candidate
    assert cache.latest(lambda key, tokens: True) == ("newer", [1, 2, 3])
    assert cache.latest(lambda key, tokens: key == "older") is None  # pruned meanwhile
    assert not (tmp_path / "older.ids").exists()
    assert PrefixCache(tmp_path / "absent").latest(lambda key, tokens: True) is None


def test_a_restarted_backend_has_its_last_prefix_ready_before_the_first_request(
    tiny_gguf_path: Path, tmp_path: Path
) -> None:
    """Loading restores the prefix used last, so the first request after a restart reads only
    its own words; a different model does not take another model's state."""
    from backends.schema import parse_tools
    from tests.backends.test_backend_contract import WEATHER, make_backend
    from tests.tiny_model import build_tiny_gguf

    tools = parse_tools([WEATHER])
    messages = [{"role": "system", "content": "You help."}, {"role": "user", "content": "Hi"}]
    first = make_backend("llama.cpp", tiny_gguf_path, cache_dir=tmp_path / "kv")
    try:
        first.warm_prefix(messages, tools)
        prefix = first.prefix_tokens(messages, tools)
    finally:
        first.close()

    second = make_backend("llama.cpp", tiny_gguf_path, cache_dir=tmp_path / "kv")
    try:
        assert list(second._cached_tokens()) == prefix  # before any request
        answer = second.generate(messages, tools)
        assert answer.cached_tokens >= len(prefix)
    finally:
        second.close()

    other = build_tiny_gguf(tmp_path / "other.gguf", seed=1)
    third = make_backend("llama.cpp", other, cache_dir=tmp_path / "kv")
    try:
        assert list(third._cached_tokens()) == []
    finally:
        third.close()
