"""The MLX runtime (mlx-lm): Apple Silicon's native backend, also run for real on Linux CPUs.

mlx-lm provides the model, its forward pass and its KV cache; the decode loop is the shared
one (:func:`backends.speculation.decode`, as for llama.cpp): the grammar decision is the shared
:class:`~backends.decoding.TokenChooser` on the model's logits turned into numpy rows, the tokens
the grammar forces are evaluated in one batch, and copy-speculation drafts are checked in the
same batch, a refused draft cut from the cache with mlx-lm's ``trim_prompt_cache``.
``llguidance.mlx`` is not used: its mask kernel needs Metal, so it fails on Linux, where CI
runs this backend on the CPU (``mlx[cpu]``).

The KV cache is reused across requests (trimmed to the longest common prefix) and the
system-and-tools prefix is saved per (model, prefix) through
:class:`~backends.prefix_cache.PrefixCache`, as with llama.cpp, so a restarted app skips the
prompt read.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backends.base import CancelToken, GenerateOptions, Message
from backends.chat_template import ChatTemplate
from backends.errors import (
    BackendError,
    ModelFileError,
    RuntimeNotInstalledError,
)
from backends.generation import GenerationEvent
from backends.local import LocalBackend
from backends.prefix_cache import PrefixFinder
from backends.schema import ToolSpec

# Special tokens that end a turn, as llama.cpp recognises them by text (its "end of generation"
# set); the tokenizer's own eos ids are always included.
END_OF_TURN_TEXTS = frozenset(
    {"<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<|end_of_text|>", "<end_of_turn>", "<|end|>"}
)
FORCED_BATCH_MIN = 3
"""Forced runs at least this long are fed as one prefill batch (two passes instead of N)."""


def _import_mlx() -> tuple[Any, Any]:
    """``(mlx.core, mlx_lm)``, or a clear error naming the extra to install."""
    # transformers (mlx-lm's tokenizer loader) announces on import that torch is absent: it is
    # not needed here, and the user should not see that line.
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        import mlx.core as mx
        import mlx_lm
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeNotInstalledError(
            "MLX is not installed: pip install 'call-me-maybe[mlx]'"
        ) from exc
    if not hasattr(mx, "array"):  # pragma: no cover - Linux without mlx[cpu]
        raise RuntimeNotInstalledError(
            "this MLX install is the empty Linux stub: pip install 'call-me-maybe[mlx]'"
        )
    return mx, mlx_lm


def mlx_available() -> bool:
    """Whether a working MLX and mlx-lm are importable (without importing them for long)."""
    try:
        _import_mlx()
    except RuntimeNotInstalledError:
        return False
    return True


@dataclass(frozen=True)
class MlxSettings:
    """Runtime settings of the MLX backend.

    Attributes:
        n_ctx: context window in tokens (prompt plus answer), capped at the model's own.
        prefill_step: prompt tokens evaluated per forward pass.
        cache_dir: where prompt-prefix KV states persist across restarts (``None``: memory only).
    """

    n_ctx: int = 4096
    prefill_step: int = 512
    cache_dir: Path | None = None


class MlxBackend(LocalBackend):
    """An mlx-lm model folder (``config.json``, safetensors, tokenizer) run by MLX.

    Not safe for concurrent generations: one generation at a time holds the model (others wait).
    """

    name = "mlx"

    def __init__(self, settings: MlxSettings | None = None) -> None:
        self.settings = settings or MlxSettings()
        super().__init__(self.settings.n_ctx, self.settings.cache_dir)
        self._model: Any = None
        self._tokenizer: Any = None
        self._n_vocab = 0
        self._n_text_tokens = 0
        self._cache: list[Any] = []
        self._cached: list[int] = []  # the tokens whose keys and values `_cache` holds

    # -- loading -------------------------------------------------------------------------------

    def load(self, model_path: Path) -> None:
        """Load an mlx-lm model folder.

        Raises:
            ModelFileError: not a folder mlx-lm can load, or no chat template.
            RuntimeNotInstalledError: the ``mlx`` extra is not installed.
        """
        mx, _ = _import_mlx()
        import llguidance.hf
        from mlx_lm.models.cache import make_prompt_cache
        from mlx_lm.utils import load_model, load_tokenizer

        folder = Path(model_path)
        config = _read_config(folder)
        try:
            model, config = load_model(folder)
            tokenizer = load_tokenizer(folder, eos_token_ids=config.get("eos_token_id"))
        except (OSError, ValueError, KeyError) as exc:
            raise ModelFileError(f"MLX could not load {folder}: {exc}") from exc
        template = tokenizer.chat_template
        if not isinstance(template, str) or not template.strip():
            raise ModelFileError(f"{folder.name} has no chat template in its tokenizer files")
        self.close()
        self._model, self._tokenizer = model, tokenizer
        self._arch = str(config.get("model_type", ""))
        trained = int(config.get("max_position_embeddings") or self.settings.n_ctx)
        self.n_ctx = min(self.settings.n_ctx, trained)
        hf = tokenizer._tokenizer
        self._n_text_tokens = len(hf)
        self._n_vocab = max(int(config.get("vocab_size") or 0), self._n_text_tokens)
        ends = {i for i, t in hf.added_tokens_decoder.items() if str(t) in END_OF_TURN_TEXTS}
        self._eog = frozenset(set(tokenizer.eos_token_ids) | ends)
        self._pieces = {}
        # No "slices", as for llama.cpp: a full mask is computed only when the grammar refuses
        # the model's top token.
        self._lltokenizer = llguidance.hf.from_tokenizer(
            hf, n_vocab=self._n_vocab, eos_token=sorted(self._eog), slices=[]
        )
        self._template = ChatTemplate(
            template, bos_token=hf.bos_token or "", eos_token=hf.eos_token or ""
        )
        self._model_id = "|".join(
            [str(folder.resolve()), *_fingerprint(folder), str(self.n_ctx), mx.__version__]
        )
        self._cache = make_prompt_cache(model)
        self._cached = []
        self._prefixes = PrefixFinder(lambda m, t: self.tokenize(self.render(m, t)))
        self._restore_latest()

    def close(self) -> None:
        """Free the model (MLX releases its buffers once nothing refers to them)."""
        self._model = None
        self._cache = []
        self._cached = []

    @property
    def model(self) -> Any:
        """The loaded mlx-lm model."""
        if self._model is None:
            raise BackendError("no model is loaded")
        return self._model

    # -- text ----------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        if self._tokenizer is None:
            raise BackendError("no model is loaded")
        return list(self._tokenizer.encode(text, add_special_tokens=False))

    def _piece(self, token: int) -> bytes:
        """The bytes of one token, special tokens as their text (as llama.cpp's pieces)."""
        piece = self._pieces.get(token)
        if piece is None:
            in_tokenizer = 0 <= token < self._n_text_tokens
            piece = self._lltokenizer.decode_bytes([token]) if in_tokenizer else b""
            self._pieces[token] = piece
        return piece

    # -- KV cache ------------------------------------------------------------------------------

    def _cached_tokens(self) -> Sequence[int]:
        return self._cached

    def _evaluate(self, keep: int, tokens: Sequence[int]) -> None:
        self._trim(keep)
        self._feed(tokens)

    def _feed(self, tokens: Sequence[int]) -> None:
        """Evaluate ``tokens`` into the cache without sampling (a prompt prefill)."""
        mx, _ = _import_mlx()
        step = self.settings.prefill_step
        for start in range(0, len(tokens), step):
            chunk = list(tokens[start : start + step])
            self.model(mx.array(chunk)[None], cache=self._cache)
            mx.eval([c.state for c in self._cache])
            self._cached.extend(chunk)

    def _trim(self, keep: int) -> None:
        """Drop cached tokens past ``keep`` (or everything, for caches that cannot be trimmed)."""
        from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

        extra = len(self._cached) - keep
        if extra <= 0:
            return
        if can_trim_prompt_cache(self._cache):
            trim_prompt_cache(self._cache, extra)
            del self._cached[keep:]
        else:
            self._cache = make_prompt_cache(self.model)
            self._cached = []

    def _save(self, key: str, prefix: list[int]) -> None:
        """Write the cache's keys and values (exactly ``prefix``) to the disk cache."""
        mx, _ = _import_mlx()
        if self._prefix_cache is None or not _plain_kv(self._cache):
            return
        n = len(prefix)
        arrays = {}
        for i, layer in enumerate(self._cache):
            arrays[f"{i}.keys"] = layer.keys[..., :n, :]
            arrays[f"{i}.values"] = layer.values[..., :n, :]
        buffer = io.BytesIO()
        mx.save_safetensors(buffer, arrays)
        self._prefix_cache.save(key, n, buffer.getbuffer(), tokens=prefix)

    def _restore(self, key: str, prefix: list[int]) -> bool:
        mx, _ = _import_mlx()
        assert self._prefix_cache is not None
        if not _plain_kv(self._cache):
            return False
        payload = self._prefix_cache.load(key, len(prefix))
        if payload is None:
            return False
        try:
            arrays = mx.load(io.BytesIO(payload), format="safetensors")
            states = [(arrays[f"{i}.keys"], arrays[f"{i}.values"]) for i in range(len(self._cache))]
        except (KeyError, ValueError, RuntimeError):
            return False
        for layer, (keys, values) in zip(self._cache, states, strict=True):
            layer.state = (keys, values, len(prefix))
        self._cached = list(prefix)
        return True

    # -- generation ----------------------------------------------------------------------------

    def _resync(self) -> None:
        """Make the token record match what the cache holds, whatever stopped the generation."""
        offset = self._cache[0].offset if self._cache and hasattr(self._cache[0], "offset") else 0
        if offset <= len(self._cached):
            del self._cached[offset:]
        else:  # pragma: no cover - a cache ahead of the record cannot be trusted
            from mlx_lm.models.cache import make_prompt_cache

            self._cache = make_prompt_cache(self.model)
            self._cached = []

    def _decode(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None,
        tokens: list[int],
        matcher: Any,
        options: GenerateOptions,
        cancel: CancelToken | None,
    ) -> Iterator[GenerationEvent]:
        try:
            yield from self._run(messages, tools, tokens, matcher, options, cancel)
        finally:
            self._resync()

    def _truncate(self, keep: int) -> None:
        self._trim(keep)

    def _can_truncate(self) -> bool:
        from mlx_lm.models.cache import can_trim_prompt_cache

        return bool(self._cache) and can_trim_prompt_cache(self._cache)

    def _forward(self, tokens: Sequence[int], first_row: int) -> list[np.ndarray]:
        """Run the model over ``tokens`` in chunks of ``prefill_step``, keeping the logits of
        ``tokens[first_row:]`` as float32 numpy rows (the grammar and the chooser work in numpy,
        as for llama.cpp)."""
        mx, _ = _import_mlx()
        step = self.settings.prefill_step
        rows: list[np.ndarray] = []
        for start in range(0, len(tokens), step):
            chunk = list(tokens[start : start + step])
            logits = self.model(mx.array(chunk)[None], cache=self._cache)
            low = max(0, first_row - start)
            if low < len(chunk):
                out = logits[0, low:].astype(mx.float32)
                mx.eval(out)
                rows.extend(np.array(out))
            else:
                mx.eval([c.state for c in self._cache])
            self._cached.extend(chunk)
        return rows


def _plain_kv(cache: list[Any]) -> bool:
    """Whether every layer is a plain ``KVCache`` (what the disk format stores)."""
    from mlx_lm.models.cache import KVCache

    return bool(cache) and all(type(layer) is KVCache for layer in cache)


def _read_config(folder: Path) -> dict[str, Any]:
    if not folder.is_dir():
        raise ModelFileError(
            f"{folder} is not an MLX model folder (config.json, *.safetensors, tokenizer.json)"
        )
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelFileError(f"{folder} has no config.json: not an MLX model folder") from exc
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"cannot read {folder / 'config.json'}: {exc}") from exc


def _fingerprint(folder: Path) -> list[str]:
    """Size and modification time of every weights and config file: a changed model, a new id."""
    parts = []
    for path in [*sorted(folder.glob("*.safetensors")), folder / "config.json"]:
        stat = path.stat()
        parts.append(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return parts
