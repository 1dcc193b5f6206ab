"""The file tools: list, find, read, write, move, copy and delete under granted folders.

Every path argument goes through :func:`connectors.granted.resolve_granted` before anything
touches the disk, and every change returns the call that reverts it. Results name files by
their full real path, so the model can pass a path back unchanged whichever granted folder it
is in.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field

from connectors.atomic import FileExistsRefusedError, copy_file_atomic, write_bytes_atomic
from connectors.errors import ConnectorError, NotFoundError, PathRefusedError
from connectors.files.ops import (
    KEPT_ID,
    drop_kept,
    identity,
    keep_copy,
    kept_path,
    place,
    sha256_of,
)
from connectors.files.text import read_text
from connectors.files.trash import TRASH_ENTRY, move_to_trash, restore
from connectors.granted import (
    checked_opener,
    file_names,
    folder_guard,
    granted_roots,
    open_folder_checked,
    private_dir,
    resolve_granted,
)
from connectors.tool import Arguments, Effect, ToolContext, ToolResult, Undo, tool

LIST_LIMIT = 100
"""Entries one listing returns; a folder with more says how many were left out."""
FIND_LIMIT = 50
"""Matches one search returns."""
FIND_VISIT_LIMIT = 20_000
"""Entries a search looks at before it stops, so a search of a whole home folder stays quick."""
WRITE_LIMIT = 1_000_000
"""Characters one write may hold (a model never writes more; a runaway one might)."""

_GLOB_CHARS = frozenset("*?[")
_SHA256 = r"^[0-9a-f]{64}$"


CHOICE_LIMIT = 300
"""Entries of the granted folders offered as the values of a path to an existing file; with
more, the path stays free text (a partial list would refuse the files left out)."""
_CHOICE_DEPTH = 3
_CHOICE_VISITS = 3_000  # a deep tree with few entries near the top is not listed either


def _existing(
    *arguments: str, kinds: tuple[str, ...] = ("file", "folder")
) -> Callable[[ToolContext], dict[str, list[str]]]:
    """The paths ``arguments`` may name: the entries under the granted folders
    (relative to the first, as :func:`resolve_granted` reads them; full paths in the others).

    Measured on the bundled model: asked to "Lösche den Q2-Plan" or to read a file it was
    given by name, it wrote folder paths and names of its own ("/tmp/.../granted/archive" to
    move an invoice). Offered the user's files, the grammar lets it write only those, and the
    assistant narrows them to the ones the request names or shares letters with. ``kinds``:
    the entries a tool takes (a read takes files: offered the folders too, the model read
    "archive" for "el archivo de instalación de la impresora")."""

    def choices(context: ToolContext) -> dict[str, list[str]]:
        try:
            roots = granted_roots(context)
        except ConnectorError:
            return {}
        found: list[str] = []
        visited = 0
        for n, root in enumerate(roots):
            for path, kind in _walk(context, root, include_hidden=False):
                visited += 1
                if visited > _CHOICE_VISITS:
                    return {}
                if kind not in kinds or len(path.relative_to(root).parts) > _CHOICE_DEPTH:
                    continue
                found.append(str(path.relative_to(root)) if n == 0 else str(path))
                if len(found) > CHOICE_LIMIT:
                    return {}
        return {argument: found for argument in arguments} if found else {}

    return choices


def _named_files(*arguments: str) -> Callable[[ToolContext, str], dict[str, list[str]]]:
    """The file names the request gives (see :func:`connectors.granted.file_names`): what a
    new file may be called."""

    def said(context: ToolContext, text: str) -> dict[str, list[str]]:
        return {argument: file_names(text) for argument in arguments}

    return said


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


class ListArguments(Arguments):
    path: str = ""
    """Folder to list, as the user named it. Empty: the shared folder."""
    include_hidden: bool = False
    """Also list hidden entries (names starting with a dot)."""


@tool("files_list", effect=Effect.READS, arguments=ListArguments)
def files_list(context: ToolContext, args: ListArguments) -> ToolResult:
    """List the files and folders in a folder, with size and last change time."""
    roots = granted_roots(context)
    if not args.path and len(roots) > 1:
        entries = [{**_entry(context, r.parent, r.name), "name": str(r)} for r in roots]
        return ToolResult(
            data={"path": "", "entries": entries, "more": 0},
            summary=f"Listed the {len(roots)} shared folders",
        )
    folder = resolve_granted(context, args.path, kind="dir")
    private = private_dir(context)
    # Listed through a checked descriptor: a link swapped in after the check lists nothing.
    fd = open_folder_checked(context, folder) if os.scandir in os.supports_fd else None
    try:
        names = sorted(
            (
                e.name
                for e in os.scandir(folder if fd is None else fd)
                if (args.include_hidden or not _hidden(e.name)) and folder / e.name != private
            ),
            key=str.casefold,
        )
        entries = [_entry(context, folder, name, fd) for name in names[:LIST_LIMIT]]
    except OSError as exc:
        raise ConnectorError(f"could not list {folder} ({exc.strerror or exc})") from exc
    finally:
        if fd is not None:
            os.close(fd)
    more = max(0, len(names) - LIST_LIMIT)
    return ToolResult(
        data={"path": str(folder), "entries": entries, "more": more},
        summary=f"Listed {len(names)} entries in {folder.name or folder}",
    )


class FindArguments(Arguments):
    pattern: str = Field(min_length=1)
    """Part of a name ("invoice") or a glob ("*.pdf", "report-202?.txt"). Case is ignored."""
    folder: str = ""
    """Folder to search in, with its subfolders, as the user named it. Empty: all shared folders."""
    include_hidden: bool = False
    """Also search hidden files and folders (names starting with a dot)."""


@tool("files_find", effect=Effect.READS, arguments=FindArguments)
def files_find(context: ToolContext, args: FindArguments) -> ToolResult:
    """Find files and folders by name or glob pattern, in subfolders too."""
    if args.folder:
        starts = [resolve_granted(context, args.folder, kind="dir")]
    else:
        roots = granted_roots(context)
        # A shared folder inside another shared folder would be searched twice.
        starts = [r for r in roots if not any(r != o and r.is_relative_to(o) for o in roots)]
    pattern = args.pattern.casefold()
    is_glob = bool(_GLOB_CHARS & set(pattern))

    def matches(name: str, relative: str) -> bool:
        if not is_glob:
            return pattern in name.casefold()
        target = relative if "/" in pattern else name
        return fnmatch.fnmatchcase(target.casefold(), pattern)

    found: list[dict[str, Any]] = []
    complete = True
    visited = 0
    for start in starts:
        for path, kind in _walk(context, start, include_hidden=args.include_hidden):
            visited += 1
            if visited > FIND_VISIT_LIMIT:
                complete = False
                break
            if matches(path.name, path.relative_to(start).as_posix()):
                if len(found) == FIND_LIMIT:
                    complete = False
                    break
                found.append({"path": str(path), "kind": kind})
        if not complete:
            break
    where = args.folder or "the shared folders"
    count = f"{len(found)}" if complete else f"{len(found)}+"
    return ToolResult(
        data={"matches": found, "complete": complete},
        summary=f"Found {count} matches for {args.pattern!r} in {where}",
    )


class ReadArguments(Arguments):
    path: str = Field(min_length=1)
    """The text file to read, as the user named it."""
    max_chars: int = Field(default=4000, ge=100, le=50_000)
    """Read at most this many characters, e.g. 4000."""


# A path the grammar substituted among the user's files (the model wanted another) is not read
# at once: the assistant asks the model which file the request means, and holds the call
# for the user when it says none (app.policy.thing_choice).
@tool(
    "files_read",
    effect=Effect.READS,
    arguments=ReadArguments,
    choices=_existing("path", kinds=("file",)),
)
def files_read(context: ToolContext, args: ReadArguments) -> ToolResult:
    """Read a text file (its encoding is detected). Binary files are refused."""
    path = resolve_granted(context, args.path, kind="file")
    read = read_text(path, args.max_chars, opener=checked_opener(context))
    note = " (first part)" if read.truncated else ""
    return ToolResult(
        data={
            "path": str(path),
            "text": read.text,
            "truncated": read.truncated,
            "encoding": read.encoding,
        },
        summary=f"Read {path.name}{note}",
    )


# ---------------------------------------------------------------------------------------------
# Changing
# ---------------------------------------------------------------------------------------------


class WriteArguments(Arguments):
    # The text is written as given: a file's trailing newline or indentation is content.
    model_config = ConfigDict(str_strip_whitespace=False)

    path: str = Field(min_length=1)
    """The file to create, as the user named it. Its folder must exist."""
    text: str = Field(max_length=WRITE_LIMIT)
    """The whole content to write."""
    overwrite: bool = False
    """Replace the file if it exists. Only when the user asked to replace it."""


@tool("files_write", effect=Effect.CHANGES, arguments=WriteArguments, said=_named_files("path"))
def files_write(context: ToolContext, args: WriteArguments) -> ToolResult:
    """Write text to a new file (UTF-8). An existing file is kept unless overwrite is true."""
    path = resolve_granted(context, args.path, must_exist=False, kind="file")
    _check_folder(path)
    data = args.text.encode("utf-8")
    existed = os.path.lexists(path)
    if existed and not args.overwrite:
        raise FileExistsRefusedError(
            f"{path} already exists; nothing was written. Choose another name, "
            "or ask to overwrite it"
        )
    previous = keep_copy(context, path) if existed else None
    try:
        write_bytes_atomic(path, data, overwrite=args.overwrite, guard=folder_guard(context))
    except BaseException:
        if previous is not None:
            drop_kept(context, previous)
        raise
    undo_args: dict[str, Any] = {"path": str(path), "sha256": hashlib.sha256(data).hexdigest()}
    if previous is not None:
        undo_args["previous"] = previous
    verb = "Replaced" if existed else "Wrote"
    return ToolResult(
        data={"path": str(path), "bytes": len(data), "replaced": existed},
        undo=Undo("files_undo_write", undo_args),
        summary=f"{verb} {path.name} ({len(data)} bytes)",
    )


class MoveArguments(Arguments):
    source: str = Field(min_length=1)
    """The file or folder to move, as the user named it."""
    destination: str = Field(min_length=1)
    """Where to: a new path, or an existing folder to move it into, as the user named it."""


@tool("files_move", effect=Effect.CHANGES, arguments=MoveArguments, choices=_existing("source"))
def files_move(context: ToolContext, args: MoveArguments) -> ToolResult:
    """Move or rename a file or folder. Never replaces an existing file."""
    source = _existing_target(context, args.source)
    destination = _destination(context, args.destination, source)
    if destination.is_relative_to(source):
        raise PathRefusedError(f"{source} cannot be moved inside itself ({destination})")
    place(source, destination, guard=folder_guard(context))
    undo_args = {"path": str(destination), "back_to": str(source)}
    if (moved := identity(destination)) is not None:
        undo_args["identity"] = moved
    return ToolResult(
        data={"from": str(source), "to": str(destination)},
        undo=Undo("files_undo_move", undo_args),
        summary=f"Moved {source.name} to {destination}",
    )


class CopyArguments(Arguments):
    source: str = Field(min_length=1)
    """The file to copy, as the user named it."""
    destination: str = Field(min_length=1)
    """Path of the copy, or an existing folder to copy into, as the user named it."""


@tool(
    "files_copy",
    effect=Effect.CHANGES,
    arguments=CopyArguments,
    choices=_existing("source", kinds=("file",)),
)
def files_copy(context: ToolContext, args: CopyArguments) -> ToolResult:
    """Copy a file. Never replaces an existing file."""
    source = resolve_granted(context, args.source, kind="file")
    destination = _destination(context, args.destination, source)
    digest = copy_file_atomic(
        source, destination, opener=checked_opener(context), guard=folder_guard(context)
    )
    return ToolResult(
        data={"from": str(source), "to": str(destination)},
        undo=Undo("files_undo_write", {"path": str(destination), "sha256": digest}),
        summary=f"Copied {source.name} to {destination}",
    )


class DeleteArguments(Arguments):
    path: str = Field(min_length=1)
    """The file or folder to move to the trash, as the user named it."""


@tool("files_delete", effect=Effect.CHANGES, arguments=DeleteArguments, choices=_existing("path"))
def files_delete(context: ToolContext, args: DeleteArguments) -> ToolResult:
    """Move a file or folder to the system trash (it can be restored)."""
    path = _existing_target(context, args.path)
    undo_args = move_to_trash(context, path)
    return ToolResult(
        data={"path": str(path), "trashed": True},
        undo=Undo("files_restore", undo_args),
        summary=f"Moved {path.name} to the trash",
    )


# ---------------------------------------------------------------------------------------------
# Undo helpers (not offered to the model)
# ---------------------------------------------------------------------------------------------


class UndoWriteArguments(Arguments):
    path: str
    """The file the write or copy created."""
    sha256: str = Field(pattern=_SHA256)
    """Hash of the content written; the file is left alone if it changed since."""
    previous: str | None = Field(default=None, pattern=KEPT_ID.pattern)
    """Id of the copy kept of the file the write replaced, if any."""


@tool("files_undo_write", effect=Effect.CHANGES, arguments=UndoWriteArguments, offered=False)
def files_undo_write(context: ToolContext, args: UndoWriteArguments) -> ToolResult:
    """Undo a write or copy: trash the new file, or put back the one it replaced.

    Only if the file is unchanged since: an edit made after it would otherwise be lost.
    """
    path = resolve_granted(context, args.path, kind="file", allow_root=False)
    if sha256_of(path) != args.sha256:
        raise ConnectorError(
            f"{path} was changed after it was written, so it was left as it is; "
            "delete or edit it yourself if needed"
        )
    if args.previous is not None:
        kept = kept_path(context, args.previous)
        copy_file_atomic(kept, path, overwrite=True, guard=folder_guard(context))
        drop_kept(context, args.previous)
        return ToolResult(
            data={"path": str(path), "restored": True}, summary=f"Restored {path.name}"
        )
    move_to_trash(context, path)
    return ToolResult(data={"path": str(path), "trashed": True}, summary=f"Removed {path.name}")


class UndoMoveArguments(Arguments):
    path: str
    """Where the file or folder was moved to."""
    back_to: str
    """Where it was before."""
    identity: str | None = Field(default=None, pattern=r"^\d+:\d+(:\d+)?$")
    """What the move put at ``path`` (:func:`identity`): anything else there is left alone."""


@tool("files_undo_move", effect=Effect.CHANGES, arguments=UndoMoveArguments, offered=False)
def files_undo_move(context: ToolContext, args: UndoMoveArguments) -> ToolResult:
    """Undo a move: move the file or folder back where it was (only what the move put there)."""
    path = _existing_target(context, args.path)
    if args.identity is not None and identity(path) != args.identity:
        raise ConnectorError(
            f"{path} is no longer what the move put there (it was replaced or changed since), "
            "so it was left where it is; move it back yourself if that is what you want"
        )
    back_to = resolve_granted(context, args.back_to, must_exist=False, allow_root=False)
    _check_folder(back_to)
    place(path, back_to, guard=folder_guard(context))
    return ToolResult(
        data={"from": str(path), "to": str(back_to)},
        summary=f"Moved {path.name} back to {back_to.parent}",
    )


class RestoreArguments(Arguments):
    path: str
    """Where the trashed file or folder was."""
    kept: str | None = Field(default=None, pattern=KEPT_ID.pattern)
    """Id of the copy kept before trashing (systems whose trash cannot be searched)."""
    entry: str | None = Field(default=None, pattern=TRASH_ENTRY.pattern)
    """The trash's record of the item this delete trashed (not a later one from the same
    place)."""


@tool("files_restore", effect=Effect.CHANGES, arguments=RestoreArguments, offered=False)
def files_restore(context: ToolContext, args: RestoreArguments) -> ToolResult:
    """Undo a delete: put the file or folder back from the trash."""
    path = resolve_granted(context, args.path, must_exist=False, allow_root=False)
    restore(context, path, args.kept, args.entry)
    return ToolResult(data={"path": str(path), "restored": True}, summary=f"Restored {path.name}")


TOOLS = (
    files_list,
    files_find,
    files_read,
    files_write,
    files_move,
    files_copy,
    files_delete,
    files_undo_write,
    files_undo_move,
    files_restore,
)


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _hidden(name: str) -> bool:
    return name.startswith(".")


def _walk(context: ToolContext, start: Path, *, include_hidden: bool) -> Iterator[tuple[Path, str]]:
    """Every entry under ``start``, a folder's entries before its subfolders', by name.

    Links are reported as links and never followed: one may lead outside the granted folders
    or back up into a loop. Each folder is listed through a descriptor checked once open
    (:func:`open_folder_checked`), so a folder swapped for a link after it was seen lists
    nothing instead of what the link leads to. The app's own data folder is left out.
    """
    private = private_dir(context)
    by_fd = os.scandir in os.supports_fd
    pending = [start]
    while pending:
        folder = pending.pop()
        try:
            fd = open_folder_checked(context, folder) if by_fd else None
        except ConnectorError:  # gone, or now a link: skip it, as for an unreadable folder
            continue
        try:
            with os.scandir(folder if fd is None else fd) as listing:
                entries = sorted(listing, key=lambda e: e.name.casefold())
        except OSError:  # unreadable folder: skip it, as a file manager's search does
            continue
        finally:
            if fd is not None:
                os.close(fd)
        subfolders: list[Path] = []
        for entry in entries:
            path = folder / entry.name
            if (not include_hidden and _hidden(entry.name)) or path == private:
                continue
            if entry.is_symlink():
                kind = "link"
            elif entry.is_dir(follow_symlinks=False):
                kind = "folder"
                subfolders.append(path)
            elif entry.is_file(follow_symlinks=False):
                kind = "file"
            else:
                kind = "other"
            yield path, kind
        pending.extend(reversed(subfolders))


def _entry(
    context: ToolContext, folder: Path, name: str, dir_fd: int | None = None
) -> dict[str, Any]:
    """One listing row; a link is reported as a link, never followed (it may lead outside)."""
    try:
        if dir_fd is None:
            info = (folder / name).lstat()
        else:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return {"name": name, "kind": "other"}
    if stat.S_ISLNK(info.st_mode):
        kind = "link"
    elif stat.S_ISDIR(info.st_mode):
        kind = "folder"
    elif stat.S_ISREG(info.st_mode):
        kind = "file"
    else:
        kind = "other"
    row: dict[str, Any] = {"name": name, "kind": kind}
    if kind == "file":
        row["size"] = info.st_size
    modified = datetime.fromtimestamp(info.st_mtime, tz=context.timezone)
    if context.timezone is None:
        modified = modified.astimezone()
    row["modified"] = modified.isoformat(timespec="minutes")
    return row


def _existing_target(context: ToolContext, text: str) -> Path:
    """A file or folder to move or delete: not a granted folder, and not a link.

    A link is resolved to what it points at, so acting on "the link" would move or trash the
    file behind it, which is not what the user named; the user is told to name that file.
    """
    path = resolve_granted(context, text, allow_root=False)
    named = Path(os.path.expanduser(text.strip()))
    if not named.is_absolute():
        named = granted_roots(context)[0] / named
    if named.is_symlink():
        raise PathRefusedError(
            f"{text!r} is a link to {path}; links are not moved or deleted. "
            f"Name {path} itself to act on the file it points to"
        )
    return path


def _destination(context: ToolContext, text: str, source: Path) -> Path:
    """The free path a move or copy goes to; an existing folder means "into that folder"."""
    destination = resolve_granted(context, text, must_exist=False)
    if destination.is_dir():
        destination = resolve_granted(context, str(destination / source.name), must_exist=False)
    if destination == source:
        raise PathRefusedError(f"{source} is already there; name a different destination")
    if os.path.lexists(destination):
        raise FileExistsRefusedError(
            f"{destination} already exists; nothing was changed. Choose another name"
        )
    _check_folder(destination)
    return destination


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise NotFoundError(
            f"the folder {path.parent} does not exist; create it first or choose another folder"
        )


# ---------------------------------------------------------------------------------------------
# Previews: what approving will do, with every path already checked
# ---------------------------------------------------------------------------------------------


def _preview_write(context: ToolContext, args: WriteArguments) -> dict[str, Any]:
    path = resolve_granted(context, args.path, must_exist=False, kind="file")
    _check_folder(path)
    exists = os.path.lexists(path)
    if exists and not args.overwrite:
        raise FileExistsRefusedError(f"{path} already exists; choose another name")
    size = len(args.text.encode("utf-8"))
    verb = "Replace" if exists else "Write"
    # The whole text: approving a write is approving what it says, so every front end can
    # show it (a settings file or a script can hide a change in its last line).
    return {
        "summary": f"{verb} {path} ({size} bytes)",
        "path": str(path),
        "replaces": exists,
        "text": args.text,
    }


def _preview_move(context: ToolContext, args: MoveArguments) -> dict[str, Any]:
    source = _existing_target(context, args.source)
    destination = _destination(context, args.destination, source)
    if destination.is_relative_to(source):
        raise PathRefusedError(f"{source} cannot be moved inside itself ({destination})")
    return {
        "summary": f"Move {source} to {destination}",
        "from": str(source),
        "to": str(destination),
    }


def _preview_copy(context: ToolContext, args: CopyArguments) -> dict[str, Any]:
    source = resolve_granted(context, args.source, kind="file")
    destination = _destination(context, args.destination, source)
    return {
        "summary": f"Copy {source} to {destination}",
        "from": str(source),
        "to": str(destination),
    }


def _preview_delete(context: ToolContext, args: DeleteArguments) -> dict[str, Any]:
    path = _existing_target(context, args.path)
    kind = "folder" if path.is_dir() else "file"
    return {"summary": f"Move the {kind} {path} to the trash", "path": str(path)}


PREVIEWS = {
    "files_write": _preview_write,
    "files_move": _preview_move,
    "files_copy": _preview_copy,
    "files_delete": _preview_delete,
}
