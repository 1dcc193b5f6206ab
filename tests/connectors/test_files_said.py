"""Paths as the user's things: an existing file is one of the granted folders' entries, and a
new file is called what the request calls it (a 0.5B model otherwise writes paths of its own:
"agenda.ics" for "exporte mon agenda dans sauvegarde.ics", a folder for the file to move)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.assistant import Assistant, AssistantOptions
from connectors.files import tools as file_tools
from connectors.granted import file_names
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Exporte tout mon agenda dans sauvegarde.ics", ["sauvegarde.ics"]),
        ("Lies mir Q2-Plan.md vor", ["Q2-Plan.md"]),
        ("Move ~/Docs/invoice.v2.pdf to archive/", ["~/Docs/invoice.v2.pdf"]),
        ("Escreve isso em notas/todo.md.", ["notas/todo.md"]),
        ("version 1.5 of the plan, e.g. the draft", []),
    ],
)
def test_the_file_names_a_request_gives_are_found_in_any_language(
    text: str, names: list[str]
) -> None:
    assert file_names(text) == names


def _granted(context: ToolContext) -> Path:
    return Path(context.granted_folders[0])


def test_an_existing_file_is_one_of_the_granted_folders_entries(tool_context: ToolContext) -> None:
    root = _granted(tool_context)
    (root / "archive").mkdir()
    (root / "invoice-march.pdf").write_text("x")
    (root / "archive" / "old.txt").write_text("x")
    (root / ".hidden").write_text("x")
    delete = load_registry().get("files_delete")
    assert delete.choices is not None
    assert sorted(delete.choices(tool_context)["path"]) == [
        "archive",
        "archive/old.txt",
        "invoice-march.pdf",
    ]
    # A read takes a file: offered the folders too, the model read "archive".
    read = load_registry().get("files_read")
    assert read.choices is not None
    assert sorted(read.choices(tool_context)["path"]) == ["archive/old.txt", "invoice-march.pdf"]
    # So does a copy: offered the folder a request named as where to copy to, the model
    # copied "archive" ("Copia o plano do Q2 para a pasta archive"), which a copy refuses.
    copy = load_registry().get("files_copy")
    assert copy.choices is not None
    assert sorted(copy.choices(tool_context)["source"]) == ["archive/old.txt", "invoice-march.pdf"]


def test_a_folder_too_big_to_list_leaves_the_path_free(
    tool_context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _granted(tool_context)
    for n in range(5):
        (root / f"f{n}.txt").write_text("x")
    monkeypatch.setattr(file_tools, "CHOICE_LIMIT", 3)
    delete = load_registry().get("files_delete")
    assert delete.choices is not None and delete.choices(tool_context) == {}


def test_an_export_is_named_as_the_user_said_and_without_a_name_the_user_is_asked(
    tool_context: ToolContext,
) -> None:
    export = json.dumps({"name": "calendar_export", "arguments": {"path": "sauvegarde.ics"}})
    backend = ScriptedBackend(
        [export, "Quel nom donner au fichier ?"], routes=["calendar_export", "calendar_export"]
    )
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    list(assistant.turn(None, "Exporte tout mon agenda dans sauvegarde.ics"))
    (spec,) = [t for t in backend.options[0].constrain_to if t.name == "calendar_export"]
    assert spec.parameters["properties"]["path"]["enum"] == ["sauvegarde.ics"]
    events = list(assistant.turn(None, "Exporte tout mon agenda"))
    assert events[-1].text == "Quel nom donner au fichier ?"
    assert not (_granted(tool_context) / "agenda.ics").exists()
