"""Choosing the few tools a request is about, so the prompt stays short and its prefix cached.

Every tool definition costs prompt tokens (about 100 each for ours), and a 0.5B model picks
worse among many. Tools are ranked by how many of the request's words share a stem with the
tool's name, description and parameters; ties keep registration order, so the same request
always gets the same tools (and the same cached prefix).
"""

from __future__ import annotations

from collections.abc import Sequence

from app.tool_choice import _same_stem, content_words, tool_words
from backends.schema import ToolSpec


def relevance(request: str, tool: ToolSpec) -> int:
    """How many of the request's meaningful words match the tool's own words."""
    offered = tool_words(tool)
    return sum(1 for word in content_words(request) if any(_same_stem(word, o) for o in offered))


def select_tools(request: str, tools: Sequence[ToolSpec], limit: int) -> list[ToolSpec]:
    """The ``limit`` most relevant tools, in their original order."""
    ranked = sorted(range(len(tools)), key=lambda i: (-relevance(request, tools[i]), i))
    chosen = sorted(ranked[:limit])
    return [tools[i] for i in chosen]
