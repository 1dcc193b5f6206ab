"""Send a file to the freedesktop trash by its name in a checked folder descriptor.

send2trash (and GIO, which it prefers where it is installed) trashes a *path*: between the
check that the path lies in a granted folder and the rename into the trash, another program can
swap a folder on the way for a link to elsewhere, and a file outside would be trashed instead.
The trash layout is a documented standard (an info file in ``info/`` saying where the item was
and when, the item itself renamed into ``files/``), so on Linux and the other freedesktop
systems the item is renamed into the trash relative to a descriptor of its folder that was
checked once open (:func:`connectors.granted.open_folder_checked`), as reads and writes are.
send2trash's own freedesktop helpers still find or create the trash folder and write the info
text, so the entries are the ones every file manager reads.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from connectors.errors import ConnectorError, NotFoundError
from connectors.files.ops import rename_exclusive
from connectors.granted import open_folder_checked
from connectors.tool import ToolContext

_INFO_SUFFIX = ".trashinfo"


def home_trash() -> tuple[Path, Path]:
    """``(trash folder, its top)`` in the user's data home, ``$XDG_DATA_HOME`` read now."""
    data_home = Path(os.path.expanduser(os.environ.get("XDG_DATA_HOME") or "~/.local/share"))
    return data_home / "Trash", data_home


def trash_relative(context: ToolContext, path: Path) -> str:
    """Move the file or folder ``path`` (already resolved and checked) to the trash.

    Returns:
        The name of the info file written for it (what an undo names to put it back).

    Raises:
        NotFoundError: it is gone.
        PathRefusedError: its folder now leads outside the granted folders.
        ConnectorError: the trash cannot be used (no permission, another disk); nothing was
            deleted.
    """
    from send2trash import plat_other

    fd = open_folder_checked(context, path.parent)
    try:
        try:
            device = os.stat(path.name, dir_fd=fd, follow_symlinks=False).st_dev
        except FileNotFoundError:
            raise NotFoundError(f"{path} does not exist any more; nothing was deleted") from None
        trash, top = _trash_for(path, device, plat_other)
        files = trash / "files"
        infos = trash / "info"
        plat_other.check_create(os.fsencode(files))
        plat_other.check_create(os.fsencode(infos))
        name, info = _reserve(path.name, files, infos)
        try:
            with open(info, "w", encoding="utf-8") as out:
                out.write(plat_other.info_for(os.fsencode(path), os.fsencode(top)))
            if not rename_exclusive(path.name, files / name, src_dir_fd=fd):
                os.rename(path.name, files / name, src_dir_fd=fd)
        except BaseException:
            info.unlink(missing_ok=True)
            raise
        return info.name
    except OSError as exc:
        why = "the trash is on another disk" if exc.errno == errno.EXDEV else exc.strerror
        raise ConnectorError(
            f"could not move {path} to the trash ({why or exc}); nothing was deleted"
        ) from exc
    finally:
        os.close(fd)


def _trash_for(path: Path, device: int, plat_other: object) -> tuple[Path, Path]:
    """The trash on the item's disk: the home trash, or the disk's own ``.Trash`` folders."""
    trash, top = home_trash()
    existing = trash
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if os.stat(existing).st_dev == device:
        return trash, top
    mount = Path(plat_other.find_mount_point(os.fsencode(path.parent)).decode())  # type: ignore[attr-defined]
    found = plat_other.find_ext_volume_trash(os.fsencode(mount))  # type: ignore[attr-defined]
    return Path(os.fsdecode(found)), mount


def _reserve(name: str, files: Path, infos: Path) -> tuple[str, Path]:
    """A name free in both ``files/`` and ``info/``, its info file created (empty) to hold it."""
    stem, suffix = os.path.splitext(name)
    for counter in range(10_000):
        candidate = name if counter == 0 else f"{stem} {counter}{suffix}"
        info = infos / (candidate + _INFO_SUFFIX)
        try:
            os.close(os.open(info, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            continue
        if os.path.lexists(files / candidate):
            info.unlink(missing_ok=True)
            continue
        return candidate, info
    raise FileExistsError(errno.EEXIST, "no free name in the trash", str(files / name))
