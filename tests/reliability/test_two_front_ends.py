"""Two front ends at once: the desktop app and CLI commands writing one store concurrently.

Each side is its own process (see :mod:`tests.reliability.front_ends`), started together
after its imports. What the user of either side must never see: an action run twice, an
append lost, or "database is locked".
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.actions import ActionError, Actions
from app.records import ActionState, AuditEntry
from app.settings import load_settings
from app.toolbox import open_toolbox
from tests.reliability.conftest import REPO, child_env

ACTIONS = 24
APPENDS = 30


def _both(
    home: Path, gui: list[str], cli: list[str], **extra: str
) -> tuple[list[dict[str, Any]], ...]:
    """Run the GUI and the CLI side at once; their reports, each line parsed."""
    go = home / "go"
    env = child_env(home, GO_FILE=str(go), **extra)
    command = [sys.executable, "-m", "tests.reliability.front_ends"]
    sides = [
        subprocess.Popen(
            [*command, *argv],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in (gui, cli)
    ]
    go.touch()
    reports = []
    for side in sides:
        out, err = side.communicate(timeout=240)
        assert side.returncode == 0, err
        assert "Traceback" not in err, err
        reports.append([json.loads(line) for line in out.splitlines()])
    return tuple(reports)


def _no_lock_shown(*reports: list[dict[str, Any]]) -> None:
    for report in reports:
        for line in report:
            shown = json.dumps(line).lower()
            assert "locked" not in shown and "busy" not in shown, line


def test_approving_from_both_sides_runs_each_action_exactly_once(passphrase_store: Path) -> None:
    toolbox = open_toolbox(load_settings())
    actions = Actions(toolbox.registry, toolbox.context)
    ids = [
        actions.propose("notes_create", {"title": f"Note {i}", "body": f"body {i}"}).id
        for i in range(ACTIONS)
    ]
    toolbox.close()

    gui, cli = _both(
        passphrase_store,
        ["gui", "approve", *map(str, ids)],
        ["cli", "approve", *map(str, ids)],  # both reach for the same action each time
    )
    _no_lock_shown(gui, cli)
    ran = [r["id"] for r in gui + cli if r["ran"]]
    assert sorted(ran) == sorted(ids), "each action runs once, on exactly one side"
    for report in gui + cli:
        if not report["ran"]:
            assert "not waiting for approval" in report["shown"], report

    toolbox = open_toolbox(load_settings())
    try:
        actions = Actions(toolbox.registry, toolbox.context)
        assert all(actions.get(i).state is ActionState.DONE for i in ids)
        with toolbox.context.store().reading() as session:
            runs = session.scalars(select(AuditEntry.action_id).where(AuditEntry.event == "run"))
            assert sorted(runs) == sorted(ids)
        titles = [
            n["title"]
            for n in toolbox.registry.run("notes_list", {"limit": 100}, toolbox.context).data[
                "notes"
            ]
        ]
        assert sorted(titles) == sorted(f"Note {i}" for i in range(ACTIONS))
    finally:
        toolbox.close()


def test_a_note_edited_from_both_sides_keeps_every_edit(passphrase_store: Path) -> None:
    toolbox = open_toolbox(load_settings())
    toolbox.registry.run(
        "notes_create", {"title": "Shared", "body": "start"}, toolbox.context, approved=True
    )
    toolbox.close()

    steps = passphrase_store / "steps"
    steps.mkdir()
    gui, cli = _both(
        passphrase_store,
        ["gui", "append", "Shared", "gui", str(APPENDS)],
        ["cli", "append", "Shared", "cli", str(APPENDS)],
        STEP_DIR=str(steps),
        STEP_PEERS="gui,cli",  # in lockstep: step i runs on both sides at once
    )
    _no_lock_shown(gui, cli)
    assert [r["shown"] for r in gui] == ["done"] * APPENDS
    assert [r["shown"] for r in cli] == ["done"] * APPENDS

    toolbox = open_toolbox(load_settings())
    try:
        body = toolbox.registry.run("notes_read", {"note": "Shared"}, toolbox.context).data["body"]
    finally:
        toolbox.close()
    lines = body.splitlines()
    for side in ("gui", "cli"):
        mine = [line for line in lines if line.startswith(f"{side}-")]
        assert mine == [f"{side}-{i}" for i in range(APPENDS)], f"{side} edits were lost"
    # Lockstep: each pair of lines is one step of both sides, so the edits interleave.
    pairs = [sorted(lines[1 + 2 * i : 3 + 2 * i]) for i in range(APPENDS)]
    assert pairs == [[f"cli-{i}", f"gui-{i}"] for i in range(APPENDS)], lines


def test_an_approval_in_the_other_front_end_between_check_and_run_wins(
    passphrase_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window the processes above only sometimes hit, opened on purpose: the GUI has
    checked that the action waits; before it marks it approved, the CLI approves and runs it.
    The GUI must then refuse, not run it a second time; an edit arriving late is refused too."""
    toolbox = open_toolbox(load_settings())
    gui, cli = (
        Actions(toolbox.registry, toolbox.context),
        Actions(toolbox.registry, toolbox.context),
    )
    action = gui.propose("notes_create", {"title": "Once", "body": "only once"})
    checked = gui._waiting

    def check_then_other_side_approves(action_id: int) -> Any:
        seen = checked(action_id)
        assert cli.approve(action_id).state is ActionState.DONE
        return seen

    monkeypatch.setattr(gui, "_waiting", check_then_other_side_approves)
    try:
        with pytest.raises(ActionError, match="is done, not waiting for approval"):
            gui.approve(action.id)
        monkeypatch.setattr(gui, "_waiting", checked)
        with pytest.raises(ActionError, match="not waiting"):
            gui.edit(action.id, {"title": "Twice", "body": "again"})
        assert gui.get(action.id).state is ActionState.DONE
        assert [a.event for a in gui.audit()] == ["run"]
    finally:
        toolbox.close()
