"""Due reminders on a real encrypted store: what the desktop app turns into notifications."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.calendar import register
from connectors.calendar.reminders import due_between, leads_of
from connectors.registry import Registry
from connectors.tool import ToolContext

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)


@pytest.fixture
def create(tool_context: ToolContext) -> Any:
    registry = Registry()
    register(registry)

    def make(**arguments: Any) -> int:
        result = registry.run("calendar_create", arguments, tool_context, approved=True)
        return int(result.data["id"])

    return make


def due(context: ToolContext, after: datetime, until: datetime) -> list[tuple[str, str]]:
    with context.store().reading() as session:
        found = due_between(session, after, until, PARIS)
    return [(r.title, r.due.strftime("%d %H:%M")) for r in found]


def test_reminders_fire_once_at_their_lead_before_each_occurrence(
    tool_context: ToolContext, create: Any
) -> None:
    create(title="Dentist", start="2026-11-25 12:30", reminder_minutes=15, location="Rue X")
    create(title="Standup", start="2026-11-26 09:00", repeat="daily", reminder_minutes=10)
    create(title="Lunch", start="2026-11-25 12:00")  # no reminder: never shown
    assert due(tool_context, NOW, NOW + timedelta(hours=2)) == []
    assert due(tool_context, NOW, NOW + timedelta(hours=2, minutes=15)) == [("Dentist", "25 12:15")]
    # The next look starts where this one ended: nothing is shown twice.
    later = NOW + timedelta(hours=2, minutes=15)
    assert due(tool_context, later, later + timedelta(minutes=1)) == []
    two_days = due(tool_context, later, NOW + timedelta(days=2))
    assert two_days == [("Standup", "26 08:50"), ("Standup", "27 08:50")]


def test_the_reminder_says_when_and_where(tool_context: ToolContext, create: Any) -> None:
    create(title="Dentist", start="2026-11-25 12:30", reminder_minutes=15, location="Rue X")
    with tool_context.store().reading() as session:
        (reminder,) = due_between(session, NOW, NOW + timedelta(hours=3), PARIS)
    assert reminder.message() == "Wed 25 Nov 2026 12:30–13:30 CET, Rue X"


def test_a_cancelled_or_moved_event_reminds_as_it_is_now(
    tool_context: ToolContext, create: Any
) -> None:
    registry = Registry()
    register(registry)
    create(title="Dentist", start="2026-11-25 12:30", reminder_minutes=15)
    registry.run(
        "calendar_update",
        {"event": "Dentist", "start": "2026-11-25 16:00"},
        tool_context,
        approved=True,
    )
    assert due(tool_context, NOW, NOW + timedelta(hours=8)) == [("Dentist", "25 15:45")]
    registry.run("calendar_cancel", {"event": "Dentist"}, tool_context, approved=True)
    assert due(tool_context, NOW, NOW + timedelta(hours=8)) == []


def test_alarms_from_other_apps_are_read_and_odd_ones_ignored() -> None:
    text = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "BEGIN:VEVENT",
            "UID:x",
            "DTSTART:20261125T120000Z",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER:-PT1H",
            "END:VALARM",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER;RELATED=END:-PT5M",
            "END:VALARM",
            "BEGIN:VALARM",
            "ACTION:DISPLAY",
            "TRIGGER;VALUE=DATE-TIME:20261125T100000Z",
            "END:VALARM",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    assert leads_of(text) == [timedelta(hours=1)]
    assert leads_of("BEGIN:VCALENDAR\r\nnot a calendar") == []
