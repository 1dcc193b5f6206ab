"""Requests with the call that answers each, for the product's own tools, in five languages.

A 0.5B model imitates far better than it follows descriptions: shown "Trag ... ein" answered by
``calendar_create`` with ``"start": "Dienstag 9:00"``, it writes a German request's date as the
user said it (the tool resolves it in the user's language) instead of copying today's date
from the clock line, and picks the tool that creates rather than the one that lists. The
examples of the offered tools go in the main prompt's system message (:func:`examples_text`),
which the prefix cache keeps, so they cost nothing after the first request.

None of these is a request of the product cases (tests/assistant_cases), which measure them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

Exemplar = tuple[str, str, dict[str, Any]]  # request, tool, arguments

EXEMPLAR_CALLS: tuple[Exemplar, ...] = (
    ("What do I have on Friday?", "calendar_list", {"start": "Friday"}),
    (
        "O que tenho na próxima semana?",
        "calendar_list",
        {"start": "next Monday", "end": "next Sunday"},
    ),
    (
        "Find me 45 free minutes tomorrow",
        "calendar_free_time",
        {"duration_minutes": 45, "start": "tomorrow"},
    ),
    (
        "¿Cuándo tengo dos horas libres el jueves?",
        "calendar_free_time",
        {"duration_minutes": 120, "start": "jueves"},
    ),
    (
        "Book a call with Tom on Tuesday at 10",
        "calendar_create",
        {"title": "Call with Tom", "start": "Tuesday 10:00", "attendees": ["Tom"]},
    ),
    (
        "Leg mir für übermorgen um 9 Uhr einen Zahnarzttermin an",
        "calendar_create",
        {"title": "Zahnarzttermin", "start": "übermorgen 9:00"},
    ),
    (
        "Marca jantar com o Rui sábado às 20h no Tasco",
        "calendar_create",
        {"title": "Jantar com o Rui", "start": "sábado 20:00", "location": "Tasco"},
    ),
    (
        "Rappelle-moi d'appeler le garage dans une heure",
        "calendar_create",
        {"title": "Appeler le garage", "start": "dans une heure", "duration_minutes": 15},
    ),
    (
        "Pon gimnasio todos los lunes a las 7",
        "calendar_create",
        {"title": "Gimnasio", "start": "lunes 7:00", "repeat": "weekly"},
    ),
    (
        "Move the budget review to 4pm",
        "calendar_update",
        {"event": "Budget review", "start": "16:00"},
    ),
    (
        "Le dîner avec Paul sera au restaurant Lapa",
        "calendar_update",
        {"event": "Dîner avec Paul", "location": "restaurant Lapa"},
    ),
    ("Annule la réunion de lundi", "calendar_cancel", {"event": "Réunion"}),
    ("Sag das Training am Mittwoch ab", "calendar_cancel", {"event": "Training"}),
    ("Add the events from school.ics to my calendar", "calendar_import", {"path": "school.ics"}),
    ("Guarda o meu calendário em agenda.ics", "calendar_export", {"path": "agenda.ics"}),
    ("What's in my Documents folder?", "files_list", {"path": "Documents"}),
    ("Busca los archivos pdf", "files_find", {"pattern": "*.pdf"}),
    ("Lis le fichier contrat.txt", "files_read", {"path": "contrat.txt"}),
    ("Save a file hello.txt that says hi", "files_write", {"path": "hello.txt", "text": "hi"}),
    (
        "Verschieb bericht.pdf in den Ordner alt",
        "files_move",
        {"source": "bericht.pdf", "destination": "alt"},
    ),
    (
        "Copia orcamento.xlsx para a pasta backups",
        "files_copy",
        {"source": "orcamento.xlsx", "destination": "backups"},
    ),
    ("Throw away draft.docx", "files_delete", {"path": "draft.docx"}),
    (
        "Notiere: Handwerker kommt am Dienstag",
        "notes_create",
        {"title": "Handwerker", "body": "Handwerker kommt am Dienstag"},
    ),
    (
        "Crée une note Vacances avec crème solaire et chapeau",
        "notes_create",
        {"title": "Vacances", "body": "- crème solaire\n- chapeau"},
    ),
    ("Show me my packing note", "notes_read", {"note": "Packing"}),
    (
        "Put oat milk on the groceries list",
        "notes_append",
        {"note": "Groceries", "text": "- oat milk"},
    ),
    (
        "Junta batatas à lista de compras",
        "notes_append",
        {"note": "Lista de compras", "text": "- batatas"},
    ),
    (
        "Quita el pan de la lista de la compra",
        "notes_edit",
        {"note": "Lista de la compra", "find": "- pan", "replace": ""},
    ),
    ("Tag the garden note with outdoors", "notes_edit", {"note": "Garden", "tags": ["outdoors"]}),
    ("Renomme la note Idées en Projets", "notes_rename", {"note": "Idées", "new_title": "Projets"}),
    ("Apaga a nota das compras antigas", "notes_delete", {"note": "Compras antigas"}),
    ("Bring back the garden note from the trash", "notes_restore", {"note": "Garden"}),
    ("Welche Notizen habe ich mit dem Tag Arbeit?", "notes_list", {"tag": "Arbeit"}),
    ("Which tags do my notes use?", "notes_tags", {}),
    ("¿En qué nota apunté el código de la alarma?", "notes_search", {"query": "alarma"}),
)

# Only a refusal: answers with content ("What is 15% of 60?" -> "9.") were copied word for word
# into the answers of other questions (a percentage asked in Portuguese was answered "9.").
TEXT_ANSWERS: tuple[tuple[str, str], ...] = (
    ("Envoie un SMS à Julie", "I can't send messages; I manage your calendar, notes and files."),
)


def examples_text(tool_names: Iterable[str]) -> str:
    """The exemplars of the offered tools (and the text answers), as lines for the system
    message; empty when none of the tools has one (another app's tools, BFCL's)."""
    offered = set(tool_names)
    calls = [(text, name, args) for text, name, args in EXEMPLAR_CALLS if name in offered]
    if not calls:
        return ""
    lines = ["Examples:"]
    for text, name, args in calls:
        call = json.dumps({"name": name, "arguments": args}, ensure_ascii=False)
        lines.append(f"User: {text}\nYou: {call}")
    for text, answer in TEXT_ANSWERS:
        lines.append(f"User: {text}\nYou: {answer}")
    return "\n".join(lines)
