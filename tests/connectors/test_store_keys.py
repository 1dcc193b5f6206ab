"""The store's key survives the loss of its small record file, and is never made twice.

``store.json`` says where a store's key is (keyring or passphrase) and holds no secret. A backup
that restored only ``store.db``, a cleaning tool, or two front ends starting at once used to
make a new key (overwriting the keyring's) or a new salt, after which the data could never be
opened again. These tests lose the record, or race the creation, and then read the data back.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import secrets
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.errors import KeyringUnavailableError, WrongKeyError
from connectors.store.database import DATABASE_NAME, open_store
from connectors.store.keys import (
    PASSPHRASE_ENV,
    SCRYPT,
    SERVICE,
    creation_lock,
    passphrase_needed,
    read_source,
)

MARKER = "data written before the record was lost"
PASSPHRASE = "correct horse battery staple"


def _write(directory: Path, **open_args: object) -> None:
    store = open_store(directory, **open_args)  # type: ignore[arg-type]
    try:
        with store.transaction() as session:
            session.execute(
                text("INSERT INTO store_info (key, value) VALUES ('probe', :v)"), {"v": MARKER}
            )
    finally:
        store.close()


def _read(directory: Path, **open_args: object) -> str | None:
    store = open_store(directory, **open_args)  # type: ignore[arg-type]
    try:
        with store.reading() as session:
            return session.execute(
                text("SELECT value FROM store_info WHERE key = 'probe'")
            ).scalar()
    finally:
        store.close()


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    yield
    keyring.set_keyring(previous)


def test_keyring_store_opens_after_its_record_is_lost_and_the_key_is_kept(
    tmp_path: Path, memory_keyring
) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path)
    entry = next(k for k in memory_keyring.secrets if k[0] == SERVICE)
    key = memory_keyring.secrets[entry]
    (tmp_path / "store.json").unlink()

    assert _read(tmp_path) == MARKER
    assert memory_keyring.secrets[entry] == key  # never replaced by a new key
    assert read_source(tmp_path / DATABASE_NAME).kind == "keyring"  # the record is back


def test_passphrase_store_opens_after_its_record_is_lost(tmp_path: Path, no_keyring) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, passphrase=PASSPHRASE)
    (tmp_path / "store.json").unlink()

    assert _read(tmp_path, passphrase=PASSPHRASE) == MARKER
    source = read_source(tmp_path / DATABASE_NAME)
    assert source is not None and source.kind == "passphrase" and source.kdf == SCRYPT


def test_without_its_record_a_wrong_passphrase_creates_nothing(tmp_path: Path, no_keyring) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path, passphrase=PASSPHRASE)
    (tmp_path / "store.json").unlink()
    before = (tmp_path / DATABASE_NAME).read_bytes()

    with pytest.raises(KeyringUnavailableError, match=r"store\.json.*missing"):
        open_store(tmp_path)  # no passphrase at all
    with pytest.raises(WrongKeyError, match="Nothing was changed"):
        open_store(tmp_path, passphrase="wrong horse")
    assert not (tmp_path / "store.json").exists()  # no record pointing anywhere new
    assert (tmp_path / DATABASE_NAME).read_bytes() == before
    assert _read(tmp_path, passphrase=PASSPHRASE) == MARKER  # the right one still works


def test_a_keyring_entry_already_there_is_reused_not_overwritten(
    tmp_path: Path, memory_keyring
) -> None:  # type: ignore[no-untyped-def]
    _write(tmp_path)
    entry = next(k for k in memory_keyring.secrets if k[0] == SERVICE)
    key = memory_keyring.secrets[entry]
    # The database and its record are restored from a backup taken before they existed
    # (both gone), then the app starts again: it must not replace the keyring's key.
    moved = tmp_path.parent / "moved-away"
    moved.mkdir()
    for path in list(tmp_path.iterdir()):
        path.rename(moved / path.name)

    open_store(tmp_path).close()
    assert memory_keyring.secrets[entry] == key
    for path in list(moved.iterdir()):  # the old database comes back: its key still works
        target = tmp_path / path.name
        target.unlink(missing_ok=True)
        path.rename(target)
    assert _read(tmp_path) == MARKER


def test_new_passphrase_stores_use_current_scrypt_and_old_ones_still_open(
    tmp_path: Path, no_keyring
) -> None:  # type: ignore[no-untyped-def]
    new = tmp_path / "new"
    _write(new, passphrase=PASSPHRASE)
    record = json.loads((new / "store.json").read_text())
    assert record["kdf"] == {"name": "scrypt", "n": 2**17, "r": 8, "p": 1}
    assert PASSPHRASE not in (new / "store.json").read_text()

    # A store made before: scrypt N=2^14, its salt only in a record without parameters.
    old = tmp_path / "old"
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(PASSPHRASE.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    _write(old, key=key)
    (old / "store.json").write_text(json.dumps({"source": "passphrase", "salt": salt.hex()}))
    assert _read(old, passphrase=PASSPHRASE) == MARKER


def test_the_front_end_is_told_when_to_ask_for_a_passphrase(tmp_path: Path, no_keyring) -> None:  # type: ignore[no-untyped-def]
    database = tmp_path / DATABASE_NAME
    assert passphrase_needed(database) == "create"
    _write(tmp_path, passphrase=PASSPHRASE)
    assert passphrase_needed(database) == "open"
    (tmp_path / "store.json").unlink()
    assert passphrase_needed(database) == "open"  # lost record: ask, never create


def _open_in_child(directory: str, passphrase: str) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    open_store(Path(directory), passphrase=passphrase).close()


def test_first_creation_waits_for_the_creation_lock(tmp_path: Path, no_keyring) -> None:  # type: ignore[no-untyped-def]
    """Two front ends starting a fresh store at once: the second waits for the first's
    record instead of making its own salt (which would leave one of them unable to open)."""
    context = multiprocessing.get_context("spawn")
    with creation_lock(tmp_path / DATABASE_NAME):
        child = context.Process(target=_open_in_child, args=(str(tmp_path), PASSPHRASE))
        child.start()
        time.sleep(3.0)  # ample time to start and make a salt, were it not waiting
        assert child.is_alive()
        assert not (tmp_path / "store.json").exists()
    child.join(60)
    assert child.exitcode == 0
    _write(tmp_path, passphrase=PASSPHRASE)  # this process uses the child's salt
    assert _read(tmp_path, passphrase=PASSPHRASE) == MARKER
