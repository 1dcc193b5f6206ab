"""Start at login: the XDG file written into a temporary ``XDG_CONFIG_HOME``, the LaunchAgent
plist, the Run key command line, and the setting that drives them (off by default).

The desktop files are checked by ``desktop-file-validate`` (freedesktop's own validator) when it
is installed (CI installs it), and their ``Exec`` line is parsed back with the spec's unquoting
rules, so a path with spaces, quotes, ``$`` or ``%`` starts the same program.
"""

from __future__ import annotations

import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import autostart
from app.autostart import (
    AutostartError,
    LaunchAgent,
    XdgAutostart,
    desktop_entry,
    exec_line,
    launch_command,
    sync,
)
from app.settings import Settings, load_settings, save_settings

AWKWARD_ARGS = [
    "/opt/Call Me Maybe/callmemaybe",
    'say "hi"',
    "cost $5 `now`",
    r"C:\back\slash",
    "100% sure",
    "plain",
    "",
]


def _unescape_string(value: str) -> str:
    """Desktop Entry string escapes: ``\\s \\n \\t \\r \\\\``."""
    out, i = [], 0
    table = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value) and value[i + 1] in table:
            out.append(table[value[i + 1]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _split_exec(value: str) -> list[str]:
    """Split an Exec value the way a launcher does (string escapes, then quoting, then %%)."""
    text = _unescape_string(value)
    args: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        current: list[str] = []
        if text[i] == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\":
                    i += 1
                current.append(text[i])
                i += 1
            i += 1
        else:
            while i < len(text) and text[i] != " ":
                current.append(text[i])
                i += 1
        args.append("".join(current).replace("%%", "%"))
    return args


def _keys(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


@pytest.fixture
def xdg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


def test_exec_line_round_trips_awkward_arguments() -> None:
    line = exec_line(AWKWARD_ARGS)
    assert _split_exec(line) == AWKWARD_ARGS
    assert exec_line(["/usr/bin/callmemaybe", "gui"]) == "/usr/bin/callmemaybe gui"


def test_exec_line_refuses_what_a_desktop_file_cannot_hold() -> None:
    with pytest.raises(ValueError):
        exec_line([])
    with pytest.raises(ValueError):
        exec_line(["/bin/app", "two\nlines"])


def test_sync_writes_the_xdg_file_into_xdg_config_home(xdg_home: Path) -> None:
    entry = autostart.entry_for("linux")
    assert isinstance(entry, XdgAutostart)
    assert entry.is_enabled() is False
    sync(True, entry)
    path = xdg_home / "autostart" / "call-me-maybe.desktop"
    assert entry.location == str(path)
    assert entry.is_enabled()
    keys = _keys(path)
    assert keys["Type"] == "Application"
    assert keys["X-GNOME-Autostart-enabled"] == "true"
    assert _split_exec(keys["Exec"]) == launch_command()
    assert launch_command() == [sys.executable, "-m", "app", "gui"]
    sync(False, entry)
    assert not path.exists()
    assert entry.is_enabled() is False
    sync(False, entry)  # removing what is not there is fine


def test_relative_xdg_config_home_is_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "relative/dir")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert autostart.xdg_config_home() == tmp_path / ".config"


def test_the_written_command_really_starts_this_python(xdg_home: Path, tmp_path: Path) -> None:
    """The Exec line, split as a launcher does, runs: here with ``--version`` for ``gui``."""
    sync(True, autostart.entry_for("linux"))
    argv = _split_exec(_keys(xdg_home / "autostart" / "call-me-maybe.desktop")["Exec"])
    assert argv[-1] == "gui"
    done = subprocess.run(
        [*argv[:-1], "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("callmemaybe ")


def test_a_user_disabled_entry_reads_as_off(xdg_home: Path) -> None:
    entry = XdgAutostart(xdg_home)
    sync(True, entry, ["/opt/cmm/callmemaybe", "gui"])
    text = entry.path.read_text(encoding="utf-8")
    entry.path.write_text(text + "Hidden=true\n", encoding="utf-8")
    assert entry.is_enabled() is False
    sync(True, entry, ["/opt/cmm/callmemaybe", "gui"])  # turning it on again rewrites it
    assert entry.is_enabled() is True


def test_frozen_app_writes_its_executable_or_its_appimage(
    xdg_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delenv("APPIMAGE", raising=False)
    assert launch_command() == [sys.executable, "gui"]
    monkeypatch.setenv("APPIMAGE", "/home/me/Apps/Call Me Maybe.AppImage")
    assert launch_command() == ["/home/me/Apps/Call Me Maybe.AppImage", "gui"]
    sync(True, XdgAutostart(xdg_home))
    argv = _split_exec(_keys(xdg_home / "autostart" / "call-me-maybe.desktop")["Exec"])
    assert argv == ["/home/me/Apps/Call Me Maybe.AppImage", "gui"]


def test_unwritable_config_home_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x", encoding="utf-8")
    entry = XdgAutostart(blocker)
    with pytest.raises(AutostartError, match="Cannot write"):
        entry.enable(["/bin/true"])
    assert entry.is_enabled() is False


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils")
@pytest.mark.parametrize("is_autostart", [True, False])
def test_desktop_files_pass_freedesktop_validation(tmp_path: Path, is_autostart: bool) -> None:
    path = tmp_path / "call-me-maybe.desktop"
    path.write_text(desktop_entry(AWKWARD_ARGS[:3], autostart=is_autostart), encoding="utf-8")
    done = subprocess.run(
        ["desktop-file-validate", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_launch_agent_plist(tmp_path: Path) -> None:
    agent = LaunchAgent(tmp_path)
    assert agent.is_enabled() is False
    command = ["/Applications/Call-Me-Maybe.app/Contents/MacOS/callmemaybe", "gui"]
    sync(True, agent, command)
    path = tmp_path / "Library" / "LaunchAgents" / "app.callmemaybe.assistant.plist"
    with path.open("rb") as handle:
        data = plistlib.load(handle)
    assert data["Label"] == "app.callmemaybe.assistant"
    assert data["ProgramArguments"] == command
    assert data["RunAtLoad"] is True and data["KeepAlive"] is False
    assert agent.is_enabled()
    sync(False, agent)
    assert not path.exists() and agent.is_enabled() is False


def test_run_key_command_line_quotes_spaces() -> None:
    line = autostart.run_key_command([r"C:\Program Files\Call-Me-Maybe\callmemaybe.exe", "gui"])
    assert line == r'"C:\Program Files\Call-Me-Maybe\callmemaybe.exe" gui'
    assert autostart.entry_for("win32").location.startswith("HKEY_CURRENT_USER\\Software\\")


@pytest.mark.skipif(sys.platform != "win32", reason="the Run key exists only on Windows")
def test_run_key_in_the_real_registry() -> None:  # pragma: no cover - Windows only
    entry = autostart.RunKey(value_name="Call-Me-Maybe-test")
    try:
        sync(True, entry, [sys.executable, "-m", "app", "gui"])
        assert entry.is_enabled()
    finally:
        sync(False, entry)
    assert entry.is_enabled() is False


def test_setting_is_off_by_default_and_saved() -> None:
    assert Settings().start_at_login is False
    save_settings(Settings(start_at_login=True))
    assert load_settings().start_at_login is True
