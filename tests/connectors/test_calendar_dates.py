"""Dates as a user in another language writes them, read by the calendar's resolver.

dateparser alone read "morgen um 15 Uhr" as a day (an all-day event at midnight) and "sexta
às 11h" as the 11th of the month; the clock time is now read apart from the day.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.calendar.dates import resolve
from connectors.errors import InvalidArgumentsError

ZONE = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 3, 14, 10, 5, tzinfo=ZONE)  # a Saturday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("morgen um 15 Uhr", "2026-03-15T15:00"),
        ("Donnerstag 19 Uhr", "2026-03-19T19:00"),
        ("übermorgen 9:00", "2026-03-16T09:00"),
        ("sexta às 11h", "2026-03-20T11:00"),
        ("amanhã às 15h", "2026-03-15T15:00"),
        ("mardi 18h30", "2026-03-17T18:30"),
        ("jueves 18:00", "2026-03-19T18:00"),
        ("tomorrow at 12:30", "2026-03-15T12:30"),
        ("next Monday 9:15", "2026-03-16T09:15"),
    ],
)
def test_a_day_and_a_clock_time_in_any_of_the_languages_is_that_moment(
    text: str, expected: str
) -> None:
    moment = resolve(text, field="start", tool="calendar_create", zone=ZONE, base=NOW)
    assert moment.has_time
    assert moment.value.isoformat(timespec="minutes").startswith(expected)


def test_a_duration_in_hours_is_not_read_as_a_clock_time() -> None:
    moment = resolve("in 2 hours", field="start", tool="calendar_create", zone=ZONE, base=NOW)
    assert moment.value.isoformat(timespec="minutes").startswith("2026-03-14T12:05")


def test_a_day_alone_stays_a_day() -> None:
    moment = resolve("le 8 juillet", field="start", tool="calendar_create", zone=ZONE, base=NOW)
    assert not moment.has_time
    assert moment.day.isoformat() == "2026-07-08"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mardis à 18h", "2026-03-17T18:00"),
        ("quartas às 19h", "2026-03-18T19:00"),
        ("Tuesdays at 6pm", "2026-03-17T18:00"),
        ("dienstags um 18 Uhr", "2026-03-17T18:00"),
        ("sábados às 10h", "2026-03-21T10:00"),
    ],
)
def test_a_repeating_weekday_is_its_next_such_day(text: str, expected: str) -> None:
    """A weekly "tous les mardis à 18h": dateparser reads no plural or adverbial weekday, so
    the event started today at 18:00, a Saturday, instead of on the first Tuesday."""
    moment = resolve(text, field="start", tool="calendar_create", zone=ZONE, base=NOW)
    assert moment.value.isoformat(timespec="minutes").startswith(expected)


def test_a_word_that_only_begins_like_a_weekday_is_not_one() -> None:
    with pytest.raises(InvalidArgumentsError):
        resolve("mardi gras", field="start", tool="calendar_create", zone=ZONE, base=NOW)
