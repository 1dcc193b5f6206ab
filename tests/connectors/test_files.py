"""The file tools, run through the registry as the assistant runs them, on real files.

The system trash is redirected to a folder of the test (XDG_DATA_HOME and HOME on the same file
system as the files, so send2trash uses that home trash, never the real one nor a per-volume
``.Trash-UID``).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import connectors.files.trash as trash_module
from connectors.atomic import FileExistsRefusedError
from connectors.errors import (
    ApprovalRequiredError,
    ConnectorError,
    NotFoundError,
    PathRefusedError,
)
from connectors.files import register
from connectors.files.text import NotTextError
from connectors.files.tools import FIND_LIMIT, LIST_LIMIT
from connectors.registry import Registry
from connectors.tool import ToolContext, ToolResult

CHANGING = ("files_write", "files_move", "files_copy", "files_delete")


@pytest.fixture(autouse=True)
def trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home trash, inside this test's folder."""
    import send2trash
    from send2trash import plat_other

    if send2trash.send2trash is not plat_other.send2trash:  # GLib caches XDG paths itself
        pytest.skip("send2trash uses GIO here; its trash cannot be redirected per test")
    xdg = tmp_path / "xdg"
    home = tmp_path / "userhome"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    # send2trash reads XDG_DATA_HOME once, at import: point its copies at the test folder too.
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(xdg))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(xdg / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(xdg / "Trash"))
    assert os.stat(home).st_dev == os.stat(tmp_path).st_dev
    return xdg / "Trash"


@pytest.fixture
def granted(tmp_path: Path) -> Path:
    folder = tmp_path / "granted"
    folder.mkdir()
    return folder


@pytest.fixture
def context(tmp_path: Path, granted: Path) -> ToolContext:
    return ToolContext(
        granted_folders=(granted,), timezone=ZoneInfo("Europe/Paris"), data_dir=tmp_path / "home"
    )


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    register(registry)
    return registry


@pytest.fixture
def run(registry: Registry, context: ToolContext) -> Any:
    def call(name: str, **arguments: Any) -> ToolResult:
        return registry.run(name, arguments, context, approved=True)

    return call


def undo(registry: Registry, context: ToolContext, result: ToolResult) -> ToolResult:
    assert result.undo is not None
    return registry.run(result.undo.tool, result.undo.arguments, context, approved=True)


def snapshot(path: Path) -> tuple[bytes, int, int]:
    info = path.stat()
    return path.read_bytes(), info.st_mtime_ns, info.st_mode


def test_tools_offered_and_hidden(registry: Registry) -> None:
    offered = {t.name for t in registry.tools()}
    assert offered == {
        "files_list",
        "files_find",
        "files_read",
        "files_write",
        "files_move",
        "files_copy",
        "files_delete",
    }
    hidden = {t.name for t in registry.tools(include_hidden=True)} - offered
    assert hidden == {"files_undo_write", "files_undo_move", "files_restore"}


def test_changes_need_approval(registry: Registry, context: ToolContext, granted: Path) -> None:
    (granted / "a.txt").write_text("keep me")
    with pytest.raises(ApprovalRequiredError):
        registry.run("files_delete", {"path": "a.txt"}, context)
    assert (granted / "a.txt").read_text() == "keep me"


# --- list ------------------------------------------------------------------------------------


def test_list_shows_entries_with_size_kind_and_time(run: Any, granted: Path) -> None:
    (granted / "b.txt").write_text("12345")
    (granted / "Albums").mkdir()
    (granted / ".secret").write_text("x")
    (granted / "to-b").symlink_to(granted / "b.txt")
    changed = datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    os.utime(granted / "b.txt", (changed, changed))
    result = run("files_list")
    entries = {e["name"]: e for e in result.data["entries"]}
    assert set(entries) == {"Albums", "b.txt", "to-b"}
    assert entries["b.txt"] == {
        "name": "b.txt",
        "kind": "file",
        "size": 5,
        "modified": "2026-11-20T09:30+01:00",
    }
    assert entries["Albums"]["kind"] == "folder"
    assert entries["to-b"]["kind"] == "link"
    hidden = run("files_list", include_hidden=True)
    assert ".secret" in {e["name"] for e in hidden.data["entries"]}


def test_list_is_bounded(run: Any, granted: Path) -> None:
    for n in range(LIST_LIMIT + 7):
        (granted / f"f{n:04d}.txt").touch()
    result = run("files_list", path=str(granted))
    assert len(result.data["entries"]) == LIST_LIMIT
    assert result.data["more"] == 7


def test_list_of_several_granted_folders(registry: Registry, tmp_path: Path, granted: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    context = ToolContext(granted_folders=(granted, other))
    result = registry.run("files_list", {}, context)
    assert [e["name"] for e in result.data["entries"]] == [str(granted), str(other)]


def test_list_a_file_is_refused(run: Any, granted: Path) -> None:
    (granted / "a.txt").touch()
    with pytest.raises(PathRefusedError, match="not a folder"):
        run("files_list", path="a.txt")


# --- find ------------------------------------------------------------------------------------


@pytest.fixture
def tree(granted: Path) -> Path:
    for relative in (
        "Invoices/2025/invoice-march.pdf",
        "Invoices/2026/Invoice-april.PDF",
        "Invoices/notes.txt",
        "photos/cat.jpg",
        ".cache/invoice-hidden.pdf",
        "photos/.invoice-draft.pdf",
    ):
        (granted / relative).parent.mkdir(parents=True, exist_ok=True)
        (granted / relative).write_text(relative)
    return granted


def found(result: ToolResult, root: Path) -> list[str]:
    return [str(Path(m["path"]).relative_to(root)) for m in result.data["matches"]]


def test_find_by_glob_recursively_ignoring_case(run: Any, tree: Path) -> None:
    result = run("files_find", pattern="*.pdf")
    assert found(result, tree) == [
        "Invoices/2025/invoice-march.pdf",
        "Invoices/2026/Invoice-april.PDF",
    ]
    assert result.data["complete"] is True


def test_find_by_name_part_includes_folders(run: Any, tree: Path) -> None:
    result = run("files_find", pattern="INVOICE")
    assert found(result, tree) == [
        "Invoices",
        "Invoices/2025/invoice-march.pdf",
        "Invoices/2026/Invoice-april.PDF",
    ]
    assert result.data["matches"][0]["kind"] == "folder"


def test_find_hidden_only_when_asked(run: Any, tree: Path) -> None:
    result = run("files_find", pattern="*.pdf", include_hidden=True)
    assert set(found(result, tree)) == {
        "Invoices/2025/invoice-march.pdf",
        "Invoices/2026/Invoice-april.PDF",
        ".cache/invoice-hidden.pdf",
        "photos/.invoice-draft.pdf",
    }


def test_find_in_one_folder(run: Any, tree: Path) -> None:
    assert found(run("files_find", pattern="*", folder="photos"), tree) == ["photos/cat.jpg"]
    assert found(run("files_find", pattern="2026/*.pdf", folder="Invoices"), tree) == [
        "Invoices/2026/Invoice-april.PDF"
    ]


def test_find_is_bounded(run: Any, granted: Path) -> None:
    for n in range(FIND_LIMIT):
        (granted / f"match-{n:03d}.txt").touch()
    assert run("files_find", pattern="match").data["complete"] is True
    (granted / "match-last.txt").touch()
    result = run("files_find", pattern="match")
    assert len(result.data["matches"]) == FIND_LIMIT
    assert result.data["complete"] is False


def test_find_does_not_follow_links_outside(run: Any, tmp_path: Path, granted: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret-plan.txt").write_text("x")
    (granted / "door").symlink_to(outside)
    assert run("files_find", pattern="secret").data["matches"] == []
    assert run("files_find", pattern="door").data["matches"] == [
        {"path": str(granted / "door"), "kind": "link"}
    ]
    with pytest.raises(PathRefusedError):
        run("files_find", pattern="secret", folder="door")


# --- read ------------------------------------------------------------------------------------

FRENCH = (
    "Le café de la gare ouvre à sept heures. Nous avons mangé une crème brûlée délicieuse, "
    "puis nous sommes allés au musée. Ça a été une très belle journée.\n"
)


def test_read_utf8(run: Any, granted: Path) -> None:
    (granted / "todo.txt").write_text("• buy milk\n• call Zoë\n", encoding="utf-8")
    result = run("files_read", path="todo.txt")
    assert result.data["text"] == "• buy milk\n• call Zoë\n"
    assert result.data["truncated"] is False


def test_read_detects_latin1(run: Any, granted: Path) -> None:
    (granted / "lettre.txt").write_bytes(FRENCH.encode("latin-1"))
    assert run("files_read", path="lettre.txt").data["text"] == FRENCH


def test_read_detects_utf16(run: Any, granted: Path) -> None:
    (granted / "notepad.txt").write_bytes(FRENCH.encode("utf-16"))
    result = run("files_read", path="notepad.txt")
    assert result.data["text"] == FRENCH
    assert result.data["encoding"] == "utf_16"


def test_read_utf8_with_bom_drops_the_mark(run: Any, granted: Path) -> None:
    (granted / "bom.txt").write_bytes("\ufeffhéllo wörld, ça va?\n".encode())
    assert run("files_read", path="bom.txt").data["text"] == "héllo wörld, ça va?\n"


def test_read_is_limited_and_says_so(run: Any, granted: Path) -> None:
    text = "é" * 30_000
    (granted / "long.txt").write_text(text, encoding="utf-8")
    result = run("files_read", path="long.txt", max_chars=1000)
    assert result.data["text"] == "é" * 1000
    assert result.data["truncated"] is True
    whole = run("files_read", path="long.txt", max_chars=50_000)
    assert whole.data["text"] == text
    assert whole.data["truncated"] is False
    # The read stops inside a two-byte character: it is dropped, not garbled.
    (granted / "split.txt").write_text("aé" * 10_000, encoding="utf-8")
    assert run("files_read", path="split.txt", max_chars=1000).data["text"] == "aé" * 500
    (granted / "lettre.txt").write_bytes(FRENCH.encode("latin-1") * 50)
    cut = run("files_read", path="lettre.txt", max_chars=500)
    assert cut.data["text"] == (FRENCH * 50)[:500]
    assert cut.data["truncated"] is True


def test_read_refuses_binary(run: Any, granted: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(2000)
    (granted / "photo.png").write_bytes(png)
    with pytest.raises(NotTextError, match="binary file"):
        run("files_read", path="photo.png")
    (granted / "zeros.bin").write_bytes(b"abc\x00\x01\x02" * 200)
    with pytest.raises(NotTextError):
        run("files_read", path="zeros.bin")


def test_read_empty_file(run: Any, granted: Path) -> None:
    (granted / "empty.txt").touch()
    assert run("files_read", path="empty.txt").data["text"] == ""


@pytest.mark.parametrize("tool", ["files_read", "files_delete"])
def test_path_escapes_are_refused_by_the_tools(
    run: Any, tool: str, tmp_path: Path, granted: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (granted / "innocent.txt").symlink_to(secret)
    for path in ("../secret.txt", str(secret), "innocent.txt"):
        with pytest.raises(PathRefusedError):
            run(tool, path=path)
    assert secret.read_text() == "not yours"


def test_special_files_are_refused_by_the_tools(run: Any, granted: Path) -> None:
    os.mkfifo(granted / "pipe")
    (granted / "null").symlink_to("/dev/null")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(granted / "sock"))
        for name in ("pipe", "null", "sock"):
            with pytest.raises(PathRefusedError):
                run("files_read", path=name)
    finally:
        server.close()


def test_no_granted_folder(registry: Registry) -> None:
    with pytest.raises(PathRefusedError, match="callmemaybe folders add PATH"):
        registry.run("files_list", {}, ToolContext())


def test_write_outside_is_refused_and_creates_nothing(
    run: Any, tmp_path: Path, granted: Path
) -> None:
    with pytest.raises(PathRefusedError):
        run("files_write", path="../evil.txt", text="x")
    assert not (tmp_path / "evil.txt").exists()


# --- write -----------------------------------------------------------------------------------


def test_write_creates_a_file_exactly_as_given(run: Any, granted: Path) -> None:
    result = run("files_write", path="ideas.txt", text="  first idea\nsecond\n")
    assert (granted / "ideas.txt").read_text(encoding="utf-8") == "  first idea\nsecond\n"
    assert result.data["replaced"] is False
    assert "ideas.txt" in result.summary


def test_write_refuses_to_overwrite(run: Any, granted: Path) -> None:
    (granted / "ideas.txt").write_text("precious")
    with pytest.raises(FileExistsRefusedError, match="ask to overwrite"):
        run("files_write", path="ideas.txt", text="oops")
    assert (granted / "ideas.txt").read_text() == "precious"


def test_write_into_a_missing_folder_is_refused(run: Any, granted: Path) -> None:
    with pytest.raises(NotFoundError, match="does not exist"):
        run("files_write", path="nope/ideas.txt", text="x")
    assert not (granted / "nope").exists()


def test_undo_write_trashes_the_new_file(
    run: Any, registry: Registry, context: ToolContext, granted: Path, trash: Path
) -> None:
    result = run("files_write", path="ideas.txt", text="draft")
    undo(registry, context, result)
    assert not (granted / "ideas.txt").exists()
    assert (trash / "files" / "ideas.txt").read_text() == "draft"


def test_undo_write_leaves_a_file_edited_since(
    run: Any, registry: Registry, context: ToolContext, granted: Path
) -> None:
    result = run("files_write", path="ideas.txt", text="draft")
    (granted / "ideas.txt").write_text("draft, then my own edits")
    with pytest.raises(ConnectorError, match="changed after it was written"):
        undo(registry, context, result)
    assert (granted / "ideas.txt").read_text() == "draft, then my own edits"


def test_undo_overwrite_restores_the_previous_file_exactly(
    run: Any, registry: Registry, context: ToolContext, granted: Path, tmp_path: Path
) -> None:
    target = granted / "report.txt"
    target.write_text("version one")
    target.chmod(0o640)
    os.utime(target, (1_700_000_000, 1_700_000_000))
    before = snapshot(target)
    result = run("files_write", path="report.txt", text="version two", overwrite=True)
    assert target.read_text() == "version two"
    assert result.data["replaced"] is True
    undo(registry, context, result)
    assert snapshot(target) == before
    assert list((tmp_path / "home" / "undo").iterdir()) == []  # the kept copy is cleaned up


# --- move ------------------------------------------------------------------------------------


def test_move_renames_and_undo_moves_back(
    run: Any, registry: Registry, context: ToolContext, granted: Path
) -> None:
    (granted / "a.txt").write_text("content")
    os.utime(granted / "a.txt", (1_700_000_000, 1_700_000_000))
    before = snapshot(granted / "a.txt")
    result = run("files_move", source="a.txt", destination="b.txt")
    assert not (granted / "a.txt").exists()
    assert snapshot(granted / "b.txt") == before
    undo(registry, context, result)
    assert not (granted / "b.txt").exists()
    assert snapshot(granted / "a.txt") == before


def test_move_into_an_existing_folder(
    run: Any, registry: Registry, context: ToolContext, granted: Path
) -> None:
    (granted / "Archive").mkdir()
    (granted / "Projects" / "old").mkdir(parents=True)
    (granted / "Projects" / "old" / "plan.txt").write_text("plan")
    result = run("files_move", source="Projects/old", destination="Archive")
    assert (granted / "Archive" / "old" / "plan.txt").read_text() == "plan"
    assert result.data["to"] == str(granted / "Archive" / "old")
    undo(registry, context, result)
    assert (granted / "Projects" / "old" / "plan.txt").read_text() == "plan"
    assert list((granted / "Archive").iterdir()) == []


def test_move_refuses_to_overwrite(run: Any, granted: Path) -> None:
    (granted / "a.txt").write_text("a")
    (granted / "b.txt").write_text("b")
    with pytest.raises(FileExistsRefusedError, match="already exists"):
        run("files_move", source="a.txt", destination="b.txt")
    assert (granted / "a.txt").read_text() == "a"
    assert (granted / "b.txt").read_text() == "b"


def test_move_refuses_the_granted_folder_a_link_and_outside(
    run: Any, tmp_path: Path, granted: Path
) -> None:
    (granted / "a.txt").write_text("a")
    (granted / "link").symlink_to(granted / "a.txt")
    (granted / "sub").mkdir()
    with pytest.raises(PathRefusedError, match="folder you shared itself"):
        run("files_move", source=str(granted), destination=str(tmp_path / "x"))
    with pytest.raises(PathRefusedError, match="is a link"):
        run("files_move", source="link", destination="b.txt")
    with pytest.raises(PathRefusedError, match="outside"):
        run("files_move", source="a.txt", destination="../stolen.txt")
    with pytest.raises(PathRefusedError, match="inside itself"):
        run("files_move", source="sub", destination="sub/deeper")
    assert (granted / "a.txt").read_text() == "a"
    assert not (tmp_path / "stolen.txt").exists()


# --- copy ------------------------------------------------------------------------------------


def test_copy_and_undo_removes_the_copy(
    run: Any, registry: Registry, context: ToolContext, granted: Path
) -> None:
    (granted / "Backup").mkdir()
    (granted / "a.txt").write_text("content")
    result = run("files_copy", source="a.txt", destination="Backup")
    assert (granted / "Backup" / "a.txt").read_text() == "content"
    undo(registry, context, result)
    assert not (granted / "Backup" / "a.txt").exists()
    assert (granted / "a.txt").read_text() == "content"


def test_copy_refuses_to_overwrite(run: Any, granted: Path) -> None:
    (granted / "a.txt").write_text("a")
    (granted / "b.txt").write_text("b")
    with pytest.raises(FileExistsRefusedError):
        run("files_copy", source="a.txt", destination="b.txt")
    assert (granted / "b.txt").read_text() == "b"


def test_undo_copy_leaves_an_edited_copy(
    run: Any, registry: Registry, context: ToolContext, granted: Path
) -> None:
    (granted / "a.txt").write_text("a")
    result = run("files_copy", source="a.txt", destination="b.txt")
    (granted / "b.txt").write_text("edited")
    with pytest.raises(ConnectorError, match="changed"):
        undo(registry, context, result)
    assert (granted / "b.txt").read_text() == "edited"


# --- delete ----------------------------------------------------------------------------------


def test_delete_to_trash_and_undo_restores_exactly(
    run: Any, registry: Registry, context: ToolContext, granted: Path, trash: Path
) -> None:
    target = granted / "draft.txt"
    target.write_text("my draft")
    os.utime(target, (1_700_000_000, 1_700_000_000))
    before = snapshot(target)
    result = run("files_delete", path="draft.txt")
    assert not target.exists()
    assert (trash / "files" / "draft.txt").read_text() == "my draft"
    undo(registry, context, result)
    assert snapshot(target) == before
    assert list((trash / "files").iterdir()) == []
    assert list((trash / "info").iterdir()) == []


def test_undo_delete_takes_the_most_recent_of_same_named_files(
    run: Any, registry: Registry, context: ToolContext, granted: Path, trash: Path
) -> None:
    target = granted / "draft.txt"
    target.write_text("first")
    run("files_delete", path="draft.txt")
    target.write_text("second")
    result = run("files_delete", path="draft.txt")
    (granted / "other").mkdir()
    (granted / "other" / "draft.txt").write_text("unrelated")
    run("files_delete", path="other/draft.txt")
    undo(registry, context, result)
    assert target.read_text() == "second"
    assert sorted(p.read_text() for p in (trash / "files").iterdir()) == ["first", "unrelated"]


def test_delete_a_folder_and_restore_it(
    run: Any, registry: Registry, context: ToolContext, granted: Path
) -> None:
    (granted / "trip" / "day1").mkdir(parents=True)
    (granted / "trip" / "day1" / "notes.txt").write_text("sunny")
    result = run("files_delete", path="trip")
    assert not (granted / "trip").exists()
    undo(registry, context, result)
    assert (granted / "trip" / "day1" / "notes.txt").read_text() == "sunny"


def test_undo_delete_refuses_when_the_name_is_taken_again(
    run: Any, registry: Registry, context: ToolContext, granted: Path, trash: Path
) -> None:
    (granted / "a.txt").write_text("old")
    result = run("files_delete", path="a.txt")
    (granted / "a.txt").write_text("new")
    with pytest.raises(ConnectorError, match="exists again"):
        undo(registry, context, result)
    assert (granted / "a.txt").read_text() == "new"
    assert (trash / "files" / "a.txt").read_text() == "old"


def test_undo_delete_after_the_trash_was_emptied(
    run: Any, registry: Registry, context: ToolContext, granted: Path, trash: Path
) -> None:
    (granted / "a.txt").write_text("old")
    result = run("files_delete", path="a.txt")
    for sub in ("files", "info"):
        for item in (trash / sub).iterdir():
            item.unlink()
    with pytest.raises(NotFoundError, match="no longer in the trash"):
        undo(registry, context, result)


def test_delete_refuses_the_granted_folder_and_links(run: Any, granted: Path) -> None:
    (granted / "a.txt").write_text("a")
    (granted / "link").symlink_to(granted / "a.txt")
    with pytest.raises(PathRefusedError, match="folder you shared itself"):
        run("files_delete", path=str(granted))
    with pytest.raises(PathRefusedError, match="is a link"):
        run("files_delete", path="link")
    assert (granted / "a.txt").read_text() == "a"


def test_delete_where_the_trash_cannot_be_searched_keeps_a_copy(
    run: Any,
    registry: Registry,
    context: ToolContext,
    granted: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The macOS/Windows path: undo restores the copy kept under data_dir/undo."""
    monkeypatch.setattr(trash_module, "trash_is_searchable", lambda: False)
    target = granted / "draft.txt"
    target.write_text("my draft")
    os.utime(target, (1_700_000_000, 1_700_000_000))
    before = snapshot(target)
    result = run("files_delete", path="draft.txt")
    assert result.undo is not None and "kept" in result.undo.arguments
    assert not target.exists()
    undo(registry, context, result)
    assert snapshot(target) == before
    assert list((tmp_path / "home" / "undo").iterdir()) == []
