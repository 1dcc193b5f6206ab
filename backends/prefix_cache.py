"""KV state of prompt prefixes, persisted across restarts.

The system prompt and tool definitions come first in every prompt and stay the same between
turns. Computing their KV state costs 5-6 s on a 2-core laptop for about a thousand tokens;
restoring it costs a fraction of a second. The runtime keeps it in memory within a process; this
store keeps the raw KV bytes (``llama_state_seq_get_data``, about 12 MB per thousand tokens, not
the 300 MB pickled ``LlamaState``) on disk, keyed by model and prefix, so the next start of the
app answers its first hotkey request as fast as the hundredth.

Files are written atomically (temporary name, then rename) and a file that fails its checksum is
deleted and treated as a miss: this is a cache, never a source of errors.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from backends.schema import ToolSpec

Message = Mapping[str, Any]

_MAGIC = b"CMMKV001"
_HEADER = struct.Struct("<8sI32s")  # magic, token count, sha256 of the payload


def prefix_key(model_id: str, tokens: Sequence[int]) -> str:
    """The cache key of a prefix: model identity plus the exact token ids."""
    digest = hashlib.sha256(model_id.encode())
    digest.update(struct.pack(f"<{len(tokens)}i", *tokens))
    return digest.hexdigest()[:40]


class PrefixCache:
    """A directory of saved prefix states.

    Args:
        directory: where the files go (created on first write).
        max_files: older files beyond this count are deleted after each write.
    """

    def __init__(self, directory: Path, *, max_files: int = 8) -> None:
        self.directory = directory
        self.max_files = max_files

    def _path(self, key: str) -> Path:
        return self.directory / f"{key}.kv"

    def load(self, key: str, n_tokens: int) -> bytearray | None:
        """The saved state for ``key``, or ``None`` when absent or damaged.

        Read straight into one writable buffer, which the runtime hands to llama.cpp without
        another copy (these are tens of megabytes on a machine where memory is the budget).
        """
        path = self._path(key)
        try:
            with path.open("rb") as handle:
                header = handle.read(_HEADER.size)
                payload = bytearray(max(0, os.fstat(handle.fileno()).st_size - _HEADER.size))
                got = handle.readinto(payload)
        except OSError:
            return None
        if len(header) < _HEADER.size or got != len(payload):
            path.unlink(missing_ok=True)
            return None
        magic, count, digest = _HEADER.unpack(header)
        if magic != _MAGIC or count != n_tokens or hashlib.sha256(payload).digest() != digest:
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # most recently used survives pruning
        return payload

    def save(
        self,
        key: str,
        n_tokens: int,
        payload: bytes | bytearray | memoryview,
        *,
        tokens: Sequence[int] | None = None,
    ) -> None:
        """Store ``payload`` atomically; failures (disk full, read-only) are ignored.

        With ``tokens`` (the prefix's ids) the state can also be found without knowing the
        prefix: :meth:`latest`, which a runtime uses to restore its last prefix while loading.
        """
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            header = _HEADER.pack(_MAGIC, n_tokens, hashlib.sha256(payload).digest())
            if tokens is not None:
                _write_atomic(self._ids_path(key), struct.pack(f"<{len(tokens)}i", *tokens))
            _write_atomic(self._path(key), header, payload)
        except OSError:
            return
        self._prune()

    def latest(self, belongs: Callable[[str, list[int]], bool]) -> tuple[str, list[int]] | None:
        """The most recently used state whose key and tokens ``belongs`` accepts (the key is
        the model's and the tokens' hash: :func:`prefix_key`), as ``(key, tokens)``."""
        try:
            files = sorted(
                self.directory.glob("*.kv"), key=lambda p: p.stat().st_mtime, reverse=True
            )
        except OSError:
            return None
        for path in files:
            try:
                raw = self._ids_path(path.stem).read_bytes()
            except OSError:
                continue
            tokens = list(struct.unpack(f"<{len(raw) // 4}i", raw[: len(raw) // 4 * 4]))
            if belongs(path.stem, tokens):
                return path.stem, tokens
        return None

    def _ids_path(self, key: str) -> Path:
        return self.directory / f"{key}.ids"

    def _prune(self) -> None:
        files = sorted(self.directory.glob("*.kv"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[self.max_files :]:
            old.unlink(missing_ok=True)
            self._ids_path(old.stem).unlink(missing_ok=True)


def _write_atomic(path: Path, *parts: bytes | bytearray | memoryview) -> None:
    """Write ``parts`` to ``path`` through a temporary file and a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for part in parts:
                handle.write(part)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class PrefixFinder:
    """Finds, once per (first system message, tools), the tokens every such prompt starts with.

    Found by rendering different continuations after the same system block (two user
    messages, and a second system message) and keeping their common tokens: whatever the
    template puts before the next message, tools included. Only the first system message
    counts: templates put the tools in its block, and a later one (the assistant's "Now: ..."
    line, which changes every minute) must not be part of the cached prefix.

    Args:
        prompt_tokens: the tokens of the rendered prompt for ``(messages, tools)``.
    """

    _ENDINGS: tuple[tuple[Message, ...], ...] = (
        ({"role": "user", "content": "A"},),
        ({"role": "user", "content": "Z"},),
        ({"role": "system", "content": "A"}, {"role": "user", "content": "A"}),
    )

    def __init__(
        self, prompt_tokens: Callable[[list[Message], Sequence[ToolSpec] | None], list[int]]
    ) -> None:
        self._prompt_tokens = prompt_tokens
        self._found: dict[tuple[str, str], list[int]] = {}

    def __call__(self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None) -> list[int]:
        system = leading_system(messages)[:1]
        key = (repr(system), repr([t.to_openai() for t in tools or ()]))
        found = self._found.get(key)
        if found is None:
            probes = [self._prompt_tokens([*system, *end], tools) for end in self._ENDINGS]
            shared = min(common_prefix(probes[0], probe) for probe in probes[1:])
            found = probes[0][:shared]
            self._found[key] = found
        return found


def leading_system(messages: Sequence[Message]) -> list[Message]:
    """The system messages at the start of ``messages``."""
    out = []
    for message in messages:
        if message.get("role") != "system":
            break
        out.append(message)
    return out


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share."""
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n
