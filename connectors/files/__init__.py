"""Files connector: list, find, read, write, move, copy and trash files under granted folders."""

from __future__ import annotations

from connectors.registry import Registry


def register(registry: Registry) -> None:
    """Add the file tools (entry point ``callmemaybe.connectors: files``)."""
