"""Turning grammar overrides into conflict flags on the call they changed.

While decoding, each time the grammar masks out the model's own top choice the decode loop
records an :class:`Override` (where in the output, and the text of the token the model wanted).
Most overrides are harmless layout (a space, a newline, a ``<tool_call>`` tag). The ones that
matter fall inside a value of a call: the model wanted ``120`` for a field limited to 50 and the
grammar produced ``12``. Those become :class:`~backends.generation.Conflict` flags naming the
field and what the model wanted, so the user sees them before anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from backends.generation import Conflict

_STRUCTURAL = ",}]:"


@dataclass(frozen=True)
class Override:
    """The grammar replaced the model's top token.

    Attributes:
        offset: character offset in the output where the replaced token would have started.
        wanted: the text of the token the model preferred.
    """

    offset: int
    wanted: str


@dataclass(frozen=True)
class ValueSpan:
    """Where one scalar value of a JSON document sits in the text."""

    path: tuple[str | int, ...]
    start: int
    end: int


def scalar_spans(text: str, start: int) -> tuple[list[ValueSpan], int]:
    """Spans of every scalar value inside the JSON value that starts at ``start``.

    Returns:
        The spans and the offset just past the value.

    Raises:
        ValueError: the text at ``start`` is not JSON.
    """
    spans: list[ValueSpan] = []
    end = _scan(text, _skip_ws(text, start), (), spans)
    return spans, end


_DECODER = json.JSONDecoder()


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _scan(text: str, pos: int, path: tuple[str | int, ...], spans: list[ValueSpan]) -> int:
    if pos >= len(text):
        raise ValueError("unexpected end of JSON")
    char = text[pos]
    if char == "{":
        pos = _skip_ws(text, pos + 1)
        if text[pos] == "}":
            return pos + 1
        while True:
            key, pos = _DECODER.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            pos = _skip_ws(text, pos + 1)  # the colon
            pos = _skip_ws(text, _scan(text, pos, (*path, key), spans))
            if text[pos] == "}":
                return pos + 1
            pos = _skip_ws(text, pos + 1)  # the comma
    if char == "[":
        pos = _skip_ws(text, pos + 1)
        if text[pos] == "]":
            return pos + 1
        index = 0
        while True:
            pos = _skip_ws(text, _scan(text, pos, (*path, index), spans))
            index += 1
            if text[pos] == "]":
                return pos + 1
            pos = _skip_ws(text, pos + 1)
    _value, end = _DECODER.raw_decode(text, pos)
    spans.append(ValueSpan(path, pos, end))
    return end


def format_path(path: Sequence[str | int]) -> str:
    """``("arguments", "items", 0, "qty")`` -> ``"arguments.items[0].qty"``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _value_at(document: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        document = document[part]
    return document


def conflicts_for_call(
    text: str,
    call_start: int,
    call_object: dict[str, Any],
    overrides: Iterable[Override],
    *,
    keys: tuple[str, str] = ("name", "arguments"),
) -> tuple[Conflict, ...]:
    """The conflicts that fall inside the call object written at ``call_start``.

    An override counts when it lands inside a scalar value (or right at its end, when the model
    wanted to keep writing the value) and the model's token was not mere layout.
    """
    try:
        spans, call_end = scalar_spans(text, call_start)
    except (ValueError, IndexError):
        return ()
    found: dict[tuple[str | int, ...], Conflict] = {}
    for override in overrides:
        if not (call_start <= override.offset <= call_end) or not override.wanted.strip():
            continue
        for span in spans:
            inside = span.start <= override.offset < span.end
            extends = override.offset == span.end and override.wanted.lstrip()[0] not in _STRUCTURAL
            if not (inside or extends) or span.path in found:
                continue
            if span.path and span.path[0] not in keys:
                continue
            if _same_value_end(text, override):
                continue  # the model closed the value too, only wanting another key after it
            wanted = text[span.start : override.offset] + override.wanted
            found[span.path] = Conflict(
                path=format_path(span.path),
                wanted=_readable(wanted),
                got=_value_at(call_object, span.path),
            )
            break
    return tuple(found.values())


def _same_value_end(text: str, override: Override) -> bool:
    """Whether the model's token closes the string just as the written text does (``",``
    wanted where the grammar wrote ``"}}``): the value is what the model meant."""
    wanted = override.wanted
    return (
        wanted[:1] == '"'
        and text[override.offset : override.offset + 1] == '"'
        and all(c in _STRUCTURAL or c.isspace() for c in wanted[1:])
    )


def _readable(fragment: str) -> str:
    """Show what the model wanted without JSON quoting noise (``"celsius`` -> ``celsius``)."""
    fragment = fragment.strip()
    if fragment.startswith('"'):
        try:
            return json.loads(fragment if fragment.endswith('"') else fragment + '"')
        except json.JSONDecodeError:
            return fragment.strip('"')
    return fragment
