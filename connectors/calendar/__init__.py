"""Calendar connector: iCalendar events with recurrence, alarms, free time and .ics exchange."""

from __future__ import annotations

from connectors.registry import Registry


def register(registry: Registry) -> None:
    """Add the calendar tools (entry point ``callmemaybe.connectors: calendar``)."""
    from connectors.calendar.tools import TOOLS

    for item in TOOLS:
        registry.add(item)
