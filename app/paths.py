"""Where Call-Me-Maybe keeps its data.

Everything the app writes (the joined model, the prefix cache, settings, later the encrypted
store) lives under one data directory. ``CALLMEMAYBE_HOME`` overrides it, which is how every
test and benchmark keeps away from the user's real data; otherwise platformdirs picks the
platform's usual place.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "CALLMEMAYBE_HOME"
APP_NAME = "call-me-maybe"


def data_dir() -> Path:
    """Return the data directory, creating it if needed."""
    override = os.environ.get(ENV_HOME)
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


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
