"""The store's files are the user's only: the folder 0700, the database and its companions 0600.

SQLite creates the database with the process's umask (usually 0644: readable by every account
on the machine) and gives its ``-wal`` and ``-shm`` files the database's own permissions. The
content is encrypted, but its size and change times, and a copy an attacker could work on at
leisure, are still nobody else's business. Tightening after each open covers a store created by
an older version too.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path


def tighten(database: Path) -> None:
    """Make ``database``'s folder 0700 and every file in it 0600 (the database, its ``-wal``
    and ``-shm``, the key record beside it).

    Only what belongs to this user is changed; on systems without POSIX permissions
    (Windows) nothing is.
    """
    if os.name != "posix":
        return
    folder = database.parent
    _private(folder)
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_file(follow_symlinks=False):
                _private(Path(entry.path))


def _private(path: Path) -> None:
    """Take the group's and others' bits off (0644 becomes 0600); the owner's are kept, so a
    store the user made read-only stays read-only."""
    with contextlib.suppress(OSError):
        info = path.stat()
        current = stat.S_IMODE(info.st_mode)
        if info.st_uid == os.getuid() and current & 0o077:
            os.chmod(path, current & ~0o077)
