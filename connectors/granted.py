"""Turn a path the model wrote into a real path inside the folders the user granted, or refuse.

The model is not trusted with the file system: whatever it writes ("../..", "~/.ssh/id_rsa", a
link planted inside a granted folder that points at /etc) is resolved to the real path first,
links included, and only then checked against the granted folders, also resolved. Checking the
text of a path instead would let a symlink or a ``..`` walk out. Only regular files and folders
are handed out: reading a FIFO blocks forever, a device can be endless or harmful, a socket is
not a file at all.

A path can still change between this check and its use (another program swaps a folder for a
link). The tools therefore open what they read, and the folders they write into or move between,
with :func:`open_checked` / :func:`open_folder_checked`, which check the real path of the open
descriptor again, and then work relative to it.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from connectors.errors import NotFoundError, PathRefusedError

if TYPE_CHECKING:
    from connectors.tool import ToolContext

Kind = Literal["file", "dir", "any"]

GRANT_HINT = "callmemaybe folders add PATH"


def granted_roots(context: ToolContext) -> list[Path]:
    """The granted folders, resolved (links followed), in the order the user granted them.

    Raises:
        PathRefusedError: no folder is granted; the message says how to grant one.
    """
    if not context.granted_folders:
        raise PathRefusedError(
            "no folder is shared with the assistant yet, so it cannot touch any file; "
            f"share one with `{GRANT_HINT}`"
        )
    roots: list[Path] = []
    for folder in context.granted_folders:
        root = Path(os.path.expanduser(folder)).resolve()
        if root not in roots:
            roots.append(root)
    return roots


def resolve_granted(
    context: ToolContext,
    path: str,
    *,
    must_exist: bool = True,
    kind: Kind = "any",
    allow_root: bool = True,
) -> Path:
    """The real path ``path`` names, checked to lie inside a granted folder.

    A relative path is taken inside the first granted folder; ``~`` is expanded; links and
    ``..`` are resolved before the check, so the returned path contains neither.

    Args:
        context: gives the granted folders.
        path: as the model wrote it ("report.txt", "~/Documents/a.pdf", "/home/me/Notes").
        must_exist: refuse a path that does not exist (a file to read) rather than return it (a
            file to create).
        kind: what an existing path must be: ``"file"`` (a regular file), ``"dir"`` (a folder)
            or ``"any"`` of the two.
        allow_root: ``False`` refuses a granted folder itself (the target of a delete or a
            move: the user shared the folder, not the right to remove it).

    Raises:
        PathRefusedError: no granted folder; the path is outside every granted folder; it is a
            device, socket, FIFO or other special file; it is not of ``kind``; it is a granted
            folder and ``allow_root`` is false.
        NotFoundError: ``must_exist`` and nothing is there.
    """
    roots = granted_roots(context)
    text = path.strip()
    if "\0" in text:
        raise PathRefusedError(f"{path!r} is not a valid path (it contains a NUL character)")
    candidate = Path(os.path.expanduser(text)) if text else Path()
    if not candidate.is_absolute():
        candidate = roots[0] / candidate
    try:
        resolved = candidate.resolve()
    except (OSError, RuntimeError) as exc:  # a link loop, a name too long
        raise PathRefusedError(f"{path!r} cannot be resolved to a real path ({exc})") from exc

    if not any(resolved.is_relative_to(root) for root in roots):
        shared = ", ".join(str(root) for root in roots)
        via = ""
        if ".." in Path(text).parts:
            via = " (it climbs out with '..')"
        elif candidate != resolved and candidate.is_symlink():
            via = f" (it is a link to {resolved})"
        raise PathRefusedError(
            f"{path!r} is outside the folders you shared{via}; only files under {shared} can "
            f"be used. To share another folder, run `{GRANT_HINT}`"
        )
    _refuse_private(context, resolved, holds_too=not allow_root)
    if not allow_root and resolved in roots:
        raise PathRefusedError(
            f"{resolved} is a folder you shared itself; it cannot be moved or deleted from here. "
            "Name a file or folder inside it"
        )

    try:
        mode = resolved.lstat().st_mode
    except FileNotFoundError:
        if must_exist:
            raise NotFoundError(
                f"{resolved} does not exist; list its folder to check the name"
            ) from None
        return resolved
    except OSError as exc:
        raise PathRefusedError(f"{resolved} cannot be examined ({exc.strerror})") from exc

    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise PathRefusedError(
            f"{resolved} is {_special_kind(mode)}, not a regular file or folder; "
            "the assistant only handles ordinary files"
        )
    if kind == "file" and not stat.S_ISREG(mode):
        raise PathRefusedError(f"{resolved} is a folder, not a file; name a file inside it")
    if kind == "dir" and not stat.S_ISDIR(mode):
        raise PathRefusedError(f"{resolved} is a file, not a folder; name the folder it is in")
    return resolved


def private_dir(context: ToolContext) -> Path | None:
    """The app's own data folder, resolved: never handed to a tool, whatever was granted.

    It holds settings.json (the granted folders and the tool policies), the encrypted store
    and the undo copies; a user who grants their home folder would otherwise let the model
    propose rewriting the policies or read an undo copy.
    """
    if context.data_dir is None:
        return None
    return Path(os.path.expanduser(context.data_dir)).resolve()


def is_private(context: ToolContext, path: Path) -> bool:
    """Whether the resolved ``path`` is the app's data folder or inside it."""
    private = private_dir(context)
    return private is not None and path.is_relative_to(private)


def _refuse_private(context: ToolContext, resolved: Path, *, holds_too: bool) -> None:
    """Refuse the data folder and what is inside it; with ``holds_too``, also a folder that
    holds it (moving or trashing that would take the app's data along)."""
    private = private_dir(context)
    if private is None:
        return
    if resolved.is_relative_to(private):
        raise PathRefusedError(
            f"{resolved} is in the assistant's own data folder ({private}), which holds its "
            "settings, store and undo copies; the file tools never touch it"
        )
    if holds_too and private.is_relative_to(resolved):
        raise PathRefusedError(
            f"{resolved} holds the assistant's own data folder ({private}); it cannot be "
            "moved or deleted from here"
        )


def _special_kind(mode: int) -> str:
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


# ---------------------------------------------------------------------------------------------
# Checking again what was opened: a link swapped in between the check and the use
# ---------------------------------------------------------------------------------------------

_F_GETPATH = 50  # macOS fcntl: the path of an open file descriptor


def opened_path(fd: int) -> Path | None:
    """The real path of the file or folder open as ``fd``, or ``None`` where the system cannot
    say (then only the check made by :func:`resolve_granted` applies)."""
    if os.path.isdir("/proc/self/fd"):
        try:
            return Path(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:
            return None
    if hasattr(os, "O_DIRECTORY") and os.uname().sysname == "Darwin":  # pragma: no cover
        import fcntl

        try:
            raw = fcntl.fcntl(fd, _F_GETPATH, b"\0" * 1024)
        except OSError:
            return None
        return Path(os.fsdecode(raw.rstrip(b"\0")))
    return None  # pragma: no cover - Windows: no links to swap without privileges


def check_opened(context: ToolContext, fd: int, shown: Path) -> None:
    """Refuse ``fd`` unless what it opened lies inside a granted folder.

    :func:`resolve_granted` checked a path; between that check and the ``open`` another
    program may have swapped a folder on the way for a link to elsewhere (a symlink race).
    What the descriptor really opened is checked here, so the file read, the folder written
    into or moved from is the one inside, or nothing is done.

    Raises:
        PathRefusedError: ``fd`` is outside every granted folder (the caller closes it).
    """
    real = opened_path(fd)
    if real is None:
        return
    roots = granted_roots(context)
    if not any(real.is_relative_to(root) for root in roots) or is_private(context, real):
        raise PathRefusedError(
            f"{shown} changed while it was being opened and now leads outside the folders you "
            f"shared (to {real}); nothing was done. Check what replaced it"
        )


def open_checked(context: ToolContext, path: Path, flags: int = os.O_RDONLY) -> int:
    """Open a path :func:`resolve_granted` returned, checked again once open.

    Opened without following a final link and without blocking (a FIFO swapped in would
    otherwise hang the read forever), then refused unless it is a regular file or folder
    inside a granted folder. The caller owns (and closes) the descriptor.

    Raises:
        PathRefusedError: it is now a link, a special file, or outside.
        NotFoundError: it is gone.
    """
    extra = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    extra |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags | extra)
    except FileNotFoundError:
        raise NotFoundError(f"{path} does not exist any more; list its folder to check") from None
    except OSError as exc:
        raise PathRefusedError(f"{path} cannot be opened ({exc.strerror or exc})") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
            raise PathRefusedError(
                f"{path} is {_special_kind(mode)}, not a regular file or folder; "
                "the assistant only handles ordinary files"
            )
        check_opened(context, fd, path)
        if hasattr(os, "set_blocking") and stat.S_ISREG(mode):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def checked_opener(context: ToolContext) -> Callable[[str, int], int]:
    """An ``opener`` for :func:`open` that refuses what :func:`open_checked` refuses."""

    def opener(path: str, flags: int) -> int:
        return open_checked(context, Path(path), flags)

    return opener


def open_folder_checked(context: ToolContext, folder: Path) -> int:
    """A descriptor of ``folder`` checked to be inside a granted folder once open: names
    created or renamed relative to it (``dir_fd=``) stay inside whatever else moves."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
    return open_checked(context, folder, flags)


def folder_guard(context: ToolContext) -> Callable[[Path], int]:
    """:func:`open_folder_checked` for ``context``, as the file operations take it."""
    return lambda folder: open_folder_checked(context, folder)


_FILE_NAME = re.compile(r"(?<![\w/.~-])[~\w./-]*\w\.[A-Za-z][A-Za-z0-9]{1,7}(?![\w/])")


def file_names(text: str) -> list[str]:
    """The file names ``text`` gives: words with an extension or paths ("sauvegarde.ics",
    "~/Notes/todo.md"), in any language, as the values a new file's path may take.

    Measured on the bundled model: asked to "exporte tout mon agenda dans sauvegarde.ics" it
    wrote "agenda.ics"; offered only the names the user gave, it cannot invent one, and a
    request that gives none gets a question instead (the assistant's ``clarify`` pass)."""
    return list(dict.fromkeys(m.group(0).rstrip(".") for m in _FILE_NAME.finditer(text)))
