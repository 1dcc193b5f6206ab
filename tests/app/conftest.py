"""Fixtures the assistant's tests share."""

from __future__ import annotations

import pytest

from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext


@pytest.fixture
def registry_with_lunch(tool_context: ToolContext) -> Registry:
    """The registry over the test store, with one event: "Lunch with Marta"."""
    registry = load_registry()
    registry.run(
        "calendar_create",
        {"title": "Lunch with Marta", "start": "2026-11-27T13:00"},
        tool_context,
        approved=True,
    )
    return registry
