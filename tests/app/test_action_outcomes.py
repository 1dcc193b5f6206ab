"""Every approved action ends in a state the user can see, and its record matches its change.

Notes and events: the change and the action's record (done, result, undo, audit entry) are one
transaction, so a record that cannot be written takes the change with it. Files: the action is
"running" with its planned undo before the change, and a process that stopped half-way is
settled at the next start-up from what the files show. Any exception, not only a connector's
own errors, ends the action as failed with a sentence.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel
from sqlalchemy import select, text

from app.actions import Actions
from app.records import ActionState
from connectors.notes.models import Note
from connectors.registry import Registry, load_registry
from connectors.tool import Effect, ToolContext, ToolResult, tool

PASSPHRASE = "action outcomes passphrase"
REPO = Path(__file__).resolve().parents[2]


def test_a_note_is_not_kept_when_its_record_cannot_be_written(tool_context: ToolContext) -> None:
    """The old order committed the note, then failed to write "done": the user was told
    nothing was saved, the note was there, and the action stayed "approved" with no undo."""
    store = tool_context.store()
    with store.transaction() as session:  # the database refuses the action's "run" entry
        session.execute(
            text(
                "CREATE TRIGGER refuse_run BEFORE INSERT ON audit_log WHEN NEW.event = 'run' "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        )
    actions = Actions(load_registry(), tool_context)
    proposed = actions.propose("notes_create", {"title": "Groceries", "body": "milk"})

    outcome = actions.approve(proposed.id)

    assert outcome.state is ActionState.FAILED
    assert "nothing was changed" in (outcome.error or "")
    assert "full" in (outcome.error or "")
    with store.reading() as session:
        assert session.scalars(select(Note)).all() == []  # the change went with its record
    assert actions.get(proposed.id).state is ActionState.FAILED


class _Nothing(BaseModel):
    pass


@tool("broken_in_store", effect=Effect.CHANGES, arguments=_Nothing, in_store=True)
def _broken_in_store(context: ToolContext, _args: _Nothing) -> ToolResult:
    """Writes a note, then fails with an error no connector declares (a bug, a bad file)."""
    from datetime import UTC, datetime

    with context.store().transaction() as session:
        now = datetime.now(UTC)
        session.add(Note(title="half", title_key="half", body="", created=now, updated=now))
    raise TypeError("can't compare offset-naive and offset-aware datetimes")


@tool("broken_outside", effect=Effect.CHANGES, arguments=_Nothing)
def _broken_outside(_context: ToolContext, _args: _Nothing) -> ToolResult:
    """A change outside the store that fails with an undeclared error."""
    raise OverflowError("date value out of range")


def test_any_exception_ends_the_action_failed_with_its_message(tool_context: ToolContext) -> None:
    """Only ConnectorError was caught: a TypeError left the action "approved" for ever."""
    actions = Actions(Registry([_broken_in_store, _broken_outside]), tool_context)
    for name, message in (("broken_in_store", "TypeError"), ("broken_outside", "OverflowError")):
        proposed = actions.propose(name, {})
        outcome = actions.approve(proposed.id)
        assert outcome.state is ActionState.FAILED, name
        assert message in (outcome.error or ""), outcome.error
        assert actions.get(proposed.id).state is ActionState.FAILED
    with tool_context.store().reading() as session:
        assert session.scalars(select(Note)).all() == []  # the half-written note rolled back


@pytest.fixture
def app_home(
    _isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """The app's own start-up path (settings, store with a passphrase, a granted folder)."""
    import keyring
    from keyring.backends import fail

    from app.settings import Settings, save_settings

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("CALLMEMAYBE_PASSPHRASE", PASSPHRASE)
    granted = tmp_path / "granted"
    (granted / "archive").mkdir(parents=True)
    (granted / "report.txt").write_text("quarterly report")
    save_settings(Settings(granted_folders=[str(granted)]))
    try:
        yield granted
    finally:
        keyring.set_keyring(previous)


def _approve_and_die(action_id: int, home: Path, when: str) -> None:
    """Approve ``action_id`` in another process that is killed ``when`` ("after" the move,
    before its outcome is written, or "before" the move runs)."""
    script = textwrap.dedent(
        f"""
        import os
        from app.actions import Actions
        from app.settings import load_settings
        from app.toolbox import open_toolbox
        from connectors.registry import Registry

        def die(*args, **kwargs):
            os._exit(9)

        if {when!r} == "after":
            Actions._finish = die
        else:
            run = Registry.run
            Registry.run = lambda self, name, *a, **k: (
                die() if name == "files_move" else run(self, name, *a, **k)
            )
        toolbox = open_toolbox(load_settings())
        Actions(toolbox.registry, toolbox.context).approve({action_id})
        """
    )
    env = {
        **os.environ,
        "CALLMEMAYBE_HOME": str(home),
        "CALLMEMAYBE_PASSPHRASE": PASSPHRASE,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run([sys.executable, "-c", script], env=env, timeout=120, check=False)
    assert done.returncode == 9


@pytest.mark.parametrize("when", ["after", "before"])
def test_a_file_move_cut_short_is_settled_at_the_next_start(
    app_home: Path, _isolated_home: Path, when: str
) -> None:
    from app.settings import load_settings
    from app.toolbox import open_toolbox

    toolbox = open_toolbox(load_settings())
    actions = Actions(toolbox.registry, toolbox.context)
    proposed = actions.propose("files_move", {"source": "report.txt", "destination": "archive"})
    toolbox.close()

    _approve_and_die(proposed.id, _isolated_home, when)

    toolbox = open_toolbox(load_settings())  # the next start-up
    try:
        actions = Actions(toolbox.registry, toolbox.context)
        settled = actions.get(proposed.id)
        moved = app_home / "archive" / "report.txt"
        if when == "after":
            assert moved.exists()
            assert settled.state is ActionState.DONE and settled.undoable
            actions.undo(proposed.id)
            assert (app_home / "report.txt").read_text() == "quarterly report"
            assert not moved.exists()
        else:
            assert (app_home / "report.txt").exists()
            assert settled.state is ActionState.FAILED
            assert "nothing was changed" in (settled.error or "")
        runs = [json.dumps(a.arguments) for a in actions.audit() if a.action_id == proposed.id]
        assert runs  # the settled outcome is in the audit log too
    finally:
        toolbox.close()
