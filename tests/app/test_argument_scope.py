"""The grammar offers an optional argument only when the request talks about it."""

from __future__ import annotations

import pytest

from app.argument_scope import scoped_tool, scoped_tools
from backends.schema import parse_tools

(EVENT,) = parse_tools(
    [
        {
            "name": "calendar_create",
            "description": "Create a calendar event.",
            "parameters": {
                "type": "object",
                "properties": {
                    "title": {"type": "string", "description": "The title."},
                    "start": {"type": "string", "description": "When it starts."},
                    "attendees": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "People invited, e.g. ['ana@example.com'].",
                    },
                    "repeat": {
                        "type": "string",
                        "enum": ["none", "daily", "weekly"],
                        "description": "How it repeats.",
                    },
                    "location": {"type": "string", "description": "Where it takes place."},
                },
                "required": ["title", "start"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "offered"),
    [
        ("Add a dentist appointment tomorrow at 12:30", ["title", "start"]),
        ("Team meeting weekly on Monday at 9", ["title", "start", "repeat"]),  # an enum value
        ("Lunch with the people invited last time", ["title", "start", "attendees"]),
        ("Create a calendar entry for the party, repeats daily", ["title", "start", "repeat"]),
    ],
)
def test_only_mentioned_optional_arguments_are_offered(
    request_text: str, offered: list[str]
) -> None:
    scoped = scoped_tool(request_text, EVENT)
    assert list(scoped.parameters["properties"]) == offered
    assert scoped.parameters["required"] == ["title", "start"]
    assert scoped.name == EVENT.name and scoped.description == EVENT.description


def test_the_tool_is_unchanged_when_everything_is_mentioned() -> None:
    text = "Weekly title start with the people invited, location: where the office is"
    assert scoped_tool(text, EVENT) is EVENT


(RESTAURANT,) = parse_tools(
    [
        {
            "name": "restaurant_search",
            "description": "Find restaurants.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city."},
                    "open_until": {"type": "integer", "description": "Hour of closing."},
                    "cuisine": {"type": "string", "description": "Kind of food."},
                },
                "required": ["city"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "offered"),
    [
        ("A restaurant in Lyon", ["city"]),
        # a number nothing required takes is for a numeric option, named or not
        ("A restaurant in Lyon that stays open to 23", ["city", "open_until"]),
    ],
)
def test_a_spare_number_keeps_the_numeric_options(request_text: str, offered: list[str]) -> None:
    assert list(scoped_tool(request_text, RESTAURANT).parameters["properties"]) == offered


(SOLAR,) = parse_tools(
    [
        {
            "name": "solar_potential",
            "parameters": {
                "type": "object",
                "properties": {
                    "area": {"type": "number"},
                    "month": {"type": "string", "description": "Defaults to January."},
                    "day": {"type": "string"},
                },
                "required": ["area"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "offered"),
    [
        ("Solar potential of 80 sq ft in December", ["area", "month"]),
        ("Solar potential of 80 sq ft on Friday", ["area", "day"]),
        ("Solar potential of 80 sq ft, it may be cloudy", ["area"]),  # "may", the verb
    ],
)
def test_a_value_names_its_kind(request_text: str, offered: list[str]) -> None:
    assert list(scoped_tool(request_text, SOLAR).parameters["properties"]) == offered


(TRIP,) = parse_tools(
    [
        {
            "name": "plan_trip",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "whole_day": {"type": "boolean", "description": "Take the whole day off."},
                    "day": {"type": "string"},
                },
                "required": ["city"],
            },
        }
    ]
)


def test_a_weekday_asks_for_a_day_not_for_a_yes_or_no_about_days() -> None:
    """ "Thursday" is a value of ``day``; it says nothing about a flag whose description has
    the word day (the calendar's ``all_day``, which the bundled model then set to true for
    "move my dentist to Thursday, same time", losing the appointment's time)."""
    offered = scoped_tool("A trip to Porto on Thursday", TRIP).parameters["properties"]
    assert list(offered) == ["city", "day"]
    asked = scoped_tool("A trip to Porto, the whole day", TRIP).parameters["properties"]
    assert "whole_day" in asked
    create = _update_tools()["calendar_create"]
    assert (
        "all_day" not in scoped_tool("Standup on Monday at 9:15", create).parameters["properties"]
    )
    # "same time" named the flag while its description said "false to give it times".
    update = _update_tools()["calendar_update"]
    moved = scoped_tool("Move my dentist thing to Thursday, same time", update, ["Thursday"])
    assert "all_day" not in moved.parameters["properties"]


(EMAIL,) = parse_tools(
    [
        {
            "name": "send_email",
            "parameters": {
                "type": "object",
                "properties": {
                    "to_address": {"type": "string"},
                    "subject": {"type": "string"},
                    "body": {"type": "string", "description": "The main content of the email."},
                    "attachments": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["to_address", "subject"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "offered"),
    [
        (
            "Email andy@gorilla.ai, subject 'Forecast', with the message \"where is it?\"",
            ["to_address", "subject", "body"],
        ),
        (
            "Email andy@gorilla.ai the text 'on my way', subject 'ETA'",
            ["to_address", "subject", "body"],
        ),
        ("Email andy@gorilla.ai with the subject 'Forecast'", ["to_address", "subject"]),
    ],
)
def test_naming_the_text_keeps_the_argument_that_holds_it(
    request_text: str, offered: list[str]
) -> None:
    """ "Include a message" asks for the ``body``: without it the bundled model sent the
    email with a subject only."""
    assert list(scoped_tool(request_text, EMAIL).parameters["properties"]) == offered


def test_the_numbers_of_a_said_date_are_not_spare_for_numeric_arguments() -> None:
    """ "Elternabend am Donnerstag von 19 bis 20:30": every digit belongs to the dates the
    calendar reads from the request, so no numeric argument is offered for them (the bundled
    model filled duration_minutes, repeat_count and reminder_minutes with invented numbers);
    a number outside the dates still is."""
    (counted,) = parse_tools(
        [
            {
                "name": "calendar_create",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "start": {"type": "string"},
                        "end": {"type": "string"},
                        "repeat_count": {"type": "integer", "description": "How many times."},
                    },
                    "required": ["title", "start"],
                },
            }
        ]
    )
    request_text = "Elternabend am Donnerstag von 19 bis 20:30 Uhr in der Schule"
    dates = ["Donnerstag von 19", "20:30"]
    assert "repeat_count" in scoped_tool(request_text, counted).parameters["properties"]
    assert "repeat_count" not in scoped_tool(request_text, counted, dates).parameters["properties"]
    six = "Elternabend am Donnerstag von 19 bis 20:30 Uhr, 6 Mal"
    assert "repeat_count" in scoped_tool(six, counted, dates).parameters["properties"]


def _update_tools() -> dict[str, object]:
    from connectors.registry import load_registry

    return {t.name: t for t in parse_tools(load_registry().definitions())}


@pytest.mark.parametrize(
    ("tool", "request_text", "change"),
    [
        # The request names the new place in Spanish, not with the word "location".
        (
            "calendar_update",
            "La comida con Marta al final es en el restaurante Solar, cámbialo",
            "location",
        ),
        ("notes_edit", "Cross buy stamps off my todo list, done", "find"),
    ],
)
def test_an_update_keeps_the_changes_when_the_request_names_none(
    tool: str, request_text: str, change: str
) -> None:
    """An update needs the thing and one change (the tool's ``minProperties``): scoped down
    to the thing alone, the model's call could only fail with "nothing to change"."""
    spec = _update_tools()[tool]
    scoped = scoped_tool(request_text, spec)
    assert change in scoped.parameters["properties"]


def test_an_update_is_still_scoped_when_the_request_names_a_change() -> None:
    spec = _update_tools()["calendar_update"]
    scoped = scoped_tool("Put the dentist at another location: the clinic in Baixa", spec)
    assert "location" in scoped.parameters["properties"]
    assert "attendees" not in scoped.parameters["properties"]


def test_an_update_whose_change_the_request_gives_a_value_for_stays_scoped() -> None:
    """The said date is the new start (the said values pass offers it): offered every other
    argument too, the model filled them all with invented values."""
    spec = _update_tools()["calendar_update"]
    said = {"calendar_update": {"start": ["Donnerstag"], "end": ["Donnerstag"]}}
    (scoped,) = scoped_tools("Schieb den Zahnarzt auf Donnerstag", [spec], said=said)
    assert "attendees" not in scoped.parameters["properties"]
    assert "all_day" not in scoped.parameters["properties"]


@pytest.mark.parametrize(
    "request_text",
    [
        "Schreib dir auf: Reifenwechsel kostet 60 Euro bei Auto Silva",
        "Crea una nota Recetas con 'tortilla de patatas'",
        "Faz uma nota «Férias» com “levar o passaporte”",
    ],
)
def test_text_the_user_dictates_offers_the_text_to_write_in_any_language(
    request_text: str,
) -> None:
    """Only English words named the text ("message", "text"): the bundled model saved the
    German note as a title alone, with no body offered."""
    create = _update_tools()["notes_create"]
    assert "body" in scoped_tool(request_text, create).parameters["properties"]


def test_an_apostrophe_or_a_clock_time_is_no_dictated_text() -> None:
    create = _update_tools()["notes_create"]
    for request_text in ("L'anniversaire de Louis c'est le 8 juillet", "Marta's lunch at 12:30"):
        assert "body" not in scoped_tool(request_text, create).parameters["properties"]


def test_a_quoted_replacement_offers_the_replacement_not_only_the_whole_text() -> None:
    """The bundled model, offered a note's passage and ``body`` but not ``replace`` for
    "remplace 'renew passport' par 'renew ID card'", wrote the new words as the whole text and
    the edit was refused (find and body together)."""
    edit = _update_tools()["notes_edit"]
    said = {"find": ["renew passport"]}
    request_text = "Dans ma note todo, remplace 'renew passport' par 'renew ID card'"
    (scoped,) = scoped_tools(request_text, [edit], said={"notes_edit": said})
    assert "replace" in scoped.parameters["properties"]
