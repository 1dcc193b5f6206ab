"""Where Call-Me-Maybe keeps its data.

Everything the app writes (the joined model, the prefix cache, settings, later the encrypted
store) lives under one data directory. ``CALLMEMAYBE_HOME`` overrides it, which is how every
test and benchmark keeps away from the user's real data; otherwise platformdirs picks the
platform's usual place.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import platformdirs

ENV_HOME = "CALLMEMAYBE_HOME"
APP_NAME = "call-me-maybe"


def data_dir() -> Path:
    """Return the data directory, creating it if needed, open to the user only (0700).

    It holds the store, its key record, the settings (granted folders, tool policies) and the
    undo copies of overwritten files: other accounts on the machine have no business listing
    or reading any of it, whatever the umask made of it (an existing folder is tightened).
    """
    override = os.environ.get(ENV_HOME)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    make_private(path)
    return path


def make_private(path: Path) -> None:
    """Take the group's and others' permissions off ``path`` where it is ours (0755 becomes
    0700). The owner's own bits are kept: a folder the user made read-only stays read-only."""
    try:
        info = path.stat()
        current = stat.S_IMODE(info.st_mode)
        if current & 0o077 and info.st_uid == os.getuid():
            os.chmod(path, current & ~0o077)
    except (OSError, AttributeError):  # not ours, or no POSIX permissions (Windows)
        pass


def models_dir() -> Path:
    """Models joined from the bundled packages or downloaded from a hub."""
    path = data_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def cache_dir() -> Path:
    """Rebuildable caches (prompt-prefix KV state); safe to delete at any time."""
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path
