"""The runtime-agnostic half of a decode loop: choosing tokens under the grammar.

Every backend owns its forward pass; this module owns what happens between two forward passes,
so llama.cpp and MLX constrain decoding identically:

* Greedy fast path: the model's top token is checked against the grammar with
  ``try_consume_tokens`` (well under a microsecond). Only when the grammar refuses it is the
  full token mask computed and applied, and that moment is recorded as an override, which later
  becomes a conflict flag if it changed a value in a call.
* Fast-forward: after each token, the tokens the grammar forces (``{"name": "``, the rest of a
  unique tool name, ``", "arguments": {``) are returned so the backend decodes them in one batch
  instead of one forward pass each.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import llguidance
import numpy as np
from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask

from backends.errors import BackendError


@dataclass
class Step:
    """The outcome of one decoding step.

    Attributes:
        tokens: the chosen token followed by any tokens the grammar forces after it.
        overridden: the grammar refused the model's top token at this step.
        wanted: the refused token's id (meaningful only when ``overridden``).
        stop: generation is finished once these tokens are emitted.
        forced: how many of ``tokens`` were forced by the grammar.
    """

    tokens: list[int]
    overridden: bool = False
    wanted: int = -1
    stop: bool = False
    forced: int = 0


@dataclass
class TokenChooser:
    """Chooses each next token from logits, under an optional llguidance matcher.

    Args:
        matcher: the grammar state, or ``None`` for unconstrained decoding.
        eog: ids that end generation (end of turn / end of text).
        temperature: 0 for greedy decoding (the default for tool calls: deterministic).
        seed: seed of the sampler when ``temperature > 0``.
        max_repeat: under a grammar, a token chosen this many times in a row is refused once:
            a 0.5B model can loop on a digit (``100000000000...``) until the budget runs out,
            and no real argument needs a run this long.
    """

    matcher: llguidance.LLMatcher | None
    eog: frozenset[int]
    temperature: float = 0.0
    seed: int = 0
    max_repeat: int = 12
    _mask: np.ndarray | None = field(default=None, init=False, repr=False)
    _last: int = field(default=-1, init=False, repr=False)
    _run: int = field(default=0, init=False, repr=False)
    _rng: np.random.Generator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        if self.matcher is not None and self.matcher.is_error():
            raise BackendError(f"the grammar failed to start: {self.matcher.get_error()}")

    @property
    def finished(self) -> bool:
        """The grammar admits nothing more (only meaningful under a grammar)."""
        return self.matcher is not None and self.matcher.is_stopped()

    def step(self, logits: np.ndarray) -> Step:
        """Pick the next token from ``logits`` (one row, the vocabulary) and advance the grammar.

        Raises:
            BackendError: the grammar reached a state with no allowed token (an llguidance bug
                or an impossible schema); never returns an invalid token.
        """
        top = int(np.argmax(logits)) if self.temperature <= 0 else self._sample(logits)
        if self.matcher is None:
            return Step(tokens=[top], stop=top in self.eog)
        looping = top == self._last and self._run >= self.max_repeat
        if not looping and self.matcher.try_consume_tokens([top]) == 1:
            return self._advance(top, overridden=False, wanted=-1)
        if looping:
            logits = logits.copy()
            logits[top] = -np.inf
        chosen = self._best_allowed(logits)
        if self.matcher.try_consume_tokens([chosen]) != 1:
            raise BackendError(f"the grammar refused its own token: {self.matcher.get_error()}")
        return self._advance(chosen, overridden=not looping, wanted=top)

    def _advance(self, token: int, *, overridden: bool, wanted: int) -> Step:
        matcher = self.matcher
        assert matcher is not None
        self._run = self._run + 1 if token == self._last else 1
        self._last = token
        if matcher.is_error():
            raise BackendError(f"grammar error: {matcher.get_error()}")
        if token in self.eog or matcher.is_stopped():
            return Step([token], overridden, wanted, stop=True)
        forced = matcher.compute_ff_tokens()
        if forced and matcher.try_consume_tokens(forced) != len(forced):
            raise BackendError(f"the grammar refused its forced tokens: {matcher.get_error()}")
        return Step(
            [token, *forced], overridden, wanted, stop=matcher.is_stopped(), forced=len(forced)
        )

    def _best_allowed(self, logits: np.ndarray) -> int:
        matcher = self.matcher
        assert matcher is not None
        n_vocab = logits.shape[-1]
        if self._mask is None:
            self._mask = allocate_token_bitmask(1, n_vocab)
        fill_next_token_bitmask(matcher, self._mask)
        if matcher.is_error():
            raise BackendError(f"grammar error: {matcher.get_error()}")
        allowed = np.unpackbits(self._mask.view(np.uint8), bitorder="little")[:n_vocab].astype(bool)
        if not allowed.any():
            raise BackendError("the grammar allows no token here")
        masked = np.where(allowed, logits, -np.inf)
        if self.temperature <= 0:
            return int(np.argmax(masked))
        return self._sample(masked)

    def _sample(self, logits: np.ndarray) -> int:
        scaled = (logits - np.max(logits)) / self.temperature
        probs = np.exp(scaled)
        probs /= probs.sum()
        return int(self._rng.choice(len(probs), p=probs))
