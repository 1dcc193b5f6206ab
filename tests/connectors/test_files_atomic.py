"""Atomic writes and copies: a reader sees the old file or the new one, never a broken one."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from connectors.atomic import FileExistsRefusedError, copy_file_atomic, write_bytes_atomic
from connectors.errors import ConnectorError

REPO = Path(__file__).resolve().parents[2]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".partial"))


def test_write_creates_the_file(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    write_bytes_atomic(target, b"hello\n")
    assert target.read_bytes() == b"hello\n"
    assert leftovers(tmp_path) == []


def test_write_refuses_to_overwrite_by_default(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_bytes(b"precious")
    with pytest.raises(FileExistsRefusedError, match="already exists"):
        write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []


def test_write_refuses_to_replace_a_link(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "nowhere")
    with pytest.raises(FileExistsRefusedError):
        write_bytes_atomic(tmp_path / "link", b"x")
    assert not (tmp_path / "nowhere").exists()


def test_overwrite_replaces_and_keeps_permissions(tmp_path: Path) -> None:
    target = tmp_path / "a.sh"
    target.write_bytes(b"old")
    target.chmod(0o750)
    write_bytes_atomic(target, b"new", overwrite=True)
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o750
    assert leftovers(tmp_path) == []


def test_copy_keeps_content_and_times_and_returns_the_hash(tmp_path: Path) -> None:
    source = tmp_path / "src.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 7))
    os.utime(source, (1_600_000_000, 1_600_000_000))
    digest = copy_file_atomic(source, tmp_path / "dst.bin")
    copied = (tmp_path / "dst.bin").read_bytes()
    assert copied == source.read_bytes()
    assert digest == hashlib.sha256(copied).hexdigest()
    assert (tmp_path / "dst.bin").stat().st_mtime == 1_600_000_000
    with pytest.raises(FileExistsRefusedError):
        copy_file_atomic(source, tmp_path / "dst.bin")
    with pytest.raises(ConnectorError, match=r"could not read .*missing\.bin"):
        copy_file_atomic(tmp_path / "missing.bin", tmp_path / "other.bin")
    assert not (tmp_path / "other.bin").exists()
    assert leftovers(tmp_path) == []


_FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from connectors.atomic import copy_file_atomic, write_bytes_atomic
from connectors.errors import DiskFullError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # so the kernel answers EFBIG instead of killing
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))
mode, target = sys.argv[1], Path(sys.argv[2])
try:
    if mode == "tool":
        from connectors.files import register
        from connectors.registry import Registry
        from connectors.tool import ToolContext
        registry = Registry()
        register(registry)
        context = ToolContext(granted_folders=(target.parent,), data_dir=Path(sys.argv[3]))
        arguments = {"path": target.name, "text": "x" * 100_000, "overwrite": True}
        registry.run("files_write", arguments, context, approved=True)
    elif mode == "copy":
        copy_file_atomic(Path(sys.argv[3]), target)
    else:
        write_bytes_atomic(target, b"x" * 100_000, overwrite=(mode == "overwrite"))
except DiskFullError as exc:
    print(exc)
    sys.exit(3)
"""


def run_with_file_size_limit(*args: str) -> subprocess.CompletedProcess[str]:
    """Run a write in a child whose files may not exceed 4 KiB: the OS answers EFBIG."""
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FULL_DISK), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_full_disk_while_writing_a_new_file_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "big.txt"
    done = run_with_file_size_limit("new", str(target))
    assert done.returncode == 3, done.stderr
    assert "disk is full" in done.stdout
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_full_disk_while_overwriting_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "big.txt"
    target.write_bytes(b"the old content")
    done = run_with_file_size_limit("overwrite", str(target))
    assert done.returncode == 3, done.stderr
    assert target.read_bytes() == b"the old content"
    assert [p.name for p in tmp_path.iterdir()] == ["big.txt"]


def test_full_disk_while_copying_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(50_000))
    done = run_with_file_size_limit("copy", str(tmp_path / "copy.bin"), str(source))
    assert done.returncode == 3, done.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["source.bin"]


def test_full_disk_while_the_write_tool_overwrites_changes_nothing(tmp_path: Path) -> None:
    granted, data = tmp_path / "granted", tmp_path / "data"
    granted.mkdir()
    target = granted / "report.txt"
    target.write_text("version one")
    done = run_with_file_size_limit("tool", str(target), str(data))
    assert done.returncode == 3, done.stderr
    assert target.read_text() == "version one"
    assert [p.name for p in granted.iterdir()] == ["report.txt"]
    assert list((data / "undo").iterdir()) == []  # the copy kept for undo is gone too
