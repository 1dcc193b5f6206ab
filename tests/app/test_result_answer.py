"""Answers written from what the real connectors return, and when a lookup is the whole answer."""

from __future__ import annotations

import pytest

from app.result_answer import answer_from_results, asks_for_more
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext


@pytest.fixture
def registry() -> Registry:
    return load_registry()


def answer(registry: Registry, context: ToolContext, name: str, args: dict) -> str:
    ran = registry.run(name, args, context)
    return answer_from_results([(ran.summary or "", ran.data)])


def test_the_calendar_lists_each_event_with_its_time_and_place(
    registry: Registry, tool_context: ToolContext
) -> None:
    registry.run(
        "calendar_create",
        {"title": "Standup", "start": "tomorrow 9:00", "location": "Room 1"},
        tool_context,
        approved=True,
    )
    registry.run(
        "calendar_create",
        {"title": "Trip", "start": "2026-11-27", "all_day": True},
        tool_context,
        approved=True,
    )
    text = answer(registry, tool_context, "calendar_list", {})
    lines = text.splitlines()
    assert lines[0] == "2 events from Wed 25 Nov 2026 – Tue 1 Dec 2026:"
    assert lines[1] == "- **Standup** — Thu 26 Nov 2026 09:00–10:00 CET, Room 1"
    assert lines[2] == "- **Trip** — Fri 27 Nov 2026 (all day)"


def test_an_empty_search_says_so(registry: Registry, tool_context: ToolContext) -> None:
    assert answer(registry, tool_context, "notes_search", {"query": "plans"}) == (
        "0 notes found for 'plans'."
    )


def test_a_note_and_a_file_show_their_text_quoted(
    registry: Registry, tool_context: ToolContext
) -> None:
    registry.run(
        "notes_create",
        {"title": "Wifi", "body": "password: hunter2\nrouter: hall"},
        tool_context,
        approved=True,
    )
    assert answer(registry, tool_context, "notes_read", {"note": "Wifi"}).splitlines() == [
        "Note 'Wifi':",
        "",
        "> password: hunter2",
        "> router: hall",
    ]
    (tool_context.granted_folders[0] / "report.txt").write_text("Q3 report: sales up 4%.\n")
    text = answer(registry, tool_context, "files_read", {"path": "report.txt"})
    assert text == "Read report.txt:\n\n> Q3 report: sales up 4%."


def test_long_lists_are_cut_and_counted(registry: Registry, tool_context: ToolContext) -> None:
    folder = tool_context.granted_folders[0]
    for i in range(14):
        (folder / f"file{i:02}.txt").write_text("x" * (2000 * i))
    lines = answer(registry, tool_context, "files_list", {}).splitlines()
    assert len(lines) == 1 + 10 + 1
    assert lines[2] == "- **file01.txt** — 2.0 KB"
    assert lines[-1] == "- … and 4 more"


@pytest.mark.parametrize(
    ("request_text", "called", "more"),
    [
        ("Search my notes for wifi", ["notes_search"], False),
        ("What is on my calendar tomorrow?", ["calendar_list"], False),
        ("Read my Inbox note and do what it says", ["notes_read"], False),
        ("Find my wifi note and append 'router in the hall'", ["notes_search"], True),
        ("Look up the wifi note and add the router's place", ["notes_search"], True),
        ("Find free time tomorrow and book a meeting", ["calendar_free_time"], True),
        ("Append 'bread' to Groceries", ["notes_append"], False),  # already made
    ],
)
def test_a_lookup_is_the_whole_answer_unless_a_change_is_still_asked_for(
    request_text: str, called: list[str], more: bool
) -> None:
    change_tools = [
        "notes_create",
        "notes_append",
        "notes_edit",
        "notes_rename",
        "notes_delete",
        "calendar_create",
        "calendar_update",
        "calendar_cancel",
    ]
    assert asks_for_more(request_text, change_tools, called) is more
