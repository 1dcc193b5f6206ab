"""File operations the tools share: move without overwriting, copies kept for undo, hashing.

Everything here takes real paths already checked by :func:`connectors.granted.resolve_granted`;
nothing here decides what is allowed.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import functools
import hashlib
import os
import re
import secrets
import shutil
import stat
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from connectors.atomic import FileExistsRefusedError, FolderGuard, copy_file_atomic
from connectors.errors import ConnectorError, DiskFullError, NotFoundError
from connectors.granted import checked_opener
from connectors.tool import ToolContext

UNDO_DIR = "undo"
KEEP_DAYS = 30
"""Days a copy kept for undo (of an overwritten file, or of a file trashed where the trash
cannot be searched) is kept. The copies are not encrypted, so they are not kept for ever: after
this an undo that needs one says it is gone. Their folder is the user's only (0700)."""
KEPT_ID = re.compile(r"^[0-9a-f]{32}$")
_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}
_CHUNK = 1024 * 1024
_AT_FDCWD = -100
_RENAME_NOREPLACE = 1
# Answers meaning "this kernel or file system cannot rename without replacing": fall back.
_NO_EXCLUSIVE_RENAME = {errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP}


@functools.cache
def _renameat2() -> Callable[..., int] | None:
    """Linux's ``renameat2`` from the C library, or ``None`` (another system, an old libc)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p]
    function.argtypes += [ctypes.c_uint]
    function.restype = ctypes.c_int
    return function  # type: ignore[no-any-return]


def rename_exclusive(
    src: Path | str, dst: Path | str, src_dir_fd: int | None = None, dst_dir_fd: int | None = None
) -> bool:
    """Rename ``src`` to ``dst`` in one step that never replaces an existing ``dst``.

    One system call, so a process killed at any moment leaves the file at one of its two
    names, never at both (a hard link then an unlink leaves both between the two calls).

    Args:
        src_dir_fd, dst_dir_fd: folders the names are relative to (as for :func:`os.rename`).

    Returns:
        ``False`` when this system or file system has no such rename; the caller falls back.

    Raises:
        FileExistsError: ``dst`` exists.
        OSError: any other failure (``EXDEV`` across file systems); nothing was moved.
    """
    function = _renameat2()
    if function is None:
        return False
    result = function(
        _AT_FDCWD if src_dir_fd is None else src_dir_fd,
        os.fsencode(src),
        _AT_FDCWD if dst_dir_fd is None else dst_dir_fd,
        os.fsencode(dst),
        _RENAME_NOREPLACE,
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in _NO_EXCLUSIVE_RENAME:
        return False
    if code == errno.EEXIST:
        raise FileExistsError(code, os.strerror(code), str(dst))
    raise OSError(code, os.strerror(code), str(src))


def sha256_of(path: Path) -> str:
    """The sha256 hex digest of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def place(
    src: Path, dst: Path, guard: FolderGuard | None = None, *, source_guarded: bool = True
) -> None:
    """Move the file or folder ``src`` to the free name ``dst``.

    On one file system this is a rename (a hard link then an unlink for a file, so an existing
    ``dst`` is never replaced); across file systems the content is copied atomically first and
    ``src`` removed after, so a failure leaves ``src`` whole.

    Args:
        guard: opens and checks both folders first; the move then names the file relative
            to them, so a link swapped in for either folder cannot take it elsewhere.
        source_guarded: ``False`` when ``src`` is not in a granted folder (the trash, an undo
            copy): only the destination's folder is checked.

    Raises:
        FileExistsRefusedError: ``dst`` exists.
        DiskFullError, ConnectorError: nothing was moved.
    """
    if os.path.lexists(dst):
        raise FileExistsRefusedError(
            f"{dst} already exists; nothing was moved. Choose another name, or move that away first"
        )
    src_fd = guard(src.parent) if guard is not None and source_guarded else None
    try:
        dst_fd = guard(dst.parent) if guard is not None else None
        try:
            if src.is_dir():
                _place_folder(src, dst, src_fd, dst_fd)
            else:
                _place_file(src, dst, src_fd, dst_fd, guard)
        except OSError as exc:
            raise _error(exc, f"could not move {src} to {dst}") from exc
        finally:
            if dst_fd is not None:
                os.close(dst_fd)
    finally:
        if src_fd is not None:
            os.close(src_fd)


def _at(path: Path, dir_fd: int | None) -> str:
    """The name to use with ``dir_fd``: the last part relative to it, or the whole path."""
    return path.name if dir_fd is not None else str(path)


def _place_file(
    src: Path, dst: Path, src_fd: int | None, dst_fd: int | None, guard: FolderGuard | None
) -> None:
    s, d = _at(src, src_fd), _at(dst, dst_fd)
    try:
        if rename_exclusive(s, d, src_fd, dst_fd):
            return
        os.link(s, d, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
    except FileExistsError:
        raise FileExistsRefusedError(f"{dst} already exists; nothing was moved") from None
    except OSError as exc:
        if exc.errno == errno.EXDEV:
            copy_file_atomic(src, dst, opener=_opener_in(src_fd), guard=guard)
            os.unlink(s, dir_fd=src_fd)
            return
        if exc.errno not in _NO_LINKS:
            raise
        try:  # no hard links on this file system: check, then rename
            os.stat(d, dir_fd=dst_fd, follow_symlinks=False)
        except FileNotFoundError:
            os.rename(s, d, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
        else:
            raise FileExistsRefusedError(f"{dst} already exists; nothing was moved") from exc
    else:
        os.unlink(s, dir_fd=src_fd)


def _place_folder(src: Path, dst: Path, src_fd: int | None, dst_fd: int | None) -> None:
    s, d = _at(src, src_fd), _at(dst, dst_fd)
    try:
        # os.rename would replace an empty folder created at dst since it was checked.
        if not rename_exclusive(s, d, src_fd, dst_fd):
            os.rename(s, d, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
        return
    except FileExistsError:
        raise FileExistsRefusedError(f"{dst} already exists; nothing was moved") from None
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
    # Across disks: copy, then remove the original. Every name is taken in the checked
    # folders (a link swapped in for either one after the check is not followed), and the
    # removal works through descriptors all the way down, as shutil.rmtree does with dir_fd.
    temp_name = f".{dst.name[:200]}.{secrets.token_hex(4)}.partial"
    temp = temp_name if dst_fd is not None else str(dst.parent / temp_name)
    try:
        shutil.copytree(
            _through(src, src_fd), _through(dst.parent / temp_name, dst_fd), symlinks=True
        )
        if not rename_exclusive(temp, d, dst_fd, dst_fd):
            os.rename(temp, d, src_dir_fd=dst_fd, dst_dir_fd=dst_fd)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True, dir_fd=dst_fd)
        raise
    shutil.rmtree(s, dir_fd=src_fd)


def _through(path: Path, dir_fd: int | None) -> str:
    """A path to ``path`` that goes through the open folder ``dir_fd`` where the system has
    one (``/proc/self/fd/N/name`` on Linux), so a link swapped in for its folder is not used."""
    if dir_fd is not None and os.path.isdir(f"/proc/self/fd/{dir_fd}"):
        return f"/proc/self/fd/{dir_fd}/{path.name}"
    return str(path)


def _opener_in(dir_fd: int | None) -> Callable[[str, int], int] | None:
    """An ``open`` opener that opens the name relative to ``dir_fd``, never through a link."""
    if dir_fd is None:
        return None

    def opener(path: str, flags: int) -> int:
        nofollow = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
        return os.open(os.path.basename(path), flags | nofollow, dir_fd=dir_fd)

    return opener


def keep_copy(context: ToolContext, path: Path) -> str:
    """Copy a file or folder under ``data_dir/undo`` and return the copy's id.

    Used before an overwrite (and before trashing where the trash cannot be searched) so that
    undo can put back exactly what was there, times and permissions included.

    Raises:
        ConnectorError: there is no data directory, or the copy failed (nothing was kept).
    """
    if context.data_dir is None:
        raise ConnectorError(
            f"no data folder is available to keep a copy of {path} for undo; nothing was changed"
        )
    prune_kept(context)
    kept_id = uuid.uuid4().hex
    folder = context.data_dir / UNDO_DIR / kept_id
    try:
        folder.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder.mkdir(mode=0o700, parents=True)
        if path.is_dir():
            shutil.copytree(path, folder / path.name, symlinks=True)
        else:
            # Read through a checked descriptor: a link swapped in cannot copy a file from
            # outside into the undo copies (an undo would then put it inside).
            copy_file_atomic(path, folder / path.name, opener=checked_opener(context))
    except BaseException as exc:
        shutil.rmtree(folder, ignore_errors=True)
        if isinstance(exc, OSError):
            raise _error(exc, f"could not keep a copy of {path} for undo") from exc
        raise
    return kept_id


def kept_path(context: ToolContext, kept_id: str) -> Path:
    """The copy :func:`keep_copy` made under the id ``kept_id``.

    Raises:
        NotFoundError: no such copy (already restored, or the undo folder was cleaned).
    """
    if context.data_dir is not None and KEPT_ID.match(kept_id):
        folder = context.data_dir / UNDO_DIR / kept_id
        with contextlib.suppress(OSError):
            if _expired(folder):
                shutil.rmtree(folder, ignore_errors=True)
            entries = list(folder.iterdir())
            if len(entries) == 1:
                return entries[0]
    raise NotFoundError(
        f"the copy kept for this undo ({kept_id}) is gone (copies are kept {KEEP_DAYS} days); "
        "it cannot be undone"
    )


def prune_kept(context: ToolContext) -> int:
    """Remove the undo copies older than :data:`KEEP_DAYS`; how many were removed."""
    if context.data_dir is None:
        return 0
    removed = 0
    with contextlib.suppress(OSError), os.scandir(context.data_dir / UNDO_DIR) as entries:
        for entry in entries:
            if KEPT_ID.match(entry.name) and _expired(Path(entry.path)):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed += 1
    return removed


def _expired(folder: Path) -> bool:
    """Whether the copy in ``folder`` (its folder's time is when it was kept) is too old."""
    return time.time() - folder.lstat().st_mtime > KEEP_DAYS * 86400


def drop_kept(context: ToolContext, kept_id: str) -> None:
    """Remove a kept copy (after it was restored, or when the action it guarded failed)."""
    if context.data_dir is not None and KEPT_ID.match(kept_id):
        shutil.rmtree(context.data_dir / UNDO_DIR / kept_id, ignore_errors=True)


def _error(exc: OSError, what: str) -> ConnectorError:
    if exc.errno in _DISK_FULL:
        return DiskFullError(f"the disk is full: {what}; free some space and try again")
    return ConnectorError(f"{what} ({exc.strerror or exc}); nothing was changed")


def identity(path: Path) -> str | None:
    """What is at ``path`` (not followed if a link), as ``device:inode[:ctime]``, or ``None``.

    What a move keeps and a replacement changes: undoing a move checks it, so a file put at the
    destination after the move is never carried off in its place. A file's status-change time
    is part of it because a file deleted and written again often gets the freed inode number
    back (an edit in place changes it too: the undo then refuses rather than guess); a folder's
    is not, since adding a file inside changes it and moving the folder back loses nothing.
    """
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if stat.S_ISDIR(info.st_mode):
        return f"{info.st_dev}:{info.st_ino}"
    return f"{info.st_dev}:{info.st_ino}:{info.st_ctime_ns}"
