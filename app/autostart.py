"""Start the app when the user logs in: an XDG autostart file, a LaunchAgent or a Run key value.

Off by default (``Settings.start_at_login``). Each platform has one small entry class with the
same three methods (``is_enabled``, ``enable(command)``, ``disable``); :func:`entry_for` picks
the one for the running system and :func:`sync` makes the system match the setting. Nothing here
imports Qt: the settings dialog only flips the setting, the app calls :func:`sync`.

The command written is the one that started this process (:func:`launch_command`): the bundle's
executable when frozen (the AppImage file itself when run from an AppImage, since its mount
point changes at every start), ``python -m app`` otherwise, so a pip install and a bundle each
start themselves.
"""

from __future__ import annotations

import os
import plistlib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from connectors.atomic import write_bytes_atomic
from connectors.errors import ConnectorError

APP_NAME = "Call-Me-Maybe"
DESKTOP_FILE = "call-me-maybe.desktop"
LAUNCH_AGENT_LABEL = "app.callmemaybe.assistant"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = APP_NAME
ICON_NAME = "callmemaybe"

# Characters that force an Exec argument into double quotes (Desktop Entry spec, "The Exec key").
_EXEC_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
# Inside double quotes these four are escaped with a backslash.
_EXEC_QUOTED_ESCAPES = frozenset('"`$\\')


class AutostartError(Exception):
    """The login entry cannot be written or removed; the message says where and why."""


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


class AutostartEntry(Protocol):
    """One platform's way of starting a program at login."""

    location: str

    def is_enabled(self) -> bool:
        """Whether the entry is there (and not disabled by the user)."""

    def enable(self, command: Sequence[str]) -> None:
        """Write the entry so that ``command`` runs at login (replacing an older one)."""

    def disable(self) -> None:
        """Remove the entry; nothing happens when there is none."""


def launch_command() -> list[str]:
    """The command line that starts this installation's desktop window."""
    if getattr(sys, "frozen", False):
        appimage = os.environ.get("APPIMAGE")
        return [appimage if appimage else sys.executable, "gui"]
    return [sys.executable, "-m", "app", "gui"]


# ---------------------------------------------------------------------------------------------
# Linux and other freedesktop systems
# ---------------------------------------------------------------------------------------------


def xdg_config_home() -> Path:
    """``$XDG_CONFIG_HOME`` when it is an absolute path (the spec says to ignore a relative
    one), else ``~/.config``."""
    value = os.environ.get("XDG_CONFIG_HOME", "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".config"


def quote_exec_argument(argument: str) -> str:
    """Quote one argument for a desktop file's ``Exec`` key.

    The spec applies two layers: the Exec quoting (double quotes, with ``"`$\\`` escaped by a
    backslash; ``%`` doubled as field codes use it), then the string-value escaping of the
    whole key (every backslash doubled again).
    """
    text = argument.replace("%", "%%")
    if text and not any(ch in _EXEC_RESERVED for ch in text):
        quoted = text
    else:
        inner = "".join("\\" + ch if ch in _EXEC_QUOTED_ESCAPES else ch for ch in text)
        quoted = f'"{inner}"'
    return quoted.replace("\\", "\\\\")


def exec_line(command: Sequence[str]) -> str:
    """The ``Exec`` value running ``command``."""
    if not command:
        raise ValueError("empty command")
    if any("\n" in part or "\r" in part for part in command):
        raise ValueError("a desktop file's Exec line cannot hold a line break")
    return " ".join(quote_exec_argument(part) for part in command)


def desktop_entry(command: Sequence[str], *, autostart: bool) -> str:
    """A Desktop Entry for the app (the menu's launcher, or the login one with ``autostart``)."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        f"Name={APP_NAME}",
        "GenericName=Desktop assistant",
        "Comment=A private assistant that runs a small model on this computer",
        f"Exec={exec_line(command)}",
        f"Icon={ICON_NAME}",
        "Terminal=false",
        "Categories=Utility;",
        "StartupWMClass=callmemaybe",
    ]
    if autostart:
        lines += ["X-GNOME-Autostart-enabled=true", "NoDisplay=true"]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class XdgAutostart:
    """``$XDG_CONFIG_HOME/autostart/call-me-maybe.desktop`` (freedesktop Autostart spec)."""

    config_home: Path

    @property
    def path(self) -> Path:
        return self.config_home / "autostart" / DESKTOP_FILE

    @property
    def location(self) -> str:
        return str(self.path)

    def is_enabled(self) -> bool:
        """The file exists and neither ``Hidden=true`` nor a disabled GNOME flag turns it off."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except (FileNotFoundError, NotADirectoryError):
            return False
        except (OSError, UnicodeDecodeError) as exc:
            raise AutostartError(f"Cannot read {self.path}: {exc}") from exc
        keys = dict(
            line.split("=", 1) for line in text.splitlines() if "=" in line and line[0] != "#"
        )
        return (
            keys.get("Hidden", "false").strip() != "true"
            and keys.get("X-GNOME-Autostart-enabled", "true").strip() != "false"
        )

    def enable(self, command: Sequence[str]) -> None:
        _write_entry(self.path, desktop_entry(command, autostart=True).encode("utf-8"))

    def disable(self) -> None:
        _remove_entry(self.path)


def _write_entry(path: Path, data: bytes) -> None:
    """Write a login entry file atomically, creating its folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data, overwrite=True)
    except (OSError, ConnectorError) as exc:
        raise AutostartError(f"Cannot write {path}: {_reason(exc)}") from exc


def _remove_entry(path: Path) -> None:
    """Remove a login entry file (nothing to do when it is not there)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        raise AutostartError(f"Cannot remove {path}: {_reason(exc)}") from exc


# ---------------------------------------------------------------------------------------------
# macOS
# ---------------------------------------------------------------------------------------------


def launch_agent_plist(command: Sequence[str]) -> bytes:
    """A per-user LaunchAgent that runs ``command`` once at login (not kept alive)."""
    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": list(command),
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
            "LimitLoadToSessionType": "Aqua",
        }
    )


@dataclass(frozen=True)
class LaunchAgent:
    """``~/Library/LaunchAgents/app.callmemaybe.assistant.plist``; launchd reads it at login."""

    home: Path

    @property
    def path(self) -> Path:
        return self.home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"

    @property
    def location(self) -> str:
        return str(self.path)

    def is_enabled(self) -> bool:
        try:
            with self.path.open("rb") as handle:
                data = plistlib.load(handle)
        except (FileNotFoundError, NotADirectoryError):
            return False
        except (OSError, plistlib.InvalidFileException) as exc:
            raise AutostartError(f"Cannot read {self.path}: {exc}") from exc
        return bool(data.get("RunAtLoad")) and not data.get("Disabled", False)

    def enable(self, command: Sequence[str]) -> None:
        _write_entry(self.path, launch_agent_plist(command))

    def disable(self) -> None:
        _remove_entry(self.path)


# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------


def run_key_command(command: Sequence[str]) -> str:
    """The Run value: one command line, quoted the way Windows programs split it."""
    import subprocess

    return subprocess.list2cmdline(list(command))


@dataclass(frozen=True)
class RunKey:
    """The ``Call-Me-Maybe`` value under ``HKCU\\...\\CurrentVersion\\Run`` (Windows only)."""

    value_name: str = RUN_VALUE

    @property
    def location(self) -> str:
        return f"HKEY_CURRENT_USER\\{RUN_KEY}\\{self.value_name}"

    def is_enabled(self) -> bool:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.QueryValueEx(key, self.value_name)
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise AutostartError(f"Cannot read {self.location}: {exc}") from exc
        return True

    def enable(self, command: Sequence[str]) -> None:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        try:
            with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:
                winreg.SetValueEx(key, self.value_name, 0, winreg.REG_SZ, run_key_command(command))
        except OSError as exc:
            raise AutostartError(f"Cannot write {self.location}: {exc}") from exc

    def disable(self) -> None:
        import winreg  # type: ignore[import-not-found,unused-ignore]

        try:
            with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, self.value_name)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise AutostartError(f"Cannot remove {self.location}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# The running system
# ---------------------------------------------------------------------------------------------


def entry_for(platform: str | None = None) -> AutostartEntry:
    """The login entry of ``platform`` (default: this system) for the current user."""
    platform = platform or sys.platform
    if platform == "win32":
        return RunKey()
    if platform == "darwin":
        return LaunchAgent(Path.home())
    return XdgAutostart(xdg_config_home())


def sync(
    enabled: bool,
    entry: AutostartEntry | None = None,
    command: Sequence[str] | None = None,
) -> None:
    """Make the login entry match the setting: written (with this installation's command) when
    ``enabled``, removed otherwise.

    Rewriting an existing entry is deliberate: an app that moved (a new AppImage file, a
    reinstalled bundle) points the entry at where it is now.

    Raises:
        AutostartError: the entry cannot be written or removed.
    """
    entry = entry or entry_for()
    if enabled:
        entry.enable(list(command) if command is not None else launch_command())
    else:
        entry.disable()
