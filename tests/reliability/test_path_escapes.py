"""Paths: generated escape attempts against every tool that takes a path; zero escapes.

Each attempt is a path the model might write to get out of the granted folder: ``..`` in many
disguises, absolute paths, ``~``, links planted inside the folder (to a file, to a folder, in
chains, in loops, to devices), FIFOs and sockets, look-alike Unicode dots and slashes, NUL
bytes, names too long for the file system. Every one is given to every path argument of every
file tool (and of the calendar's import and export), approved, as the registry runs them after
a "yes". An escape is anything read from outside (a secret's text, an outside file's name in a
result) or anything outside changed; a refusal must be a :class:`ConnectorError`, a sentence.

Links can also change while a tool runs (a symlink race): a thread keeps swapping a folder
inside the granted one for a link to outside while the tools read, write and move through it.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from connectors.errors import ConnectorError
from connectors.registry import Registry, load_registry
from connectors.store.database import Store
from connectors.tool import ToolContext

SECRET = "TOP-SECRET-" + "7f3a9c"
OUTSIDE_NAME = "outside-only-name"
PATH_ARGUMENTS = {
    "files_list": ["path"],
    "files_find": ["folder"],
    "files_read": ["path"],
    "files_write": ["path"],
    "files_move": ["source", "destination"],
    "files_copy": ["source", "destination"],
    "files_delete": ["path"],
    "files_undo_write": ["path"],
    "files_undo_move": ["path", "back_to"],
    "files_restore": ["path"],
    "calendar_import": ["path"],
    "calendar_export": ["path"],
}


@pytest.fixture(autouse=True)
def trash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The home trash inside this test's folder.

    Deleting goes by name in a checked folder descriptor (connectors.files.freedesktop_trash),
    never through send2trash's path-based call (nor GIO's, where it is installed): a call to
    it here fails the test, so nothing is skipped whichever send2trash backend is present.
    """
    import connectors.files.trash

    def path_based(path: object) -> None:
        raise AssertionError(f"send2trash was called with a path: {path}")

    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.setattr(connectors.files.trash, "send2trash", path_based)
    return xdg / "Trash"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """What must stay out of reach: a folder beside the granted one, with a secret."""
    folder = tmp_path / "outside"
    (folder / "deeper").mkdir(parents=True)
    (folder / "secret.txt").write_text(f"{SECRET} the user's private text\n")
    (folder / "deeper" / "secret.ics").write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nDTSTART:20270101T100000Z\r\n"
        f"SUMMARY:{SECRET}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (folder / f"{OUTSIDE_NAME}.txt").write_text(SECRET)
    return folder


@pytest.fixture
def granted(tmp_path: Path, outside: Path) -> Path:
    """The granted folder, with links planted in it as a hostile download might."""
    folder = tmp_path / "granted"
    (folder / "sub" / "deep").mkdir(parents=True)
    (folder / "victim.txt").write_text("an ordinary file\n")
    (folder / "sub" / "inner.txt").write_text("inside\n")
    links = {
        "link_out": outside,
        "file_link": outside / "secret.txt",
        "abs_link": outside / "secret.txt",
        "chain1": folder / "chain2",
        "chain2": outside / "secret.txt",
        "sub/up": Path(".."),
        "sub/deep/escape": Path("../../../outside"),
        "loop": folder / "loop",
        "devlink": Path("/dev/zero"),
        "rootlink": Path("/"),
        "proclink": Path("/proc/self/root"),
        "dangling_out": outside / "not-yet.txt",
    }
    for name, target in links.items():
        os.symlink(target, folder / name)
    os.mkfifo(folder / "fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "sock"))
    server.close()
    return folder


@pytest.fixture
def context(store: Store, tmp_path: Path, granted: Path) -> ToolContext:
    return ToolContext(
        open_store=lambda: store,
        granted_folders=(granted,),
        timezone=ZoneInfo("Europe/Paris"),
        data_dir=tmp_path / "home",
    )


def attempts(outside: Path) -> list[str]:
    """The escape attempts: at least a hundred, each a path the model could write."""
    o = str(outside)
    dots = ["..", "../..", "../../..", "./..", "sub/../..", "sub/deep/../../..", "sub/../../"]
    found = [f"{d}/outside/secret.txt" for d in dots] + [f"{d}/outside" for d in dots]
    found += [
        "..",
        "../",
        "../granted/../outside/secret.txt",
        "....//outside/secret.txt",
        "..\\outside\\secret.txt",
        "..%2foutside%2fsecret.txt",
        "%2e%2e/outside/secret.txt",
        "sub/" * 10 + "../" * 12 + "outside/secret.txt",
        "../" * 40 + "etc/passwd",
        "./" * 50 + "../outside/secret.txt",
        "sub//..//..//outside//secret.txt",
        " ../outside/secret.txt",
        "../outside/secret.txt ",
        "\t../outside/secret.txt\n",
        # absolute and home-relative
        o,
        f"{o}/secret.txt",
        f"{o}/deeper/secret.ics",
        f"{o}/{OUTSIDE_NAME}.txt",
        f"{o}/new-file.txt",
        f"//{o}/secret.txt",
        f"{o}/./secret.txt",
        f"{o}/deeper/../secret.txt",
        "/",
        "/etc",
        "/etc/passwd",
        "/etc/shadow",
        "/root",
        "/tmp",
        "/proc/self/environ",
        "/proc/self/root/etc/passwd",
        "/proc/self/cwd",
        "/proc/self/fd/0",
        "/sys/kernel",
        "~",
        "~/.ssh/id_rsa",
        "~/.bashrc",
        "~root/.bashrc",
        "~/../../etc/passwd",
        "$HOME/.bashrc",
        "file:///etc/passwd",
        "C:\\Windows\\System32\\config\\SAM",
        "\\\\server\\share\\file",
        # links planted inside
        "link_out",
        "link_out/secret.txt",
        "link_out/deeper",
        "link_out/deeper/secret.ics",
        f"link_out/{OUTSIDE_NAME}.txt",
        "file_link",
        "abs_link",
        "chain1",
        "chain2",
        "sub/up/../outside/secret.txt",
        "sub/up/sub/up/../outside",
        "sub/deep/escape",
        "sub/deep/escape/secret.txt",
        "loop",
        "loop/x",
        "dangling_out",
        "rootlink/etc/passwd",
        "rootlink",
        "proclink/etc/passwd",
        # devices, FIFOs, sockets
        "devlink",
        "fifo",
        "sock",
        "/dev/zero",
        "/dev/null",
        "/dev/random",
        "/dev/stdin",
        "/dev/tty",
        "/dev/sda",
        "/dev/shm",
        # case and Unicode look-alikes
        "../OUTSIDE/secret.txt",
        "../Outside/Secret.TXT",
        "\u2024\u2024/outside/secret.txt",  # one dot leaders
        "\uff0e\uff0e/outside/secret.txt",  # fullwidth full stops
        "..\u2215outside\u2215secret.txt",  # division slash
        "..\u2044outside\u2044secret.txt",  # fraction slash
        "..\uff0foutside\uff0fsecret.txt",  # fullwidth solidus
        "..\u200b/outside/secret.txt",  # zero width space
        ".\u0307./outside/secret.txt",  # combining dot
        "\u202e../outside/secret.txt",  # right-to-left override
        "..\u00a0/outside/secret.txt",  # no-break space
        "\u2025/outside/secret.txt",  # two dot leader
        "\ufe52\ufe52/outside/secret.txt",  # small full stops
        "o\u0301utside/../../outside/secret.txt",
        "../outsid\u0435/secret.txt",  # Cyrillic e
        "../outside/secret.txt\u0000.png",
        "\x00../outside",
        "..\x00/outside",
        # very long names
        "a" * 300,
        "a" * 255 + "/../../outside/secret.txt",
        "sub/" + "é" * 200,
        "/".join(["d"] * 2500),
        "../" * 2000 + "outside/secret.txt",
        "x" * 5000,
        "\u00e9" * 128 + ".txt",
        "🦀" * 100,
    ]
    assert len(found) >= 100 and len(set(found)) == len(found)
    return found


def _tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder`` (links not followed) with a digest of what it is."""
    seen: dict[str, str] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            info = path.lstat()
            digest = f"{info.st_mode:o}"
            if path.is_file() and not path.is_symlink():
                digest += hashlib.sha256(path.read_bytes()).hexdigest()
            elif path.is_symlink():
                digest += os.readlink(path)
            seen[str(path.relative_to(folder))] = digest
    return seen


def _arguments(tool: str, argument: str, attempt: str) -> dict[str, Any]:
    """A call in which only ``argument`` is hostile; the others name ordinary files."""
    base: dict[str, dict[str, Any]] = {
        "files_list": {},
        "files_find": {"pattern": "secret"},
        "files_read": {},
        "files_write": {"text": "written by the model", "overwrite": True},
        "files_move": {"source": "victim.txt", "destination": "sub/moved.txt"},
        "files_copy": {"source": "victim.txt", "destination": "sub/copied.txt"},
        "files_delete": {},
        "files_undo_write": {"sha256": "0" * 64},
        "files_undo_move": {"path": "victim.txt", "back_to": "sub/back.txt"},
        "files_restore": {},
        "calendar_import": {},
        "calendar_export": {},
    }
    return {**base[tool], argument: attempt}


def _outcomes(
    registry: Registry, context: ToolContext, outside: Path, granted: Path
) -> Iterator[tuple[str, str, str, str]]:
    for tool, arguments in PATH_ARGUMENTS.items():
        for argument in arguments:
            for attempt in attempts(outside):
                if not (granted / "victim.txt").exists():
                    (granted / "victim.txt").write_text("an ordinary file\n")
                try:
                    result = registry.run(
                        tool, _arguments(tool, argument, attempt), context, approved=True
                    )
                except ConnectorError as exc:
                    yield tool, argument, attempt, "refused: " + str(exc)
                else:
                    yield tool, argument, attempt, json.dumps(result.to_dict(), default=str)


def test_no_generated_path_escapes_any_tool(
    context: ToolContext, outside: Path, granted: Path, tmp_path: Path
) -> None:
    registry = load_registry()
    before = _tree(outside)
    calls = refused = 0
    for tool, argument, attempt, shown in _outcomes(registry, context, outside, granted):
        calls += 1
        refused += shown.startswith("refused")
        where = f"{tool}({argument}={attempt[:60]!r})"
        assert SECRET not in shown, f"{where} read the secret: {shown[:300]}"
        assert OUTSIDE_NAME not in shown or attempt.count(OUTSIDE_NAME), where
        if not shown.startswith("refused"):
            assert str(outside) not in shown, f"{where} reached outside: {shown[:300]}"
        assert _tree(outside) == before, f"{where} changed something outside"
    leftovers = {p.name for p in tmp_path.iterdir()}
    assert leftovers <= {"granted", "outside", "store", "xdg", "home"}, leftovers
    print(f"\npath escapes: attempts={len(attempts(outside))} calls={calls} refused={refused}")
    assert calls >= 100 * len(PATH_ARGUMENTS)


def test_a_link_planted_after_approval_is_refused_when_the_action_runs(
    context: ToolContext, outside: Path, granted: Path
) -> None:
    """The preview the user approved showed an ordinary folder; by the time the action runs,
    something swapped it for a link to outside. The tool checks again and refuses."""
    from app.actions import Actions
    from app.records import ActionState

    actions = Actions(load_registry(), context)
    pending = [
        actions.propose("files_write", {"path": "sub/deep/new.txt", "text": "x"}),
        actions.propose("files_move", {"source": "victim.txt", "destination": "sub/deep"}),
    ]
    (granted / "sub" / "deep").rename(granted / "sub" / "deep-real")
    os.symlink(outside / "deeper", granted / "sub" / "deep")
    before = _tree(outside)
    for action in pending:
        done = actions.approve(action.id)
        assert done.state is ActionState.FAILED, done
        assert "outside the folders you shared" in (done.error or "")
    assert _tree(outside) == before


_FLIP = """
import os, sys, time
flip, real, link, stop = sys.argv[1:]
swaps = 0
while not os.path.exists(stop):
    try:
        os.rename(flip, real)  # the folder steps aside
        os.rename(link, flip)  # and the link takes its name
        time.sleep(0.0005)
        os.rename(flip, link)
        os.rename(real, flip)
        time.sleep(0.0005)
        swaps += 1
    except OSError:
        pass
print(swaps)
"""


class _Flipper:
    """Another process swapping ``granted/flip`` between a real folder and a link to outside
    (a process, not a thread, so that it truly runs between a tool's check and its use)."""

    def __init__(self, granted: Path, outside: Path) -> None:
        self.flip = granted / "flip"
        real = granted / ".flip-real"
        link = granted / ".flip-link"
        self.stop = granted.parent / "stop-flipping"
        real.mkdir()
        (real / "inner.txt").write_text("inside\n")
        os.symlink(outside, link)
        os.rename(real, self.flip)
        self.argv = [sys.executable, "-c", _FLIP, str(self.flip), str(real), str(link)]
        self.argv.append(str(self.stop))
        self.swaps = 0

    def __enter__(self) -> _Flipper:
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.touch()
        out, _ = self.process.communicate(timeout=30)
        self.swaps = int(out.strip() or 0)


RACE_CALLS = 300


def test_a_symlink_race_never_reads_or_writes_outside(
    context: ToolContext, outside: Path, granted: Path
) -> None:
    registry = load_registry()
    (outside / "inner.txt").write_text(SECRET)
    for i in range(RACE_CALLS):  # what a delete or a restore through the link would touch
        (outside / f"d{i}.txt").write_text(SECRET)
    before = _tree(outside)
    ran = 0
    with _Flipper(granted, outside) as flipper:
        for i in range(RACE_CALLS):
            calls = [
                ("files_read", {"path": "flip/inner.txt"}),
                ("files_list", {"path": "flip"}),
                ("files_find", {"folder": "flip", "pattern": "*"}),
                ("files_write", {"path": f"flip/w{i}.txt", "text": "model text"}),
                ("files_copy", {"source": "victim.txt", "destination": f"flip/c{i}.txt"}),
                ("files_move", {"source": f"flip/w{i}.txt", "destination": "sub"}),
                ("files_write", {"path": f"flip/d{i}.txt", "text": "to delete"}),
                ("files_delete", {"path": f"flip/d{i}.txt"}),
            ]
            for name, arguments in calls:
                try:
                    result = registry.run(name, arguments, context, approved=True)
                    if name == "files_delete" and result.undo is not None:
                        registry.run(
                            result.undo.tool, result.undo.arguments, context, approved=True
                        )
                    shown = json.dumps(result.to_dict(), default=str)
                    ran += 1
                except ConnectorError as exc:
                    shown = str(exc)
                assert SECRET not in shown, f"{name} {arguments} read outside: {shown[:200]}"
                assert OUTSIDE_NAME not in shown, f"{name} {arguments} listed outside"
    print(f"\nsymlink race: calls={RACE_CALLS * 8} ran={ran} swaps={flipper.swaps}")
    assert flipper.swaps > RACE_CALLS
    assert ran > RACE_CALLS // 10, "the tools also worked between the swaps"
    assert _tree(outside) == before, "something was written outside during the race"


# ---------------------------------------------------------------------------------------------
# The same swap made at the worst moment on purpose, for each operation that works by path
# ---------------------------------------------------------------------------------------------


def _swap_for_link(folder: Path, target: Path) -> None:
    """``folder`` steps aside (its content kept) and a link to ``target`` takes its name."""
    folder.rename(folder.with_name(folder.name + "-real"))
    os.symlink(target, folder)


@pytest.fixture
def box(granted: Path, outside: Path) -> Path:
    """``granted/box`` holding a file and a folder; ``outside/box`` holding the same names."""
    for root in (granted, outside):
        (root / "box" / "folder").mkdir(parents=True)
        (root / "box" / "victim.txt").write_text(f"{root.name} victim\n")
        (root / "box" / "folder" / "inner.txt").write_text(f"{root.name} inner {SECRET}\n")
    return granted / "box"


def test_a_delete_whose_folder_is_swapped_after_the_check_trashes_nothing_outside(
    context: ToolContext, outside: Path, box: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import connectors.files.tools as tools

    checked = tools._existing_target

    def check_then_swap(context: ToolContext, text: str) -> Path:
        path = checked(context, text)
        _swap_for_link(box, outside / "box")
        return path

    monkeypatch.setattr(tools, "_existing_target", check_then_swap)
    before = _tree(outside)
    with pytest.raises(ConnectorError):  # "changed while it was being opened", or the like
        load_registry().run("files_delete", {"path": "box/victim.txt"}, context, approved=True)
    assert _tree(outside) == before
    assert (box.with_name("box-real") / "victim.txt").exists(), "nothing inside was trashed"


def test_an_undone_delete_never_restores_through_a_link_planted_since(
    context: ToolContext,
    outside: Path,
    box: Path,
    trash: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import connectors.files.tools as tools

    registry = load_registry()
    deleted = registry.run("files_delete", {"path": "box/victim.txt"}, context, approved=True)
    assert deleted.undo is not None
    assert not (box / "victim.txt").exists()
    (outside / "box" / "victim.txt").unlink()  # the name is free on both sides
    checked_restore = tools.restore

    def swap_then_restore(*args: Any) -> None:  # the path was checked; now box becomes a link
        _swap_for_link(box, outside / "box")
        checked_restore(*args)

    monkeypatch.setattr(tools, "restore", swap_then_restore)
    before = _tree(outside)
    with pytest.raises(ConnectorError):
        registry.run(deleted.undo.tool, deleted.undo.arguments, context, approved=True)
    assert _tree(outside) == before
    assert any((trash / "files").iterdir()), "the trashed file stays in the trash"


def test_a_move_across_disks_removes_only_the_folder_it_copied(
    context: ToolContext,
    outside: Path,
    box: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Moving a folder to another disk copies it, then removes the original. If its parent
    is swapped for a link between the two, removing "the original" by path would delete the
    folder of the same name outside."""
    import errno
    import shutil
    import tempfile

    import connectors.files.ops as ops

    other_disk = Path(tempfile.mkdtemp(dir="/dev/shm")) if os.path.isdir("/dev/shm") else None
    crossing = [False]
    if other_disk is None or other_disk.stat().st_dev == box.stat().st_dev:
        # No second file system here: renames answer as they do across disks until the copy.
        other_disk = other_disk or tmp_path / "other-disk"
        other_disk.mkdir(exist_ok=True)
        crossing[0] = True
        real_exclusive, real_rename = ops.rename_exclusive, os.rename

        def exclusive(*args: Any, **kwargs: Any) -> bool:
            if crossing[0]:
                raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
            return real_exclusive(*args, **kwargs)

        def rename(*args: Any, **kwargs: Any) -> None:
            if crossing[0]:
                raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))
            real_rename(*args, **kwargs)

        monkeypatch.setattr(ops, "rename_exclusive", exclusive)
        monkeypatch.setattr(os, "rename", rename)
    try:
        real_copytree = shutil.copytree

        def copy_then_swap(*args: Any, **kwargs: Any) -> Any:
            done = real_copytree(*args, **kwargs)
            crossing[0] = False
            _swap_for_link(box, outside / "box")  # between the copy and the removal
            return done

        monkeypatch.setattr(shutil, "copytree", copy_then_swap)
        wider = ToolContext(
            open_store=context.open_store,
            granted_folders=(*context.granted_folders, other_disk),
            timezone=context.timezone,
            data_dir=context.data_dir,
        )
        before = _tree(outside)
        load_registry().run(
            "files_move",
            {"source": "box/folder", "destination": str(other_disk / "moved")},
            wider,
            approved=True,
        )
        assert _tree(outside) == before, "the folder outside was removed"
        assert (outside / "box" / "folder" / "inner.txt").exists()
        assert (other_disk / "moved" / "inner.txt").read_text().startswith("granted inner")
        assert not (box.with_name("box-real") / "folder").exists(), "the original was removed"
    finally:
        shutil.rmtree(other_disk, ignore_errors=True)


def test_a_search_never_lists_a_folder_swapped_for_a_link_while_it_runs(
    context: ToolContext, outside: Path, box: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fnmatch

    (outside / "box" / f"{OUTSIDE_NAME}-found.txt").write_text(SECRET)
    real_match = fnmatch.fnmatchcase
    swapped: list[bool] = []

    def match_then_swap(name: str, pattern: str) -> bool:
        if not swapped:  # the root is listed, box is queued: now box becomes a link
            _swap_for_link(box, outside / "box")
            swapped.append(True)
        return real_match(name, pattern)

    monkeypatch.setattr(fnmatch, "fnmatchcase", match_then_swap)
    found = load_registry().run("files_find", {"pattern": "*"}, context, approved=True)
    shown = json.dumps(found.to_dict())
    assert swapped and OUTSIDE_NAME not in shown and SECRET not in shown, shown
