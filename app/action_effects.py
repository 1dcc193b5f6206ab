"""What a change to files did, read back from the disk: for actions a stopped process left.

Notes and events commit with their action record in one transaction, so after a crash an
action is either done (with its undo) or still waiting. A change to files cannot join that
transaction, so the action log writes "running" with the undo it plans before the tool runs;
when a process stopped half-way (killed, power cut, full disk at the last write), the next
start-up reads the files to see whether the change happened (:func:`took_effect`) and settles
the action as done, with its undo (:func:`settled_undo`), or as failed. The previews hold
every path already resolved and checked, so nothing here decides what is allowed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from connectors.files.ops import identity
from connectors.tool import Undo


def _sha256(path: str | None) -> str | None:
    if not path:
        return None
    try:
        with open(path, "rb") as file:
            return hashlib.file_digest(file, "sha256").hexdigest()
    except OSError:
        return None


def _exists(path: str | None) -> bool:
    return bool(path) and os.path.lexists(path)  # type: ignore[arg-type]


def settled_undo(tool: str, arguments: dict[str, Any], preview: dict[str, Any]) -> Undo | None:
    """The undo of a files change as the disk shows it now (``None``: none can be made).

    Written before the change runs (the planned undo) and again when a stopped run is settled.
    An overwrite's earlier content is kept by the tool itself under an id only the finished
    run knows, so a settled overwrite has no undo (better none than one that loses the file).
    """
    if tool == "files_write" and not preview.get("replaces"):
        digest = hashlib.sha256(str(arguments.get("text", "")).encode("utf-8")).hexdigest()
        return Undo("files_undo_write", {"path": preview.get("path"), "sha256": digest})
    if tool == "files_copy" and (digest := _sha256(preview.get("from"))):
        return Undo("files_undo_write", {"path": preview.get("to"), "sha256": digest})
    if tool == "files_move":
        args = {"path": preview.get("to"), "back_to": preview.get("from")}
        if moved := identity(Path(str(preview.get("to")))):
            args["identity"] = moved
        return Undo("files_undo_move", args)
    if tool == "files_delete":
        return Undo("files_restore", {"path": preview.get("path")})
    if tool == "calendar_export" and (digest := _sha256(preview.get("path"))):
        return Undo("calendar_delete_export", {"path": preview.get("path"), "sha256": digest})
    return None


def took_effect(tool: str, arguments: dict[str, Any], preview: dict[str, Any]) -> bool | None:
    """Whether a change that was running when its process stopped happened.

    Returns:
        ``True`` (it happened), ``False`` (it did not: nothing changed), ``None`` (the disk
        does not say, or the tool is not one this module knows).
    """
    if tool == "files_write":
        path = preview.get("path")
        wanted = hashlib.sha256(str(arguments.get("text", "")).encode("utf-8")).hexdigest()
        now = _sha256(path)
        if now == wanted:
            return True
        if now is None and not _exists(path):
            return False if not preview.get("replaces") else None
        return False if preview.get("replaces") else None
    if tool in ("files_move", "files_copy"):
        source, target = preview.get("from"), preview.get("to")
        if tool == "files_copy":
            if not _exists(target):
                return False
            return True if _sha256(target) == _sha256(source) else None
        if _exists(target) and not _exists(source):
            return True
        if _exists(source) and not _exists(target):
            return False
        return None
    if tool == "files_delete":
        return not _exists(preview.get("path"))
    if tool == "calendar_export":
        return _exists(preview.get("path"))
    return None


def undo_took_effect(undo: dict[str, Any]) -> bool | None:
    """Whether an undo of a files change that was running when its process stopped happened."""
    tool, args = undo.get("tool"), undo.get("arguments", {})
    if tool == "files_undo_move":
        back, there = args.get("back_to"), args.get("path")
        if _exists(back) and not _exists(there):
            return True
        if _exists(there) and not _exists(back):
            return False
        return None
    if tool in ("files_undo_write", "calendar_delete_export"):
        if args.get("previous"):
            return None  # put back or not: the content says nothing this module can read
        now = _sha256(args.get("path"))
        if now == args.get("sha256"):
            return False
        return True if not _exists(args.get("path")) else None
    if tool == "files_restore":
        return _exists(args.get("path"))
    return None
