"""The app's own data folder is never reachable through the file tools, whatever is granted.

A user who shares their whole home folder also shares ``~/.local/share/call-me-maybe``: its
settings.json (the granted folders and the tool policies), the encrypted store and the undo
copies. The model must not be able to propose rewriting the policies, or read an undo copy.
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.actions import Actions
from connectors.errors import PathRefusedError
from connectors.registry import Registry, load_registry
from connectors.store.database import Store
from connectors.tool import ToolContext

POLICIES = '{"granted_folders": ["~"], "policies": {"files_write": "ask"}}'


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home folder, shared whole, with the app's data folder inside it."""
    folder = tmp_path / "user"
    data = folder / ".local" / "share" / "call-me-maybe"
    (data / "undo" / ("0" * 32)).mkdir(parents=True)
    (data / "settings.json").write_text(POLICIES)
    (data / "undo" / ("0" * 32) / "diary.txt").write_text("a deleted diary")
    (folder / "notes.txt").write_text("shopping list")
    return folder


@pytest.fixture
def context(store: Store, home: Path) -> ToolContext:
    return ToolContext(
        open_store=lambda: store,
        granted_folders=(home,),
        timezone=ZoneInfo("Europe/Paris"),
        data_dir=home / ".local" / "share" / "call-me-maybe",
    )


@pytest.fixture
def registry() -> Registry:
    return load_registry()


DATA = ".local/share/call-me-maybe"


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("files_read", {"path": f"{DATA}/settings.json"}),
        ("files_read", {"path": f"{DATA}/undo/{'0' * 32}/diary.txt"}),
        ("files_list", {"path": DATA}),
        ("files_list", {"path": f"{DATA}/undo"}),
        ("files_find", {"folder": DATA, "pattern": "*"}),
        ("files_write", {"path": f"{DATA}/settings.json", "text": "{}", "overwrite": True}),
        ("files_write", {"path": f"{DATA}/new.txt", "text": "x"}),
        ("files_copy", {"source": f"{DATA}/settings.json", "destination": "copy.json"}),
        ("files_copy", {"source": "notes.txt", "destination": f"{DATA}/notes.txt"}),
        ("files_move", {"source": f"{DATA}/settings.json", "destination": "moved.json"}),
        ("files_move", {"source": "notes.txt", "destination": DATA}),
        ("files_move", {"source": ".local", "destination": "elsewhere"}),
        ("files_delete", {"path": f"{DATA}/settings.json"}),
        ("files_delete", {"path": ".local/share"}),
        ("calendar_import", {"path": f"{DATA}/settings.json"}),
    ],
)
def test_the_data_folder_is_refused_to_every_file_tool(
    registry: Registry, context: ToolContext, home: Path, tool: str, arguments: dict[str, str]
) -> None:
    with pytest.raises(PathRefusedError, match="assistant's own data folder"):
        registry.run(tool, arguments, context, approved=True)
    data = home / DATA
    assert (data / "settings.json").read_text() == POLICIES
    assert (data / "undo" / ("0" * 32) / "diary.txt").exists()
    assert not (home / "copy.json").exists() and not (home / "moved.json").exists()


def test_a_link_to_the_data_folder_is_refused_too(
    registry: Registry, context: ToolContext, home: Path
) -> None:
    (home / "shortcut").symlink_to(home / DATA)
    with pytest.raises(PathRefusedError, match="assistant's own data folder"):
        registry.run("files_read", {"path": "shortcut/settings.json"}, context)


def test_listings_and_searches_leave_the_data_folder_out(
    registry: Registry, context: ToolContext, home: Path
) -> None:
    listed = registry.run("files_list", {"path": ".local/share", "include_hidden": True}, context)
    assert listed.data["entries"] == []
    found = registry.run("files_find", {"pattern": "*", "include_hidden": True}, context)
    paths = [m["path"] for m in found.data["matches"]]
    assert str(home / "notes.txt") in paths
    assert not [p for p in paths if "call-me-maybe" in p], paths


def test_a_write_waiting_for_approval_carries_the_text_it_will_write(
    registry: Registry, context: ToolContext
) -> None:
    text = "line one\nrm -rf ~  # the line a summary would hide\n"
    action = Actions(registry, context).propose("files_write", {"path": "run.sh", "text": text})
    assert action.preview["text"] == text
    assert json.loads(json.dumps(action.preview))["text"] == text  # stored as it is shown


def test_other_files_in_the_home_folder_still_work(
    registry: Registry, context: ToolContext, home: Path
) -> None:
    assert registry.run("files_read", {"path": "notes.txt"}, context).data["text"] == (
        "shopping list"
    )
    registry.run("files_write", {"path": "todo.txt", "text": "call mum"}, context, approved=True)
    assert (home / "todo.txt").read_text() == "call mum"
