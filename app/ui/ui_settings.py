"""Desktop-only preferences (hotkey, close-to-tray), kept beside ``settings.json``.

They live in their own small file until :class:`app.settings.Settings` grows these fields, so
the core's settings model is not changed from inside the Qt package. Written atomically, like
the main settings, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from app.paths import data_dir
from connectors.atomic import write_bytes_atomic

DEFAULT_HOTKEY = "Ctrl+Alt+Space"


class UiSettings(BaseModel):
    """What the desktop app adds to the core settings."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    hotkey: str = Field(
        DEFAULT_HOTKEY,
        description="Global shortcut that opens the quick command (empty: none).",
    )
    close_to_tray: bool = Field(
        True, description="Closing the window keeps the app running in the tray."
    )


def ui_settings_path() -> Path:
    """Where the desktop preferences live."""
    return data_dir() / "ui_settings.json"


def load_ui_settings() -> UiSettings:
    """The saved preferences, or the defaults when the file is missing or unreadable.

    A broken file is not fatal here (unlike the core settings): the worst outcome is the
    default hotkey, and the settings dialog rewrites the file.
    """
    try:
        return UiSettings.model_validate(json.loads(ui_settings_path().read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return UiSettings()


def save_ui_settings(settings: UiSettings) -> None:
    """Write the preferences atomically."""
    data = settings.model_dump_json(indent=2).encode("utf-8")
    write_bytes_atomic(ui_settings_path(), data, overwrite=True)
