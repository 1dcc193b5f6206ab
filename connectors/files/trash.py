"""Delete to the system trash, and put a trashed file back for undo.

On freedesktop systems the item is renamed into the trash by its name in a checked folder
descriptor (:mod:`connectors.files.freedesktop_trash`, which uses send2trash's helpers for the
layout), so a link swapped in after the check cannot make it trash a file outside; macOS and
Windows use send2trash itself. Undo puts an item back only into a checked folder.

How undo finds the file again depends on the system:

* Linux and other freedesktop systems: the trash is a documented layout (``files/`` beside
  ``info/*.trashinfo``, each info holding the original ``Path=`` and a ``DeletionDate=``), so
  undo searches the home trash (``$XDG_DATA_HOME/Trash``) and the trash folders at the top of
  the file's volume (``.Trash/UID``, ``.Trash-UID``) for the entry that delete made (the name
  of its info file is recorded in the undo, so a later delete from the same place is never
  taken instead), moves it back and removes its info file. Nothing is copied beforehand, so
  deleting a large folder costs no time or space.
* macOS and Windows: their trash keeps no such index that a program can read portably, so a
  copy is kept under ``data_dir/undo`` before trashing and undo restores that copy. This costs
  the file's size in time and space, which is the price of an undo that works there.
"""

from __future__ import annotations

import configparser
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from send2trash import send2trash

from connectors.errors import ConnectorError, NotFoundError
from connectors.files.freedesktop_trash import trash_relative
from connectors.files.ops import drop_kept, keep_copy, kept_path, place
from connectors.granted import folder_guard
from connectors.tool import ToolContext

_INFO_SUFFIX = ".trashinfo"
TRASH_ENTRY = re.compile(r"^[^/\\\x00]+\.trashinfo$")
"""The name of a trash info file: which trashed item an undo puts back."""


def trash_is_searchable() -> bool:
    """Whether the system trash follows the freedesktop layout undo can search."""
    return sys.platform not in ("darwin", "win32")


def move_to_trash(context: ToolContext, path: Path) -> dict[str, str]:
    """Send ``path`` (a file or folder) to the system trash.

    Returns:
        The arguments of the ``files_restore`` call that undoes it.

    Raises:
        ConnectorError: the trash refused it (no trash on that volume, no permission); nothing
            was deleted.
    """
    kept = None if trash_is_searchable() else keep_copy(context, path)
    # Which entry is this delete's: the trash may hold older items from the same place, and
    # an undo must put back this one, not the most recent (a later delete's).
    before = {e.info for e in trash_entries(path)} if kept is None else set()
    try:
        if kept is None:
            trash_relative(context, path)  # by name in a checked folder: no link race
        else:
            send2trash(str(path))
    except OSError as exc:
        if kept is not None:
            drop_kept(context, kept)
        raise ConnectorError(
            f"could not move {path} to the trash ({exc.strerror or exc}); nothing was deleted"
        ) from exc
    undo = {"path": str(path)}
    if kept is not None:
        undo["kept"] = kept
    else:
        new = [e for e in trash_entries(path) if e.info not in before]
        if new:
            undo["entry"] = max(new, key=lambda e: e.order).info.name
    return undo


def restore(
    context: ToolContext, path: Path, kept: str | None = None, entry: str | None = None
) -> None:
    """Put back what :func:`move_to_trash` sent away from ``path``.

    Args:
        entry: the name of the trash's info file for that item (recorded by
            :func:`move_to_trash`); without it (undo entries from older versions), the most
            recently trashed item from ``path`` is taken.

    Raises:
        ConnectorError: something exists at ``path`` again, or its folder is gone.
        NotFoundError: the trash no longer holds it (emptied, or restored already).
    """
    if os.path.lexists(path):
        raise ConnectorError(f"{path} exists again; rename or move it away, then undo the delete")
    if not path.parent.is_dir():
        raise NotFoundError(
            f"the folder {path.parent} is gone; create it again, then undo the delete"
        )
    if kept is not None:
        place(kept_path(context, kept), path, guard=folder_guard(context), source_guarded=False)
        drop_kept(context, kept)
        return
    if entry is not None:
        found = next((e for e in trash_entries(path) if e.info.name == entry), None)
    else:
        found = find_in_trash(path)
    if found is None:
        raise NotFoundError(
            f"{path.name} is no longer in the trash (it was emptied or restored already)"
        )
    # Only the folder it goes back into is granted (and checked); the trash is not.
    place(found.file, path, guard=folder_guard(context), source_guarded=False)
    found.info.unlink(missing_ok=True)


@dataclass(frozen=True)
class TrashEntry:
    """One trashed item: its content, its info file, when it was deleted (and its order among
    items deleted in the same second)."""

    file: Path
    info: Path
    deleted: str
    order: tuple[str, int] = ("", 0)


def find_in_trash(path: Path) -> TrashEntry | None:
    """The most recently trashed item that was at ``path``, in any trash that could hold it."""
    entries = trash_entries(path)
    return max(entries, key=lambda e: e.order) if entries else None


def trash_entries(path: Path) -> list[TrashEntry]:
    """Every item in the trash that was at ``path``, in any trash that could hold it."""
    wanted = os.path.normpath(path)
    found: list[TrashEntry] = []
    for trash, top in trash_folders(path):
        try:
            infos = [e for e in os.scandir(trash / "info") if e.name.endswith(_INFO_SUFFIX)]
        except OSError:
            continue
        for item in infos:
            fields = _read_info(Path(item.path))
            if fields is None or "Path" not in fields:
                continue
            # An absolute Path= ignores ``top`` in the join; a relative one is under it.
            original = os.path.normpath(os.path.join(top, unquote(fields["Path"])))
            if wanted not in (original, _real(original)):
                continue
            content = trash / "files" / item.name[: -len(_INFO_SUFFIX)]
            if not os.path.lexists(content):
                continue
            try:
                order = (fields.get("DeletionDate", ""), item.stat().st_mtime_ns)
            except OSError:
                continue
            found.append(TrashEntry(content, Path(item.path), order[0], order))
    return found


def trash_folders(path: Path) -> list[tuple[Path, Path]]:
    """``(trash folder, folder its relative Path= entries start from)`` pairs for ``path``.

    The home trash comes first (XDG_DATA_HOME read now, not at import, so it follows the
    environment), then the two per-volume trash folders the freedesktop spec defines.
    """
    data_home = Path(os.path.expanduser(os.environ.get("XDG_DATA_HOME") or "~/.local/share"))
    pairs = [(data_home / "Trash", data_home)]
    top = _mount_point(path.parent)
    uid = str(os.getuid()) if hasattr(os, "getuid") else ""
    pairs += [(top / ".Trash" / uid, top), (top / f".Trash-{uid}", top)]
    return pairs


def _real(path: str | Path) -> str:
    """``os.path.realpath``, or the path as given while a link on it is being swapped (the
    standard library's readlink then fails with EINVAL)."""
    try:
        return os.path.realpath(path)
    except OSError:
        return os.path.normpath(path)


def _mount_point(path: Path) -> Path:
    current = Path(_real(path))
    while not os.path.ismount(current) and current.parent != current:
        current = current.parent
    return current


def _read_info(info: Path) -> dict[str, str] | None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        parser.read_string(info.read_text(encoding="utf-8"))
        return dict(parser["Trash Info"])
    except (OSError, UnicodeDecodeError, configparser.Error, KeyError):
        return None
