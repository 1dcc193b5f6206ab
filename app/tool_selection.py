"""Choosing the tools a request is about, so the prompt stays short and its prefix cached.

Every tool definition costs prompt tokens (ours take 100-250 each; all of them together would
not fit a 4,096-token context with a conversation), and a 0.5B model picks worse among many.
Tools are ranked by how many of the request's words share a stem with the tool's name,
description and parameters.

For the assistant's own tools the unit is the connector (the name's prefix: ``notes_``,
``calendar_``, ``files_``): the best-matching connectors are offered whole, in registration
order, so there are only a few distinct tool sets, each with its prompt prefix cached on disk
after its first use; a per-tool choice would make almost every request a new, cold prefix.
"""

from __future__ import annotations

from collections.abc import Sequence

from app.request_words import content_words, same_stem
from app.tool_choice import tool_words
from backends.schema import ToolSpec


def relevance(request: str, tool: ToolSpec) -> int:
    """How many of the request's meaningful words match the tool's own words."""
    offered = tool_words(tool)
    return sum(1 for word in content_words(request) if any(same_stem(word, o) for o in offered))


def select_tools(request: str, tools: Sequence[ToolSpec], limit: int) -> list[ToolSpec]:
    """The ``limit`` most relevant tools, in their original order (ties: the earlier)."""
    ranked = sorted(range(len(tools)), key=lambda i: (-relevance(request, tools[i]), i))
    return [tools[i] for i in sorted(ranked[:limit])]


def group_of(tool: ToolSpec) -> str:
    """The connector a tool belongs to: its name up to the first underscore, or for a tool
    from an MCP server (``server.tool``) the server."""
    if "." in tool.name:
        return tool.name.split(".", 1)[0]
    return tool.name.split("_", 1)[0]


def select_groups(request: str, tools: Sequence[ToolSpec], limit: int) -> list[ToolSpec]:
    """Whole connectors, best match first, while their tools fit in ``limit`` (at least one).

    A request matching no connector gets the first one that fits, so the model can still
    answer in text or ask.
    """
    groups: dict[str, list[int]] = {}
    for index, tool in enumerate(tools):
        groups.setdefault(group_of(tool), []).append(index)
    scores = {
        name: max(relevance(request, tools[i]) for i in members) * 100
        + sum(relevance(request, tools[i]) for i in members)
        for name, members in groups.items()
    }
    order = sorted(groups, key=lambda name: (-scores[name], min(groups[name])))
    chosen: list[int] = []
    for name in order:
        members = groups[name]
        if chosen and (len(chosen) + len(members) > limit or scores[name] == 0):
            continue
        chosen.extend(members)
    return [tools[i] for i in sorted(chosen)]
