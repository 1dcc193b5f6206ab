"""Where a request says an event happens, read by the calendar in the languages it reads, and
offered to the model as the only places it may write.

The registry, the calendar's reader (dateparser, Babel) and the assistant's grammar tools are
real; the model's words are scripted (tests/scripted_backend.py). The bundled model's own
behaviour is measured by the product evaluation (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

import pytest

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from connectors.calendar.said_places import places
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend


@pytest.mark.parametrize(
    ("request_text", "dates", "found"),
    [
        (
            "Lunch with Ana tomorrow at 12:30 for an hour at Cafe Luz",
            ["tomorrow at 12:30", "an hour"],
            ["Cafe", "Cafe Luz"],
        ),
        (
            "Elternabend am Donnerstag von 19 bis 20:30 Uhr in der Schule",
            ["Donnerstag von 19", "20:30"],
            ["der Schule"],
        ),
        (
            "Cena con Lucía el viernes a las 21 en el restaurante Solar",
            ["viernes a las 21"],
            ["el restaurante Solar"],
        ),
        ("Dîner chez Paul le dimanche 22 à 20h", ["22 à 20h"], ["Paul"]),  # a weekday ends it
        ("Reunião às 10h na Rua Augusta 10", ["10h"], ["Rua", "Rua Augusta", "Rua Augusta 10"]),
    ],
)
def test_a_place_is_a_stretch_after_a_word_that_says_where(
    request_text: str, dates: list[str], found: list[str]
) -> None:
    assert places(request_text, dates) == found


@pytest.mark.parametrize(
    ("request_text", "dates"),
    [
        ("Remind me to call mum in two hours", ["in two hours"]),  # a date, not a place
        ("Put a meeting with Pedro in my calendar on Monday", ["Monday"]),  # the calendar
        ("Pon una cita en mi agenda el martes", ["el martes"]),
        ("Pedro's birthday is on 2 May, put it in every year", ["2 May"]),  # a repetition
        ("Lembra-me de ligar à avó daqui a duas horas", ["daqui a duas horas"]),  # lowercase
        ("Cours de guitare à partir de la semaine prochaine", ["la semaine prochaine"]),
    ],
)
def test_dates_the_calendar_and_lowercase_words_are_no_place(
    request_text: str, dates: list[str]
) -> None:
    assert places(request_text, dates) == []


def _create_grammar(tool_context: ToolContext, request: str) -> dict:
    reply = json.dumps(
        {"name": "calendar_create", "arguments": {"title": "Lunch", "start": "tomorrow at 12:30"}}
    )
    backend = ScriptedBackend([reply] * 4, routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, request))
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["calendar_create"]
    grammar = next(o.constrain_to for o in backend.options if o.constrain_to)
    return next(t for t in grammar if t.name == "calendar_create").parameters["properties"]


def test_the_place_said_is_the_only_place_offered(tool_context: ToolContext) -> None:
    offered = _create_grammar(tool_context, "Lunch with Ana tomorrow at 12:30 at Cafe Luz")
    # "location" has no English word of the request: the scope alone left it out
    assert offered["location"]["enum"] == ["Cafe", "Cafe Luz"]


def test_no_place_is_offered_when_none_is_said(tool_context: ToolContext) -> None:
    offered = _create_grammar(tool_context, "Lunch with Ana tomorrow at 12:30")
    assert "location" not in offered  # the model wrote "Mum", "Todas" when it was
