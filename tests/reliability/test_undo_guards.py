"""An undo never destroys work done after its action, and runs once however many ask.

Each undo records what its action produced (a note's or an event's fingerprint, the trash entry
a delete made, the identity of what a move put somewhere) and refuses, saying why, when that is
no longer what is there. The state is re-checked under the store's write lock, so two front
ends undoing the same action run its inverse once. Real store, real files, real trash.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from send2trash import plat_other
from sqlalchemy import select

from app.actions import ActionError, Actions
from app.records import ActionState, AuditEntry
from connectors.errors import ConnectorError
from connectors.registry import load_registry
from connectors.store.database import open_store
from connectors.tool import ToolContext


@pytest.fixture
def trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home trash, inside this test's folder (send2trash's own copies of the paths too)."""

    # Deletes go by name through connectors.files.freedesktop_trash (never GIO), so this runs
    # whichever send2trash backend the machine has.
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(xdg))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(xdg / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(xdg / "Trash"))
    return xdg / "Trash"


@pytest.fixture
def actions(tool_context: ToolContext) -> Actions:
    return Actions(load_registry(), tool_context)


def _done(actions: Actions, tool: str, arguments: dict[str, Any]) -> int:
    action = actions.approve(actions.propose(tool, arguments).id)
    assert action.state is ActionState.DONE, action.error
    return action.id


def test_undoing_a_notes_creation_refuses_after_text_was_appended(actions: Actions) -> None:
    created = _done(actions, "notes_create", {"title": "Groceries", "body": "milk"})
    appended = _done(actions, "notes_append", {"note": "Groceries", "text": "eggs"})

    with pytest.raises(ConnectorError, match="changed after this action"):
        actions.undo(created)
    read = actions.registry.run("notes_read", {"note": "Groceries"}, actions.context)
    assert read.data["body"] == "milk\neggs"  # the appended text is still there
    assert actions.get(created).state is ActionState.DONE

    actions.undo(appended)  # in order, both undo cleanly
    actions.undo(created)
    assert actions.registry.run("notes_list", {}, actions.context).data["total"] == 0


def test_undoing_an_events_creation_refuses_after_it_was_edited(actions: Actions) -> None:
    created = _done(actions, "calendar_create", {"title": "Dentist", "start": "2026-12-01T09:00"})
    _done(actions, "calendar_update", {"event": "Dentist", "location": "Room 4"})

    with pytest.raises(ConnectorError, match="changed after this action"):
        actions.undo(created)
    listed = actions.registry.run(
        "calendar_list", {"start": "2026-12-01", "end": "2026-12-02"}, actions.context
    )
    assert [e["title"] for e in listed.data["events"]] == ["Dentist"]


def test_undoing_a_delete_restores_the_file_this_delete_trashed(
    actions: Actions, tool_context: ToolContext, trash: Path
) -> None:
    report = tool_context.granted_folders[0] / "report.txt"
    report.write_text("the original report")
    deleted = _done(actions, "files_delete", {"path": "report.txt"})
    report.write_text("a later draft, deleted by hand")  # a later item from the same place
    plat_other.send2trash(str(report))  # the freedesktop trash, as a file manager does

    actions.undo(deleted)

    assert report.read_text() == "the original report"
    left = [p.read_text() for p in (trash / "files").iterdir()]
    assert left == ["a later draft, deleted by hand"]


def test_undoing_a_move_refuses_when_something_else_is_at_the_destination(
    actions: Actions, tool_context: ToolContext
) -> None:
    folder = tool_context.granted_folders[0]
    (folder / "archive").mkdir()
    (folder / "report.txt").write_text("moved report")
    moved = _done(actions, "files_move", {"source": "report.txt", "destination": "archive"})
    target = folder / "archive" / "report.txt"
    target.unlink()  # the user put another file of that name there
    target.write_text("a new file, not the one moved")

    with pytest.raises(ConnectorError, match="no longer what the move put there"):
        actions.undo(moved)
    assert target.read_text() == "a new file, not the one moved"
    assert not (folder / "report.txt").exists()
    assert actions.get(moved).state is ActionState.DONE


@pytest.mark.parametrize("kind", ["note", "file"])
def test_two_front_ends_undoing_the_same_action_run_it_once(
    tool_context: ToolContext, kind: str
) -> None:
    """The second front end read the action as done before the first undid it; it must not
    run the inverse again (a second restore of a note, a second move of a file)."""
    first = Actions(load_registry(), tool_context)
    store = open_store(tool_context.store().path.parent, key=_key_of(tool_context))
    try:
        other_context = ToolContext(
            open_store=lambda: store,
            granted_folders=tool_context.granted_folders,
            timezone=tool_context.timezone,
            now=tool_context.now,
        )
        folder = tool_context.granted_folders[0]
        if kind == "note":
            _done(first, "notes_create", {"title": "Plans", "body": "a"})
            target = _done(first, "notes_append", {"note": "Plans", "text": "b"})
        else:
            (folder / "archive").mkdir()
            (folder / "report.txt").write_text("report")
            target = _done(first, "files_move", {"source": "report.txt", "destination": "archive"})

        class Racing:
            """The other front end's registry: just before it runs the inverse it has read
            as due, the first front end undoes the same action."""

            def __init__(self) -> None:
                self.inner = load_registry()

            def get(self, name: str) -> Any:
                if name in ("notes_restore_version", "files_undo_move"):
                    first.undo(target)
                return self.inner.get(name)

            def __getattr__(self, name: str) -> Any:
                return getattr(self.inner, name)

        second = Actions(Racing(), other_context)  # type: ignore[arg-type]
        with pytest.raises(ActionError, match="cannot be undone"):
            second.undo(target)
        with tool_context.store().reading() as session:
            undos = session.scalars(
                select(AuditEntry).where(AuditEntry.action_id == target, AuditEntry.event == "undo")
            ).all()
        assert len(undos) == 1
        assert first.get(target).state is ActionState.UNDONE
        if kind == "file":
            assert (folder / "report.txt").read_text() == "report"
    finally:
        store.close()


def _key_of(context: ToolContext) -> bytes:
    """The raw key the fixture's store was opened with (read back from its engine's URL)."""
    password = context.store().engine.url.password
    assert password is not None
    return bytes.fromhex(password[2:66])
