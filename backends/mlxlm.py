"""The MLX runtime (mlx-lm): Apple Silicon's native backend, also run for real on Linux CPUs.

Decoding goes through mlx-lm's own ``generate_step`` with a logits processor, so mlx-lm keeps
the forward passes, the KV cache and the prompt prefill; the grammar decision is the shared
:class:`~backends.decoding.TokenChooser` (the llama.cpp backend's, with the same fast path,
call-shape nudges, loop breaker and conflict flags), and the processor applies it to mlx-lm's
logits with plain mx operations. ``llguidance.mlx`` is not used: its mask kernel needs Metal,
so it fails on Linux, where CI runs this backend on the CPU (``mlx[cpu]``).

Tokens the grammar forces after a choice are fed as one prefill batch through a fresh
``generate_step`` over the same cache, instead of one forward pass each. The KV cache is
reused across requests (trimmed to the longest common prefix) and the system-and-tools prefix
is saved per (model, prefix) through :class:`~backends.prefix_cache.PrefixCache`, as with
llama.cpp, so a restarted app skips the prompt read.
"""

from __future__ import annotations

import io
import json
import os
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from backends.base import CancelToken, GenerateOptions, Message
from backends.chat_template import ChatTemplate
from backends.decoding import Step, TokenChooser
from backends.errors import (
    BackendError,
    GenerationCancelled,
    ModelFileError,
    RuntimeNotInstalledError,
)
from backends.generation import FinishReason, GenerationEvent
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
        self._prefix_cache.save(key, n, buffer.getbuffer())

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
            yield from self._generate(messages, tools, tokens, matcher, options, cancel)
        finally:
            self._resync()

    def _generate(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None,
        tokens: list[int],
        matcher: Any,
        options: GenerateOptions,
        cancel: CancelToken | None,
    ) -> Iterator[GenerationEvent]:
        mx, _ = _import_mlx()
        from mlx_lm.generate import generate_step

        answer, chooser = self._start(matcher, options)
        processor = _GrammarProcessor(chooser, self._n_vocab, mx)
        cached, reused = self._reuse(messages, tools, tokens)
        self._trim(reused)
        pending = tokens[reused:]  # what mlx-lm's generate_step reads first

        finish: FinishReason = "stop"
        budget = min(options.max_tokens, self.n_ctx - len(tokens) - 1)
        forced_left = 0  # forced tokens of the current step that mlx-lm yields one by one
        while pending:
            steps = generate_step(
                mx.array(pending),
                self.model,
                max_tokens=-1,
                sampler=_greedy,
                logits_processors=[processor],
                prompt_cache=self._cache,
                prefill_step_size=self.settings.prefill_step,
            )
            self._cached.extend(pending)
            pending = []
            try:
                for token, _ in steps:
                    # mlx-lm has fed `token` to the model already (it computes one step ahead).
                    self._cached.append(int(token))
                    if not answer.prompt_s:
                        answer.prompt_done()
                    if forced_left:
                        forced_left -= 1
                        continue
                    if cancel is not None and cancel.cancelled:
                        raise GenerationCancelled("generation was cancelled")
                    decided = processor.decided.popleft()
                    step = decided.step
                    if step.tokens[0] != token:  # pragma: no cover - a bug, never a wrong answer
                        raise BackendError("the MLX decode loop lost track of the grammar")
                    if answer.produced >= budget:
                        finish = "length"
                        break
                    yield from answer.add(step)
                    if not step.stop and len(tokens) + answer.produced >= self.n_ctx:
                        finish = "length"  # the context is full: no room for these tokens
                        break
                    if answer.forced_value_end(step) and decided.wanted >= 0:
                        answer.model_wanted(step, decided.wanted)
                    if step.stop:
                        break
                    if step.forced >= FORCED_BATCH_MIN:
                        pending = processor.take_forced()
                        break
                    forced_left = step.forced
            finally:
                steps.close()
        yield from answer.finish(
            finish, options, tools, prompt_tokens=len(tokens), cached_tokens=cached
        )


@dataclass
class _Decided:
    """A step the chooser decided, and the model's own pick at its first forced position."""

    step: Step
    wanted: int = -1


class _GrammarProcessor:
    """An mlx-lm logits processor that makes mlx-lm's sampler pick the grammar's token.

    At each position it asks the shared :class:`TokenChooser` for the next step (the chosen
    token plus the tokens the grammar forces after it) and masks every other token out with plain
    mx operations; forced tokens are then handed out one per position, unless the backend takes
    them to feed as one batch. It records every decided step for the decode loop, with the model's
    own top token at the first forced position (for conflict flags).
    """

    def __init__(self, chooser: TokenChooser, n_vocab: int, mx: Any) -> None:
        self.chooser = chooser
        self.decided: deque[_Decided] = deque()
        self._mx = mx
        self._ids = mx.arange(n_vocab)
        self._forced: deque[int] = deque()
        self._awaiting: _Decided | None = None  # wants the model's pick at the next position
        self._last = -1  # the token returned last; mlx-lm has not fed it yet
        self._stopped = False

    def __call__(self, tokens: Any, logits: Any) -> Any:
        mx = self._mx
        if self._forced:
            token = self._forced.popleft()
            if self._awaiting is not None:
                self._awaiting.wanted = int(np.argmax(self._row(logits)))
                self._awaiting = None
        elif self._stopped:
            return logits  # mlx-lm's look-ahead past the last token: never used
        else:
            step = self.chooser.step(self._row(logits))
            decided = _Decided(step)
            self.decided.append(decided)
            self._forced.extend(step.tokens[1:])
            self._awaiting = decided if step.forced else None
            self._stopped = step.stop
            token = step.tokens[0]
        self._last = token
        return mx.where(self._ids[: logits.shape[-1]] == token, logits, -mx.inf)

    def take_forced(self) -> list[int]:
        """The forced tokens not fed yet (the one just returned included), to feed as a batch."""
        out = [self._last, *self._forced]
        self._forced.clear()
        return out

    def _row(self, logits: Any) -> np.ndarray:
        return np.array(logits[0].astype(self._mx.float32))


def _greedy(logprobs: Any) -> Any:
    """mlx-lm sampler: the processor left one finite logit, take it."""
    import mlx.core as mx

    return mx.argmax(logprobs, axis=-1)


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
