"""The scripted model, with the grammar having substituted values inside its calls.

When the grammar masks out the model's own choice inside a value (a path outside the allowed
ones, a number beyond a bound), the decode loop records an
:class:`~backends.conflicts.Override`, and the call carries a conflict flag. A random-weight
model makes such overrides at random places; this backend makes them where a test says, so
that the real flagging code (:func:`backends.output.assemble`,
:func:`backends.conflicts.conflicts_for_call`) runs on a known call.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence

from backends.base import CancelToken, GenerateOptions, Message
from backends.conflicts import Override
from backends.generation import Completion, GenerationEvent
from backends.output import assemble
from backends.schema import ToolSpec
from tests.scripted_backend import ScriptedBackend


class SubstitutingBackend(ScriptedBackend):
    """Replies with ``replies`` in order; wherever the JSON string ``value`` of
    ``substituted`` is written in a call, the model had wanted to write ``wanted`` instead."""

    def __init__(self, replies: Sequence[str], substituted: Mapping[str, str]) -> None:
        super().__init__(replies)
        self.substituted = dict(substituted)

    def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[GenerationEvent]:
        raw = self.replies[0] if self.replies else ""
        overrides = [
            Override(at + 1, wanted)
            for value, wanted in self.substituted.items()
            for at in _occurrences(raw, json.dumps(value))
        ]
        for event in super().stream(messages, tools, options=options, cancel=cancel):
            if isinstance(event, Completion) and event.tool_calls:
                event = assemble(raw, tools or (), self.call_format, overrides=overrides)
            yield event


def _occurrences(text: str, part: str) -> list[int]:
    found, at = [], text.find(part)
    while at >= 0:
        found.append(at)
        at = text.find(part, at + 1)
    return found
