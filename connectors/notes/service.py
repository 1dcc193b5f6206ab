"""What the notes tools do to the store, apart from argument parsing and result wording.

A note is named the way a user says it: by its title, in any case, or by a prefix or part of it
when only one note fits, or by its id. Every change first saves the note's whole previous state
as a :class:`~connectors.notes.models.NoteVersion`, so one restore puts back exactly what was
there (title, body, tags, times, trash state), whatever the change was.
"""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, bindparam, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from connectors.errors import ConnectorError, NotFoundError
from connectors.notes.models import Note, NoteTag, NoteVersion
from connectors.store.base import UTCDateTime

MAX_CANDIDATES = 8  # candidates listed in an "ambiguous" error
MAX_QUERY_TERMS = 16
_ID = re.compile(r"#?(\d{1,18})")
_LIKE_SPECIAL = re.compile(r"([\\%_])")
_KEY_END = "\U0010ffff"  # sorts after every character: [key, key + this) is "starts with key"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def in_trash_condition(trashed: bool) -> ColumnElement[bool]:
    """Notes in the trash, or out of it, as a condition an index on ``trashed`` can serve.

    ``trashed IS NOT NULL`` would be true: but without table statistics SQLite guesses it
    matches most notes and reads them all (0.7 s on 100,000); a range it reads from the index.
    """
    return Note.trashed >= _EPOCH if trashed else Note.trashed.is_(None)


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
    place = in_trash_condition(in_trash)

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

    elsewhere = in_trash_condition(not in_trash)
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


def titles(session: Session, *, in_trash: bool = False, limit: int) -> list[str] | None:
    """Every title on one side of the trash, or ``None`` when there are more than ``limit``."""
    query = (
        select(Note.title)
        .where(in_trash_condition(in_trash))
        .order_by(Note.title_key)
        .limit(limit + 1)
    )
    found = list(session.scalars(query))
    return None if len(found) > limit else found


def bodies(session: Session, *, limit: int) -> dict[str, str] | None:
    """The texts of the notes outside the trash by title, or ``None`` when there are more
    than ``limit`` notes."""
    query = select(Note.title, Note.body).where(in_trash_condition(False)).limit(limit + 1)
    found = {title: body for title, body in session.execute(query)}
    return None if len(found) > limit else found


def _candidates(session: Session, condition: ColumnElement[bool]) -> list[Note]:
    # Ids first, from the (trashed, title_key) index alone and in its order; then the notes.
    ids = select(Note.id).where(condition).order_by(Note.title_key).limit(MAX_CANDIDATES + 1)
    query = select(Note).where(Note.id.in_(ids.scalar_subquery())).order_by(Note.title_key)
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
    query = select(Note).where(in_trash_condition(False), Note.title_key == title_key(title))
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


def fingerprint(note: Note) -> str:
    """A hash of all a user sees of ``note`` (title, text, tags, in the trash or not).

    An undo records the fingerprint its action left, and refuses when the note no longer has
    it: putting back an older state, or erasing a created note, would destroy a later change.
    """
    state = "\x00".join([note.title, note.body, note.tags, str(note.trashed is not None)])
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


def ensure_unchanged(note: Note, expect: str | None, undoing: str) -> None:
    """Refuse an undo when the note was changed after the action it undoes.

    Raises:
        ConnectorError: the note's fingerprint is not ``expect``; nothing was changed.
    """
    if expect is not None and fingerprint(note) != expect:
        raise ConnectorError(
            f"the note {note.title!r} was changed after this action, so undoing {undoing} "
            "would destroy that later change; nothing was done. Undo the later change first, "
            "or edit the note yourself"
        )


def restore_version(note: Note, version: NoteVersion) -> None:
    """Put ``note`` back exactly as ``version`` saved it (call :func:`sync_tags` after)."""
    note.title = version.title
    note.title_key = title_key(version.title)
    note.body = version.body
    note.tags = version.tags
    note.updated = version.updated
    note.trashed = version.trashed


def set_tags(note: Note, tags: Sequence[str]) -> None:
    """Give ``note`` exactly ``tags`` (already normalised), without repeats."""
    note.tags = " ".join(unique_tags(tags))


def sync_tags(note: Note) -> None:
    """Make the note's ``note_tags`` rows match its tags, trash state and change time.

    Called after every change, so listing by tag needs no join with the trash state.
    """
    wanted = note.tag_list() if note.trashed is None else []
    have = {row.tag: row for row in note.tag_rows}
    for tag, row in have.items():
        if tag not in wanted:
            note.tag_rows.remove(row)
        else:
            row.updated = note.updated
    for tag in wanted:
        if tag not in have:
            note.tag_rows.append(NoteTag(tag=tag, updated=note.updated))


# ---------------------------------------------------------------------------------------------
# Editing text
# ---------------------------------------------------------------------------------------------


def appended(body: str, addition: str) -> str:
    """``body`` with ``addition`` on a new line (no blank line added, none lost)."""
    if not body:
        return addition
    return body + addition if body.endswith("\n") else body + "\n" + addition


def loose_words(passage: str) -> str:
    """A regular expression of the words of ``passage`` with any spacing between them: how
    an edit finds a passage a model quoted with another line break (see :func:`replaced`)."""
    return r"\s+".join(re.escape(word) for word in passage.split())


def replaced(body: str, find: str, replace: str, note_title: str) -> tuple[str, int]:
    """``body`` with every occurrence of ``find`` replaced, and how many there were.

    The exact passage is looked for first; failing that, the same words in any case with any
    spacing between them (a model quoting a passage often changes a line break or a capital).
    Replaced by nothing, a passage that is a whole line (a list item, with or without its
    marker) takes its line away.

    Raises:
        NotFoundError: the passage is not in the note.
    """
    passage = loose_words(find)
    if not replace and passage:
        # Removing a whole line (a list item: "cross buy stamps off") takes the line away,
        # its marker and line break too, not only its words ("- " left behind).
        line = re.compile(
            rf"^[ \t]*(?:(?:[-*+]|\d+[.)])[ \t]+)?{passage}[ \t]*(?:\r?\n|\Z)",
            re.IGNORECASE | re.MULTILINE,
        )
        new_body, count = line.subn("", body)
        if count:
            return new_body.rstrip("\n") + ("\n" if body.endswith("\n") else ""), count
    count = body.count(find)
    if count:
        return body.replace(find, replace), count
    if passage:
        loose = re.compile(passage, re.IGNORECASE)
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
    """Notes newest first (optionally one tag's), and how many there are in all.

    Each query reads one index range (``notes(trashed, updated)`` or ``note_tags(tag,
    updated)``), so neither the page nor the count reads every note.
    """
    if tag is not None:
        if in_trash:  # trashed notes' tags have no rows; the trash is small, so read it all
            query = select(Note).where(in_trash_condition(True)).order_by(Note.trashed.desc())
            notes = [note for note in session.scalars(query) if tag in note.tag_list()]
            return notes[:limit], len(notes)
        query = (
            select(Note)
            .join(NoteTag, NoteTag.note_id == Note.id)
            .where(NoteTag.tag == tag)
            .order_by(NoteTag.updated.desc(), NoteTag.note_id.desc())
        )
        counted = select(func.count()).select_from(NoteTag).where(NoteTag.tag == tag)
    elif in_trash:
        query = select(Note).where(in_trash_condition(True)).order_by(Note.trashed.desc())
        counted = select(func.count()).select_from(Note).where(in_trash_condition(True))
    else:
        query = select(Note).where(in_trash_condition(False)).order_by(Note.updated.desc())
        counted = select(func.count()).select_from(Note).where(in_trash_condition(False))
    notes = list(session.scalars(query.limit(limit)))
    return notes, int(session.scalar(counted) or 0)


def tag_counts(session: Session) -> list[tuple[str, int]]:
    """Every tag on a note out of the trash, with its number of notes, most used first."""
    query = (
        select(NoteTag.tag, func.count())
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
    """One search result."""

    id: int
    title: str
    tags: str
    updated: datetime
    snippet: str


@dataclass(frozen=True)
class Found:
    """Search results and how they were found.

    Attributes:
        hits: best first.
        matched: ``"all words"``, ``"some words"`` (no note had them all) or ``"none"``.
        broad: more than :data:`RANK_BUDGET` notes matched: the newest notes with the words in
            their title or tags come first, then the newest others.
    """

    hits: list[Hit]
    matched: str
    broad: bool = False


RANK_BUDGET = 2000
"""The most matches ranked by relevance. Ranking costs about a microsecond per match, so a word
in every one of 100,000 notes would take 100+ ms to rank; past this many, notes with the words
in their title or tags still come first (a title hit outranks a body hit), each group newest
first, which FTS5 reads straight off its index."""

_WEIGHTS = "10.0, 1.0, 4.0"  # bm25 weights of title, body, tags: a title hit outranks a body hit
_WEIGHTS_IN_TAG = "10.0, 1.0, 0.0"
_TAGGED = "AND EXISTS (SELECT 1 FROM note_tags WHERE tag = :tag AND note_id = notes_fts.rowid)"


def search(session: Session, query: str, *, tag: str | None, limit: int) -> Found:
    """Notes out of the trash matching ``query`` (optionally only those tagged ``tag``).

    Notes with every word come first; only if there are none, notes with any of the words
    (so a stray word the user added does not hide everything).
    """
    terms = fts_terms(query)
    attempts = [(" ".join(terms), "all words")] if terms else []
    if len(terms) > 1:
        attempts.append((" OR ".join(terms), "some words"))
    for fts_query, matched in attempts:
        ids, broad = _best(session, fts_query, tag, limit)
        if ids:
            return Found(_hits(session, fts_query, ids), matched, broad)
    return Found([], "none")


def _best(session: Session, fts_query: str, tag: str | None, limit: int) -> tuple[list[int], bool]:
    finder = _Search(session, tag)
    if finder.count(fts_query) <= RANK_BUDGET:
        return finder.ranked(fts_query, limit), False
    ids = finder.newest("{title tags} : (" + fts_query + ")", limit)
    if len(ids) < limit:
        seen = set(ids)
        ids += [i for i in finder.newest(fts_query, limit + len(ids)) if i not in seen]
    return ids[:limit], True


class _Search:
    """The three queries a search is made of, on one session, optionally within one tag."""

    def __init__(self, session: Session, tag: str | None) -> None:
        self.session = session
        self.params: dict[str, object] = {} if tag is None else {"tag": tag}
        self.tagged = "" if tag is None else _TAGGED
        # The tags column of the index narrows the matches inside FTS5 first (fast, but "work"
        # there also fits "work-ideas"); the note_tags test then keeps only the exact tag.
        self.tag_terms = "" if tag is None else ' AND ({tags} : "' + tag.replace('"', '""') + '")'

    def _params(self, fts_query: str, limit: int) -> dict[str, object]:
        if self.tag_terms:
            fts_query = f"({fts_query}){self.tag_terms}"
        return {**self.params, "query": fts_query, "limit": limit}

    def _ids(self, sql: str, params: dict[str, object]) -> list[int]:
        return [row[0] for row in self.session.execute(text(sql), params)]

    def count(self, fts_query: str) -> int:
        """Matches, counted up to one more than the budget (counting is cheap, ranking is not)."""
        sql = (
            "SELECT count(*) FROM (SELECT rowid FROM notes_fts WHERE notes_fts MATCH :query "
            f"{self.tagged} LIMIT :limit)"
        )
        params = self._params(fts_query, RANK_BUDGET + 1)
        return int(self.session.execute(text(sql), params).scalar_one())

    def ranked(self, fts_query: str, limit: int) -> list[int]:
        # Within a tag, the tags column weighs nothing: every note there has the narrowing tag
        # term, which must not move it up or down.
        weights = _WEIGHTS if not self.tag_terms else _WEIGHTS_IN_TAG
        sql = (
            f"SELECT rowid FROM notes_fts WHERE notes_fts MATCH :query {self.tagged} "
            f"ORDER BY bm25(notes_fts, {weights}) LIMIT :limit"
        )
        return self._ids(sql, self._params(fts_query, limit))

    def newest(self, fts_query: str, limit: int) -> list[int]:
        sql = (
            f"SELECT rowid FROM notes_fts WHERE notes_fts MATCH :query {self.tagged} "
            "ORDER BY rowid DESC LIMIT :limit"
        )
        return self._ids(sql, self._params(fts_query, limit))


SNIPPET_SCAN_LIMIT = 100_000
"""A body longer than this (in characters) gets its snippet cut around its first match here:
FTS5's snippet() weighs every match, which takes minutes on a note of a few megabytes."""


def _hits(session: Session, fts_query: str, ids: list[int]) -> list[Hit]:
    """Titles, tags, times and snippets of the notes ``ids``, in that order."""
    statement = (
        text(
            "SELECT notes.id, notes.title, notes.tags, notes.updated, "
            "CASE WHEN length(notes.body) > :scan THEN NULL "
            "ELSE snippet(notes_fts, -1, '**', '**', '…', 12) END, "
            "CASE WHEN length(notes.body) > :scan THEN notes.body END "
            "FROM notes_fts JOIN notes ON notes.id = notes_fts.rowid "
            "WHERE notes_fts MATCH :query AND notes_fts.rowid IN :ids"
        )
        .bindparams(bindparam("ids", expanding=True))
        .columns(updated=UTCDateTime)
    )
    params = {"query": fts_query, "ids": ids, "scan": SNIPPET_SCAN_LIMIT}
    rows = {row[0]: row for row in session.execute(statement, params)}
    return [
        Hit(note_id, row[1], row[2], row[3], row[4] if row[5] is None else _cut(row[5], fts_query))
        for note_id in ids
        if (row := rows.get(note_id)) is not None
    ]


def _cut(body: str, fts_query: str) -> str:
    """About a dozen words around the first word of ``fts_query`` found in ``body``, marked as
    snippet() marks it (a huge body only; see :data:`SNIPPET_SCAN_LIMIT`)."""
    words = [w.replace('""', '"') for w in re.findall(r'"((?:[^"]|"")*)"', fts_query)]
    found = re.search("|".join(re.escape(w) for w in words if w), body, re.IGNORECASE)
    if found is None:  # matched in the title or the tags, or through the tokenizer's folding
        return body[:80] + "…"
    start, end = max(0, found.start() - 40), min(len(body), found.end() + 40)
    return (
        ("…" if start else "")
        + body[start : found.start()]
        + f"**{found.group()}**"
        + body[found.end() : end]
        + ("…" if end < len(body) else "")
    )
