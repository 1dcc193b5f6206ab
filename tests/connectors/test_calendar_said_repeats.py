"""How often a request says an event repeats, read in the calendar's languages, and the grammar
that offers those values alone (none said: the model cannot invent a repetition)."""

from __future__ import annotations

import dataclasses

import pytest

from app.policy.said_values import with_said
from backends.schema import parse_tools
from connectors.calendar.said_repeats import repeats
from connectors.registry import load_registry
from connectors.tool import ToolContext


@pytest.mark.parametrize(
    ("request_text", "said"),
    [
        ("Trag unseren Hochzeitstag am 12. Mai ganztägig ein, jedes Jahr", ["yearly"]),
        ("L'anniversaire de Louis c'est le 8 juillet, mets-le chaque année", ["yearly"]),
        ("Aula de natação todas as quartas às 19h", ["weekly"]),
        ("Clases de inglés todos los jueves de 18 a 19:30", ["weekly"]),
        ("Pay rent on the 1st of every month", ["monthly"]),
        ("Cours de guitare tous les mardis à 18h", ["weekly"]),
        ("Yoga Tuesdays at 6", ["weekly"]),
        ("Laufen dienstags um 7", ["weekly"]),
        ("Lembra-me todos os meses de pagar a água", ["monthly"]),
        ("Stand-up täglich um 9", ["daily"]),
        # said once, or not a repetition at all
        ("Clase de inglés el jueves a las 5", []),
        ("Lunch with Ana tomorrow at 12:30", []),
        ("Copia todos os meus ficheiros de hoje", []),
        ("Videocall mit dem Team am Montag um 14 Uhr", []),
    ],
)
def test_the_repetition_a_request_says(request_text: str, said: list[str]) -> None:
    assert repeats(request_text) == said


def test_a_new_event_is_offered_the_repetition_said_and_none_otherwise(
    tool_context: ToolContext,
) -> None:
    """The grammar's calendar_create: "jedes Jahr" offers repeat, limited to yearly, although
    no English word of the argument is in the request; a one-off event is offered no repeat."""
    registry = load_registry()
    (full,) = parse_tools(
        [d for d in registry.definitions() if d["function"]["name"] == "calendar_create"]
    )
    create = registry.get("calendar_create").said
    assert create is not None
    properties = {k: v for k, v in full.parameters["properties"].items() if k != "repeat"}
    narrowed = dataclasses.replace(full, parameters={**full.parameters, "properties": properties})
    yearly = with_said(narrowed, full, create(tool_context, "Hochzeitstag am 12. Mai, jedes Jahr"))
    assert yearly is not None
    assert yearly.parameters["properties"]["repeat"]["enum"] == ["yearly"]
    once = with_said(full, full, create(tool_context, "Zahnarzt am 12. Mai um 9"))
    assert once is not None and "repeat" not in once.parameters["properties"]
