"""How each model family writes tool calls: the one place that knows it.

Measured on the bundled Qwen2.5-Coder-0.5B: the model never writes the ``<tool_call>`` tags its
chat template asks for; it writes bare JSON, or JSON inside a ```json fence. Forcing the tags
scored 1/10 on simple requests, following what it writes 9/10. So the layout the grammar
enforces is taken from what the model does, per family, and the parser reads back exactly that
layout (plus, for unconstrained runs, the other forms a model may drift into).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from backends.schema import ToolSpec


@dataclass(frozen=True)
class CallFormat:
    """The written form of tool calls for one model family.

    Attributes:
        family: the GGUF ``general.architecture`` this applies to.
        name_key: key holding the tool name in a call object.
        arguments_key: key holding the arguments object.
        fences: opening fences the model may wrap calls in (each closed by ``\\n```"``).
        allow_list: calls may come as a JSON array (several calls in one answer).
        list_only: calls always come as a JSON array (one call is ``[{...}]``).
        call_bias: logits added to "another call" where the list could end (see
            :class:`backends.decoding.CallShapeNudge`); 0 leaves the model's choice alone.
        argument_bias: logits added to "no more arguments" where the arguments may end.
        max_calls: most calls in one answer; bounds the array so decoding always ends.
        key_separator: regex between a key and its value; exact, so the grammar forces it.
        item_separator: regex between items of an object or array.
        list_whitespace: regex for optional whitespace around calls inside the array.

    JSON inside a call is compact apart from the separators: a weak model given free whitespace
    can ramble inside a call, and pretty-printing doubles the tokens (and the wait) of a call.
    """

    family: str
    name_key: str = "name"
    arguments_key: str = "arguments"
    fences: tuple[str, ...] = ("```json\n", "```\n")
    allow_list: bool = True
    list_only: bool = False
    call_bias: float = 0.0
    argument_bias: float = 0.0
    max_calls: int = 8
    key_separator: str = ": "
    item_separator: str = ", "
    list_whitespace: str = r"( |\n {0,4})"


_JSON_CALLS = CallFormat(family="json")

CALL_FORMATS: dict[str, CallFormat] = {
    "qwen2": CallFormat(family="qwen2", argument_bias=2.0),
}


def call_format_for(architecture: str | None) -> CallFormat:
    """The call format for a model architecture; plain JSON calls for families not yet measured."""
    return CALL_FORMATS.get((architecture or "").lower(), _JSON_CALLS)


@dataclass(frozen=True)
class RawCall:
    """A call as read from the output, before validation against its tool."""

    name: Any
    arguments: Any
    start: int  # character offset of the call object in the output
    end: int


_TAG_RE = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCE_RE = re.compile(r"```(?:json|JSON)?\s*\n?(.*?)(?:\n?```|$)", re.S)


def starts_call(text: str, fmt: CallFormat) -> bool:
    """Whether output beginning with ``text`` is a call rather than a text answer.

    The grammar makes this decidable from the first character: text answers may not begin with
    ``{``, ``[`` or a backtick.
    """
    stripped = text.lstrip()
    return bool(stripped) and stripped[0] in "{[`"


def parse_calls(text: str, fmt: CallFormat) -> list[RawCall] | None:
    """Read the calls out of model output, or ``None`` when the output is a text answer.

    Accepts what the grammar produces (a call object or array, bare or fenced) and, for
    unconstrained output, ``<tool_call>`` tags and several objects in a row.
    """
    found: list[RawCall] = []
    tagged = list(_TAG_RE.finditer(text))
    if tagged:
        for match in tagged:
            found.extend(_objects_in(match.group(1), match.start(1), fmt))
        return found or None
    stripped = text.strip()
    if not stripped:
        return None
    if stripped.startswith("`"):
        fence = _FENCE_RE.search(text)
        if fence:
            return _objects_in(fence.group(1), fence.start(1), fmt) or None
        return None
    if stripped[0] in "{[":
        return _objects_in(text, 0, fmt) or None
    return None


def _objects_in(chunk: str, offset: int, fmt: CallFormat) -> list[RawCall]:
    """Decode consecutive JSON values in ``chunk`` into calls (arrays are flattened).

    Each call keeps the offsets of its own object, so conflicts can be placed on the right one.
    """
    calls: list[RawCall] = []
    pos = 0
    while True:
        pos = _skip(chunk, pos, " \t\r\n,;")
        if pos >= len(chunk):
            break
        try:
            value, end = _DECODER.raw_decode(chunk, pos)
        except json.JSONDecodeError:
            break
        items = _array_items(chunk, pos) if isinstance(value, list) else [(value, pos, end)]
        for item, start, stop in items:
            if isinstance(item, dict):
                calls.append(_raw_call(item, offset + start, offset + stop, fmt))
        pos = end
    return calls


_DECODER = json.JSONDecoder()


def _skip(text: str, pos: int, chars: str) -> int:
    while pos < len(text) and text[pos] in chars:
        pos += 1
    return pos


def _array_items(text: str, pos: int) -> list[tuple[Any, int, int]]:
    """The elements of the JSON array at ``pos`` with their own start and end offsets."""
    items = []
    pos = _skip(text, pos + 1, " \t\r\n")
    while pos < len(text) and text[pos] != "]":
        value, end = _DECODER.raw_decode(text, pos)
        items.append((value, pos, end))
        pos = _skip(text, end, " \t\r\n,")
    return items


def _raw_call(item: dict[str, Any], start: int, end: int, fmt: CallFormat) -> RawCall:
    args = item.get(fmt.arguments_key, item.get("parameters", {}))
    if isinstance(args, str):
        with contextlib.suppress(json.JSONDecodeError):
            args = json.loads(args)
    return RawCall(item.get(fmt.name_key), args, start, end)


def tools_by_name(tools: Sequence[ToolSpec]) -> dict[str, ToolSpec]:
    """Index tools by every spelling of their names the grammar accepts (see
    :func:`name_spellings`)."""
    index = {t.name: t for t in tools}
    return {spelling: index[name] for spelling, name in name_spellings(tools).items()}


_SEPARATOR = re.compile(r"[._]")
_MAX_SEPARATORS = 3  # beyond this, only all-dots and all-underscores besides the real name


def name_spellings(tools: Sequence[ToolSpec]) -> dict[str, str]:
    """Each accepted spelling of a tool name, mapped to the real name.

    Measured on the bundled model (BFCL multiple): offered ``math_roots.quadratic`` beside
    ``math.roots.cubic``, it writes ``math.roots.qu``; a grammar that knows only the exact
    names then forces the cubic tool. So a name may also be written with its dots and
    underscores swapped, and the call is read as the tool it spells. A spelling that could
    mean two tools (``a.b`` and ``a_b`` both offered) keeps its exact meaning only. Tools
    without a dot in any name (``calendar_free_time``) keep their exact names: the model
    mixes separators only between dotted namespaces, and a name the grammar forces whole is
    decoded in one batch.
    """
    real = {t.name for t in tools}
    if not any("." in name for name in real):
        return {name: name for name in real}  # no dotted namespace: nothing to mix up
    owners: dict[str, set[str]] = {}
    for name in real:
        for spelling in _separator_variants(name):
            owners.setdefault(spelling, set()).add(name)
    spellings = {name: name for name in real}
    for spelling, names in owners.items():
        if spelling not in real and len(names) == 1:
            spellings[spelling] = next(iter(names))
    return spellings


def _separator_variants(name: str) -> set[str]:
    parts = _SEPARATOR.split(name)
    gaps = len(parts) - 1
    if gaps == 0:
        return {name}
    if gaps > _MAX_SEPARATORS:
        return {name, ".".join(parts), "_".join(parts)}
    variants = set()
    for choice in itertools.product("._", repeat=gaps):
        rest = zip(choice, parts[1:], strict=True)
        variants.add(parts[0] + "".join(sep + part for sep, part in rest))
    return variants
