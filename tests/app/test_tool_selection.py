"""Offering only the tools a request is about: whole connectors, stable order."""

from __future__ import annotations

from app.tool_selection import select_groups, select_tools
from backends.schema import parse_tools


def _tool(name: str, description: str) -> dict[str, object]:
    return {
        "name": name,
        "description": description,
        "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
    }


TOOLS = parse_tools(
    [
        _tool("notes_create", "Create a note with a title and a body."),
        _tool("notes_search", "Search the notes for words."),
        _tool("files_move", "Move a file or folder to another folder."),
        _tool("files_read", "Read a text file."),
        _tool("calendar_create_event", "Create a calendar event at a date and time."),
        _tool("calendar_list_events", "List the calendar events between two dates."),
    ]
)


def names(tools: list) -> list[str]:  # type: ignore[type-arg]
    return [t.name for t in tools]


def test_the_matching_connector_is_offered_whole_in_registration_order() -> None:
    chosen = select_groups("Put a dentist event in my calendar on Friday", TOOLS, 4)
    assert names(chosen) == ["calendar_create_event", "calendar_list_events"]
    assert names(select_groups("Move report.pdf to the Archive folder", TOOLS, 4)) == [
        "files_move",
        "files_read",
    ]


def test_a_request_about_two_connectors_gets_both_when_they_fit() -> None:
    chosen = select_groups("Read the file agenda.txt and create a note from it", TOOLS, 4)
    assert names(chosen) == ["notes_create", "notes_search", "files_move", "files_read"]
    assert len(select_groups("Read the file agenda.txt and create a note", TOOLS, 2)) == 2


def test_a_request_about_nothing_still_gets_one_connector() -> None:
    assert names(select_groups("What is the capital of France?", TOOLS, 4)) == [
        "notes_create",
        "notes_search",
    ]


def test_select_tools_keeps_the_best_matches_in_order() -> None:
    chosen = select_tools("search my notes", TOOLS, 1)
    assert names(chosen) == ["notes_search"]
