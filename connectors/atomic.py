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
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from connectors.errors import ConnectorError, DiskFullError

FolderGuard = Callable[[Path], int]
"""Opens a destination folder and checks it (see :func:`connectors.granted.open_folder_checked`);
the write then happens relative to that descriptor, so a link swapped in for the folder (or one
above it) after the check cannot send the file elsewhere."""
Opener = Callable[[str, int], int]

_DISK_FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC)}
# File systems without hard links (FAT, exFAT, some network shares) answer one of these to
# os.link; there the no-overwrite rename falls back to check-then-replace.
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS, errno.EXDEV}
_READ_ONLY = {errno.EACCES, errno.EPERM, errno.EROFS}
_CHUNK = 1024 * 1024


class FileExistsRefusedError(ConnectorError):
    """The destination exists and overwriting it was not asked for; nothing was written."""


def write_bytes_atomic(
    path: Path,
    data: bytes,
    *,
    overwrite: bool = False,
    guard: FolderGuard | None = None,
    private: bool = False,
) -> None:
    """Write ``data`` to ``path`` atomically.

    Args:
        path: the destination; its folder must exist.
        data: the whole content.
        overwrite: replace an existing file (keeping its permissions); otherwise an existing
            ``path`` is refused.
        guard: opens and checks the folder first (the file tools pass one).
        private: readable and writable by the user only (0600), whatever the umask or the
            old file's permissions: for the app's own files (settings, key records).

    Raises:
        FileExistsRefusedError: ``path`` exists and ``overwrite`` is false.
        DiskFullError: the disk (or a quota, or the file-size limit) ran out.
        ConnectorError: any other failure to write. In every case nothing was changed.
    """

    def fill(out: BinaryIO) -> None:
        out.write(data)

    _publish(path, fill, overwrite=overwrite, mode_from=path, guard=guard, private=private)


def copy_file_atomic(
    src: Path,
    dst: Path,
    *,
    overwrite: bool = False,
    opener: Opener | None = None,
    guard: FolderGuard | None = None,
) -> str:
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
        source = open(src, "rb", opener=opener)  # noqa: SIM115 - closed below, after publishing
    except OSError as exc:
        raise ConnectorError(
            f"could not read {src} ({exc.strerror or exc}); nothing was copied"
        ) from exc

    def fill(out: BinaryIO) -> None:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)

    with source:
        _publish(dst, fill, overwrite=overwrite, stat_from=src, guard=guard)
    return digest.hexdigest()


def _publish(
    path: Path,
    fill: Callable[[BinaryIO], None],
    *,
    overwrite: bool,
    mode_from: Path | None = None,
    stat_from: Path | None = None,
    guard: FolderGuard | None = None,
    private: bool = False,
) -> None:
    """Write a temporary file with ``fill``, fsync it, then give it ``path``'s name.

    With a ``guard``, every step names the files relative to the checked folder descriptor.
    """
    folder = path.parent
    dir_fd = guard(folder) if guard is not None else None
    try:
        _publish_in(folder, dir_fd, path, fill, overwrite, mode_from, stat_from, private)
    finally:
        if dir_fd is not None:
            os.close(dir_fd)


def _publish_in(
    folder: Path,
    dir_fd: int | None,
    path: Path,
    fill: Callable[[BinaryIO], None],
    overwrite: bool,
    mode_from: Path | None,
    stat_from: Path | None,
    private: bool = False,
) -> None:
    name = path.name if dir_fd is not None else str(path)
    temp_name = f".{path.name[:200]}.{secrets.token_hex(4)}.partial"
    temp = temp_name if dir_fd is not None else str(folder / temp_name)
    if not overwrite and _lexists(name, dir_fd):
        raise FileExistsRefusedError(_exists_message(path))
    try:
        # O_EXCL: never write through a name someone else holds; 0o666 lets the umask decide
        # the permissions, as for any new file.
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(temp, flags, 0o600 if private else 0o666, dir_fd=dir_fd)
    except OSError as exc:
        raise _error(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            fill(out)
            out.flush()
            os.fsync(out.fileno())
            if stat_from is not None:
                source = os.stat(stat_from)
                os.chmod(out.fileno(), stat.S_IMODE(source.st_mode))
                os.utime(out.fileno(), ns=(source.st_atime_ns, source.st_mtime_ns))
            elif private:
                os.chmod(out.fileno(), 0o600)
            elif overwrite and mode_from is not None and _lexists(name, dir_fd):
                mode = os.stat(name, dir_fd=dir_fd).st_mode
                os.chmod(out.fileno(), stat.S_IMODE(mode))
        if overwrite:
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        else:
            _rename_no_replace(temp, name, dir_fd)
        _fsync_folder(folder, dir_fd)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp, dir_fd=dir_fd)
        if isinstance(exc, FileExistsError):
            raise FileExistsRefusedError(_exists_message(path)) from exc
        if isinstance(exc, OSError):
            raise _error(exc, path) from exc
        raise


def _lexists(name: str, dir_fd: int | None) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _rename_no_replace(temp: str, name: str, dir_fd: int | None) -> None:
    """Give ``temp`` the name ``name`` unless that name exists (FileExistsError)."""
    if os.name == "nt":
        os.rename(temp, name)  # refuses an existing destination on Windows
        return
    try:
        os.link(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno not in _NO_LINKS:
            raise
        if _lexists(name, dir_fd):  # no hard links here: check, then replace (small race)
            raise FileExistsError(errno.EEXIST, "exists", name) from exc
        os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    else:
        os.unlink(temp, dir_fd=dir_fd)


def _fsync_folder(folder: Path, dir_fd: int | None = None) -> None:
    """Make the new name itself durable (POSIX); not possible, nor needed, on Windows."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        if dir_fd is not None:
            os.fsync(dir_fd)
            return
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
    if exc.errno in _READ_ONLY:
        return ConnectorError(
            f"could not write {path} ({reason}): its folder is read-only, so nothing was "
            "changed; make it writable again and try again"
        )
    return ConnectorError(f"could not write {path} ({reason}); nothing was changed")
