"""Write and copy files so that a reader sees the old file or the new one, never half of one.

The bytes go to a temporary file in the destination's own folder (same file system, so the
final step is a rename, which is atomic), are flushed to the disk with fsync, and only then take
the destination's name. Without ``overwrite`` that last step is a hard link, which fails if the
name exists at the moment of linking, so a file that appeared meanwhile is never clobbered
(Windows: ``os.rename`` refuses to replace, which gives the same guarantee). When anything goes
wrong, a full disk included, the temporary file is removed and the destination is as it was.

A temporary file's name starts with ``.`` and ends with ``.partial`` so that, if the process is
killed outright, the leftover is hidden and recognisable.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from connectors.errors import ConnectorError, DiskFullError

_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
# File systems without hard links (FAT, exFAT, some network shares) answer one of these to
# os.link; there the no-overwrite rename falls back to check-then-replace.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV}
_CHUNK = 1024 * 1024


class FileExistsRefusedError(ConnectorError):
    """The destination exists and overwriting it was not asked for; nothing was written."""


def write_bytes_atomic(path: Path, data: bytes, *, overwrite: bool = False) -> None:
    """Write ``data`` to ``path`` atomically.

    Args:
        path: the destination; its folder must exist.
        data: the whole content.
        overwrite: replace an existing file (keeping its permissions); otherwise an existing
            ``path`` is refused.

    Raises:
        FileExistsRefusedError: ``path`` exists and ``overwrite`` is false.
        DiskFullError: the disk (or a quota, or the file-size limit) ran out.
        ConnectorError: any other failure to write. In every case nothing was changed.
    """

    def fill(out: BinaryIO) -> None:
        out.write(data)

    _publish(path, fill, overwrite=overwrite, mode_from=path)


def copy_file_atomic(src: Path, dst: Path, *, overwrite: bool = False) -> str:
    """Copy the regular file ``src`` to ``dst`` atomically, keeping its permissions and times.

    Returns:
        The sha256 hex digest of the bytes copied (what a later undo compares against).

    Raises:
        FileExistsRefusedError: ``dst`` exists and ``overwrite`` is false.
        DiskFullError: the disk ran out while copying.
        ConnectorError: ``src`` cannot be read, or another failure; ``dst`` is unchanged.
    """
    digest = hashlib.sha256()
    try:
        source = src.open("rb")
    except OSError as exc:
        raise ConnectorError(
            f"could not read {src} ({exc.strerror or exc}); nothing was copied"
        ) from exc

    def fill(out: BinaryIO) -> None:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)

    with source:
        _publish(dst, fill, overwrite=overwrite, stat_from=src)
    return digest.hexdigest()


def _publish(
    path: Path,
    fill: Callable[[BinaryIO], None],
    *,
    overwrite: bool,
    mode_from: Path | None = None,
    stat_from: Path | None = None,
) -> None:
    """Write a temporary file with ``fill``, fsync it, then give it ``path``'s name."""
    folder = path.parent
    if not overwrite and os.path.lexists(path):
        raise FileExistsRefusedError(_exists_message(path))
    temp = folder / f".{path.name[:200]}.{secrets.token_hex(4)}.partial"
    try:
        # O_EXCL: never write through a name someone else holds; 0o666 lets the umask decide
        # the permissions, as for any new file.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as exc:
        raise _error(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
        if stat_from is not None:
            shutil.copystat(stat_from, temp)
        elif overwrite and mode_from is not None and mode_from.exists():
            shutil.copymode(mode_from, temp)
        if overwrite:
            os.replace(temp, path)
        else:
            _rename_no_replace(temp, path)
        _fsync_folder(folder)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, FileExistsError):
            raise FileExistsRefusedError(_exists_message(path)) from exc
        if isinstance(exc, OSError):
            raise _error(exc, path) from exc
        raise


def _rename_no_replace(temp: Path, path: Path) -> None:
    """Give ``temp`` the name ``path`` unless that name exists (FileExistsError)."""
    if os.name == "nt":
        os.rename(temp, path)  # refuses an existing destination on Windows
        return
    try:
        os.link(temp, path)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if os.path.lexists(path):  # no hard links here: check, then replace (small race)
            raise FileExistsError(errno.EEXIST, "exists", str(path)) from exc
        os.replace(temp, path)
    else:
        os.unlink(temp)


def _fsync_folder(folder: Path) -> None:
    """Make the new name itself durable (POSIX); not possible, nor needed, on Windows."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exists_message(path: Path) -> str:
    return (
        f"{path} already exists; nothing was written. Choose another name, or ask to overwrite it"
    )


def _error(exc: OSError, path: Path) -> ConnectorError:
    if exc.errno in _DISK_FULL:
        return DiskFullError(
            f"the disk is full (or the file is too large for it): nothing was written to {path}; "
            "free some space and try again"
        )
    reason = exc.strerror or str(exc)
    return ConnectorError(f"could not write {path} ({reason}); nothing was changed")
