"""The dates a request says, found by the calendar's own reader in any language it reads, and
the week or month a listing of "next week" covers."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from connectors.calendar import dates
from connectors.calendar.said_dates import date_spans
from connectors.registry import load_registry
from connectors.tool import ToolContext

ZONE = ZoneInfo("Europe/Lisbon")
NOW = datetime(2026, 3, 14, 10, 5, tzinfo=ZONE)  # a Saturday


@pytest.mark.parametrize(
    ("request_text", "spans"),
    [
        ("Dinner with Rui tomorrow at 19:30 at Tasco", ["tomorrow at 19:30"]),
        ("Trag für Montag um 9 Uhr das Treffen mit Lena ein", ["Montag um 9"]),
        ("Pon la reunión el miércoles a las 12:30", ["miércoles a las 12:30"]),
        ("Ajoute la piscine le 9 avril à 14h", ["9 avril à 14h"]),
        ("Marca a revisão do carro para amanhã", ["amanhã"]),
        ("Show my events from Monday to Wednesday", ["Monday", "Wednesday"]),
    ],
)
def test_the_stretches_that_read_as_dates_are_found_as_the_user_wrote_them(
    request_text: str, spans: list[str]
) -> None:
    assert date_spans(request_text, ZONE, NOW) == spans


@pytest.mark.parametrize(
    "request_text",
    [
        "Put a meeting with Pedro in my calendar",
        "Trag ein Treffen mit Lena ein",  # "mit" and "ein" read as dates alone
        "Créame una cita con el dentista",  # "una" reads as the number one
        "Ajoute un rendez-vous avec Sophie",
        "The dentist moved to Rua Augusta 10",  # a house number is not a date
    ],
)
def test_a_request_without_a_date_gives_none(request_text: str) -> None:
    assert date_spans(request_text, ZONE, NOW) == []


def test_a_clock_time_after_an_evening_word_is_in_the_evening_and_a_bare_hour_is_an_hour() -> None:
    def at(text: str) -> str:
        return dates.iso(dates.resolve(text, field="start", tool="t", zone=ZONE, base=NOW).value)

    assert at("tonight at 8") == "2026-03-14T20:00+00:00"
    assert at("Tuesday at 11") == "2026-03-17T11:00+00:00"  # dateparser alone: November


@pytest.mark.parametrize(
    ("start", "first", "after"),
    [
        ("next week", "2026-03-16", "2026-03-23"),
        ("nächste Woche", "2026-03-16", "2026-03-23"),
        ("la semaine prochaine", "2026-03-16", "2026-03-23"),
        ("next month", "2026-04-01", "2026-05-01"),
        ("próximo mês", "2026-04-01", "2026-05-01"),
        ("tomorrow", "2026-03-15", "2026-03-16"),
    ],
)
def test_listing_a_week_or_a_month_covers_all_of_it(
    tool_context: ToolContext, start: str, first: str, after: str
) -> None:
    context = ToolContext(
        open_store=tool_context.open_store,
        granted_folders=tool_context.granted_folders,
        timezone=ZONE,
        now=lambda: NOW,
        data_dir=tool_context.data_dir,
    )
    result = load_registry().run("calendar_list", {"start": start}, context)
    assert result.data["from"].startswith(first)
    assert result.data["to"].startswith(after)


def test_the_calendar_tools_say_which_arguments_take_the_request_dates(
    tool_context: ToolContext,
) -> None:
    registry = load_registry()
    create = registry.get("calendar_create").said
    assert create is not None
    said = create(tool_context, "Kickoff on Monday from 14:00 to 15:30")
    assert said["start"] == ["Monday from 14:00", "15:30"]
    assert said["end"] == ["15:30"]  # an end is never the first date said
    assert create(tool_context, "Set up the kickoff")["start"] == []


def test_a_clock_time_alone_is_its_next_occurrence_not_hours_from_now() -> None:
    def at(text: str) -> str:
        return dates.iso(dates.resolve(text, field="start", tool="t", zone=ZONE, base=NOW).value)

    assert at("18h") == "2026-03-14T18:00+00:00"  # dateparser alone: 18 hours from now
    assert at("9h") == "2026-03-15T09:00+00:00"  # 9:00 has passed today
    assert dates.is_time_only("às 20h") and dates.is_time_only("um 8")
    assert not dates.is_time_only("Freitag um 8")


def test_a_weekly_day_and_its_time_are_one_stretch() -> None:
    """The clock time alone would start the weekly lessons today; with the day it is the
    first Wednesday."""
    text = "Aula de natação todas as quartas às 19h, a começar na próxima semana"
    assert date_spans(text, ZONE, NOW) == ["quartas às 19h", "próxima semana"]
