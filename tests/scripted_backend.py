"""A backend that answers from a script, for testing the turn logic around the model.

The model's words come from the script, everything else is the real code: the answer is parsed
by the same ``assemble`` (call parsing and schema validation) as llama.cpp output, and the
prompts the assistant built are kept so tests can check what the model was shown. The real
model drives the end-to-end tests (tests/app/test_assistant_e2e.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from backends.base import Backend, CancelToken, GenerateOptions, Message
from backends.call_format import CallFormat, call_format_for, starts_call
from backends.generation import GenerationEvent, TextDelta
from backends.output import assemble
from backends.schema import ToolSpec


class ScriptedBackend(Backend):
    """Replies with ``replies`` in order (a JSON call or text each).

    The assistant's route pass (app.policy.decision) asks the model for a tool name under a
    response schema; those questions are answered from ``routes`` in order, and with "none"
    (the model abstains: the request's words pick the tools) once the list is used up.
    """

    name = "scripted"

    def __init__(self, replies: Sequence[str], routes: Sequence[str] = ()) -> None:
        self.replies = list(replies)
        self.routes = list(routes)
        self.routed: list[str] = []  # the requests the route pass asked about
        self.route_prompts: list[list[dict[str, Any]]] = []  # and the prompts it read
        self.prompts: list[list[dict[str, Any]]] = []
        self.offered: list[list[str]] = []
        self.options: list[GenerateOptions] = []

    def load(self, model_path: Path) -> None:  # pragma: no cover - nothing to load
        pass

    @property
    def architecture(self) -> str:
        return "qwen2"

    @property
    def call_format(self) -> CallFormat:
        return call_format_for("qwen2")

    def tokenize(self, text: str) -> list[int]:
        return [ord(c) for c in text]

    def detokenize(self, tokens: Sequence[int]) -> str:
        return "".join(chr(t) for t in tokens)

    def render(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        add_generation_prompt: bool = True,
    ) -> str:
        return "\n".join(f"{m.get('role')}: {m.get('content')}" for m in messages)

    def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[GenerationEvent]:
        schema = (options.response_schema if options else None) or {}
        if tools is None and "none" in schema.get("enum", ()):
            self.routed.append(str(messages[-1].get("content")))
            self.route_prompts.append([dict(m) for m in messages])
            choice = self.routes.pop(0) if self.routes else "none"
            yield assemble(json.dumps(choice), (), self.call_format)
            return
        self.prompts.append([dict(m) for m in messages])
        self.offered.append([t.name for t in tools or ()])
        self.options.append(options or GenerateOptions())
        if not self.replies:
            raise AssertionError("the model was asked more often than the script expects")
        raw = self.replies.pop(0)
        options = options or GenerateOptions()
        if not options.allow_calls and starts_call(raw, self.call_format):
            raw = "I can't do that with my tools."
        if not starts_call(raw, self.call_format):
            for piece in re.findall(r"\s*\S+", raw):
                yield TextDelta(piece)
        yield assemble(raw, tools or (), self.call_format)
