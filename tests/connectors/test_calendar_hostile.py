"""Hostile .ics files: each is refused quickly as a damaged calendar, and nothing is imported.

The three a review found (a zoned start with a floating end, a DURATION past the year 9999, an
endless FREQ=SECONDLY rule) and their relatives: a rule whose filters never match (dateutil then
walks every hour up to the year 9999), and a rule with more occurrences than an event may have.
Each import runs in a thread with a deadline, so a hang fails the test instead of the suite.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from connectors.calendar import limits, register
from connectors.calendar.ics import CorruptCalendarError
from connectors.calendar.models import CalendarEvent
from connectors.registry import Registry
from connectors.tool import ToolContext

DEADLINE = 20.0  # seconds; before the fix the endless rules ran for minutes or hours


def _calendar(event: str) -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n"
        "BEGIN:VEVENT\r\nUID:hostile-1\r\nSUMMARY:Hostile\r\n"
        f"{event}END:VEVENT\r\nEND:VCALENDAR\r\n"
    )


def _import(tool_context: ToolContext, event: str) -> tuple[object, float]:
    """Import the event's calendar; what it raised (or returned), and how long it took."""
    registry = Registry()
    register(registry)
    (tool_context.granted_folders[0] / "hostile.ics").write_text(_calendar(event))
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(
                registry.run(
                    "calendar_import", {"path": "hostile.ics"}, tool_context, approved=True
                )
            )
        except BaseException as exc:  # the test inspects whatever it was
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(DEADLINE)
    assert not worker.is_alive(), f"the import was still running after {DEADLINE} s"
    return outcome[0], time.monotonic() - started


def _nothing_imported(tool_context: ToolContext) -> None:
    with tool_context.store().reading() as session:
        assert session.scalar(select(func.count(CalendarEvent.id))) == 0


@pytest.mark.parametrize(
    ("event", "said"),
    [
        (
            "DTSTART;TZID=Europe/Paris:20270101T100000\r\nDTEND:20270101T110000\r\n",
            "has a time zone on one of its start and end but not on the other",
        ),
        ("DTSTART:20270101T100000\r\nDTEND;TZID=Europe/Paris:20270101T110000\r\n", "time zone"),
        ("DTSTART:20270101T100000Z\r\nDURATION:P99999999W\r\n", "cannot be read"),
        ("DTSTART;VALUE=DATE:20270101\r\nDURATION:P99999999D\r\n", "cannot be read"),
        ("DTSTART;VALUE=DATE:20270101\r\nDTEND:20270102T100000Z\r\n", "same type"),
    ],
    ids=["zoned-start", "zoned-end", "huge-duration", "huge-all-day", "day-then-time"],
)
def test_a_damaged_event_is_refused_with_a_sentence(
    tool_context: ToolContext, event: str, said: str
) -> None:
    outcome, _ = _import(tool_context, event)
    assert isinstance(outcome, CorruptCalendarError), outcome
    assert "hostile.ics is damaged" in str(outcome) and said in str(outcome)
    assert "nothing was imported" in str(outcome)
    _nothing_imported(tool_context)


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=SECONDLY",  # about 37 million occurrences in the indexed window
        "FREQ=HOURLY;BYSETPOS=5;BYHOUR=1;COUNT=3",  # never matches: walks to the year 9999
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",  # never matches either
    ],
)
def test_an_endless_or_impossible_rule_is_refused_within_the_time_limit(
    tool_context: ToolContext, rule: str
) -> None:
    outcome, took = _import(
        tool_context, f"DTSTART:20261101T100000Z\r\nDURATION:PT1S\r\nRRULE:{rule}\r\n"
    )
    assert isinstance(outcome, CorruptCalendarError), outcome
    assert "takes too long to work out" in str(outcome) or "repeats more than" in str(outcome)
    assert took < limits.EXPANSION_SECONDS + 5
    _nothing_imported(tool_context)


def test_occurrences_per_event_are_capped(
    tool_context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every half hour for the indexed window is about 20,000 occurrences: over the cap, even
    with all the time in the world; every day is about 400, and is imported."""
    monkeypatch.setattr(limits, "EXPANSION_SECONDS", 120.0)
    outcome, _ = _import(
        tool_context,
        "DTSTART:20261101T100000Z\r\nDURATION:PT5M\r\nRRULE:FREQ=MINUTELY;INTERVAL=30\r\n",
    )
    assert isinstance(outcome, CorruptCalendarError), outcome
    assert f"repeats more than {limits.MAX_OCCURRENCES:,} times" in str(outcome)
    _nothing_imported(tool_context)

    daily: Any
    daily, _ = _import(
        tool_context, "DTSTART:20261101T100000Z\r\nDURATION:PT5M\r\nRRULE:FREQ=DAILY\r\n"
    )
    assert not isinstance(daily, BaseException), daily
    assert daily.data["added"] == 1


def test_the_time_limit_stops_python_code_and_removes_its_hook() -> None:
    import sys

    def spin() -> int:
        return sum(range(10))

    started = time.monotonic()
    with pytest.raises(limits.ExpansionTimeout), limits.time_limit(0.05):
        while time.monotonic() - started < 10:
            spin()
    assert time.monotonic() - started < 1
    assert sys.getprofile() is None
