"""What a pending action will do, in words: built from the real tools' real previews."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from app.action_summary import summarize, summarize_action
from connectors.registry import load_registry
from connectors.tool import ToolContext

JSON_LIKE = re.compile(r"[{\[]\s*\"")


@pytest.fixture
def actions(tool_context: ToolContext) -> Any:
    from app.actions import Actions

    return Actions(load_registry(), tool_context)


def _rows(summary: Any) -> dict[str, str]:
    return {change.label: change.value for change in summary.changes}


def _no_json(summary: Any) -> None:
    for line in summary.lines():
        assert JSON_LIKE.search(line) is None, line


def test_an_event_in_the_future_tense_with_its_resolved_times_and_overlaps(
    actions: Any, tool_context: ToolContext
) -> None:
    load_registry().run(
        "calendar_create",
        {"title": "Team sync", "start": "2026-11-26 12:00", "end": "12:45"},
        tool_context,
        approved=True,
    )
    arguments = {
        "title": "Lunch with Ana",
        "start": "tomorrow 12:30",
        "end": "13:30",
        "location": "Cafe Luz",
        "attendees": ["Ana", "Bo"],
        "reminder_minutes": 15,
    }
    action = actions.propose("calendar_create", arguments)
    summary = summarize_action(action)
    assert summary.sentence == (
        "Create the event 'Lunch with Ana', Thu 26 Nov 2026 12:30–13:30 CET, at Cafe Luz"
    )
    assert _rows(summary) == {
        "When": "Thu 26 Nov 2026 12:30–13:30 CET",
        "Where": "Cafe Luz",
        "People": "Ana, Bo",
        "Reminder": "15 minutes before",
    }
    assert summary.warnings == ("Overlaps 'Team sync' Thu 26 Nov 2026 12:00–12:45 CET",)
    _no_json(summary)


def test_an_event_change_shows_before_and_after(actions: Any, tool_context: ToolContext) -> None:
    load_registry().run(
        "calendar_create",
        {"title": "Dentist", "start": "2026-11-27 09:00", "location": "Rue Haute"},
        tool_context,
        approved=True,
    )
    action = actions.propose("calendar_update", {"event": "Dentist", "start": "Friday 15:00"})
    summary = summarize_action(action)
    assert summary.sentence == "Change the event 'Dentist' to Fri 27 Nov 2026 15:00–16:00 CET"
    assert _rows(summary) == {
        "When": "Fri 27 Nov 2026 09:00–10:00 CET → Fri 27 Nov 2026 15:00–16:00 CET"
    }


def test_a_note_shows_the_text_that_will_be_written(actions: Any) -> None:
    action = actions.propose(
        "notes_create", {"title": "Shopping", "body": "- milk\n- eggs", "tags": ["home"]}
    )
    summary = summarize_action(action)
    assert summary.sentence == "Create the note 'Shopping'"  # not "Created note" before it ran
    text = next(c for c in summary.changes if c.label == "Text")
    assert text.value == "- milk\n- eggs" and text.block
    assert summary.lines() == [
        "Create the note 'Shopping'",
        "    Title: Shopping",
        "    Tags: home",
        "    Text:",
        "      | - milk",
        "      | - eggs",
    ]
    assert summary.warnings == ()


def test_a_literal_backslash_n_is_flagged(actions: Any) -> None:
    action = actions.propose("notes_create", {"title": "List", "body": "- milk\\n- eggs"})
    summary = summarize_action(action)
    assert summary.warnings == ("The text contains '\\n' as written characters, not line breaks.",)


def test_a_note_edit_shows_the_diff(actions: Any, tool_context: ToolContext) -> None:
    load_registry().run(
        "notes_create",
        {"title": "Plan", "body": "call Bob\nbuy bread"},
        tool_context,
        approved=True,
    )
    action = actions.propose(
        "notes_edit", {"note": "Plan", "find": "call Bob", "replace": "call Ana"}
    )
    summary = summarize_action(action)
    assert summary.sentence == "Edit the note 'Plan'"
    rows = _rows(summary)
    assert rows["Replaces"] == "call Bob" and rows["With"] == "call Ana"
    assert "-call Bob" in rows["Changes"] and "+call Ana" in rows["Changes"]


def test_a_file_write_shows_where_and_its_first_lines(
    actions: Any, tool_context: ToolContext
) -> None:
    folder = tool_context.granted_folders[0]
    text = "\n".join(f"line {n}" for n in range(1, 21))
    action = actions.propose("files_write", {"path": str(folder / "todo.txt"), "text": text})
    summary = summarize_action(action)
    assert summary.sentence == f"Write a new file {folder / 'todo.txt'}"
    rows = _rows(summary)
    assert rows["File"] == str(folder / "todo.txt")
    assert rows["Size"] == f"{len(text)} bytes, 20 lines"
    assert rows["Text"].splitlines()[:8] == [f"line {n}" for n in range(1, 9)]
    assert rows["Text"].splitlines()[-1] == "… (12 more lines)"


def test_a_move_shows_source_and_destination(actions: Any, tool_context: ToolContext) -> None:
    folder = tool_context.granted_folders[0]
    (folder / "a.txt").write_text("x")
    (folder / "old").mkdir()
    action = actions.propose(
        "files_move", {"source": str(folder / "a.txt"), "destination": str(folder / "old")}
    )
    summary = summarize_action(action)
    assert _rows(summary) == {"From": str(folder / "a.txt"), "To": str(folder / "old" / "a.txt")}
    assert summary.sentence == f"Move {folder / 'a.txt'} to {folder / 'old' / 'a.txt'}"


def test_a_grammar_conflict_in_plain_words_and_an_unknown_tool_without_json() -> None:
    flag = "note: the model wanted 'Shoping' but the tool allows only 'Shopping'"
    summary = summarize("shelf_put", {"key": "door", "items": ["umbrella", "keys"]}, {}, [flag])
    assert summary.warnings[0] == (
        "Check the note: the assistant wanted 'Shoping', which is not allowed, so 'Shopping' "
        "will be used instead."
    )
    assert summary.sentence == "Run shelf put"
    assert _rows(summary) == {"Key": "door", "Items": "umbrella, keys"}
    _no_json(summary)


def test_the_terminal_prints_what_the_window_shows(tmp_path: Path) -> None:
    import io

    from app.events import ActionPending
    from app.terminal import render

    event = ActionPending(
        3, "notes_create", {"title": "Shopping", "body": "- milk\n- eggs"}, {"id": 3}
    )
    out = io.StringIO()
    render([event], out)
    assert out.getvalue().splitlines() == [
        "  ⏸ pending #3: Create the note 'Shopping'",
        "      Title: Shopping",
        "      Text:",
        "        | - milk",
        "        | - eggs",
    ]
