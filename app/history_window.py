"""Fit a conversation into the model's context: drop the oldest exchanges, then cut the middle
of what is still too long.

A conversation grows without end; the model's context does not (4,096 tokens by default). Past
it, llama.cpp cannot even read the prompt, and the user would see an error instead of an answer.
So before each model call the prompt is measured (rendered with the model's own template and
tokenized) and, when it does not leave room for the answer:

1. the oldest exchanges are dropped, a whole exchange at a time (from one user message to the
   next), so the model never sees a tool result without its call or an answer without its
   question;
2. if the current exchange alone is still too long (a pasted book, say), the middle of its
   longest message is cut, leaving its start and end and a marker saying how much is missing.

The first system message (the instructions, with the tools the template puts in its block) is
never touched: it is the prompt prefix whose KV state the runtime caches, so fitting costs
nothing on the next turn. The "now" line and the latest user message are always kept. Nothing is
removed from the stored conversation; only what the model is shown this time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from backends.base import Backend
from backends.schema import ToolSpec

Message = Mapping[str, Any]

SAFETY_TOKENS = 16
"""Room kept beyond the answer budget (templates add a few tokens for the generation prompt)."""
MIN_KEPT_CHARS = 200
"""A message is never cut below this many characters."""


def context_size(backend: Backend) -> int | None:
    """The backend's context window in tokens, or ``None`` when it has no fixed one.

    Read as an attribute (``n_ctx`` on the llama.cpp backend) so that backends without a
    window, or test doubles, need nothing new.
    """
    size = getattr(backend, "n_ctx", None)
    return size if isinstance(size, int) and size > 0 else None


def fit_to_context(
    backend: Backend,
    messages: Sequence[Message],
    tools: Sequence[ToolSpec] | None,
    *,
    reserve: int,
) -> list[dict[str, Any]]:
    """``messages`` shortened, if needed, so that the prompt leaves ``reserve`` tokens free.

    Args:
        messages: the prompt's messages: the instructions first, then the history, the "now"
            system message, and the current exchange from the latest user message on.
        reserve: tokens to leave for the answer (the call's ``max_tokens``).

    Returns:
        The messages unchanged when they fit (the common case, measured without tokenizing
        when the prompt's bytes already fit), or a shortened copy. When even the instructions
        and tools leave no room, the messages are returned as they are and the backend
        reports the overflow (the context setting is too small for the tools).
    """
    limit = context_size(backend)
    out = [dict(m) for m in messages]
    if limit is None:
        return out
    budget = limit - reserve - SAFETY_TOKENS
    if budget <= 0 or _fits(backend, out, tools, budget):
        return out

    current = _current_start(out)
    # 1. the oldest exchanges go first, one whole exchange at a time
    while current > 1:
        end = _next_user(out, 1, current)
        del out[1:end]
        current -= end - 1
        if _fits(backend, out, tools, budget):
            return out
    # 2. then the middle of the longest message of what is left (never the instructions)
    at_minimum: set[int] = set()
    while True:
        index = _longest(out, at_minimum)
        if index is None:
            return out
        text = out[index]["content"]
        over = _tokens(backend, out, tools) - budget
        # Tokens are at least one byte; cutting as many characters as tokens are over (plus a
        # tenth) converges in a step or two without tokenizing every candidate.
        keep = len(text) - max(over, 1) - len(text) // 10
        if keep <= MIN_KEPT_CHARS:
            keep = MIN_KEPT_CHARS
            at_minimum.add(index)
        out[index] = {**out[index], "content": _cut_middle(text, keep)}
        if _fits(backend, out, tools, budget):
            return out


def _fits(
    backend: Backend, messages: list[dict[str, Any]], tools: Sequence[ToolSpec] | None, budget: int
) -> bool:
    prompt = backend.render(messages, tools)
    if len(prompt.encode("utf-8")) <= budget:  # a token is at least one byte
        return True
    return len(backend.tokenize(prompt)) <= budget


def _tokens(
    backend: Backend, messages: list[dict[str, Any]], tools: Sequence[ToolSpec] | None
) -> int:
    return len(backend.tokenize(backend.render(messages, tools)))


def _current_start(messages: list[dict[str, Any]]) -> int:
    """Where the part that is always kept begins: the "now" line before the latest user
    message, or that message itself."""
    last_user = max(
        (i for i, m in enumerate(messages) if m.get("role") == "user"), default=len(messages)
    )
    if last_user > 1 and messages[last_user - 1].get("role") == "system":
        return last_user - 1
    return last_user


def _next_user(messages: list[dict[str, Any]], start: int, stop: int) -> int:
    """The index of the first user message after ``start`` (``stop`` when there is none)."""
    for index in range(start + 1, stop):
        if messages[index].get("role") == "user":
            return index
    return stop


def _longest(messages: list[dict[str, Any]], done: set[int]) -> int | None:
    """The message (after the instructions) with the longest text that can still be cut."""
    best: int | None = None
    for index, message in enumerate(messages[1:], start=1):
        text = message.get("content")
        if index in done or not isinstance(text, str) or len(text) <= MIN_KEPT_CHARS:
            continue
        if best is None or len(text) > len(messages[best]["content"]):
            best = index
    return best


def _cut_middle(text: str, keep: int) -> str:
    """``text`` with its middle replaced by a marker, ``keep`` characters kept in all."""
    if keep >= len(text):
        return text
    head = keep * 2 // 3
    tail = keep - head
    left_out = len(text) - keep
    return f"{text[:head]}\n…[{left_out} characters left out to fit]…\n{text[len(text) - tail :]}"
