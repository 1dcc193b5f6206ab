"""What the notes tools do to the store, apart from argument parsing and result wording.

A note is named the way a user says it: by its title, in any case, or by a prefix or part of it
when only one note fits, or by its id. Every change first saves the note's whole previous state
as a :class:`~connectors.notes.models.NoteVersion`, so one restore puts back exactly what was
there (title, body, tags, times, trash state), whatever the change was.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, select, text
from sqlalchemy.orm import Session

from connectors.errors import ConnectorError, NotFoundError
from connectors.notes.models import Note, NoteTag, NoteVersion
from connectors.store.base import UTCDateTime

MAX_CANDIDATES = 8  # candidates listed in an "ambiguous" error
MAX_QUERY_TERMS = 16
_ID = re.compile(r"#?(\d{1,18})")
_LIKE_SPECIAL = re.compile(r"([\\%_])")
_KEY_END = "\U0010ffff"  # sorts after every character: [key, key + this) is "starts with key"


class AmbiguousNoteError(ConnectorError):
    """A name fits more than one note; the message lists them so the user can pick."""


def title_key(title: str) -> str:
    """What titles are compared by: case-folded, runs of spaces made one."""
    return " ".join(title.casefold().split())


def clean_title(title: str) -> str:
    """A title on one line, without doubled spaces."""
    return " ".join(title.split())


def normalize_tag(tag: str) -> str:
    """``"#Work Ideas"`` → ``"work-ideas"``: tags are single lowercase words, no ``#``.

    Raises:
        ValueError: nothing of the tag is left (``"#"``, ``"  "``).
    """
    cleaned = "-".join(tag.strip().lstrip("#").casefold().split())
    if not re.search(r"\w", cleaned):
        raise ValueError(f"{tag!r} is not a usable tag: use a word such as 'work'")
    return cleaned


def unique_tags(tags: Iterable[str]) -> list[str]:
    """Tags without repeats, in the order given."""
    return list(dict.fromkeys(tags))


# ---------------------------------------------------------------------------------------------
# Finding a note by what the user called it
# ---------------------------------------------------------------------------------------------


def find_note(session: Session, name: str, *, in_trash: bool = False) -> Note:
    """The one note ``name`` designates, among notes in the trash or out of it.

    Tried in order: the exact title (any case), an id (``12`` or ``#12``), then titles that
    start with ``name``, then titles that contain it. The first step with exactly one note wins.

    Raises:
        AmbiguousNoteError: a step found several notes (the message lists them).
        NotFoundError: no note fits; says so if the note is on the other side of the trash.
    """
    key = title_key(name)
    if not key:
        raise NotFoundError("no note was named: give its title or id")
    place = Note.trashed.is_not(None) if in_trash else Note.trashed.is_(None)

    exact = _candidates(session, and_(place, Note.title_key == key))
    if exact:
        return _one(exact, name)
    id_match = _ID.fullmatch(key)
    if id_match:
        note = session.get(Note, int(id_match.group(1)))
        if note is not None and (note.trashed is not None) == in_trash:
            return note
    starts = _candidates(
        session, and_(place, Note.title_key >= key, Note.title_key < key + _KEY_END)
    )
    if starts:
        return _one(starts, name)
    pattern = "%" + _LIKE_SPECIAL.sub(r"\\\1", key) + "%"
    contains = _candidates(session, and_(place, Note.title_key.like(pattern, escape="\\")))
    if contains:
        return _one(contains, name)

    elsewhere = Note.trashed.is_(None) if in_trash else Note.trashed.is_not(None)
    other = _candidates(session, and_(elsewhere, Note.title_key == key))
    if not other and id_match:
        note = session.get(Note, int(id_match.group(1)))
        other = [note] if note is not None else []
    if other:
        if in_trash:
            raise NotFoundError(f"the note {other[0].title!r} is not in the trash")
        raise NotFoundError(
            f"the note {other[0].title!r} is in the trash: restore it with notes_restore first"
        )
    where = "in the trash" if in_trash else "in your notes"
    raise NotFoundError(
        f"no note titled {name!r} {where}: check the title with notes_search or notes_list"
    )


def _candidates(session: Session, condition: object) -> list[Note]:
    query = select(Note).where(condition).order_by(Note.updated.desc()).limit(MAX_CANDIDATES + 1)
    return list(session.scalars(query))


def _one(notes: Sequence[Note], name: str) -> Note:
    if len(notes) == 1:
        return notes[0]
    listed = ", ".join(f"{n.title!r} (id {n.id})" for n in notes[:MAX_CANDIDATES])
    more = " and more" if len(notes) > MAX_CANDIDATES else ""
    raise AmbiguousNoteError(
        f"{name!r} fits several notes: {listed}{more}. Say the full title or the id."
    )


def ensure_title_free(session: Session, title: str, *, other_than: int | None = None) -> None:
    """Refuse a title another note (out of the trash) already has, so names stay unambiguous.

    Raises:
        ConnectorError: the title is taken; the message names the note that has it.
    """
    query = select(Note).where(Note.trashed.is_(None), Note.title_key == title_key(title))
    for note in session.scalars(query.limit(2)):
        if note.id != other_than:
            raise ConnectorError(
                f"a note titled {note.title!r} already exists (id {note.id}): append to it, "
                "or choose another title"
            )


# ---------------------------------------------------------------------------------------------
# Versions
# ---------------------------------------------------------------------------------------------


def save_version(session: Session, note: Note, now: datetime) -> NoteVersion:
    """Save ``note`` as it is now (before a change); the version has its id on return."""
    version = NoteVersion(
        note_id=note.id,
        saved=now,
        title=note.title,
        body=note.body,
        tags=note.tags,
        updated=note.updated,
        trashed=note.trashed,
    )
    session.add(version)
    session.flush()
    return version


def restore_version(session: Session, note: Note, version: NoteVersion) -> None:
    """Put ``note`` back exactly as ``version`` saved it."""
    note.title = version.title
    note.title_key = title_key(version.title)
    note.body = version.body
    set_tags(session, note, version.tags.split())
    note.updated = version.updated
    note.trashed = version.trashed


def set_tags(session: Session, note: Note, tags: Sequence[str]) -> None:
    """Give ``note`` exactly ``tags`` (normalised, no repeats), in the column and the rows."""
    wanted = unique_tags(tags)
    note.tags = " ".join(wanted)
    have = {row.tag: row for row in note.tag_rows}
    for tag, row in have.items():
        if tag not in wanted:
            note.tag_rows.remove(row)
    for tag in wanted:
        if tag not in have:
            note.tag_rows.append(NoteTag(tag=tag))


# ---------------------------------------------------------------------------------------------
# Editing text
# ---------------------------------------------------------------------------------------------


def appended(body: str, addition: str) -> str:
    """``body`` with ``addition`` on a new line (no blank line added, none lost)."""
    if not body:
        return addition
    return body + addition if body.endswith("\n") else body + "\n" + addition


def replaced(body: str, find: str, replace: str, note_title: str) -> tuple[str, int]:
    """``body`` with every occurrence of ``find`` replaced, and how many there were.

    The exact passage is looked for first; failing that, the same words in any case with any
    spacing between them (a model quoting a passage often changes a line break or a capital).

    Raises:
        NotFoundError: the passage is not in the note.
    """
    count = body.count(find)
    if count:
        return body.replace(find, replace), count
    words = find.split()
    if words:
        loose = re.compile(r"\s+".join(re.escape(w) for w in words), re.IGNORECASE)
        new_body, count = loose.subn(lambda _match: replace, body)
        if count:
            return new_body, count
    raise NotFoundError(
        f"the note {note_title!r} does not contain {find!r}: read it with notes_read and "
        "quote the passage exactly"
    )


def diff_preview(old: str, new: str, max_lines: int = 16) -> str:
    """The changed lines as a short unified diff (``-`` removed, ``+`` added)."""
    lines = [
        line
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=1)
        if not line.startswith(("---", "+++"))
    ]
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"… ({len(lines) - max_lines} more diff lines)"]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Listing and search
# ---------------------------------------------------------------------------------------------


def list_notes(
    session: Session, *, tag: str | None, in_trash: bool, limit: int
) -> tuple[list[Note], int]:
    """Notes newest first (optionally one tag's), and how many there are in all."""
    place = Note.trashed.is_not(None) if in_trash else Note.trashed.is_(None)
    query = select(Note).where(place)
    counted = select(func.count()).select_from(Note).where(place)
    if tag is not None:
        tagged = Note.id.in_(select(NoteTag.note_id).where(NoteTag.tag == tag))
        query = query.where(tagged)
        counted = counted.where(tagged)
    order = Note.trashed.desc() if in_trash else Note.updated.desc()
    notes = list(session.scalars(query.order_by(order, Note.id.desc()).limit(limit)))
    return notes, int(session.scalar(counted) or 0)


def tag_counts(session: Session) -> list[tuple[str, int]]:
    """Every tag on a note out of the trash, with its number of notes, most used first."""
    query = (
        select(NoteTag.tag, func.count())
        .join(Note, Note.id == NoteTag.note_id)
        .where(Note.trashed.is_(None))
        .group_by(NoteTag.tag)
        .order_by(func.count().desc(), NoteTag.tag)
    )
    return [(tag, int(count)) for tag, count in session.execute(query)]


def fts_terms(query: str) -> list[str]:
    """The words of ``query`` each as a quoted FTS5 string, so no user text is FTS syntax.

    ``C++ "quoted`` or ``AND OR NOT`` are searched as words: inside double quotes FTS5 knows no
    operators, and a double quote is written twice. Pieces with no letter or digit are dropped
    (FTS5 would find nothing for them anyway).
    """
    pieces = [p for p in query.split() if re.search(r"\w", p)]
    return ['"' + p.replace('"', '""') + '"' for p in pieces[:MAX_QUERY_TERMS]]


@dataclass(frozen=True)
class Hit:
    id: int
    title: str
    tags: str
    updated: datetime
    snippet: str


_SEARCH = """
    SELECT notes.id, notes.title, notes.tags, notes.updated,
           snippet(notes_fts, -1, '**', '**', '…', 12)
    FROM notes_fts JOIN notes ON notes.id = notes_fts.rowid
    WHERE notes_fts MATCH :query {tag_filter}
    ORDER BY notes_fts.rank
    LIMIT :limit
"""
_TAG_FILTER = "AND notes_fts.rowid IN (SELECT note_id FROM note_tags WHERE tag = :tag)"


def search(session: Session, query: str, *, tag: str | None, limit: int) -> tuple[list[Hit], str]:
    """Notes out of the trash matching ``query``, best first, with a snippet each.

    Notes with every word come first; only if there are none, notes with any of the words
    (so a stray word the user added does not hide everything). Returns the hits and which of
    the two matched: ``"all words"``, ``"some words"`` or ``"none"``.
    """
    terms = fts_terms(query)
    if not terms:
        return [], "none"
    statement = text(_SEARCH.format(tag_filter=_TAG_FILTER if tag is not None else "")).columns(
        updated=UTCDateTime
    )
    params: dict[str, object] = {"limit": limit}
    if tag is not None:
        params["tag"] = tag
    attempts = [(" ".join(terms), "all words")]
    if len(terms) > 1:
        attempts.append((" OR ".join(terms), "some words"))
    for fts_query, matched in attempts:
        rows = session.execute(statement, {**params, "query": fts_query}).all()
        if rows:
            return [_hit(row) for row in rows], matched
    return [], "none"


def _hit(row: Sequence[object]) -> Hit:
    note_id, title, tags, updated, snippet = row
    assert isinstance(note_id, int) and isinstance(updated, datetime)
    return Hit(note_id, str(title), str(tags), updated, str(snippet))
