"""Notes connector: Markdown notes with tags, versions, trash and full-text search."""

from __future__ import annotations

from connectors.registry import Registry


def register(registry: Registry) -> None:
    """Add the notes tools (entry point ``callmemaybe.connectors: notes``)."""
    from connectors.notes.tools import TOOLS

    for item in TOOLS:
        registry.add(item)
