"""The command line over the connectors and the action queue, without the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main


@pytest.fixture(autouse=True)
def _keyring(memory_keyring: object) -> None:
    """The store's key lives in an in-memory keyring for these tests."""


def test_tools_prints_openai_function_definitions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tools"]) == 0
    tools = json.loads(capsys.readouterr().out)
    names = {t["function"]["name"] for t in tools}
    assert {"notes_create", "notes_search", "calendar_create", "files_move"} <= names
    assert "notes_purge" not in names  # undo helpers are not offered
    assert all(t["type"] == "function" and "parameters" in t["function"] for t in tools)


def test_tool_runs_reads_and_needs_yes_for_changes(capsys: pytest.CaptureFixture[str]) -> None:
    args = json.dumps({"title": "Wifi", "body": "password: hunter2"})
    assert main(["tool", "notes_create", args]) == 2
    assert "needs your approval" in capsys.readouterr().err
    assert main(["pending"]) == 0 and capsys.readouterr().out == ""  # nothing was stored
    assert main(["tool", "notes_create", args, "--yes"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["result"]["title"] == "Wifi"
    assert created["undo"] == f"callmemaybe undo {created['action']}"
    assert main(["tool", "notes_search", '{"query": "hunter2"}']) == 0
    found = json.loads(capsys.readouterr().out)["result"]["results"]
    assert [r["title"] for r in found] == ["Wifi"]


def test_tool_errors_are_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tool", "notes_create", '{"title": ']) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert main(["tool", "notes_create", '{"titel": "x"}', "--yes"]) == 2
    err = capsys.readouterr().err
    assert "titel: not a parameter of this tool" in err and "title: Field required" in err
    assert main(["tool", "rm_rf", "{}"]) == 2
    assert "there is no tool named 'rm_rf'" in capsys.readouterr().err


def test_folders_are_granted_and_revoked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "a.txt").write_text("hello")
    assert main(["tool", "files_read", '{"path": "a.txt"}']) == 2
    assert "folders add" in capsys.readouterr().err  # nothing is granted at first
    assert main(["folders", "add", str(shared)]) == 0
    assert capsys.readouterr().out.strip() == str(shared.resolve())
    assert main(["tool", "files_read", json.dumps({"path": "a.txt"})]) == 0
    assert json.loads(capsys.readouterr().out)["result"]["text"] == "hello"
    assert main(["folders", "remove", str(shared)]) == 0
    assert main(["folders", "add", str(tmp_path / "missing")]) == 2


def test_pending_approve_reject_undo_history_from_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.actions import Actions
    from app.settings import load_settings
    from app.toolbox import open_toolbox

    toolbox = open_toolbox(load_settings())
    actions = Actions(toolbox.registry, toolbox.context)
    first = actions.propose("notes_create", {"title": "Groceries", "body": "milk"})
    second = actions.propose("notes_create", {"title": "Ideas", "body": "x"})
    toolbox.close()

    assert main(["pending"]) == 0
    listed = capsys.readouterr().out
    # The window's card sentence (future tense: nothing ran yet) and the text to be written.
    assert f"#{first.id} pending: Create the note 'Groceries'" in listed
    assert "    Text:\n      | milk\n" in listed
    assert f"#{second.id} pending" in listed
    assert main(["approve", str(first.id)]) == 0
    assert capsys.readouterr().out.startswith(f"Done #{first.id}: Created note 'Groceries'")
    assert main(["reject", str(second.id)]) == 0
    assert main(["approve", str(second.id)]) == 2
    assert "rejected, not waiting" in capsys.readouterr().err
    assert main(["undo"]) == 0
    assert capsys.readouterr().out.startswith(f"Undid #{first.id}")
    assert main(["tool", "notes_read", '{"note": "Groceries"}']) == 2  # really gone
    assert main(["history"]) == 0
    assert "undone" in capsys.readouterr().out


def _audit() -> list[tuple[int | None, str, str]]:
    from app.actions import Actions
    from app.settings import load_settings
    from app.toolbox import open_toolbox

    toolbox = open_toolbox(load_settings())
    try:
        return [
            (a.action_id, a.event, a.tool)
            for a in Actions(toolbox.registry, toolbox.context).audit()
        ]
    finally:
        toolbox.close()


def test_tool_yes_is_recorded_audited_and_undoable_like_an_approved_action(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`tool NAME --yes` used to run the tool directly: no action, no audit entry, no undo."""
    args = json.dumps({"title": "Groceries", "body": "milk"})
    assert main(["tool", "notes_create", args, "--yes"]) == 0
    created = json.loads(capsys.readouterr().out)
    action = created["action"]
    assert main(["history"]) == 0
    assert f"#{action} done: Created note 'Groceries'" in capsys.readouterr().out
    assert (action, "run", "notes_create") in _audit()
    assert main(["undo"]) == 0
    assert capsys.readouterr().out.startswith(f"Undid #{action}: Created note 'Groceries'")
    assert main(["tool", "notes_read", '{"note": "Groceries"}']) == 2  # the undo removed it
    assert (action, "undo", "notes_purge") in _audit()


def test_tool_yes_that_cannot_work_says_why_and_runs_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tool", "notes_append", '{"note": "Nowhere", "text": "x"}', "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 1 and "Nowhere" in err
    assert [e for _id, e, _tool in _audit() if e == "run"] == []


def test_never_refuses_tool_even_with_yes(capsys: pytest.CaptureFixture[str]) -> None:
    from app.settings import Settings, save_settings

    save_settings(Settings(tool_policies={"notes_create": "never", "notes_list": "never"}))
    args = json.dumps({"title": "Groceries", "body": "milk"})
    assert main(["tool", "notes_create", args, "--yes"]) == 2
    assert "set to 'never'" in capsys.readouterr().err
    assert main(["tool", "notes_list"]) == 2  # a read the user never allows does not run either
    assert "set to 'never'" in capsys.readouterr().err
    assert _audit() == []
    save_settings(Settings())
    assert main(["tool", "notes_list"]) == 0
    assert json.loads(capsys.readouterr().out)["result"]["notes"] == []  # nothing was created


def test_ask_on_a_read_needs_yes_and_is_recorded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from app.settings import Settings, save_settings

    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "a.txt").write_text("hello")
    save_settings(Settings(granted_folders=[str(shared)], tool_policies={"files_read": "ask"}))
    assert main(["tool", "files_read", '{"path": "a.txt"}']) == 2
    assert "is set to 'ask' and needs your approval" in capsys.readouterr().err
    assert main(["tool", "files_read", '{"path": "a.txt"}', "--yes"]) == 0
    read = json.loads(capsys.readouterr().out)
    assert read["result"]["text"] == "hello" and "undo" not in read
    assert (read["action"], "run", "files_read") in _audit()
