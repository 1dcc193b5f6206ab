"""The runtime-neutral output half of a decode loop: tokens in, deltas and a completion out.

Each backend owns its forward passes; what happens to the chosen tokens is the same for all of
them and lives here, so llama.cpp and MLX stream, flag and finish identically: token bytes are
collected, streamed as soon as they form whole UTF-8 characters (as :class:`CallDelta` once the
output is seen to start a call, :class:`TextDelta` otherwise), places where the grammar
overrode the model are recorded for conflict flags, and the end becomes a
:class:`~backends.generation.Completion`, or :class:`~backends.errors.GenerationIncomplete`
when the budget cut a call in half.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from backends.base import GenerateOptions
from backends.call_format import CallFormat, starts_call
from backends.decoding import Step
from backends.errors import GenerationIncomplete
from backends.generation import CallDelta, FinishReason, GenerationEvent, TextDelta, Timings
from backends.output import assemble, byte_to_char_offsets
from backends.schema import ToolSpec

if TYPE_CHECKING:
    from backends.speculation import DraftStats


class AnswerBuilder:
    """Collects one generation's tokens and turns them into events.

    Args:
        piece: the bytes of a token id (special tokens as their text).
        eog: ids that end generation; they are never part of the output.
        fmt: the model family's call format (to tell a call from text, and to parse calls).
        matcher: the grammar state, or ``None`` when unconstrained.
        started: ``time.perf_counter()`` when the request started.
    """

    def __init__(
        self,
        piece: Callable[[int], bytes],
        eog: frozenset[int],
        fmt: CallFormat,
        matcher: Any,
        started: float,
    ) -> None:
        self.piece = piece
        self.eog = eog
        self.fmt = fmt
        self.matcher = matcher
        self.started = started
        self.out = bytearray()
        self.produced = 0
        self.forced = 0
        self.prompt_s = 0.0
        self._emitted = 0  # bytes of `out` already yielded
        self._overrides: list[tuple[int, bytes]] = []
        self._first_token_s = 0.0
        self._forced_at = 0
        self._is_call: bool | None = None

    def prompt_done(self) -> None:
        """Mark the end of prompt reading (for the timings)."""
        self.prompt_s = time.perf_counter() - self.started

    def add(self, step: Step) -> Iterator[GenerationEvent]:
        """Append a step's tokens; yield what can be streamed of them now."""
        if not self._first_token_s:
            self._first_token_s = time.perf_counter() - self.started
        if step.overridden:
            self._overrides.append((len(self.out), self.piece(step.wanted)))
        for index, token in enumerate(step.tokens):
            if index == 1:
                self._forced_at = len(self.out)  # where the grammar took over from the model
            if token not in self.eog:
                self.out += self.piece(token)
        self.produced += len(step.tokens)
        self.forced += step.forced
        text = complete_utf8(self.out, self._emitted)
        if text:
            if self._is_call is None:
                self._is_call = self.matcher is not None and starts_call(text, self.fmt)
            self._emitted += len(text.encode("utf-8"))
            yield CallDelta(text) if self._is_call else TextDelta(text)

    def forced_value_end(self, step: Step) -> bool:
        """Whether the grammar ended a value on its own in ``step`` (an enum, a bound).

        There the backend should look at what the model wanted at the first forced position
        and report it with :meth:`model_wanted`, or "120" clipped to 12 would pass unflagged.
        """
        return bool(step.forced) and ends_value(self.piece(step.tokens[1]))

    def model_wanted(self, step: Step, wanted: int) -> None:
        """Record the model's own pick at the first forced position of ``step``."""
        if wanted != step.tokens[1] and wanted not in self.eog:
            self._overrides.append((self._forced_at, self.piece(wanted)))

    def finish(
        self,
        finish: FinishReason,
        options: GenerateOptions,
        tools: Sequence[ToolSpec] | None,
        *,
        prompt_tokens: int,
        cached_tokens: int,
        stats: DraftStats | None = None,
    ) -> Iterator[GenerationEvent]:
        """Yield the unstreamed tail and the completion.

        Raises:
            GenerationIncomplete: the budget or the context ran out inside a tool call.
        """
        raw = self.out.decode("utf-8", "replace")
        cut_in_call = self._is_call or (self._is_call is None and starts_call(raw, self.fmt))
        matcher = self.matcher
        if (
            finish == "length"
            and matcher is not None
            and not matcher.is_accepting()
            and cut_in_call
        ):
            raise GenerationIncomplete(
                f"the model used its whole budget of {options.max_tokens} tokens before "
                "finishing the tool call; nothing was run",
                partial_text=raw,
            )
        if self.out[self._emitted :]:
            tail = bytes(self.out[self._emitted :]).decode("utf-8", "replace")
            yield CallDelta(tail) if self._is_call else TextDelta(tail)
        completion = assemble(
            raw,
            tools or (),
            self.fmt,
            overrides=byte_to_char_offsets(bytes(self.out), self._overrides),
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            cached_tokens=cached_tokens,
            completion_tokens=self.produced,
            forced_tokens=self.forced,
            timings=Timings(
                prompt_s=self.prompt_s,
                first_token_s=self._first_token_s,
                total_s=time.perf_counter() - self.started,
            ),
        )
        if stats is not None:
            completion = dataclasses.replace(
                completion,
                drafted_tokens=stats.drafted,
                accepted_tokens=stats.accepted,
                passes=stats.passes,
            )
        yield completion


def ends_value(piece: bytes) -> bool:
    """Whether a forced piece closes a JSON value (so the model may have wanted more)."""
    return piece[:1] in (b'"', b",", b"}", b"]")


def complete_utf8(buffer: bytearray, start: int) -> str:
    """The longest run of complete UTF-8 characters in ``buffer[start:]``."""
    chunk = bytes(buffer[start:])
    for cut in range(len(chunk), max(len(chunk) - 4, -1), -1):
        try:
            return chunk[:cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return chunk.decode("utf-8", "replace")
