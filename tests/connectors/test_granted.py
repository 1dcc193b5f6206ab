"""A path the model writes reaches only regular files and folders inside the granted folders."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from connectors.errors import NotFoundError, PathRefusedError
from connectors.granted import resolve_granted
from connectors.tool import ToolContext


@pytest.fixture
def granted(tmp_path: Path) -> Path:
    folder = tmp_path / "granted"
    folder.mkdir()
    (folder / "docs").mkdir()
    (folder / "docs" / "a.txt").write_text("a")
    return folder


@pytest.fixture
def context(granted: Path) -> ToolContext:
    return ToolContext(granted_folders=(granted,))


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    return secret


def test_relative_path_is_inside_the_first_granted_folder(
    context: ToolContext, granted: Path
) -> None:
    assert resolve_granted(context, "docs/a.txt") == granted / "docs" / "a.txt"
    assert resolve_granted(context, "docs/../docs/a.txt") == granted / "docs" / "a.txt"
    assert resolve_granted(context, "", kind="dir") == granted


def test_tilde_is_expanded(tmp_path: Path, granted: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    context = ToolContext(granted_folders=(Path("~/granted"),))
    assert resolve_granted(context, "~/granted/docs/a.txt") == granted / "docs" / "a.txt"


def test_dot_dot_escape_is_refused(context: ToolContext, outside: Path) -> None:
    with pytest.raises(PathRefusedError, match=r"outside the folders you shared.*'\.\.'"):
        resolve_granted(context, "../secret.txt")
    with pytest.raises(PathRefusedError, match="outside"):
        resolve_granted(context, "docs/../../secret.txt", must_exist=False)


def test_absolute_path_outside_is_refused(context: ToolContext, outside: Path) -> None:
    with pytest.raises(PathRefusedError, match="callmemaybe folders add PATH"):
        resolve_granted(context, str(outside))
    with pytest.raises(PathRefusedError, match="outside"):
        resolve_granted(context, "/etc/passwd")


def test_symlink_from_inside_to_outside_is_refused(
    context: ToolContext, granted: Path, outside: Path
) -> None:
    (granted / "innocent.txt").symlink_to(outside)
    (granted / "door").symlink_to(outside.parent)
    with pytest.raises(PathRefusedError, match=f"link to {outside}"):
        resolve_granted(context, "innocent.txt")
    with pytest.raises(PathRefusedError, match="outside"):
        resolve_granted(context, "door/secret.txt")
    # A new file through a link to outside would be created outside: refused too.
    (granted / "dangling.txt").symlink_to(outside.parent / "new.txt")
    with pytest.raises(PathRefusedError, match="outside"):
        resolve_granted(context, "dangling.txt", must_exist=False)


def test_symlink_inside_granted_folder_resolves_to_its_target(
    context: ToolContext, granted: Path
) -> None:
    (granted / "shortcut").symlink_to(granted / "docs" / "a.txt")
    assert resolve_granted(context, "shortcut") == granted / "docs" / "a.txt"


def test_symlink_to_a_device_is_refused(context: ToolContext, granted: Path) -> None:
    (granted / "null").symlink_to("/dev/null")
    with pytest.raises(PathRefusedError):
        resolve_granted(context, "null")


def test_device_inside_a_granted_folder_is_refused() -> None:
    context = ToolContext(granted_folders=(Path("/dev"),))
    with pytest.raises(PathRefusedError, match="is a device"):
        resolve_granted(context, "/dev/null")
    with pytest.raises(PathRefusedError, match="is a device"):
        resolve_granted(context, "zero")


def test_fifo_is_refused(context: ToolContext, granted: Path) -> None:
    os.mkfifo(granted / "pipe")
    with pytest.raises(PathRefusedError, match="FIFO"):
        resolve_granted(context, "pipe")


def test_socket_is_refused(context: ToolContext, granted: Path) -> None:
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(granted / "sock"))
        with pytest.raises(PathRefusedError, match="socket"):
            resolve_granted(context, "sock")
    finally:
        server.close()


def test_no_granted_folder_says_how_to_grant_one() -> None:
    with pytest.raises(PathRefusedError, match="`callmemaybe folders add PATH`"):
        resolve_granted(ToolContext(), "a.txt")


def test_missing_path(context: ToolContext, granted: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        resolve_granted(context, "docs/missing.txt")
    assert resolve_granted(context, "docs/new.txt", must_exist=False) == granted / "docs/new.txt"


def test_kind_is_checked(context: ToolContext) -> None:
    with pytest.raises(PathRefusedError, match="is a folder, not a file"):
        resolve_granted(context, "docs", kind="file")
    with pytest.raises(PathRefusedError, match="is a file, not a folder"):
        resolve_granted(context, "docs/a.txt", kind="dir")


def test_granted_folder_itself_can_be_refused(
    tmp_path: Path, context: ToolContext, granted: Path
) -> None:
    with pytest.raises(PathRefusedError, match="a folder you shared itself"):
        resolve_granted(context, str(granted), allow_root=False)
    with pytest.raises(PathRefusedError, match="a folder you shared itself"):
        resolve_granted(context, "docs/..", allow_root=False)
    assert resolve_granted(context, "docs", allow_root=False) == granted / "docs"


def test_any_granted_folder_is_allowed_and_roots_are_resolved(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    (second / "b.txt").write_text("b")
    (tmp_path / "alias").symlink_to(second)
    context = ToolContext(granted_folders=(first, tmp_path / "alias"))
    assert resolve_granted(context, str(second / "b.txt")) == second / "b.txt"
    assert resolve_granted(context, str(tmp_path / "alias" / "b.txt")) == second / "b.txt"


def test_nul_character_is_refused(context: ToolContext) -> None:
    with pytest.raises(PathRefusedError, match="NUL"):
        resolve_granted(context, "a\0.txt")
