"""What every in-process runtime shares: template, grammar set-up, prefix cache, one request.

llama.cpp and MLX differ in how they run forward passes and hold their KV cache; everything
around that is the same and lives here once: rendering the model's own chat template, building
the grammar for a request, refusing a prompt that cannot fit, the system-and-tools prefix kept
ready in memory and on disk (:class:`~backends.prefix_cache.PrefixCache`), and the token pieces
and end-of-generation ids the shared decode logic needs. A runtime implements loading,
tokenizing, and a handful of cache hooks.
"""

from __future__ import annotations

import threading
import time
from abc import abstractmethod
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from backends.answer import AnswerBuilder
from backends.base import Backend, CancelToken, GenerateOptions, Message
from backends.call_format import CallFormat, call_format_for
from backends.chat_template import ChatTemplate
from backends.decoding import TokenChooser, make_chooser, make_matcher
from backends.errors import BackendError, ContextOverflowError
from backends.generation import FinishReason, GenerationEvent
from backends.prefix_cache import PrefixCache, PrefixFinder, common_prefix, prefix_key
from backends.schema import ToolSpec
from backends.speculation import DraftStats, decode


class LocalBackend(Backend):
    """A model run in this process, with a KV cache reused across requests.

    Not safe for concurrent generations: one generation at a time holds the model (others wait).

    Args:
        n_ctx: the context window asked for (a runtime caps it at the model's own on load).
        cache_dir: where prompt-prefix KV states persist across restarts (``None``: memory only).
    """

    supports_grammar = True
    supports_prefix_cache = True

    def __init__(self, n_ctx: int, cache_dir: Path | None) -> None:
        self.n_ctx = n_ctx
        self._lock = threading.Lock()
        self._model_id = ""  # names the model and its settings in prefix-cache keys
        self._arch = ""
        self._template: ChatTemplate | None = None
        self._lltokenizer: Any = None
        self._eog: frozenset[int] = frozenset()
        self._pieces: dict[int, bytes] = {}
        self._prefixes = PrefixFinder(lambda m, t: self.tokenize(self.render(m, t)))
        self._prefix_cache = PrefixCache(cache_dir) if cache_dir else None

    def _tokenize_bytes(self, text: bytes) -> list[int]:
        """``text`` as token ids of the grammar's tokenizer (no special tokens)."""
        return list(self._lltokenizer.tokenize_bytes(text))

    # -- what a runtime provides ---------------------------------------------------------------

    @abstractmethod
    def _piece(self, token: int) -> bytes:
        """The bytes of one token, special tokens as their text."""

    @abstractmethod
    def _cached_tokens(self) -> Sequence[int]:
        """The tokens whose keys and values the KV cache holds now, in order."""

    @abstractmethod
    def _evaluate(self, keep: int, tokens: Sequence[int]) -> None:
        """Keep the first ``keep`` cached tokens, then evaluate ``tokens`` after them."""

    @abstractmethod
    def _forward(self, tokens: Sequence[int], first_row: int) -> list[np.ndarray]:
        """Evaluate ``tokens`` after the cached ones; return the logits rows (float32, one per
        vocabulary entry) of ``tokens[first_row:]``, valid until the next evaluation."""

    @abstractmethod
    def _truncate(self, keep: int) -> None:
        """Drop the cached tokens past the first ``keep``."""

    def _n_cached(self) -> int:
        """How many tokens the KV cache holds."""
        return len(self._cached_tokens())

    def _can_truncate(self) -> bool:
        """Whether :meth:`_truncate` keeps the first ``keep`` tokens (copy speculation needs
        to drop a refused draft without losing the rest)."""
        return True

    @abstractmethod
    def _save(self, key: str, prefix: list[int]) -> None:
        """Write the KV state (exactly ``prefix``) to the disk cache under ``key``."""

    @abstractmethod
    def _restore(self, key: str, prefix: list[int]) -> bool:
        """Load ``prefix``'s KV state from the disk cache; False when there is none usable."""

    @abstractmethod
    def _decode(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None,
        tokens: list[int],
        matcher: Any,
        options: GenerateOptions,
        cancel: CancelToken | None,
    ) -> Iterator[GenerationEvent]:
        """Generate for the prompt ``tokens`` (the lock is held); see :meth:`stream`."""

    # -- shared --------------------------------------------------------------------------------

    @property
    def architecture(self) -> str:
        return self._arch

    @property
    def call_format(self) -> CallFormat:
        return call_format_for(self._arch)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return b"".join(self._piece(t) for t in tokens).decode("utf-8", "replace")

    def render(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        add_generation_prompt: bool = True,
    ) -> str:
        if self._template is None:
            raise BackendError("no model is loaded")
        return self._template.render(
            messages,
            tools=[t.to_openai() for t in tools] if tools else None,
            add_generation_prompt=add_generation_prompt,
        )

    def prefix_tokens(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None
    ) -> list[int]:
        """The tokens every prompt with this first system message and these tools starts with
        (see :class:`~backends.prefix_cache.PrefixFinder`)."""
        return self._prefixes(messages, tools)

    def warm_prefix(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None = None
    ) -> float:
        """Make the system-and-tools prefix ready (from memory, disk, or computed and saved).

        Front ends call this at start-up, so the first request after a restart only reads the
        user's words. Returns the seconds it took.
        """
        started = time.perf_counter()
        with self._lock:
            self._ensure_prefix(self.prefix_tokens(messages, tools))
        return time.perf_counter() - started

    def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[GenerationEvent]:
        options = options or GenerateOptions()
        constrained = options.constrained and (
            tools is not None or options.response_schema is not None
        )
        grammar_tools = options.constrain_to if options.constrain_to is not None else tools
        matcher = (
            make_matcher(self._lltokenizer, grammar_tools or (), self.call_format, options)
            if constrained
            else None
        )
        tokens = self.tokenize(self.render(messages, tools))
        if len(tokens) >= self.n_ctx:
            raise ContextOverflowError(
                f"the prompt has {len(tokens)} tokens but the context holds "
                f"{self.n_ctx}: shorten the conversation or raise the context size"
            )
        with self._lock:
            yield from self._decode(messages, tools, tokens, matcher, options, cancel)

    def _run(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None,
        tokens: list[int],
        matcher: Any,
        options: GenerateOptions,
        cancel: CancelToken | None,
    ) -> Iterator[GenerationEvent]:
        """One generation through the shared decode loop (:func:`backends.speculation.decode`):
        the runtime only evaluates tokens and trims its cache (the lock is held)."""
        answer, chooser = self._start(matcher, options)
        cached, reused = self._reuse(messages, tools, tokens)
        self._truncate(reused)
        stats = DraftStats()
        finish: FinishReason = yield from decode(
            _CacheHooks(self),
            answer,
            chooser,
            tokens,
            reused,
            conversation=common_prefix(tokens, self.prefix_tokens(messages, tools)),
            budget=min(options.max_tokens, self.n_ctx - len(tokens) - 1),
            n_ctx=self.n_ctx,
            draft_tokens=options.draft_tokens if self._can_truncate() else 0,
            cancel=cancel,
            stats=stats,
        )
        yield from answer.finish(
            finish, options, tools, prompt_tokens=len(tokens), cached_tokens=cached, stats=stats
        )

    def _start(self, matcher: Any, options: GenerateOptions) -> tuple[AnswerBuilder, TokenChooser]:
        """The output builder and token chooser of one request."""
        fmt = self.call_format
        answer = AnswerBuilder(self._piece, self._eog, fmt, matcher, time.perf_counter())
        return answer, make_chooser(
            matcher, fmt, options, self._piece, self._eog, self._tokenize_bytes
        )

    def _restore_latest(self) -> bool:
        """Restore the prefix this model used last (from the disk cache) into the KV cache.

        Runtimes call this at the end of loading, so after a restart the first request finds
        its system-and-tools prefix ready in memory: its first token waits only for the user's
        words to be read, not for the saved state to be read and checked (tens of megabytes).
        Returns whether a state was restored.
        """
        if self._prefix_cache is None:
            return False
        found = self._prefix_cache.latest(
            lambda key, tokens: bool(tokens) and prefix_key(self._model_id, tokens) == key
        )
        if found is None:
            return False
        key, tokens = found
        with self._lock:
            return self._restore(key, tokens)

    def _ensure_prefix(self, prefix: list[int]) -> int:
        """Have ``prefix`` in the KV cache, restoring it from disk when possible.

        Returns:
            How many tokens had to be computed (0 when memory or disk had them).
        """
        have = common_prefix(self._cached_tokens(), prefix)
        if not prefix or have >= len(prefix):
            return 0
        key = prefix_key(self._model_id, prefix)
        if self._prefix_cache is not None and self._restore(key, prefix):
            return 0
        self._evaluate(have, prefix[have:])
        if self._prefix_cache is not None:
            self._save(key, prefix)
        return len(prefix) - have

    def _reuse(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None, tokens: list[int]
    ) -> tuple[int, int]:
        """Make the cache hold as much of the prompt ``tokens`` as memory or disk allow.

        The system-and-tools prefix is computed (and saved) if nothing had it; the last prompt
        token is always left to evaluate, for its logits.

        Returns:
            How many prompt tokens this request did not compute, and how many leading prompt
            tokens the cache holds (the runtime evaluates the rest).
        """
        prefix = self.prefix_tokens(messages, tools)
        computed = 0
        if prefix and tokens[: len(prefix)] == prefix:
            computed = self._ensure_prefix(prefix)
        reused = min(common_prefix(self._cached_tokens(), tokens), len(tokens) - 1)
        return reused - computed, reused


class _CacheHooks:
    """A backend's forward pass and KV cache as the decode loop's
    :class:`~backends.speculation.Runtime`."""

    def __init__(self, backend: LocalBackend) -> None:
        self._backend = backend

    def forward(self, tokens: Sequence[int], first_row: int) -> list[np.ndarray]:
        return self._backend._forward(tokens, first_row)

    def truncate(self, keep: int) -> None:
        self._backend._truncate(keep)

    def cached(self) -> int:
        return self._backend._n_cached()
