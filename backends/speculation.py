"""Copy speculation: a decode loop that checks several guessed tokens per pass over the weights.

Decoding one token reads every weight of the model once, and on a CPU that read, not the
arithmetic, is what a token costs; evaluating a handful of tokens in one batch costs little more
than evaluating one. Tool calls are the best case for guessing: most argument text is copied from
the request (names, titles, places, numbers, paths) and the rest is often forced by the grammar.

So after every step this loop looks up the last few tokens written in the prompt and the output
so far (prompt-lookup decoding, :class:`PromptLookup`), and where they occurred before proposes
what followed them there. The grammar cuts the draft where it would refuse it
(``LLMatcher.validate_tokens``: nothing is consumed), the runtime evaluates the step's own tokens
and the draft in one batch with logits for every position, and the usual
:class:`~backends.decoding.TokenChooser` then decides token by token from those logits exactly as
plain decoding would. Draft tokens are kept while the chooser picks them; at the first it does not
pick, the runtime drops the rest of the draft from its KV cache and the loop goes on from the
chooser's token. Every decision is the chooser's on the model's own logits, so the output is the
output of plain decoding (the same nudges, loop breaker and conflict flags); only the number of
passes changes.

A runtime provides three hooks (:class:`Runtime`): evaluate tokens returning logits rows, drop
the cache past a length, and the cache's length. llama.cpp and MLX both run this loop.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from backends.answer import AnswerBuilder
from backends.base import CancelToken
from backends.decoding import TokenChooser
from backends.errors import GenerationCancelled
from backends.generation import FinishReason, GenerationEvent

MAX_NGRAM = 3
"""The longest run of last tokens looked up in the history."""
WORD_BYTES = 3
"""A single last token is looked up on its own only if it is a word this long or longer that
occurs once in the history (a name, not a quote or a comma: what followed a common token last
time says little about what follows it now)."""

_PUNCTUATION = b" \t\n\r\"',:;{}[]()"


class Runtime(Protocol):
    """What the loop needs from a runtime's forward pass and KV cache."""

    def forward(self, tokens: Sequence[int], first_row: int) -> list[np.ndarray]:
        """Evaluate ``tokens`` after the cache; return the logits rows of ``tokens[first_row:]``
        (row ``i`` predicts the token after ``tokens[first_row + i]``)."""
        ...

    def truncate(self, keep: int) -> None:
        """Drop the cache past its first ``keep`` tokens."""
        ...

    def cached(self) -> int:
        """How many tokens the cache holds."""
        ...


class PromptLookup:
    """Proposes the next tokens by finding the last tokens written earlier in the history.

    The history is the conversation (the prompt after the system-and-tools prefix: the tool
    definitions would only offer their own JSON) followed by the output so far. The longest run
    of last tokens (two to :data:`MAX_NGRAM`, or one rare word, see :data:`WORD_BYTES`) seen
    before is looked up, its latest occurrence wins (the request comes last), and what followed
    it there is the draft, up to an end-of-turn token.

    The draft length adapts: on a CPU each drafted token costs some arithmetic even when the
    weights are read once, so after a draft the chooser refused at once the next one is shorter,
    and after one it took whole the next one is longer (up to ``longest``).

    Args:
        history: the conversation's tokens.
        longest: the longest draft.
        piece: the bytes of a token id.
        stop: ids that end a draft (end of turn).
    """

    def __init__(
        self,
        history: Sequence[int],
        *,
        longest: int,
        piece: Callable[[int], bytes],
        stop: frozenset[int],
    ) -> None:
        self.tokens: list[int] = []
        self.longest = longest
        self.length = max(1, longest // 2)
        self._piece = piece
        self._stop = stop
        self._last: dict[tuple[int, ...], int] = {}  # n-gram -> where its latest copy ends
        self._counts: Counter[int] = Counter()
        self.extend(history)

    def extend(self, tokens: Sequence[int]) -> None:
        """Append written tokens to the history."""
        for token in tokens:
            self.tokens.append(token)
            self._counts[token] += 1
            # n-grams ending at the token before this one now have a continuation
            end = len(self.tokens) - 2
            for n in range(1, MAX_NGRAM + 1):
                if end - n + 1 < 0:
                    break
                self._last[tuple(self.tokens[end - n + 1 : end + 1])] = end

    def propose(self, room: int) -> list[int]:
        """Tokens that followed the last tokens where they occurred before (at most ``room``
        and the current draft length)."""
        limit = min(room, self.length)
        if limit <= 0:
            return []
        tokens = self.tokens
        for n in range(min(MAX_NGRAM, len(tokens)), 0, -1):
            key = tuple(tokens[-n:])
            end = self._last.get(key)
            if end is None:
                continue
            if n == 1 and (self._counts[key[0]] > 2 or len(self._piece(key[0])) < WORD_BYTES):
                return []  # seen once before (and now): a rare word; anything else is noise
            if not any(self._piece(t).strip(_PUNCTUATION) for t in key):
                continue  # only quotes and commas: what follows them is anybody's guess
            draft = tokens[end + 1 : end + 1 + limit]
            for i, token in enumerate(draft):
                if token in self._stop:
                    return draft[:i]
            return draft
        return []

    def taken(self, drafted: int, accepted: int) -> None:
        """Adapt the draft length to how much of the last draft the chooser took."""
        if not drafted:
            return
        if accepted >= drafted:
            self.length = min(self.longest, self.length + 2)
        elif accepted == 0:
            self.length = max(1, self.length // 2)
        else:
            self.length = max(1, min(self.longest, accepted + 1))


@dataclass
class DraftStats:
    """How speculation went in one generation.

    Attributes:
        drafted: draft tokens evaluated.
        accepted: draft tokens the chooser picked (each saved a pass over the weights).
        passes: forward passes while answering, the prompt's last one included.
    """

    drafted: int = 0
    accepted: int = 0
    passes: int = 0


def grammar_prefix(matcher: Any, draft: list[int]) -> list[int]:
    """The part of ``draft`` the grammar allows from its current state (nothing consumed)."""
    if matcher is None or not draft:
        return draft
    if matcher.is_stopped():
        return []
    return draft[: matcher.validate_tokens(draft)]


def _matching(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def decode(
    runtime: Runtime,
    answer: AnswerBuilder,
    chooser: TokenChooser,
    prompt: Sequence[int],
    reused: int,
    *,
    conversation: int,
    budget: int,
    n_ctx: int,
    draft_tokens: int,
    cancel: CancelToken | None,
    stats: DraftStats,
) -> Generator[GenerationEvent, None, FinishReason]:
    """Read the rest of ``prompt`` and decode; yields events and returns the finish reason.

    Args:
        runtime: the forward pass and KV cache (holding ``prompt[:reused]`` on entry).
        answer: collects the output.
        chooser: decides every token, as in plain decoding.
        prompt: the prompt's tokens.
        reused: how many leading prompt tokens the cache holds already.
        conversation: where the conversation starts in ``prompt`` (after the system-and-tools
            prefix): drafts are copied from there on.
        budget: most tokens to produce.
        n_ctx: the context size (prompt plus answer).
        draft_tokens: longest draft per pass; 0 is plain decoding (one step per pass, the
            grammar's forced tokens still in one batch).
        cancel: stops the generation at the next step.
        stats: filled with what speculation did.
    """
    lookup = None
    if draft_tokens > 0:
        lookup = PromptLookup(
            prompt[conversation:], longest=draft_tokens, piece=answer.piece, stop=answer.eog
        )
    drafted = kept_of_draft = 0  # the draft in flight: its length, how much was taken
    matcher = chooser.matcher
    rest = prompt[reused:]
    rows = runtime.forward(rest, len(rest) - 1)
    stats.passes += 1
    answer.prompt_done()
    ahead: list[int] = []  # draft tokens in the cache after the token of rows[pos]
    pos = 0
    finish: FinishReason = "stop"
    while True:
        if cancel is not None and cancel.cancelled:
            raise GenerationCancelled("generation was cancelled")
        if answer.produced >= budget:
            finish = "length"
            break
        step = chooser.step(rows[pos])
        yield from answer.add(step)
        if not step.stop and len(prompt) + answer.produced >= n_ctx:
            finish = "length"  # the context is full: no room to evaluate these tokens
            break
        if lookup is not None:
            lookup.extend(step.tokens)
        kept = _matching(step.tokens, ahead)
        stats.accepted += kept
        kept_of_draft += kept
        check = answer.forced_value_end(step)
        if check and kept:  # the row of the step's first token came with the draft
            answer.model_wanted(step, int(np.argmax(rows[pos + 1])))
        ahead = ahead[kept:]
        if drafted and (not ahead or kept < len(step.tokens)) and lookup is not None:
            lookup.taken(drafted, kept_of_draft)  # the draft is settled
            drafted = 0
        if kept == len(step.tokens) and not step.stop:
            pos += kept  # all of it evaluated already: its last row is next
            continue
        if ahead and kept < len(step.tokens):  # the chooser left the draft here
            runtime.truncate(runtime.cached() - len(ahead))
            ahead = []
        new = step.tokens[kept:]
        if step.stop:
            if check and not kept:  # one pass only to read the model's own pick
                first = runtime.forward(new[:1], 0)
                stats.passes += 1
                answer.model_wanted(step, int(np.argmax(first[0])))
            break
        draft: list[int] = []
        if lookup is not None:
            room = n_ctx - 1 - runtime.cached() - len(new)
            draft = lookup.propose(min(budget - answer.produced, room))
            draft = grammar_prefix(matcher, draft)
            drafted, kept_of_draft = len(draft), 0
        first_row = 0 if check and not kept else len(new) - 1
        rows = runtime.forward([*new, *draft], first_row)
        stats.passes += 1
        stats.drafted += len(draft)
        if check and not kept:
            answer.model_wanted(step, int(np.argmax(rows[0])))
            rows = rows[len(new) - 1 :]
        ahead, pos = draft, 0
    if ahead:  # drafted tokens the output never reached
        runtime.truncate(runtime.cached() - len(ahead))
    return finish
