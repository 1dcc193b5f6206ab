"""A note's name is decoded from the titles that exist, so the model cannot invent one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.argument_scope import scoped_tools, with_choices
from backends.base import GenerateOptions
from backends.errors import GenerationIncomplete
from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.schema import parse_tools
from connectors.notes import tools as note_tools
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext


@pytest.fixture
def registry(tool_context: ToolContext) -> Registry:
    found = load_registry()
    for title in ("Wifi", "Inbox", "Groceries"):
        found.run("notes_create", {"title": title, "body": "x"}, tool_context, approved=True)
    found.run("notes_delete", {"note": "Groceries"}, tool_context, approved=True)
    return found


def test_note_arguments_offer_the_titles_on_the_right_side_of_the_trash(
    registry: Registry, tool_context: ToolContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    append = registry.get("notes_append")
    assert append.choices is not None
    assert append.choices(tool_context) == {"note": ["Inbox", "Wifi"]}
    restore = registry.get("notes_restore")
    assert restore.choices is not None
    assert restore.choices(tool_context) == {"note": ["Groceries"]}
    assert registry.get("notes_create").choices is None  # a new title is free
    monkeypatch.setattr(note_tools, "MAX_CHOICES", 1)
    assert append.choices(tool_context) == {}  # too many notes to list: the name stays free


def test_the_schema_is_narrowed_to_the_titles_and_the_text_stays_free(
    registry: Registry, tool_context: ToolContext
) -> None:
    specs = {s.name: s for s in parse_tools(registry.definitions())}
    (narrowed,) = scoped_tools(
        "Append 'router in the hall' to my Wifi note",
        [specs["notes_append"]],
        {"notes_append": {"note": ["Inbox", "Wifi", "Wifi at work"]}},
    )
    note = narrowed.parameters["properties"]["note"]
    assert note["enum"] == ["Wifi"] and "maxLength" not in note  # the one the user named
    (unnamed,) = scoped_tools(
        "Append 'milk' to my list", [specs["notes_append"]], {"notes_append": {"note": ["A", "B"]}}
    )
    assert unnamed.parameters["properties"]["note"]["enum"] == ["A", "B"]
    assert (
        narrowed.parameters["properties"]["text"]
        == specs["notes_append"].parameters["properties"]["text"]
    )
    assert with_choices(specs["notes_append"], {}) is specs["notes_append"]


@pytest.fixture(scope="module")
def tiny(tiny_gguf_path: Path) -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1))
    backend.load(tiny_gguf_path)
    yield backend
    backend.close()


def test_random_weights_only_ever_name_an_existing_note(
    tiny: LlamaCppBackend, registry: Registry
) -> None:
    specs = {s.name: s for s in parse_tools(registry.definitions())}
    shown = [specs["notes_append"]]
    enforced = (with_choices(specs["notes_append"], {"note": ["Inbox", "Wifi"]}),)
    messages = [{"role": "user", "content": "Append 'router in the hall' to my Wifi note"}]
    names = set()
    for seed in range(6):
        options = GenerateOptions(
            max_tokens=300,
            temperature=1.5,
            seed=seed,
            allow_text=False,
            constrain_to=enforced,
        )
        try:
            completion = tiny.generate(messages, shown, options=options)
        except GenerationIncomplete:
            continue  # a random model may run out of budget inside the free text
        for call in completion.tool_calls:
            names.add(call.arguments["note"])
    assert names and names <= {"Inbox", "Wifi"}
