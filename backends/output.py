"""From what the model wrote to a :class:`~backends.generation.Completion`.

Shared by every backend: parse the calls out of the raw output with the family's call format,
validate each against its tool's schema (again, whatever produced it: the grammar should make
this a formality, unconstrained output often fails it), and attach conflict flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jsonschema

from backends.call_format import CallFormat, parse_calls, tools_by_name
from backends.conflicts import Override, conflicts_for_call
from backends.generation import Completion, FinishReason, Timings, ToolCall
from backends.schema import ToolSpec


def validate_arguments(tool: ToolSpec, arguments: Any) -> tuple[str, ...]:
    """Every way ``arguments`` fails ``tool``'s schema, as short readable messages."""
    validator = jsonschema.Draft202012Validator(tool.parameters)
    errors = []
    for error in sorted(validator.iter_errors(arguments), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "arguments"
        errors.append(f"{where}: {error.message}")
    return tuple(errors)


def byte_to_char_offsets(raw: bytes, overrides: Sequence[tuple[int, bytes]]) -> list[Override]:
    """Turn (byte offset, wanted token bytes) pairs into character-offset overrides."""
    out = []
    for offset, wanted in overrides:
        char_offset = len(raw[:offset].decode("utf-8", errors="ignore"))
        out.append(Override(char_offset, wanted.decode("utf-8", errors="replace")))
    return out


def assemble(
    raw: str,
    tools: Sequence[ToolSpec],
    fmt: CallFormat,
    *,
    overrides: Sequence[Override] = (),
    finish_reason: FinishReason = "stop",
    prompt_tokens: int = 0,
    cached_tokens: int = 0,
    completion_tokens: int = 0,
    forced_tokens: int = 0,
    timings: Timings | None = None,
) -> Completion:
    """Build the completion for ``raw`` output; a call that cannot be read leaves a text answer."""
    raw_calls = parse_calls(raw, fmt) if tools else None
    calls: list[ToolCall] = []
    known = tools_by_name(tools)
    for raw_call in raw_calls or ():
        tool = known.get(raw_call.name) if isinstance(raw_call.name, str) else None
        if tool is None:
            errors: tuple[str, ...] = (f"unknown tool {raw_call.name!r}",)
        elif not isinstance(raw_call.arguments, dict):
            errors = ("arguments must be a JSON object",)
        else:
            errors = validate_arguments(tool, raw_call.arguments)
        arguments = raw_call.arguments if isinstance(raw_call.arguments, dict) else {}
        call_object = {fmt.name_key: raw_call.name, fmt.arguments_key: arguments}
        conflicts = conflicts_for_call(
            raw, raw_call.start, call_object, overrides, keys=(fmt.name_key, fmt.arguments_key)
        )
        calls.append(
            ToolCall(
                name=tool.name if tool is not None else str(raw_call.name),
                arguments=arguments,
                conflicts=conflicts,
                valid=not errors,
                errors=errors,
            )
        )
    return Completion(
        text=None if calls else raw.strip(),
        tool_calls=tuple(calls),
        raw=raw,
        finish_reason=finish_reason,
        prompt_tokens=prompt_tokens,
        cached_tokens=cached_tokens,
        completion_tokens=completion_tokens,
        forced_tokens=forced_tokens,
        timings=timings or Timings(),
    )
