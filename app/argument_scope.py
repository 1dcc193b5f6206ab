"""Keeping a small model to the arguments the user talked about.

Measured on the bundled 0.5B model: given a tool with many optional arguments it writes all of
them, inventing values (``"attendees": ["ana@example.com"], "repeat": "weekly"`` for "a dentist
appointment tomorrow at 12:30"), which is wrong, slow, and can make the call invalid
("repeat_until and repeat_count, not both"). A logit nudge towards closing the arguments did
not stop it. So the grammar offers an optional argument only when the request mentions it:
a word of the request shares a stem with the argument's name or description. The prompt still
shows the full tools (its cached prefix does not change per request); only decoding is
narrowed, and required arguments are never touched.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from app.tool_choice import _same_stem, content_words
from backends.schema import ToolSpec


def _argument_words(name: str, schema: Any) -> set[str]:
    """The words that say an argument is wanted: its name, description and enum values."""
    if not isinstance(schema, dict):
        return content_words(name)
    text = [name, str(schema.get("description", ""))]
    for holder in (schema, schema.get("items") or {}):
        if isinstance(holder, dict):
            text.extend(str(v) for v in holder.get("enum") or ())
    return content_words(" ".join(text))


def _mentions(asked: set[str], words: set[str]) -> bool:
    return any(_same_stem(a, w) or a.rstrip("s") == w.rstrip("s") for a in asked for w in words)


def scoped_tool(request: str, tool: ToolSpec) -> ToolSpec:
    """``tool`` with the optional top-level arguments the request does not mention removed."""
    params = tool.parameters
    properties = params.get("properties")
    if not isinstance(properties, dict):
        return tool
    required = set(params.get("required") or ())
    # The words naming the tool ("notes", "calendar") pick the tool, not an argument.
    asked = content_words(request) - content_words(tool.name)
    kept = {
        name: schema
        for name, schema in properties.items()
        if name in required or _mentions(asked, _argument_words(name, schema))
    }
    if len(kept) == len(properties):
        return tool
    return dataclasses.replace(tool, parameters={**params, "properties": kept})


def scoped_tools(request: str, tools: Sequence[ToolSpec]) -> tuple[ToolSpec, ...]:
    """Every tool narrowed to the optional arguments ``request`` mentions."""
    return tuple(scoped_tool(request, tool) for tool in tools)
