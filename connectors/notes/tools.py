"""The notes tools: argument models (what the model sees) and the functions behind them.

Every change returns as its undo a call to a hidden tool: ``notes_restore_version`` with the
version saved just before the change (which puts the note back exactly, even out of or into the
trash), or ``notes_purge`` for a note that did not exist before. Restoring a version saves the
state it replaces too, so an undo can itself be undone.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, ConfigDict, Field, model_validator
from sqlalchemy import delete
from sqlalchemy.orm import Session

from connectors.errors import NotFoundError
from connectors.notes import said_filters, said_passages, said_titles, service
from connectors.notes.models import Note, NoteVersion
from connectors.tool import Arguments, Effect, ToolContext, ToolResult, Undo, tool

MAX_READ_CHARS = 8000  # a 0.5B model's context is small; the rest stays in the note

Title = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(service.clean_title)]
Tag = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(service.normalize_tag)]
NoteName = Annotated[str, Field(min_length=1, max_length=200)]


TagFilter = Annotated[
    str, Field(max_length=40), AfterValidator(lambda t: service.normalize_tag(t) if t else "")
]


# ---------------------------------------------------------------------------------------------
# Argument models
# ---------------------------------------------------------------------------------------------


class CreateArgs(Arguments):
    title: Title
    """The note's title, as the user gave it."""
    body: str = ""
    """The note's text in Markdown; a list has one item per line ('- milk', then '- eggs')."""
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    """Tags, only those the user gave."""


class NoteArgs(Arguments):
    note: NoteName
    """The note's title or id, exactly as the user named it."""


class AppendArgs(NoteArgs):
    text: str = Field(min_length=1)
    """Text to add at the end of the note, e.g. '- bread'."""


class EditArgs(NoteArgs):
    # The note and one change at least (see the calendar's UpdateArgs).
    model_config = ConfigDict(json_schema_extra={"minProperties": 2})

    find: str = ""
    """A passage of the note to replace, copied exactly, e.g. 'call Bob'."""
    replace: str = ""
    """The text that replaces the passage, e.g. 'call Alice'. Empty deletes it."""
    body: str = ""
    """The whole new text of the note. Only to rewrite all of it; else use find."""
    tags: list[Tag] | None = Field(default=None, max_length=20)
    """New tags replacing the old ones, e.g. ['work']."""

    @model_validator(mode="after")
    def _one_kind_of_edit(self) -> EditArgs:
        if self.body and self.find:
            raise ValueError("give either body (the whole new text) or find and replace, not both")
        if "replace" in self.model_fields_set and not self.find:
            raise ValueError("replace needs find: the passage of the note to replace")
        if not self.body and not self.find and self.tags is None:
            raise ValueError("nothing to change: give find and replace, body, or tags")
        return self


class RenameArgs(NoteArgs):
    new_title: Title
    """The new title the user gave."""


class ListArgs(Arguments):
    tag: TagFilter = ""
    """Only notes with this tag, e.g. 'work'. Empty for all notes."""
    in_trash: bool = False
    """True to list the notes in the trash."""
    limit: int = Field(20, ge=1, le=100)
    """How many notes at most."""


class SearchArgs(Arguments):
    query: str = Field(min_length=1, max_length=500)
    """Words to look for, e.g. 'dentist appointment'."""
    tag: TagFilter = ""
    """Only notes with this tag, e.g. 'work'. Empty for all notes."""
    limit: int = Field(10, ge=1, le=50)
    """How many results at most."""


class NoArgs(Arguments):
    pass


_SHA256 = r"^[0-9a-f]{64}$"


class RestoreVersionArgs(Arguments):
    note_id: int = Field(ge=1)
    """The note's id."""
    version_id: int = Field(ge=1)
    """The saved version to put back."""
    expect: str | None = Field(default=None, pattern=_SHA256)
    """The note's fingerprint as the undone action left it; refused if it changed since."""


class PurgeArgs(Arguments):
    note_id: int = Field(ge=1)
    """The id of the note to erase for good."""
    expect: str | None = Field(default=None, pattern=_SHA256)
    """The note's fingerprint as its creation left it; refused if it changed since."""


# ---------------------------------------------------------------------------------------------
# Result helpers
# ---------------------------------------------------------------------------------------------


def _local(moment: datetime, context: ToolContext) -> str:
    zone = context.timezone
    local = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return local.isoformat(timespec="minutes")


def _brief(note: Note, context: ToolContext) -> dict[str, Any]:
    return {
        "id": note.id,
        "title": note.title,
        "tags": note.tag_list(),
        "updated": _local(note.updated, context),
    }


Change = Callable[[Session, Note, datetime], tuple[dict[str, Any], str]]


def _change(
    context: ToolContext, name: str, change: Change, *, in_trash: bool = False
) -> ToolResult:
    """Find the note, save its version, apply ``change``; all in one transaction."""
    now = context.current_time()
    with context.store().transaction() as session:
        note = service.find_note(session, name, in_trash=in_trash)
        version = service.save_version(session, note, now)
        extra, summary = change(session, note, now)
        service.sync_tags(note)
        session.flush()
        data = {**_brief(note, context), **extra}
        undo = Undo(
            "notes_restore_version",
            {"note_id": note.id, "version_id": version.id, "expect": service.fingerprint(note)},
        )
    return ToolResult(data=data, undo=undo, summary=summary)


# ---------------------------------------------------------------------------------------------
# Tools the model is offered
# ---------------------------------------------------------------------------------------------


MAX_CHOICES = 200  # above this many notes, a note's name is left free while decoding


def _choices(in_trash: bool) -> Callable[[ToolContext], dict[str, list[str]]]:
    """The titles a ``note`` argument can take now, so a small model names an existing note.

    Measured on the bundled model: asked to "Append 'router in the hall' to my Wifi note" it
    wrote the text as the note's name, and asked to "Rename my Inbox note to Later" it swapped
    the two titles; each call failed ("no note titled ...") and the turn ended without a change.
    """

    def choices(context: ToolContext) -> dict[str, list[str]]:
        with context.store().reading() as session:
            found = service.titles(session, in_trash=in_trash, limit=MAX_CHOICES)
        return {"note": found} if found else {}

    return choices


_LIVE_TITLES = _choices(in_trash=False)


@tool("notes_create", effect=Effect.CHANGES, in_store=True, arguments=CreateArgs)
def create(context: ToolContext, args: CreateArgs) -> ToolResult:
    """Create a new note with a title, Markdown text and tags."""
    now = context.current_time()
    with context.store().transaction() as session:
        service.ensure_title_free(session, args.title)
        note = Note(
            title=args.title,
            title_key=service.title_key(args.title),
            body=args.body,
            tags="",
            created=now,
            updated=now,
        )
        service.set_tags(note, args.tags)
        service.sync_tags(note)
        session.add(note)
        session.flush()
        data = _brief(note, context)
        made = service.fingerprint(note)
    return ToolResult(
        data=data,
        undo=Undo("notes_purge", {"note_id": data["id"], "expect": made}),
        summary=f"Created note {data['title']!r}",
    )


@tool("notes_read", effect=Effect.READS, arguments=NoteArgs, choices=_LIVE_TITLES)
def read(context: ToolContext, args: NoteArgs) -> ToolResult:
    """Show a note's full text and tags."""
    with context.store().reading() as session:
        note = service.find_note(session, args.note)
        data = _brief(note, context)
        data["created"] = _local(note.created, context)
        data["body"] = note.body[:MAX_READ_CHARS]
        if len(note.body) > MAX_READ_CHARS:
            data["truncated"] = f"showing {MAX_READ_CHARS} of {len(note.body)} characters"
    return ToolResult(data=data, summary=f"Note {data['title']!r}")


@tool(
    "notes_append", effect=Effect.CHANGES, in_store=True, arguments=AppendArgs, choices=_LIVE_TITLES
)
def append(context: ToolContext, args: AppendArgs) -> ToolResult:
    """Add text at the end of a note."""

    def change(_session: Session, note: Note, now: datetime) -> tuple[dict[str, Any], str]:
        old = note.body
        note.body = service.appended(old, args.text)
        note.updated = now
        return {"diff": service.diff_preview(old, note.body)}, f"Added to note {note.title!r}"

    return _change(context, args.note, change)


def _said_passages(context: ToolContext, text: str) -> dict[str, list[str]]:
    """The notes' passages the request quotes, which an edit may replace
    (:mod:`connectors.notes.said_passages`); nothing when it quotes none."""
    with context.store().reading() as session:
        texts = service.bodies(session, limit=MAX_CHOICES)
    found = said_passages.passages(text, texts or {})
    return {"find": found} if found else {}


@tool(
    "notes_edit",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=EditArgs,
    choices=_LIVE_TITLES,
    said=_said_passages,
)
def edit(context: ToolContext, args: EditArgs) -> ToolResult:
    """Change a note: replace a passage (find and replace), rewrite its text, or set its tags."""

    def change(session: Session, note: Note, now: datetime) -> tuple[dict[str, Any], str]:
        old = note.body
        done = []
        if args.find:
            note.body, count = service.replaced(old, args.find, args.replace, note.title)
            done.append(f"replaced {count} passage{'s' if count > 1 else ''}")
        elif args.body:
            note.body = args.body
            done.append("rewrote the text")
        if args.tags is not None:
            service.set_tags(note, args.tags)
            done.append("set tags to " + (", ".join(note.tag_list()) or "none"))
        note.updated = now
        extra = {"diff": service.diff_preview(old, note.body)} if note.body != old else {}
        return extra, f"Edited note {note.title!r}: {'; '.join(done)}"

    return _change(context, args.note, change)


def _said_new_title(context: ToolContext, text: str) -> dict[str, list[str]]:
    """The request's stretches a new title may be (:mod:`connectors.notes.said_titles`)."""
    return {"new_title": said_titles.new_titles(text, _LIVE_TITLES(context).get("note", []))}


@tool(
    "notes_rename",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=RenameArgs,
    choices=_LIVE_TITLES,
    said=_said_new_title,
)
def rename(context: ToolContext, args: RenameArgs) -> ToolResult:
    """Give a note a new title."""

    def change(session: Session, note: Note, now: datetime) -> tuple[dict[str, Any], str]:
        service.ensure_title_free(session, args.new_title, other_than=note.id)
        old = note.title
        note.title = args.new_title
        note.title_key = service.title_key(args.new_title)
        note.updated = now
        return {"old_title": old}, f"Renamed note {old!r} to {note.title!r}"

    return _change(context, args.note, change)


@tool(
    "notes_delete", effect=Effect.CHANGES, in_store=True, arguments=NoteArgs, choices=_LIVE_TITLES
)
def delete_note(context: ToolContext, args: NoteArgs) -> ToolResult:
    """Move a note to the trash (it can be restored)."""

    def change(_session: Session, note: Note, now: datetime) -> tuple[dict[str, Any], str]:
        note.trashed = now
        return {"in_trash": True}, f"Moved note {note.title!r} to the trash"

    return _change(context, args.note, change)


@tool(
    "notes_restore",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=NoteArgs,
    choices=_choices(in_trash=True),
)
def restore(context: ToolContext, args: NoteArgs) -> ToolResult:
    """Take a note out of the trash."""

    def change(_session: Session, note: Note, _now: datetime) -> tuple[dict[str, Any], str]:
        note.trashed = None
        return {"in_trash": False}, f"Restored note {note.title!r} from the trash"

    return _change(context, args.note, change, in_trash=True)


def _said_filters(context: ToolContext, text: str) -> dict[str, list[str | bool]]:
    """The user's tags the request names and whether it says the trash
    (:mod:`connectors.notes.said_filters`)."""
    with context.store().reading() as session:
        known = [tag for tag, _count in service.tag_counts(session)]
    found: dict[str, list[str | bool]] = {}
    named = said_filters.tags(text, known)
    if len(named) == 1:  # a listing takes one tag; two named say no one filter
        found["tag"] = named
    if said_filters.says_trash(text):
        found["in_trash"] = [True]
    return found


@tool("notes_list", effect=Effect.READS, arguments=ListArgs, said=_said_filters)
def list_notes(context: ToolContext, args: ListArgs) -> ToolResult:
    """List notes, newest first, optionally only those with a tag or those in the trash."""
    tag = args.tag or None
    with context.store().reading() as session:
        notes, total = service.list_notes(
            session, tag=tag, in_trash=args.in_trash, limit=args.limit
        )
        listed = [_brief(note, context) for note in notes]
    where = " in the trash" if args.in_trash else ""
    tagged = f" tagged {tag!r}" if tag else ""
    return ToolResult(
        data={"notes": listed, "total": total},
        summary=f"{total} note{'' if total == 1 else 's'}{tagged}{where}",
    )


@tool("notes_tags", effect=Effect.READS, arguments=NoArgs)
def tags(context: ToolContext, _args: NoArgs) -> ToolResult:
    """List all tags used on notes, with how many notes have each."""
    with context.store().reading() as session:
        counts = service.tag_counts(session)
    return ToolResult(
        data={"tags": [{"tag": tag, "notes": count} for tag, count in counts]},
        summary=f"{len(counts)} tag{'' if len(counts) == 1 else 's'}",
    )


@tool("notes_search", effect=Effect.READS, arguments=SearchArgs)
def search(context: ToolContext, args: SearchArgs) -> ToolResult:
    """Search the text, titles and tags of notes; best matches first, with a snippet each."""
    tag = args.tag or None
    with context.store().reading() as session:
        found = service.search(session, args.query, tag=tag, limit=args.limit)
    results = [
        {
            "id": hit.id,
            "title": hit.title,
            "tags": hit.tags.split(),
            "updated": _local(hit.updated, context),
            "snippet": hit.snippet,
        }
        for hit in found.hits
    ]
    data: dict[str, Any] = {"results": results, "matched": found.matched}
    if found.broad:
        data["note"] = (
            f"over {service.RANK_BUDGET} notes match: the newest with the words in their title "
            "come first, then the newest others; add words to narrow the search"
        )
    count = len(results)
    return ToolResult(
        data=data, summary=f"{count} note{'' if count == 1 else 's'} found for {args.query!r}"
    )


# ---------------------------------------------------------------------------------------------
# Hidden tools, for undo only
# ---------------------------------------------------------------------------------------------


@tool(
    "notes_restore_version",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=RestoreVersionArgs,
    offered=False,
)
def restore_version(context: ToolContext, args: RestoreVersionArgs) -> ToolResult:
    """Put a note back exactly as a saved version had it (undoes a change to a note)."""
    now = context.current_time()
    with context.store().transaction() as session:
        note = session.get(Note, args.note_id)
        version = session.get(NoteVersion, args.version_id)
        if note is None:
            raise NotFoundError(f"there is no note with id {args.note_id} any more")
        if version is None or version.note_id != note.id:
            raise NotFoundError(f"the note {note.title!r} has no saved version {args.version_id}")
        service.ensure_unchanged(note, args.expect, "it")
        current = service.save_version(session, note, now)
        service.restore_version(note, version)
        service.sync_tags(note)
        session.flush()
        data = _brief(note, context)
        data["in_trash"] = note.trashed is not None
        undo = Undo(
            "notes_restore_version",
            {"note_id": note.id, "version_id": current.id, "expect": service.fingerprint(note)},
        )
    return ToolResult(data=data, undo=undo, summary=f"Put note {data['title']!r} back as it was")


@tool("notes_purge", effect=Effect.CHANGES, in_store=True, arguments=PurgeArgs, offered=False)
def purge(context: ToolContext, args: PurgeArgs) -> ToolResult:
    """Erase a note and its versions for good (undoes creating it); cannot be undone."""
    with context.store().transaction() as session:
        note = session.get(Note, args.note_id)
        if note is None:
            raise NotFoundError(f"there is no note with id {args.note_id}")
        service.ensure_unchanged(note, args.expect, "its creation")
        title = note.title
        session.execute(delete(Note).where(Note.id == args.note_id))
    return ToolResult(data={"id": args.note_id, "title": title}, summary=f"Erased note {title!r}")


TOOLS = (
    create,
    read,
    append,
    edit,
    rename,
    delete_note,
    restore,
    list_notes,
    tags,
    search,
    restore_version,
    purge,
)
