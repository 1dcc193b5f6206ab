"""What a generation produces: streamed deltas and the final completion with its tool calls.

These are plain dataclasses so every front end (CLI, Qt, tests) can render them and they cross
thread boundaries safely.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True)
class Conflict:
    """The grammar overrode what the model wanted to write inside a call.

    A flagged call must never run without the user seeing the flag: the model meant something
    the schema does not allow (for example 120 for a field limited to 50) and decoding silently
    produced a different, valid value.

    Attributes:
        path: where in the call, e.g. ``"arguments.count"`` or ``"name"``.
        wanted: what the model was writing there before the grammar stepped in.
        got: the value the call ended up with.
    """

    path: str
    wanted: str
    got: Any

    def describe(self) -> str:
        """One sentence for the user."""
        return (
            f"{self.path}: the model wanted {self.wanted!r} but the tool allows only {self.got!r}"
        )


@dataclass(frozen=True)
class ToolCall:
    """One call the model made.

    Attributes:
        name: the tool's name.
        arguments: the decoded arguments object.
        conflicts: places where the grammar overrode the model (see :class:`Conflict`).
        valid: whether the call matches its tool's schema (always true under the grammar).
        errors: why it does not, when ``valid`` is false.
    """

    name: str
    arguments: dict[str, Any]
    conflicts: tuple[Conflict, ...] = ()
    valid: bool = True
    errors: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The call as printed by ``callmemaybe call``."""
        out: dict[str, Any] = {
            "name": self.name,
            "arguments": self.arguments,
            "conflicts": [asdict(c) for c in self.conflicts],
        }
        if not self.valid:
            out["valid"] = False
            out["errors"] = list(self.errors)
        return out


@dataclass(frozen=True)
class TextDelta:
    """A piece of a text answer, streamed as it is decoded."""

    text: str


@dataclass(frozen=True)
class CallDelta:
    """A piece of a tool call's raw JSON, streamed as it is decoded (for progress display)."""

    text: str


@dataclass(frozen=True)
class Timings:
    """Where the time of one generation went, in seconds."""

    prompt_s: float = 0.0
    first_token_s: float = 0.0
    total_s: float = 0.0


@dataclass(frozen=True)
class Completion:
    """The final result of a generation: either text or one or more tool calls.

    Attributes:
        text: the answer text, or ``None`` when the model called tools.
        tool_calls: the calls, empty for a text answer.
        raw: exactly what the model wrote.
        finish_reason: ``"stop"`` (model or grammar ended) or ``"length"`` (token budget).
        prompt_tokens: tokens in the rendered prompt.
        cached_tokens: prompt tokens whose KV state was reused rather than recomputed.
        completion_tokens: tokens produced, forced ones included.
        forced_tokens: tokens the grammar forced and that were decoded in a batch.
        drafted_tokens: copy-speculation draft tokens checked (see :mod:`backends.speculation`).
        accepted_tokens: draft tokens that became output (each saved a pass over the weights).
        passes: forward passes while answering, the prompt's last one included
            (``completion_tokens / passes`` is tokens per pass over the weights).
    """

    text: str | None
    tool_calls: tuple[ToolCall, ...]
    raw: str
    finish_reason: FinishReason = "stop"
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    forced_tokens: int = 0
    timings: Timings = field(default_factory=Timings)
    drafted_tokens: int = 0
    accepted_tokens: int = 0
    passes: int = 0

    def to_json(self) -> dict[str, Any]:
        """``{"text": ...}`` or ``{"tool_calls": [...]}``, as the CLI prints it."""
        if self.tool_calls:
            return {"tool_calls": [c.to_json() for c in self.tool_calls]}
        return {"text": self.text if self.text is not None else ""}


GenerationEvent = TextDelta | CallDelta | Completion
