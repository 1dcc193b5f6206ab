"""The data folder is the user's only, and the plain undo copies in it do not stay for ever.

Permissions are checked under the common umask 022, with which a folder is created 0755 and a
file 0644 (readable by every account on the machine) unless the app says otherwise.
"""

from __future__ import annotations

import os
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from app.paths import data_dir
from app.settings import Settings, save_settings, settings_path
from connectors.errors import NotFoundError
from connectors.files.ops import KEEP_DAYS, UNDO_DIR, prune_kept
from connectors.registry import load_registry
from connectors.store.database import open_store
from connectors.tool import ToolContext

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def common_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_the_data_folder_is_made_and_kept_private(_isolated_home: Path) -> None:
    _isolated_home.mkdir(mode=0o755, parents=True, exist_ok=True)
    os.chmod(_isolated_home, 0o755)  # as an older version left it
    assert data_dir() == _isolated_home
    assert mode(_isolated_home) == 0o700


def test_settings_are_written_for_the_user_only(_isolated_home: Path) -> None:
    save_settings(Settings())
    assert mode(settings_path()) == 0o600
    os.chmod(settings_path(), 0o644)  # an older version's file
    save_settings(Settings())
    assert mode(settings_path()) == 0o600


def test_the_store_and_its_companion_files_are_for_the_user_only(tmp_path: Path) -> None:
    folder = tmp_path / "store"
    folder.mkdir(mode=0o755)
    os.chmod(folder, 0o755)
    store = open_store(folder, key=secrets.token_bytes(32))
    try:
        with store.transaction() as session:  # a write, so the -wal and -shm files exist
            session.execute(text("CREATE TABLE permissions_probe (x INTEGER)"))
        files = sorted(p.name for p in folder.iterdir())
        assert "store.db" in files and "store.db-wal" in files, files
        assert mode(folder) == 0o700
        assert {name: mode(folder / name) for name in files} == dict.fromkeys(files, 0o600)
    finally:
        store.close()


def test_undo_copies_are_private_and_expire(tool_context: ToolContext) -> None:
    registry = load_registry()
    granted = tool_context.granted_folders[0]
    (granted / "plan.txt").write_text("the old plan")
    written = registry.run(
        "files_write",
        {"path": "plan.txt", "text": "the new plan", "overwrite": True},
        tool_context,
        approved=True,
    )
    assert written.undo is not None
    assert tool_context.data_dir is not None
    undo = tool_context.data_dir / UNDO_DIR
    (kept,) = list(undo.iterdir())
    assert mode(undo) == 0o700 and mode(kept) == 0o700

    assert prune_kept(tool_context) == 0  # a fresh copy stays
    old = time.time() - (KEEP_DAYS + 1) * 86400
    os.utime(kept, (old, old))
    assert prune_kept(tool_context) == 1
    assert not kept.exists()
    with pytest.raises(NotFoundError, match=f"kept {KEEP_DAYS} days"):
        registry.run(written.undo.tool, written.undo.arguments, tool_context, approved=True)
    assert (granted / "plan.txt").read_text() == "the new plan"
