"""A writer that a test (or ``bench/soak.py``) kills at random, and the check made afterwards.

The writer does what a user does through the approval path: it proposes a change, approves it
(:class:`app.actions.Actions`, as the CLI and the GUI do), and undoes the last one now and then:
notes created and appended to, events created, files written and moved under a granted folder.
Before each approval it writes its intent to a journal, and once the approval returns ``done``
it writes that too; each line is flushed and fsynced before the next step, so after a SIGKILL the
journal holds every action the user was told was done, and at most one step in flight.

:func:`verify` then opens the store afresh and checks the promises:

* the database passes ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``;
* every action journaled as done is in the store as done (or undone, if its undo was journaled),
  and its effect is there: the note, the appended line, the event;
* every file is at exactly one place (its last confirmed place, or either end of a move that
  was in flight), counting the granted folder and the trash together;
* nothing changed that was not approved: no audit entry, note, event or file comes from an
  action the writer never approved (the soak's model proposes changes too; they stay pending);
* no action is stuck: none is left "approved", and after the start-up's reconciliation
  (:meth:`app.actions.Actions.reconcile`, what the next process does first) none is left
  "running" or "undoing" either: each ended done, failed (with its sentence) or undone.

Files are named by a token that is also their whole content, so a file is recognised wherever
it ends up.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import random
import sys
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from app.actions import Action, Actions
from app.records import IN_FLIGHT, ActionRecord, ActionState, AuditEntry
from connectors.calendar.models import CalendarEvent
from connectors.errors import ConnectorError
from connectors.notes.models import Note
from connectors.registry import Registry
from connectors.store.database import Store, open_store
from connectors.tool import ToolContext

FOLDERS = ("inbox", "work", "archive")
SEED_FILES = 6
ZONE = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class World:
    """Where one writer's data lives: the store, the granted folder, the trash, the journal."""

    home: Path
    key: bytes

    @property
    def granted(self) -> Path:
        return self.home / "granted"

    @property
    def trash(self) -> Path:
        """The freedesktop home trash (``XDG_DATA_HOME`` must be ``home/xdg``)."""
        return self.home / "xdg" / "Trash" / "files"

    @property
    def journal(self) -> Path:
        return self.home / "journal.jsonl"

    def open(self) -> Store:
        return open_store(self.home / "store", key=self.key)

    def context(self, store: Store) -> ToolContext:
        return ToolContext(
            open_store=lambda: store,
            granted_folders=(self.granted,),
            timezone=ZONE,
            data_dir=self.home / "data",
        )


def _trash_follows_the_environment() -> None:
    """Make send2trash use this world's ``XDG_DATA_HOME``.

    send2trash reads ``XDG_DATA_HOME`` once, when it is first imported. In a pytest run where
    an earlier test imported it, the forked writers kept that earlier home's trash (the real
    ``~/.local/share/Trash``), and a file trashed by an undo was "nowhere" in this world.
    Re-running the module's code in place updates the constants its functions read.
    """
    module = sys.modules.get("send2trash.plat_other")
    if module is not None:
        importlib.reload(module)


def make_world(home: Path, key: bytes) -> World:
    """A granted folder with a few files in subfolders and a fresh store; ``XDG_DATA_HOME``
    is pointed under ``home`` so that the trash is this world's own."""
    world = World(home, key)
    os.environ["XDG_DATA_HOME"] = str(home / "xdg")
    _trash_follows_the_environment()
    for folder in FOLDERS:
        (world.granted / folder).mkdir(parents=True, exist_ok=True)
    for i in range(SEED_FILES):
        token = f"seed-{i}"
        (world.granted / FOLDERS[i % len(FOLDERS)] / f"{token}.txt").write_text(token)
    world.open().close()
    return world


class Journal:
    """Append-only JSON lines, each fsynced before the writer goes on."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, **record: Any) -> None:
        os.write(self._fd, (json.dumps(record, default=str) + "\n").encode())
        os.fsync(self._fd)

    @staticmethod
    def read(path: Path) -> list[dict[str, Any]]:
        """The complete lines (a line cut by the kill is not a record)."""
        if not path.exists():
            return []
        records = []
        for line in path.read_bytes().split(b"\n"):
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
        return records


Op = Callable[[], None]


class Writer:
    """Makes changes through approvals, journaling each; see the module docstring.

    Args:
        extra: more operations with their weights (the soak adds assistant turns).
    """

    def __init__(
        self,
        world: World,
        registry: Registry,
        rng: random.Random,
        extra: dict[str, tuple[int, Op]] | None = None,
    ) -> None:
        self.world = world
        self.rng = rng
        self.store = world.open()
        self.context = world.context(self.store)
        self.actions = Actions(registry, self.context)
        self.actions.reconcile()  # as the app does at start-up
        self.journal = Journal(world.journal)
        self.ops: dict[str, tuple[int, Op]] = {
            "note": (3, self.create_note),
            "append": (4, self.append_note),
            "event": (2, self.create_event),
            "write": (2, self.write_file),
            "move": (4, self.move_file),
            "undo": (3, self.undo_last),
            **(extra or {}),
        }

    def step(self) -> str:
        """One operation, chosen at random by weight; returns its name."""
        names = list(self.ops)
        name = self.rng.choices(names, weights=[self.ops[n][0] for n in names])[0]
        try:
            self.ops[name][1]()
        except ConnectorError as exc:  # refused before it ran (a preview, an undo): said, kept
            self.journal.write(refused=name, error=str(exc))
        return name

    def run(self, steps: int | None = None) -> None:
        count = 0
        while steps is None or count < steps:
            self.step()
            count += 1

    # -- operations ------------------------------------------------------------------------------

    def approve(self, tool: str, arguments: dict[str, Any], **facts: Any) -> Action:
        """Propose, journal the intent, approve, journal the outcome the user is shown."""
        proposed = self.actions.propose(tool, arguments)
        self.journal.write(approving=proposed.id, tool=tool, args=arguments, **facts)
        done = self.actions.approve(proposed.id)
        if done.state is ActionState.DONE:
            self.journal.write(done=done.id, tool=tool)
        else:
            self.journal.write(failed=done.id, error=done.error)
        return done

    def create_note(self) -> None:
        token = uuid.uuid4().hex[:10]
        self.approve("notes_create", {"title": f"Note {token}", "body": f"body {token}"})

    def append_note(self) -> None:
        with self.store.reading() as session:
            titles = list(session.scalars(select(Note.title).where(Note.trashed.is_(None))))
        if not titles:
            return self.create_note()
        token = uuid.uuid4().hex[:10]
        title = self.rng.choice(titles)
        self.approve("notes_append", {"note": title, "text": f"line {token}"}, note=title)
        return None

    def create_event(self) -> None:
        token = uuid.uuid4().hex[:10]
        day = self.rng.randint(1, 28)
        self.approve(
            "calendar_create",
            {"title": f"Event {token}", "start": f"2027-02-{day:02d}T10:00"},
        )

    def write_file(self) -> None:
        token = f"w-{uuid.uuid4().hex[:10]}"
        relative = f"{self.rng.choice(FOLDERS)}/{token}.txt"
        self.approve(
            "files_write",
            {"path": relative, "text": token},
            token=token,
            at=str(self.world.granted / relative),
        )

    def move_file(self) -> None:
        files = sorted(p for p in self.world.granted.rglob("*.txt") if not p.name.startswith("."))
        if not files:
            return self.write_file()
        source = self.rng.choice(files)
        folder = self.rng.choice([f for f in FOLDERS if f != source.parent.name])
        target = self.world.granted / folder / source.name
        self.approve(
            "files_move",
            {"source": str(source.relative_to(self.world.granted)), "destination": folder},
            token=source.stem,
            at=str(target),
            was=str(source),
        )
        return None

    def undo_last(self) -> None:
        """Undo the latest undoable action, named explicitly so the journal knows which."""
        undoable = [a for a in self.actions.history(500) if a.undoable]
        if not undoable:
            return
        with self.store.reading() as session:
            updated = {
                r.id: r.updated
                for r in session.scalars(
                    select(ActionRecord).where(ActionRecord.id.in_([a.id for a in undoable]))
                )
            }
        target = max(undoable, key=lambda a: (updated[a.id], a.id))
        self.journal.write(undoing=target.id)
        try:
            self.actions.undo(target.id)
        except ConnectorError as exc:
            self.journal.write(undo_failed=target.id, error=str(exc))
            return
        self.journal.write(undone=target.id)


# -------------------------------------------------------------------------------------------------
# The check after a kill
# -------------------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What :func:`verify` found; ``problems`` says each broken promise in a sentence."""

    confirmed: int = 0
    lost: int = 0
    corrupt: int = 0
    unapproved: int = 0
    misplaced: int = 0
    stuck: int = 0
    settled: int = 0
    """Actions a killed process left in flight that the start-up settled (not a problem)."""
    problems: list[str] = field(default_factory=list)

    def add(self, kind: str, problem: str) -> None:
        """Count one broken promise of ``kind`` (lost, corrupt, unapproved, misplaced, stuck)."""
        setattr(self, kind, getattr(self, kind) + 1)
        self.problems.append(f"{kind}: {problem}")

    @property
    def ok(self) -> bool:
        return not (self.lost or self.corrupt or self.unapproved or self.misplaced or self.stuck)


@dataclass(frozen=True)
class _Row:
    id: int
    tool: str
    state: str


@dataclass
class _Replay:
    """The journal, read in order: what the user was told and what was in flight."""

    intents: dict[int, dict[str, Any]] = field(default_factory=dict)
    done: list[int] = field(default_factory=list)
    undone: set[int] = field(default_factory=set)
    undo_in_flight: set[int] = field(default_factory=set)
    undo_failed: set[int] = field(default_factory=set)
    # token -> places it may be now (None: nowhere, a write in flight)
    places: dict[str, set[str | None]] = field(default_factory=dict)


def _replay(records: list[dict[str, Any]], world: World) -> _Replay:
    replay = _Replay()
    trash = "trash"
    for i in range(SEED_FILES):
        replay.places[f"seed-{i}"] = {
            str(world.granted / FOLDERS[i % len(FOLDERS)] / f"seed-{i}.txt")
        }
    settled: dict[int, bool] = {}  # approving id -> whether its outcome was journaled
    for record in records:
        if "approving" in record:
            action_id = record["approving"]
            replay.intents[action_id] = record
            settled[action_id] = False
            token = record.get("token")
            if token is not None:  # a file operation in flight: either end
                before = replay.places.get(token, {None})
                replay.places[token] = before | {record["at"]}
        elif "done" in record:
            action_id = record["done"]
            settled[action_id] = True
            replay.done.append(action_id)
            intent = replay.intents[action_id]
            if intent.get("token") is not None:
                replay.places[intent["token"]] = {intent["at"]}
        elif "failed" in record:
            settled[record["failed"]] = True
            intent = replay.intents[record["failed"]]
            if intent.get("token") is not None:
                replay.places[intent["token"]] = {intent.get("was")}
        elif "undoing" in record:
            action_id = record["undoing"]
            replay.undo_in_flight.add(action_id)
            intent = replay.intents.get(action_id)
            if intent and intent.get("token") is not None:
                back = intent.get("was") or trash
                replay.places[intent["token"]] = replay.places[intent["token"]] | {back}
        elif "undone" in record:
            action_id = record["undone"]
            replay.undo_in_flight.discard(action_id)
            replay.undone.add(action_id)
            intent = replay.intents.get(action_id)
            if intent and intent.get("token") is not None:
                replay.places[intent["token"]] = {intent.get("was") or trash}
        elif "undo_failed" in record:
            # Still open: an earlier try may have been killed after its inverse ran (the
            # record then says done while the change is reverted, and this try finds nothing
            # to revert).
            replay.undo_failed.add(record["undo_failed"])
    # A write whose outcome never came may have been refused (never existed) or made.
    for action_id, was_settled in settled.items():
        intent = replay.intents[action_id]
        if not was_settled and intent.get("token") is not None and intent.get("was") is None:
            replay.places[intent["token"]].add(None)
    return replay


def _files(world: World) -> dict[str, list[str]]:
    """token -> where a file with that content lies (granted folder or trash)."""
    found: dict[str, list[str]] = defaultdict(list)
    for root, label in ((world.granted, None), (world.trash, "trash")):
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if not path.is_file() or path.name.endswith(".partial"):
                continue
            token = path.read_text(errors="replace")
            found[token].append(label or str(path))
    return found


@functools.cache
def _registry() -> Registry:
    from connectors.registry import load_registry

    return load_registry()


def _integrity(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        check = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
        keys = list(connection.exec_driver_sql("PRAGMA foreign_key_check"))
    problems = [] if check == ["ok"] else [f"integrity_check: {check[:3]}"]
    if keys:
        problems.append(f"foreign_key_check: {keys[:3]}")
    return problems


def verify(world: World) -> Verdict:
    """Check every promise against the store and the files as they are now."""
    verdict = Verdict()
    replay = _replay(Journal.read(world.journal), world)
    verdict.confirmed = len(replay.done)
    try:
        store = world.open()
    except ConnectorError as exc:
        verdict.add("corrupt", f"the store does not open: {exc}")
        return verdict
    try:
        for problem in _integrity(store):
            verdict.add("corrupt", problem)
        with store.reading() as session:  # "approved" is never left now: no start-up settles it
            for record in session.scalars(
                select(ActionRecord).where(ActionRecord.state == ActionState.APPROVED.value)
            ):
                verdict.add("stuck", f"#{record.id} {record.tool} was left approved")
        verdict.settled = len(Actions(_registry(), world.context(store)).reconcile())
        with store.reading() as session:
            for record in session.scalars(
                select(ActionRecord).where(ActionRecord.state.in_([s.value for s in IN_FLIGHT]))
            ):
                verdict.add("stuck", f"#{record.id} {record.tool} is {record.state} after start-up")
            records = {
                r.id: _Row(r.id, r.tool, r.state) for r in session.scalars(select(ActionRecord))
            }
            runs = [
                _Row(e.action_id or 0, e.tool, e.event)
                for e in session.scalars(select(AuditEntry).where(AuditEntry.event == "run"))
            ]
            notes = {
                n.title: None if n.trashed is not None else n.body
                for n in session.scalars(select(Note))
            }
            events = set(session.scalars(select(CalendarEvent.title)))
    finally:
        store.close()

    def lost(message: str) -> None:
        verdict.add("lost", message)

    for action_id in replay.done:
        intent = replay.intents[action_id]
        record = records.get(action_id)
        if record is None:
            lost(f"#{action_id} was done but is not in the store")
            continue
        allowed = {ActionState.DONE.value}
        if action_id in replay.undone:
            allowed = {ActionState.UNDONE.value}
        elif action_id in replay.undo_in_flight:
            allowed = {ActionState.DONE.value, ActionState.UNDONE.value}
        if record.state not in allowed:
            lost(f"#{action_id} {intent['tool']} is {record.state}, expected {sorted(allowed)}")
        if action_id in replay.undo_in_flight or record.state != ActionState.DONE.value:
            present: bool | None = None if action_id in replay.undo_in_flight else False
        else:
            present = True
        if present is None:
            continue
        args = intent["args"]
        if intent["tool"] == "notes_create":
            there = notes.get(args["title"]) is not None
            if there != present:
                lost(f"#{action_id}: note {args['title']!r} present={there}, expected {present}")
        elif intent["tool"] == "notes_append":
            body = notes.get(intent["note"]) or ""
            there = args["text"] in body.splitlines()
            if there != present:
                lost(f"#{action_id}: line {args['text']!r} present={there}, expected {present}")
        elif intent["tool"] == "calendar_create":
            there = args["title"] in events
            if there != present:
                lost(f"#{action_id}: event {args['title']!r} present={there}, expected {present}")

    files = _files(world)
    for token, allowed_places in replay.places.items():
        where = files.get(token, [])
        if len(where) > 1:
            verdict.add("misplaced", f"{token} is at {len(where)} places: {where}")
        elif not where and None not in allowed_places:
            verdict.add("misplaced", f"{token} is nowhere, expected at {allowed_places}")
        elif where and where[0] not in allowed_places:
            verdict.add("misplaced", f"{token} is at {where[0]}, expected at {allowed_places}")

    approved = set(replay.intents)
    for entry in runs:
        if entry.id not in approved:
            verdict.add("unapproved", f"audit: {entry.tool} #{entry.id} ran unapproved")
    for record in records.values():
        if record.id not in approved and record.state not in (
            ActionState.PENDING.value,
            ActionState.REJECTED.value,
            ActionState.EXPIRED.value,
            ActionState.EDITED.value,
        ):
            verdict.add("unapproved", f"#{record.id} {record.tool} is {record.state} unapproved")
    made = {r["args"].get("title") for r in replay.intents.values()}
    for title in notes:
        if title not in made:
            verdict.add("unapproved", f"note {title!r} was never approved")
    for title in events:
        if title not in made:
            verdict.add("unapproved", f"event {title!r} was never approved")
    for token in files:
        if token not in replay.places:
            verdict.add("unapproved", f"file {token!r} was never approved")
    return verdict


def confirmed_ops(records: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The journal's records of things the user was told were done."""
    for record in records:
        if "done" in record or "undone" in record or "turn_done" in record:
            yield record
