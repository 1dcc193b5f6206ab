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


# The structure of an event, generated: start and end with and without zones (known, unknown,
# defined by a VTIMEZONE in the file, or named by one that is missing), durations up to past the
# year 9999, and recurrence rules of every frequency with any filters, counts and ends, plus
# RDATE, EXDATE and moved occurrences. The vendor files above only ever vary by bytes.
_YEARS = st.sampled_from([1, 1900, 1970, 2026, 2027, 2100, 9998, 9999])
_ZONES = st.sampled_from(["Europe/Paris", "America/New_York", "Mars/Olympus", "Custom", "UTC"])
_CUSTOM_ZONE = (
    "BEGIN:VTIMEZONE\r\nTZID:Custom\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
    "TZOFFSETFROM:+0100\r\nTZOFFSETTO:+{offset}\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
)


@st.composite
def _moments(draw: st.DrawFn, name: str) -> str:
    """A DTSTART/DTEND/RDATE/... line: a date, a floating, UTC or zoned time."""
    year = draw(st.one_of(_YEARS, st.integers(1, 9999)))
    day = f"{year:04d}{draw(st.integers(1, 12)):02d}{draw(st.integers(1, 28)):02d}"
    time = f"T{draw(st.integers(0, 23)):02d}{draw(st.sampled_from([0, 30, 59])):02d}00"
    form = draw(st.sampled_from(["date", "floating", "utc", "zoned"]))
    if form == "date":
        return f"{name};VALUE=DATE:{day}"
    if form == "floating":
        return f"{name}:{day}{time}"
    if form == "utc":
        return f"{name}:{day}{time}Z"
    return f"{name};TZID={draw(_ZONES)}:{day}{time}"


@st.composite
def _durations(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "-", "+"]))
    amount = draw(st.one_of(st.integers(0, 100), st.integers(0, 10**12)))
    unit = draw(st.sampled_from(["W", "D", "TH", "TM", "TS", "DT1H"]))
    if unit == "DT1H":
        return f"DURATION:{sign}P{amount}DT1H"
    return f"DURATION:{sign}P{unit[:-1]}{amount}{unit[-1]}"


_BY = {
    "BYSECOND": st.integers(-1, 61),
    "BYMINUTE": st.integers(-1, 60),
    "BYHOUR": st.integers(-1, 25),
    "BYMONTHDAY": st.integers(-32, 32),
    "BYYEARDAY": st.integers(-367, 367),
    "BYWEEKNO": st.integers(-54, 54),
    "BYMONTH": st.integers(0, 13),
    "BYSETPOS": st.integers(-400, 400),
    "BYDAY": st.sampled_from(["MO", "TU", "SU", "1MO", "-1FR", "53SA", "XX", "0MO"]),
}


_FREQUENCIES = ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]
_FREQUENCIES.append("FORTNIGHTLY")  # not a frequency


@st.composite
def _rules(draw: st.DrawFn) -> str:
    parts = [f"FREQ={draw(st.sampled_from(_FREQUENCIES))}"]
    if draw(st.booleans()):
        parts.append(f"INTERVAL={draw(st.sampled_from([0, 1, 2, 7, 1000, 10**9, -1]))}")
    end = draw(st.sampled_from(["none", "count", "until"]))
    if end == "count":
        parts.append(f"COUNT={draw(st.sampled_from([0, 1, 3, 1000, 1001, 10**9]))}")
    elif end == "until":
        parts.append(draw(_moments("UNTIL")).replace(";VALUE=DATE", "").split(";TZID=")[0])
    for key in draw(st.lists(st.sampled_from(sorted(_BY)), unique=True, max_size=3)):
        values = draw(st.lists(_BY[key], min_size=1, max_size=3, unique=True))
        parts.append(f"{key}={','.join(map(str, values))}")
    if draw(st.booleans()):
        parts.append(f"WKST={draw(st.sampled_from(['MO', 'SU', 'XX']))}")
    return "RRULE:" + ";".join(parts)


@st.composite
def structured_calendars(draw: st.DrawFn) -> bytes:
    """One event (a series, possibly with a moved occurrence) built from generated parts."""
    lines = ["UID:fuzzed-1", "SUMMARY:Fuzzed", draw(_moments("DTSTART"))]
    end = draw(st.sampled_from(["none", "dtend", "duration", "both"]))
    if end in ("dtend", "both"):
        lines.append(draw(_moments("DTEND")))
    if end in ("duration", "both"):
        lines.append(draw(_durations()))
    lines += draw(st.lists(_rules(), max_size=2))
    lines += draw(st.lists(st.one_of(_moments("RDATE"), _moments("EXDATE")), max_size=3))
    events = ["BEGIN:VEVENT\r\n" + "\r\n".join(lines) + "\r\nEND:VEVENT\r\n"]
    if draw(st.booleans()):
        moved = ["UID:fuzzed-1", "SUMMARY:Moved", draw(_moments("RECURRENCE-ID"))]
        moved.append(draw(_moments("DTSTART")))
        if draw(st.booleans()):
            moved.append("RECURRENCE-ID;RANGE=THISANDFUTURE:20270105T100000Z")
        events.append("BEGIN:VEVENT\r\n" + "\r\n".join(moved) + "\r\nEND:VEVENT\r\n")
    zone = _CUSTOM_ZONE.format(offset=draw(st.sampled_from(["0200", "2500", "XX"])))
    head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//fuzz//EN\r\n"
    body = (zone if draw(st.booleans()) else "") + "".join(events)
    return (head + body + "END:VCALENDAR\r\n").encode()


STRUCTURE_SECONDS = 15.0
"""Longest one generated import may take (the expansion limit is lowered to 0.2 s below)."""


def test_generated_event_structures_import_whole_or_are_refused_as_damaged(
    world: tuple[Registry, ToolContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each generated calendar is imported whole (and undone) or refused with the sentence
    that says the file is damaged; never another exception, never a hang, never half of it."""
    import time

    from connectors.calendar import limits

    monkeypatch.setattr(limits, "EXPANSION_SECONDS", 0.2)
    registry, context = world
    granted = context.granted_folders[0]
    store = context.store()
    outcomes = {"imported": 0, "refused": 0}

    @settings(HYPOTHESIS, max_examples=max(40, HYPOTHESIS.max_examples // 2))
    @given(calendar=structured_calendars())
    def check(calendar: bytes) -> None:
        (granted / "structured.ics").write_bytes(calendar)
        before = _counts(store)
        started = time.monotonic()
        try:
            result = registry.run(
                "calendar_import", {"path": "structured.ics"}, context, approved=True
            )
        except ConnectorError as exc:
            assert "structured.ics is damaged" in str(exc), str(exc)
            assert "nothing was imported" in str(exc)
            assert _counts(store) == before, f"half an import: {exc}"
            outcomes["refused"] += 1
        else:
            assert result.data["added"] + result.data["replaced"] == 1
            assert result.undo is not None
            registry.run(result.undo.tool, result.undo.arguments, context, approved=True)
            assert _counts(store)["calendar_events"] == before["calendar_events"]
            outcomes["imported"] += 1
        took = time.monotonic() - started
        assert took < STRUCTURE_SECONDS, f"the import took {took:.1f} s"

    check()
    _healthy(store)
    assert outcomes["imported"] and outcomes["refused"], outcomes


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
    assert created is not None, "a body of a few megabytes is stored, not refused"
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
    try:
        created = registry.run(
            "notes_create", {"title": title, "body": body}, context, approved=True
        )
    except ConnectorError as exc:
        # The one refusal: a title of nothing but white space (arguments are trimmed).
        assert not title.strip(), f"{title!r} was refused: {exc}"
        assert "title" in str(exc)
    else:
        assert title.strip(), f"the blank title {title!r} was accepted"
        stored = registry.run("notes_read", {"note": created.data["title"]}, context).data["body"]
        # Tool arguments are trimmed (the model often pads them); nothing else may change.
        start = body.find(stored)
        assert start >= 0, (body, stored)
        trimmed = body[:start] + body[start + len(stored) :]
        assert trimmed == "" or trimmed.isspace(), (body, stored)
        registry.run(created.undo.tool, created.undo.arguments, context, approved=True)  # type: ignore[union-attr]
