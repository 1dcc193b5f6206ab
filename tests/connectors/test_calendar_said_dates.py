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
    assert said["start"] == ["Monday from 14:00"]  # 15:30 is where it ends, not a start
    assert said["end"] == ["15:30"]  # an end is never the first date said
    assert create(tool_context, "Set up the kickoff")["start"] == []


def test_a_length_of_time_starts_a_reminder_but_never_a_listing(
    tool_context: ToolContext,
) -> None:
    """Offered "an hour" as a start, a free-time search would look from an hour from now,
    not on the day the user named."""
    registry = load_registry()
    free = registry.get("calendar_free_time").said
    listing = registry.get("calendar_list").said
    create = registry.get("calendar_create").said
    assert free is not None and listing is not None and create is not None
    assert free(tool_context, "Am I free on Tuesday for an hour?") == {
        "start": ["Tuesday"],
        "end": [],
        "duration_minutes": [60],
    }
    assert free(tool_context, "Estou livre na terça para uma reunião de uma hora?")["start"] == [
        "terça"
    ]
    assert listing(tool_context, "What's on in the next two hours?")["start"] == []
    assert create(tool_context, "Remind me in two hours to call mum")["start"] == ["two hours"]


@pytest.mark.parametrize(
    ("request_text", "said"),
    [
        # Three letters or fewer a word, yet dates: the listing showed the next seven days.
        ("¿Qué hay hoy en mi agenda?", ["hoy"]),
        # Phrases dateparser's locales lack, read as the ones they have ("próxima semana").
        ("¿Qué tengo la semana que viene?", ["semana que viene"]),
        ("Marca o dentista para o mês que vem", ["mês que vem"]),
        # Short function words stay no dates.
        ("Treffen mit Ana am Montag", ["Montag"]),
    ],
)
def test_short_words_that_name_a_day_are_read(request_text: str, said: list[str]) -> None:
    assert date_spans(request_text, ZONE, NOW) == said


def test_next_week_in_spanish_and_portuguese_is_the_next_calendar_week() -> None:
    for text in ("la semana que viene", "a semana que vem"):
        moment = dates.resolve(text, field="start", tool="t", zone=ZONE, base=NOW)
        assert moment.period == "week"
        assert moment.value.date() > NOW.date()


@pytest.mark.parametrize(
    ("request_text", "minutes"),
    [
        # The bundled model searched for 60 minutes, the default, for each (dev split).
        ("Trouve-moi un créneau libre de deux heures jeudi", 120),
        ("¿Tengo un hueco de 45 minutos el viernes?", 45),
        ("When am I free for 30 minutes next week?", 30),
        ("Wann habe ich morgen anderthalb Stunden Zeit?", None),  # not read: left to the model
    ],
)
def test_a_free_slots_length_is_read_from_the_request_in_any_language(
    tool_context: ToolContext, request_text: str, minutes: int | None
) -> None:
    free = load_registry().get("calendar_free_time").said
    assert free is not None
    said = free(tool_context, request_text)
    assert said.get("duration_minutes") == ([minutes] if minutes else None)


@pytest.mark.parametrize(
    ("request_text", "start", "at"),
    [
        # The bundled model started these at 20:30 and 15:30, today (dev split).
        ("Elternabend am Donnerstag von 19 bis 20:30 Uhr", "Donnerstag von 19", "2026-03-19T19:00"),
        ("Piscina el jueves de 18 a 19:30", "jueves de 18", "2026-03-19T18:00"),
        # Said apart, the day and the time are one start.
        ("On Friday, remind me at 18:00 to call Ana", "Friday 18:00", "2026-03-20T18:00"),
        ("Standup at 9:15 on weekdays, from Monday", "Monday 9:15", "2026-03-16T09:15"),
    ],
)
def test_a_new_event_starts_at_the_first_time_said_on_its_day(
    tool_context: ToolContext, request_text: str, start: str, at: str
) -> None:
    create = load_registry().get("calendar_create").said
    assert create is not None
    said = create(tool_context, request_text)
    assert said["start"] == [start]
    # A clock time is no last day of a repetition: offered "20:30" as one, the model
    # repeated the event until a time before it starts.
    assert said["repeat_until"] == []
    moment = dates.resolve(start, field="start", tool="t", zone=ZONE, base=NOW)
    assert dates.iso(moment.value).startswith(at)


def test_a_clock_time_alone_is_its_next_occurrence_not_hours_from_now() -> None:
    def at(text: str) -> str:
        return dates.iso(dates.resolve(text, field="start", tool="t", zone=ZONE, base=NOW).value)

    assert at("18h") == "2026-03-14T18:00+00:00"  # dateparser alone: 18 hours from now
    assert at("9h") == "2026-03-15T09:00+00:00"  # 9:00 has passed today
    assert dates.is_time_only("às 20h") and dates.is_time_only("um 8")
    assert not dates.is_time_only("Freitag um 8")


@pytest.mark.parametrize(
    ("request_text", "spans", "start"),
    [
        # dateparser read "von 19" as nothing: only "Donnerstag" and "20:30" were offered.
        (
            "Elternabend am Donnerstag von 19 bis 20:30 Uhr",
            ["Donnerstag von 19", "20:30"],
            "2026-03-19T19:00+00:00",
        ),
        # ... and "jueves de 18 a 19:30" as one date, a Wednesday.
        ("Yoga el jueves de 18 a 19:30", ["jueves de 18", "19:30"], "2026-03-19T18:00+00:00"),
        ("reunião amanhã das 9 às 11", ["amanhã das 9", "às 11"], "2026-03-15T09:00+00:00"),
        (
            "Call Rui on Tuesday from 16 to 17",
            ["Tuesday from 16", "to 17"],
            "2026-03-17T16:00+00:00",
        ),
    ],
)
def test_a_start_and_an_end_are_offered_apart_and_the_start_keeps_its_hour(
    request_text: str, spans: list[str], start: str
) -> None:
    found = date_spans(request_text, ZONE, NOW)
    assert found == spans
    moment = dates.resolve(found[0], field="start", tool="t", zone=ZONE, base=NOW)
    assert dates.iso(moment.value) == start


@pytest.mark.parametrize(
    ("request_text", "spans"),
    [
        # Read as one, these were the 15th, next week's same minute and the 2nd of March.
        ("Standup at 9:15, 15 minutes, from Monday", ["9:15", "15 minutes", "Monday"]),
        ("Am I free for 30 minutes next week?", ["30 minutes", "next week"]),
        ("Trouve un créneau de deux heures jeudi", ["deux heures", "jeudi"]),
        # A date whose last word alone reads as a length ("11h e": eleven hours) stays whole.
        ("Marca cabeleireiro na sexta às 11h e jantar no sábado", ["sexta às 11h", "sábado"]),
        ("Remind me in two hours to call mum", ["two hours"]),
    ],
)
def test_a_length_of_time_is_not_read_as_one_date_with_the_day_beside_it(
    request_text: str, spans: list[str]
) -> None:
    assert date_spans(request_text, ZONE, NOW) == spans


@pytest.mark.parametrize(
    ("request_text", "span"),
    [
        ("Lembra-me de ligar à avó daqui a duas horas", "duas horas"),
        ("Recuérdame llamar a mamá en dos horas", "dos horas"),
        ("Lembra-me daqui a vinte minutos de tirar o bolo", "vinte minutos"),
    ],
)
def test_a_length_of_time_in_words_is_read_in_spanish_and_portuguese(
    request_text: str, span: str
) -> None:
    """dateparser read "en 2 horas" but not "en dos horas", nor "daqui a" at all: such a
    reminder was not offered a start, and the assistant asked when."""
    assert date_spans(request_text, ZONE, NOW) == [span]
    moment = dates.resolve(span, field="start", tool="t", zone=ZONE, base=NOW)
    assert moment.value > NOW and moment.has_time


@pytest.mark.parametrize(
    "request_text",
    ["Book the first slot for a call", "Pon una reunión con Ana", "Schreib eine Notiz für Lena"],
)
def test_number_words_alone_are_not_dates(request_text: str) -> None:
    assert date_spans(request_text, ZONE, NOW) == []


def test_a_weekly_day_and_its_time_are_one_stretch() -> None:
    """The clock time alone would start the weekly lessons today; with the day it is the
    first Wednesday."""
    text = "Aula de natação todas as quartas às 19h, a começar na próxima semana"
    assert date_spans(text, ZONE, NOW) == ["quartas às 19h", "próxima semana"]
