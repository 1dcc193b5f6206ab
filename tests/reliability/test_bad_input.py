"""Bad input everywhere: a clear error or a correct result, never a crash or half a record.

Property-based (hypothesis, bounded so the suite stays quick): arbitrary JSON for every tool's
arguments, including the hidden undo helpers; .ics files from Google, Apple and Outlook cut,
spliced and corrupted; binary files and invalid UTF-8 in file contents and file names; notes
with huge bodies. A failure is anything but a :class:`ConnectorError` (whose message is the
sentence the user sees), or a store left different after an error.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from connectors.errors import ConnectorError
from connectors.registry import Registry, load_registry
from connectors.store.database import Store, open_store
from connectors.tool import ToolContext, ToolResult

ICS = Path(__file__).resolve().parents[1] / "data" / "ics"
TABLES = ("notes", "note_versions", "calendar_events", "calendar_imports", "store_info")
HYPOTHESIS = settings(
    max_examples=int(os.environ.get("CMM_HYPOTHESIS_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Registry, ToolContext]]:
    base = tmp_path_factory.mktemp("bad-input")
    store = open_store(base / "store", key=secrets.token_bytes(32))
    granted = base / "granted"
    (granted / "sub").mkdir(parents=True)
    (granted / "report.txt").write_text("Q3 report\n")
    context = ToolContext(
        open_store=lambda: store,
        granted_folders=(granted,),
        timezone=ZoneInfo("Europe/Paris"),
        data_dir=base / "home",
    )
    registry = load_registry()
    registry.run("notes_create", {"title": "Wifi", "body": "hunter2"}, context, approved=True)
    registry.run(
        "calendar_create", {"title": "Standup", "start": "2027-01-04T09:00"}, context, approved=True
    )
    yield registry, context
    store.close()


def _counts(store: Store) -> dict[str, int]:
    with store.reading() as session:
        return {t: session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _healthy(store: Store) -> None:
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"


def _run(registry: Registry, context: ToolContext, name: str, arguments: Any) -> ToolResult | None:
    """Run a tool; a ConnectorError is a refusal (and must have changed nothing)."""
    store = context.store()
    before = _counts(store)
    try:
        return registry.run(name, arguments, context, approved=True)
    except ConnectorError as exc:
        assert str(exc).strip(), "a refusal says why"
        assert "Traceback" not in str(exc)
        assert _counts(store) == before, f"{name} failed half-way: {exc}"
        return None


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(["", " ", "..", "/", "~", "\x00", "\udcff", "Wifi", "today", "-1", "é" * 50]),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)


@st.composite
def tool_calls(draw: st.DrawFn, registry: Registry) -> tuple[str, Any]:
    """A tool (any, hidden helpers included) and arguments: its own keys with any values, some
    extra keys, or not an object at all."""
    item = draw(st.sampled_from(registry.tools(include_hidden=True)))
    keys = list(item.parameters().get("properties", {}))
    shape = draw(st.sampled_from(["own", "own", "own", "extra", "raw"]))
    if shape == "raw":
        return item.name, draw(JSON | st.text(max_size=30))
    chosen = draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []
    arguments = {key: draw(JSON) for key in chosen}
    if shape == "extra":
        arguments.update(draw(st.dictionaries(st.text(max_size=10), JSON, max_size=3)))
    return item.name, arguments


def test_any_arguments_to_any_tool_give_a_result_or_a_clear_error(
    world: tuple[Registry, ToolContext],
) -> None:
    registry, context = world

    @HYPOTHESIS
    @given(call=tool_calls(registry))
    def check(call: tuple[str, Any]) -> None:
        _run(registry, context, *call)

    check()
    _healthy(context.store())


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    lines = data.split(b"\n")
    cut = st.integers(0, len(data)).map(lambda n: data[:n])
    dropped = st.integers(0, len(lines) - 1).map(lambda i: b"\n".join(lines[:i] + lines[i + 1 :]))
    spliced = st.tuples(st.integers(0, len(lines)), st.binary(max_size=60)).map(
        lambda p: b"\n".join([*lines[: p[0]], p[1], *lines[p[0] :]])
    )
    flipped = st.tuples(st.integers(0, max(0, len(data) - 1)), st.integers(0, 255)).map(
        lambda p: data[: p[0]] + bytes([p[1]]) + data[p[0] + 1 :]
    )
    doubled = st.just(data.replace(b"END:VEVENT", b"BEGIN:VEVENT\r\nEND:VEVENT", 1))
    latin = st.just(data.decode("utf-8", "replace").encode("latin-1", "replace"))
    return st.one_of(cut, dropped, spliced, flipped, doubled, latin, st.just(data))


ICS_FILES = sorted(ICS.glob("*.ics"))


@pytest.mark.parametrize("source", ICS_FILES, ids=[p.stem for p in ICS_FILES])
def test_damaged_calendar_files_import_whole_or_not_at_all(
    world: tuple[Registry, ToolContext], source: Path
) -> None:
    registry, context = world
    granted = context.granted_folders[0]
    data = source.read_bytes()

    @settings(HYPOTHESIS, max_examples=max(20, HYPOTHESIS.max_examples // 3))
    @given(damaged=_mutations(data))
    def check(damaged: bytes) -> None:
        path = granted / "import.ics"
        path.write_bytes(damaged)
        result = _run(registry, context, "calendar_import", {"path": "import.ics"})
        if result is not None and result.undo is not None:  # imported whole: take it back
            registry.run(result.undo.tool, result.undo.arguments, context, approved=True)

    check()
    _healthy(context.store())


@HYPOTHESIS
@given(content=st.binary(max_size=3000))
def test_any_bytes_in_a_file_are_read_as_text_or_refused_as_binary(
    world: tuple[Registry, ToolContext], content: bytes
) -> None:
    registry, context = world
    (context.granted_folders[0] / "blob.bin").write_bytes(content)
    result = _run(registry, context, "files_read", {"path": "blob.bin"})
    if result is not None:
        assert isinstance(result.data["text"], str)
        result.data["text"].encode("utf-8")  # what is shown is valid text


def test_invalid_utf8_file_names_are_listed_found_and_refused_cleanly(
    world: tuple[Registry, ToolContext],
) -> None:
    registry, context = world
    folder = context.granted_folders[0] / "sub"
    raw = os.fsencode(folder) + b"/caf\xe9-\xff\xfe.txt"
    with open(raw, "wb") as handle:
        handle.write(b"latin-1 named file")
    listed = _run(registry, context, "files_list", {"path": "sub"})
    assert listed is not None
    names = [e["name"] for e in listed.data["entries"]]
    assert len(names) == 1
    found = _run(registry, context, "files_find", {"pattern": "caf"})
    assert found is not None and found.data["matches"]
    _run(registry, context, "files_read", {"path": f"sub/{names[0]}"})
    # The result goes into the conversation, which lives in the store: it must be storable.
    from app.conversations import Conversations

    conversations = Conversations(context.store, context.current_time)
    conversation = conversations.create("names")
    conversations.append(conversation, {"role": "tool", "content": str(listed.to_dict())})
    _healthy(context.store())


@pytest.mark.parametrize("size", [1_000_000, 5_000_000])
def test_notes_with_huge_bodies(world: tuple[Registry, ToolContext], size: int) -> None:
    registry, context = world
    body = ("lorem ipsum dolor sit amet, " * (size // 28 + 1))[:size]
    title = f"Huge {size}"
    created = _run(registry, context, "notes_create", {"title": title, "body": body})
    if created is None:
        return  # refused with a sentence, nothing stored
    read = _run(registry, context, "notes_read", {"note": title})
    assert read is not None and "truncated" in read.data
    appended = _run(registry, context, "notes_append", {"note": title, "text": "THE END"})
    assert appended is not None
    found = _run(registry, context, "notes_search", {"query": "lorem"})
    assert found is not None
    hit = next(r for r in found.data["results"] if r["title"] == title)
    assert "**lorem**" in hit["snippet"].casefold() and len(hit["snippet"]) < 200
    assert registry.run("notes_read", {"note": title}, context).data["title"] == title
    _healthy(context.store())


@HYPOTHESIS
@given(body=st.text(max_size=200), title=st.text(min_size=1, max_size=50))
def test_any_text_in_a_note_is_stored_exactly_or_refused(
    world: tuple[Registry, ToolContext], body: str, title: str
) -> None:
    """Lone surrogates (what invalid UTF-8 file names decode to), control characters, any
    script: a note holds exactly what was given (less the whitespace around it), or the call
    is refused with a sentence."""
    registry, context = world
    created = _run(registry, context, "notes_create", {"title": title, "body": body})
    if created is None:
        return
    stored = registry.run("notes_read", {"note": created.data["title"]}, context).data["body"]
    # Tool arguments are trimmed (the model often pads them); nothing else may change.
    start = body.find(stored)
    assert start >= 0, (body, stored)
    trimmed = body[:start] + body[start + len(stored) :]
    assert trimmed == "" or trimmed.isspace(), (body, stored)
    registry.run(created.undo.tool, created.undo.arguments, context, approved=True)  # type: ignore[union-attr]
