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
    """The home trash inside this test's folder (see tests/connectors/test_files.py)."""
    import send2trash
    from send2trash import plat_other

    if send2trash.send2trash is not plat_other.send2trash:
        pytest.skip("send2trash uses GIO here; its trash cannot be redirected per test")
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_DATA_HOME", str(xdg))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(xdg))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(xdg / "Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(xdg / "Trash"))
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
    before = _tree(outside)
    ran = 0
    with _Flipper(granted, outside) as flipper:
        for i in range(RACE_CALLS):
            calls = [
                ("files_read", {"path": "flip/inner.txt"}),
                ("files_list", {"path": "flip"}),
                ("files_write", {"path": f"flip/w{i}.txt", "text": "model text"}),
                ("files_copy", {"source": "victim.txt", "destination": f"flip/c{i}.txt"}),
                ("files_move", {"source": f"flip/w{i}.txt", "destination": "sub"}),
            ]
            for name, arguments in calls:
                try:
                    shown = json.dumps(
                        registry.run(name, arguments, context, approved=True).to_dict(),
                        default=str,
                    )
                    ran += 1
                except ConnectorError as exc:
                    shown = str(exc)
                assert SECRET not in shown, f"{name} {arguments} read outside: {shown[:200]}"
    print(f"\nsymlink race: calls={RACE_CALLS * 5} ran={ran} swaps={flipper.swaps}")
    assert flipper.swaps > RACE_CALLS
    assert ran > RACE_CALLS // 10, "the tools also worked between the swaps"
    assert _tree(outside) == before, "something was written outside during the race"
