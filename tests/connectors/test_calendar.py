"""Calendar tools on a real encrypted store, at the fixed now Wed 25 Nov 2026 10:00 Europe/Paris."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from connectors.calendar import dates, register
from connectors.calendar.models import CalendarEvent, CalendarOccurrence
from connectors.errors import InvalidArgumentsError, NotFoundError
from connectors.registry import Registry
from connectors.tool import ToolContext, ToolResult

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)


@pytest.fixture
def registry() -> Registry:
    found = Registry()
    register(found)
    return found


@pytest.fixture
def run(registry: Registry, tool_context: ToolContext) -> Any:
    def call(name: str, arguments: dict[str, Any]) -> ToolResult:
        return registry.run(name, arguments, tool_context, approved=True)

    return call


def preview(registry: Registry, context: ToolContext, name: str, args: dict[str, Any]) -> dict:
    item = registry.get(name)
    assert item.preview is not None
    return item.preview(context, item.validate(args))


def listed(run: Any, start: str, end: str) -> list[dict[str, Any]]:
    return run("calendar_list", {"start": start, "end": end, "limit": 200}).data["events"]


def stored(tool_context: ToolContext, event_id: int) -> tuple[str, str]:
    with tool_context.store().reading() as session:
        row = session.get(CalendarEvent, event_id)
        assert row is not None
        return row.ical.replace("\r\n ", ""), row.vtimezones  # unfolded


def occurrence_rows(tool_context: ToolContext) -> list[tuple[int, datetime, str]]:
    with tool_context.store().reading() as session:
        rows = session.execute(
            select(
                CalendarOccurrence.event_id, CalendarOccurrence.start, CalendarOccurrence.title
            ).order_by(CalendarOccurrence.event_id, CalendarOccurrence.start)
        )
        return [tuple(r) for r in rows]


# ---------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("tomorrow 12:30", "2026-11-26T12:30+01:00", True),
        ("next Friday", "2026-11-27T00:00+01:00", False),
        ("in 2 hours", "2026-11-25T12:00+01:00", True),
        ("Monday 9am", "2026-11-30T09:00+01:00", True),
        ("December 5", "2026-12-05T00:00+01:00", False),
        ("June 5 10:00", "2027-06-05T10:00+02:00", True),  # summer time, not today's offset
        ("2026-12-01T09:00", "2026-12-01T09:00+01:00", True),
        ("2026-12-01T08:00:00Z", "2026-12-01T09:00+01:00", True),
        ("2026-12-01", "2026-12-01T00:00+01:00", False),
        ("demain 12h30", "2026-11-26T12:30+01:00", True),
    ],
)
def test_dates_are_resolved_against_the_fixed_now(text: str, expected: str, has_time: bool):
    moment = dates.resolve(text, field="start", tool="t", zone=PARIS, base=NOW)
    assert dates.iso(moment.value) == expected
    assert moment.has_time is has_time


def test_a_time_alone_lands_on_the_given_day():
    moment = dates.resolve(
        "13:30", field="end", tool="t", zone=PARIS, base=NOW, on_day=datetime(2027, 1, 4).date()
    )
    assert dates.iso(moment.value) == "2027-01-04T13:30+01:00"


def test_human_string_shows_day_times_and_zone():
    start = datetime(2026, 11, 26, 12, 30, tzinfo=PARIS)
    assert dates.human(start, start + timedelta(hours=1), all_day=False) == (
        "Thu 26 Nov 2026 12:30–13:30 CET"
    )


def test_unreadable_date_is_an_error_naming_field_and_text(run: Any, tool_context: ToolContext):
    with pytest.raises(InvalidArgumentsError) as caught:
        run("calendar_create", {"title": "Dentist", "start": "blorp o'clock"})
    assert "start" in str(caught.value) and "blorp o'clock" in str(caught.value)
    with pytest.raises(InvalidArgumentsError) as caught:
        run("calendar_list", {"start": "today", "end": "the day after never"})
    assert "end" in str(caught.value) and "the day after never" in str(caught.value)
    assert occurrence_rows(tool_context) == []


# ---------------------------------------------------------------------------------------------
# Create, list
# ---------------------------------------------------------------------------------------------


def test_create_shows_resolved_times_before_and_after_approval(
    run: Any, registry: Registry, tool_context: ToolContext
):
    args = {
        "title": "Dentist",
        "start": "tomorrow 12:30",
        "end": "13:30",
        "location": "12 rue Royale",
        "attendees": ["Ana <ana@example.com>", "bob@example.com"],
        "notes": "Bring the X-rays",
        "reminder_minutes": 15,
    }
    shown = preview(registry, tool_context, "calendar_create", args)
    assert shown["start"] == "2026-11-26T12:30+01:00"
    assert shown["end"] == "2026-11-26T13:30+01:00"
    assert shown["when"] == "Thu 26 Nov 2026 12:30–13:30 CET"
    assert "Thu 26 Nov 2026 12:30–13:30 CET" in shown["summary"]
    assert occurrence_rows(tool_context) == []  # a preview stores nothing

    result = run("calendar_create", args)
    assert result.data["when"] == "Thu 26 Nov 2026 12:30–13:30 CET"
    assert result.data["attendees"] == ["Ana <ana@example.com>", "bob@example.com"]
    assert result.data["reminder_minutes"] == 15
    assert result.undo is not None and result.undo.tool == "calendar_delete"
    ical, _ = stored(tool_context, result.data["id"])
    assert "DTSTART;TZID=Europe/Paris:20261126T123000" in ical
    assert "TRIGGER:-PT15M" in ical and "mailto:ana@example.com" in ical

    events = listed(run, "tomorrow", "tomorrow")
    assert [(e["title"], e["start"], e["location"]) for e in events] == [
        ("Dentist", "2026-11-26T12:30+01:00", "12 rue Royale")
    ]


def test_a_day_alone_makes_an_all_day_event(run: Any):
    result = run("calendar_create", {"title": "Ana's birthday", "start": "next Friday"})
    assert result.data["all_day"] is True
    assert result.data["when"] == "Fri 27 Nov 2026 (all day)"
    events = listed(run, "2026-11-27", "2026-11-27")
    assert events[0]["start"] == "2026-11-27" and events[0]["all_day"] is True


def test_event_in_another_time_zone_is_shown_in_the_users(run: Any):
    result = run(
        "calendar_create",
        {"title": "NY call", "start": "2026-12-01 09:00", "timezone": "America/New_York"},
    )
    assert result.data["start"] == "2026-12-01T15:00+01:00"
    assert result.data["event_time_zone"] == "America/New_York"
    assert result.data["event_when"] == "Tue 1 Dec 2026 09:00–10:00 EST"


def test_list_defaults_to_a_week_and_reports_what_it_left_out(run: Any):
    for day in range(10):
        run("calendar_create", {"title": f"Meeting {day}", "start": f"2026-11-{20 + day}T15:00"})
    week = run("calendar_list", {}).data
    assert week["from"] == "2026-11-25T00:00+01:00" and week["to"] == "2026-12-02T00:00+01:00"
    assert [e["title"] for e in week["events"]] == [f"Meeting {d}" for d in range(5, 10)]
    short = run("calendar_list", {"start": "2026-11-20", "end": "2026-11-29", "limit": 3}).data
    assert [e["title"] for e in short["events"]] == ["Meeting 0", "Meeting 1", "Meeting 2"]
    assert short["more"] == 7
    tomorrow = run("calendar_list", {"start": "tomorrow"}).data  # "what is on tomorrow?"
    assert (
        tomorrow["from"] == "2026-11-26T00:00+01:00" and tomorrow["to"] == "2026-11-27T00:00+01:00"
    )
    assert [e["title"] for e in tomorrow["events"]] == ["Meeting 6"]


# ---------------------------------------------------------------------------------------------
# Conflicts and free time
# ---------------------------------------------------------------------------------------------


def test_overlapping_events_are_reported_not_refused(
    run: Any, registry: Registry, tool_context: ToolContext
):
    first = run("calendar_create", {"title": "Design review", "start": "tomorrow 14:00"})
    run("calendar_create", {"title": "Holiday", "start": "tomorrow"})  # all day: not busy
    cancelled = run("calendar_create", {"title": "Old call", "start": "tomorrow 14:15"})
    run("calendar_cancel", {"event": str(cancelled.data["id"])})
    args = {"title": "Dentist", "start": "tomorrow 14:30", "duration_minutes": 30}

    shown = preview(registry, tool_context, "calendar_create", args)
    assert [c["title"] for c in shown["conflicts"]] == ["Design review"]
    assert "overlaps 'Design review'" in shown["summary"]
    result = run("calendar_create", args)
    assert [c["id"] for c in result.data["conflicts"]] == [first.data["id"]]
    assert [e["title"] for e in listed(run, "tomorrow", "tomorrow")] == [
        "Holiday",
        "Design review",
        "Dentist",
    ]
    moved = run("calendar_update", {"event": "Dentist", "start": "tomorrow 16:00"})
    assert moved.data["conflicts"] == []


def test_a_new_series_reports_conflicts_with_its_occurrences(run: Any):
    run("calendar_create", {"title": "Board meeting", "start": "2026-12-09T09:30"})
    result = run(
        "calendar_create",
        {"title": "Standup", "start": "Monday 9:00", "duration_minutes": 60, "repeat": "daily"},
    )
    assert [(c["title"], c["start"]) for c in result.data["conflicts"]] == [
        ("Board meeting", "2026-12-09T09:30+01:00")
    ]


def test_free_time_skips_busy_events_and_keeps_to_working_hours(run: Any):
    run("calendar_create", {"title": "Gym", "start": "tomorrow 08:00", "end": "10:00"})
    run("calendar_create", {"title": "Lunch", "start": "tomorrow 12:30", "end": "13:30"})
    run("calendar_create", {"title": "Ana's birthday", "start": "tomorrow"})
    free = run("calendar_free_time", {"duration_minutes": 60, "start": "tomorrow"}).data["free"]
    assert [(s["start"], s["end"]) for s in free] == [
        ("2026-11-26T10:00+01:00", "2026-11-26T12:30+01:00"),
        ("2026-11-26T13:30+01:00", "2026-11-26T18:00+01:00"),
    ]
    long = run("calendar_free_time", {"duration_minutes": 180, "start": "tomorrow"})
    assert [s["when"] for s in long.data["free"]] == ["Thu 26 Nov 2026 13:30–18:00 CET"]
    assert long.summary == "1 free period of at least 180 minutes"  # 4.5 hours, not "a slot"
    today = run("calendar_free_time", {"duration_minutes": 30}).data["free"]
    assert today[0]["start"] == "2026-11-25T10:00+01:00"  # not before now


# ---------------------------------------------------------------------------------------------
# Recurrence: expansion, one occurrence, the series
# ---------------------------------------------------------------------------------------------


def weekly_standup(run: Any) -> int:
    result = run(
        "calendar_create",
        {"title": "Standup", "start": "Monday 9:00", "duration_minutes": 15, "repeat": "weekly"},
    )
    return result.data["id"]


def test_recurrence_is_expanded_with_exdate_and_override(run: Any, tool_context: ToolContext):
    event_id = weekly_standup(run)
    run("calendar_cancel", {"event": "Standup", "occurrence": "2026-12-07"})
    moved = run(
        "calendar_update",
        {"event": "Standup", "occurrence": "2026-12-14", "start": "11:00", "title": "Standup+"},
    )
    assert moved.data["start"] == "2026-12-14T11:00+01:00"
    assert moved.data["before"]["start"] == "2026-12-14T09:00+01:00"
    events = listed(run, "2026-11-30", "2026-12-21")
    assert [(e["title"], e["start"]) for e in events] == [
        ("Standup", "2026-11-30T09:00+01:00"),
        ("Standup+", "2026-12-14T11:00+01:00"),
        ("Standup", "2026-12-21T09:00+01:00"),
    ]
    ical, _ = stored(tool_context, event_id)
    assert "EXDATE;TZID=Europe/Paris:20261207T090000" in ical
    assert "RECURRENCE-ID;TZID=Europe/Paris:20261214T090000" in ical
    # An endless series still answers far outside the window it was indexed over.
    later = listed(run, "2029-01-01", "2029-01-14")
    assert [e["start"] for e in later] == ["2029-01-01T09:00+01:00", "2029-01-08T09:00+01:00"]
    earlier = listed(run, "2026-11-23", "2026-11-29")
    assert earlier == []


def test_cancel_one_occurrence_keeps_the_rest_of_the_series(run: Any):
    weekly_standup(run)
    result = run("calendar_cancel", {"event": "Standup", "occurrence": "next Monday"})
    assert result.data["occurrence"] == "2026-11-30T09:00+01:00"
    assert "rest of the series stays" in result.summary
    starts = [e["start"][:10] for e in listed(run, "2026-11-30", "2026-12-14")]
    assert starts == ["2026-12-07", "2026-12-14"]


def test_cancel_the_series_removes_every_occurrence(run: Any, tool_context: ToolContext):
    weekly_standup(run)
    run("calendar_update", {"event": "Standup", "occurrence": "2026-12-07", "location": "Cafe"})
    result = run("calendar_cancel", {"event": "Standup"})
    assert "every occurrence" in result.summary
    assert listed(run, "2026-11-30", "2027-02-01") == []
    assert occurrence_rows(tool_context) == []
    with pytest.raises(NotFoundError):  # cancelled events are not found by title any more
        run("calendar_cancel", {"event": "Standup"})


def test_moving_a_series_keeps_its_cancelled_occurrences_cancelled(run: Any):
    weekly_standup(run)
    run("calendar_cancel", {"event": "Standup", "occurrence": "2026-12-07"})
    moved = run("calendar_update", {"event": "Standup", "start": "10:30"})
    assert moved.data["start"] == "2026-11-30T10:30+01:00"
    assert moved.data["end"] == "2026-11-30T10:45+01:00"
    starts = [e["start"] for e in listed(run, "2026-11-30", "2026-12-14")]
    assert starts == ["2026-11-30T10:30+01:00", "2026-12-14T10:30+01:00"]


def test_a_series_begun_months_ago_is_shown_changed_from_its_next_occurrence(
    run: Any, registry: Registry, tool_context: ToolContext
):
    """Today is 25 November: moving a monthly book club that began in September to 20:00 is
    shown from its next meeting (3 December), not from a September day already past."""
    run(
        "calendar_create",
        {
            "title": "Book club",
            "start": "2026-09-03 19:00",
            "duration_minutes": 90,
            "repeat": "monthly",
        },
    )
    shown = preview(
        registry, tool_context, "calendar_update", {"event": "Book club", "start": "20:00"}
    )
    assert shown["before"]["start"] == "2026-12-03T19:00+01:00"
    assert shown["after"]["start"] == "2026-12-03T20:00+01:00"
    assert shown["after"]["series_start"] == "2026-09-03T20:00+02:00"
    assert "Thu 3 Dec 2026 20:00" in shown["summary"] and "every time after" in shown["summary"]
    moved = run("calendar_update", {"event": "Book club", "start": "20:00"})
    assert moved.data["start"] == "2026-12-03T20:00+01:00"
    starts = [e["start"] for e in listed(run, "2026-09-01", "2026-11-01")]
    assert starts == ["2026-09-03T20:00+02:00", "2026-10-03T20:00+02:00"]


def test_unknown_occurrence_and_ambiguous_title_are_clear_errors(run: Any):
    weekly_standup(run)
    with pytest.raises(NotFoundError, match="no occurrence on 2026-12-08"):
        run("calendar_cancel", {"event": "Standup", "occurrence": "2026-12-08"})
    run("calendar_create", {"title": "Lunch", "start": "tomorrow 12:00"})
    run("calendar_create", {"title": "lunch", "start": "Friday 12:00"})
    with pytest.raises(NotFoundError, match="several events match 'Lunch'") as caught:
        run("calendar_update", {"event": "Lunch", "location": "Canteen"})
    assert "#2" in str(caught.value) and "#3" in str(caught.value)
    with pytest.raises(NotFoundError, match="no event #99"):
        run("calendar_cancel", {"event": "99"})


# ---------------------------------------------------------------------------------------------
# Undo
# ---------------------------------------------------------------------------------------------


def test_undo_create_deletes_the_event(run: Any, tool_context: ToolContext):
    result = run("calendar_create", {"title": "Dentist", "start": "tomorrow 12:30"})
    assert result.undo is not None
    run(result.undo.tool, result.undo.arguments)
    assert listed(run, "tomorrow", "tomorrow") == []
    assert occurrence_rows(tool_context) == []


@pytest.mark.parametrize(
    "change",
    [
        ("calendar_update", {"event": "Standup", "start": "Tuesday 10:00", "notes": "new"}),
        ("calendar_update", {"event": "Standup", "occurrence": "2026-12-07", "end": "9:45"}),
        ("calendar_cancel", {"event": "Standup", "occurrence": "2026-12-07"}),
        ("calendar_cancel", {"event": "Standup"}),
    ],
)
def test_undo_update_and_cancel_restores_exactly(
    run: Any, tool_context: ToolContext, change: tuple[str, dict[str, Any]]
):
    event_id = weekly_standup(run)
    run("calendar_update", {"event": "Standup", "occurrence": "2026-12-14", "title": "Retro"})
    before_text = stored(tool_context, event_id)
    before_rows = occurrence_rows(tool_context)
    before_list = listed(run, "2026-11-30", "2027-01-31")

    result = run(*change)
    assert stored(tool_context, event_id) != before_text
    assert result.undo is not None and result.undo.tool == "calendar_restore"
    back = run(result.undo.tool, result.undo.arguments)

    assert stored(tool_context, event_id) == before_text
    assert occurrence_rows(tool_context) == before_rows
    assert listed(run, "2026-11-30", "2027-01-31") == before_list
    # The undo can itself be undone.
    assert back.undo is not None
    run(back.undo.tool, back.undo.arguments)
    assert stored(tool_context, event_id) != before_text


def test_tools_are_registered_with_small_schemas(registry: Registry):
    offered = {t.name for t in registry.tools()}
    assert offered == {
        "calendar_list",
        "calendar_free_time",
        "calendar_create",
        "calendar_update",
        "calendar_cancel",
        "calendar_import",
        "calendar_export",
    }
    hidden = {t.name for t in registry.tools(include_hidden=True)} - offered
    assert hidden == {
        "calendar_delete",
        "calendar_restore",
        "calendar_undo_import",
        "calendar_delete_export",
    }
    schema = registry.get("calendar_create").parameters()
    assert schema["required"] == ["title", "start"]
    assert "e.g." in schema["properties"]["start"]["description"]


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("tomorrow 25 November 2026", "2026-11-26T00:00+01:00", False),  # today's date copied
        ("tomorrow 26 November 2026", "2026-11-26T00:00+01:00", False),  # the same day
        ("tomorrow, 25 November 2026 12:30", "2026-11-26T12:30+01:00", True),
        ("tomorrow 2026-11-25", "2026-11-26T00:00+01:00", False),
    ],
)
def test_a_day_the_user_said_wins_over_the_date_copied_after_it(
    text: str, expected: str, has_time: bool
):
    """The model writes 'tomorrow' and then today's date from its clock line."""
    moment = dates.resolve(text, field="start", tool="t", zone=PARIS, base=NOW)
    assert dates.iso(moment.value) == expected
    assert moment.has_time is has_time


def test_a_day_word_and_a_different_date_is_an_error_naming_both():
    with pytest.raises(InvalidArgumentsError) as caught:
        dates.resolve("tomorrow 30 November 2026", field="start", tool="t", zone=PARIS, base=NOW)
    message = str(caught.value)
    assert "'tomorrow' is Thu 26 Nov 2026" in message
    assert "Mon 30 Nov 2026" in message
