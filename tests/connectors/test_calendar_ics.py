""".ics import and export: calendars written in the styles of Google, Apple and Outlook round-trip.

The files under tests/data/ics/ are hand-written in each app's export style (VTIMEZONE blocks,
Outlook's Windows zone names, X- properties, RECURRENCE-ID overrides, EXDATE, VALARM, all-day
and floating events, attendees). Round-trip is compared parsed, component by component.
"""

from __future__ import annotations

import hashlib
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from sqlalchemy import func, select

from connectors.calendar import register
from connectors.calendar.ics import CorruptCalendarError
from connectors.calendar.models import CalendarEvent, CalendarOccurrence
from connectors.errors import ConnectorError, PathRefusedError
from connectors.registry import Registry
from connectors.tool import ToolContext, ToolResult

DATA = Path(__file__).parents[1] / "data" / "ics"
STYLES = ["google", "apple", "outlook"]
UTC = ZoneInfo("UTC")


@pytest.fixture
def registry() -> Registry:
    found = Registry()
    register(found)
    return found


@pytest.fixture
def granted(tool_context: ToolContext) -> Path:
    return tool_context.granted_folders[0]


@pytest.fixture
def run(registry: Registry, tool_context: ToolContext) -> Any:
    def call(name: str, arguments: dict[str, Any]) -> ToolResult:
        return registry.run(name, arguments, tool_context, approved=True)

    return call


def put(granted: Path, style: str) -> str:
    shutil.copy(DATA / f"{style}.ics", granted / f"{style}.ics")
    return f"{style}.ics"


def by_key(calendar: icalendar.Calendar) -> dict[tuple[str, str], bytes]:
    """Each VEVENT's serialisation, keyed by UID and RECURRENCE-ID."""
    out = {}
    for event in calendar.walk("VEVENT"):
        rid = event.get("RECURRENCE-ID")
        out[(str(event["UID"]), rid.to_ical().decode() if rid else "")] = event.to_ical()
    return out


def zones(calendar: icalendar.Calendar) -> dict[str, bytes]:
    return {str(z["TZID"]): z.to_ical() for z in calendar.walk("VTIMEZONE")}


def instant(value: date | datetime) -> str:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    return value.isoformat()  # a date, or a floating time: the same wherever one is


def occurrences(calendar: icalendar.Calendar) -> list[tuple[str, str, str, str]]:
    """Every occurrence in 2026-2027, by UTC instant.

    X-WR-TIMEZONE is a calendar-level hint that the import does not carry over: floating times
    stay floating (RFC 5545), shown in the user's zone, so it is left out of the comparison.
    """
    calendar.pop("X-WR-TIMEZONE", None)
    found = recurring_ical_events.of(calendar).between(
        datetime(2026, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
    )
    return sorted(
        (str(o["UID"]), instant(o.start), instant(o.end), str(o.get("SUMMARY"))) for o in found
    )


def counts(context: ToolContext) -> tuple[int, int]:
    with context.store().reading() as session:
        events = session.scalar(select(func.count(CalendarEvent.id)))
        rows = session.scalar(select(func.count(CalendarOccurrence.id)))
    return events or 0, rows or 0


@pytest.mark.parametrize("style", STYLES)
def test_import_then_export_keeps_every_event_override_property_and_occurrence(
    run: Any, granted: Path, style: str
):
    imported = run("calendar_import", {"path": put(granted, style)})
    assert imported.data["added"] == 3 and imported.data["replaced"] == 0

    exported = run("calendar_export", {"path": f"{style}-out.ics"})
    assert exported.data["events"] == 3
    original = icalendar.Calendar.from_ical((DATA / f"{style}.ics").read_bytes())
    again = icalendar.Calendar.from_ical((granted / f"{style}-out.ics").read_bytes())

    assert by_key(again) == by_key(original)
    original_zones = zones(original)
    assert {tzid: zones(again)[tzid] for tzid in original_zones} == original_zones
    assert occurrences(again) == occurrences(original)
    assert len(occurrences(original)) >= 5


def test_google_calendar_lists_with_exdate_override_and_all_day(run: Any, granted: Path):
    run("calendar_import", {"path": put(granted, "google")})
    events = run("calendar_list", {"start": "2026-11-09", "end": "2026-12-09"}).data["events"]
    assert [(e["title"], e["start"]) for e in events] == [
        ("Team sync", "2026-11-09T09:30+01:00"),
        # 16 Nov is an EXDATE; 23 Nov was moved to Tuesday afternoon.
        ("Team sync (moved)", "2026-11-24T15:00+01:00"),
        ("Bank call", "2026-11-27T12:00+01:00"),
        ("Team sync", "2026-11-30T09:30+01:00"),
        ("Team sync", "2026-12-07T09:30+01:00"),
        ("Offsite", "2026-12-08"),
    ]
    assert events[-1]["when"] == "Tue 8 Dec 2026 – Wed 9 Dec 2026 (all day)"


def test_outlook_windows_zones_and_apple_floating_times_are_placed_right(run: Any, granted: Path):
    run("calendar_import", {"path": put(granted, "outlook")})
    run("calendar_import", {"path": put(granted, "apple")})
    events = run("calendar_list", {"start": "2026-11-25", "end": "2026-12-02"}).data["events"]
    assert [(e["title"], e["start"]) for e in events] == [
        ("Project review (Thursday this week)", "2026-11-26T16:00+01:00"),
        ("Call Mum", "2026-11-30T11:00+01:00"),  # floating: 11:00 wherever the user is
        ("Vendor call", "2026-11-30T18:00+01:00"),  # 09:00 in Seattle
        ("Piano practice", "2026-12-02T00:00+01:00"),  # 18:00 in New York
        ("Project review", "2026-12-02T11:00+01:00"),
    ]


def test_cancelling_an_imported_occurrence_round_trips_as_exdate(run: Any, granted: Path):
    run("calendar_import", {"path": put(granted, "outlook")})
    run("calendar_cancel", {"event": "Project review", "occurrence": "2026-12-02"})
    run("calendar_export", {"path": "after.ics"})
    again = icalendar.Calendar.from_ical((granted / "after.ics").read_bytes())
    starts = [o[1] for o in occurrences(again) if "Project review" in o[3]]
    assert starts == [  # UTC; 18 Nov and now 2 Dec cancelled, 25 Nov moved to the 26th
        "2026-11-04T10:00:00+00:00",
        "2026-11-11T10:00:00+00:00",
        "2026-11-26T15:00:00+00:00",
        "2026-12-09T10:00:00+00:00",
        "2026-12-16T10:00:00+00:00",
    ]
    assert "X-MICROSOFT-CDO-BUSYSTATUS:BUSY" in (granted / "after.ics").read_text()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text[: len(text) // 2], "cut short"),
        (lambda text: "\x89PNG\r\n\x1a\n" + text, "not an iCalendar file"),
        (lambda text: text.replace("20261127T110000Z", "2026-11-27 noon"), "unreadable DTSTART"),
        (lambda text: text.replace("FREQ=WEEKLY", "FREQ=SOMETIMES"), "unreadable RRULE"),
        (lambda text: text.replace("DTSTART;VALUE=DATE:20261208\r\n", ""), "Offsite"),
    ],
)
def test_a_corrupt_file_is_a_clear_error_and_imports_nothing(
    run: Any, granted: Path, tool_context: ToolContext, damage: Any, message: str
):
    run("calendar_create", {"title": "Existing", "start": "tomorrow 9:00"})
    before = counts(tool_context)
    with open(DATA / "google.ics", newline="", encoding="utf-8") as source:
        text = source.read()
    (granted / "bad.ics").write_text(damage(text), newline="", encoding="utf-8")
    with pytest.raises(CorruptCalendarError, match=message) as caught:
        run("calendar_import", {"path": "bad.ics"})
    assert "nothing was imported" in str(caught.value).lower()
    assert counts(tool_context) == before


def test_undo_import_removes_added_events_and_restores_replaced_ones(
    run: Any, granted: Path, tool_context: ToolContext
):
    run("calendar_import", {"path": put(granted, "google")})
    run("calendar_update", {"event": "Bank call", "title": "Bank call (prepare docs)"})
    with tool_context.store().reading() as session:
        before = {r.uid: r.ical for r in session.scalars(select(CalendarEvent))}
    before_list = run("calendar_list", {"start": "2026-11-01", "end": "2027-01-31"}).data
    with tool_context.store().reading() as session:
        before_rows = session.execute(
            select(CalendarOccurrence.event_id, CalendarOccurrence.start).order_by(
                CalendarOccurrence.event_id, CalendarOccurrence.start
            )
        ).all()

    shutil.copy(DATA / "google.ics", granted / "again.ics")
    again = run("calendar_import", {"path": "again.ics"})
    assert again.data == {**again.data, "added": 0, "replaced": 3}
    apple = run("calendar_import", {"path": put(granted, "apple")})
    assert apple.undo is not None and again.undo is not None
    run(apple.undo.tool, apple.undo.arguments)
    run(again.undo.tool, again.undo.arguments)

    with tool_context.store().reading() as session:
        after = {r.uid: r.ical for r in session.scalars(select(CalendarEvent))}
        after_rows = session.execute(
            select(CalendarOccurrence.event_id, CalendarOccurrence.start).order_by(
                CalendarOccurrence.event_id, CalendarOccurrence.start
            )
        ).all()
    assert after == before
    assert after_rows == before_rows
    assert run("calendar_list", {"start": "2026-11-01", "end": "2027-01-31"}).data == before_list


def test_import_and_export_stay_inside_granted_folders(
    run: Any, registry: Registry, granted: Path, tool_context: ToolContext, tmp_path: Path
):
    outside = tmp_path / "outside.ics"
    shutil.copy(DATA / "google.ics", outside)
    with pytest.raises(PathRefusedError):
        run("calendar_import", {"path": str(outside)})
    with pytest.raises(PathRefusedError):
        run("calendar_export", {"path": "../escape.ics"})
    assert not (tmp_path / "escape.ics").exists()
    item = registry.get("calendar_import")
    assert item.preview is not None
    shown = item.preview(tool_context, item.validate({"path": put(granted, "apple")}))
    assert shown["events"] == 3 and counts(tool_context) == (0, 0)


def test_export_refuses_to_overwrite_and_undo_deletes_only_an_unchanged_file(
    run: Any, granted: Path
):
    run("calendar_create", {"title": "Dentist", "start": "tomorrow 12:30"})
    (granted / "taken.ics").write_text("mine")
    with pytest.raises(ConnectorError, match="already exists"):
        run("calendar_export", {"path": "taken.ics"})
    assert (granted / "taken.ics").read_text() == "mine"

    result = run("calendar_export", {"path": "cal.ics"})
    data = (granted / "cal.ics").read_bytes()
    assert result.undo is not None
    assert result.undo.arguments["sha256"] == hashlib.sha256(data).hexdigest()
    exported = icalendar.Calendar.from_ical(data)
    assert [str(e["SUMMARY"]) for e in exported.walk("VEVENT")] == ["Dentist"]
    assert [str(z["TZID"]) for z in exported.walk("VTIMEZONE")] == ["Europe/Paris"]

    second = run("calendar_export", {"path": "cal2.ics"})
    (granted / "cal2.ics").write_bytes(data + b"\r\n")
    assert second.undo is not None
    with pytest.raises(ConnectorError, match="changed after the export"):
        run(second.undo.tool, second.undo.arguments)
    assert (granted / "cal2.ics").exists()
    run(result.undo.tool, result.undo.arguments)
    assert not (granted / "cal.ics").exists()
