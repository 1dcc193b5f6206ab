"""The private store: encrypted on disk, its key in the keyring, clear errors, atomic writes."""

from __future__ import annotations

import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import text

from connectors.errors import DiskFullError, KeyringUnavailableError, StoreError, WrongKeyError
from connectors.store.database import DATABASE_NAME, open_store, schema_revision
from connectors.store.keys import PASSPHRASE_ENV, SERVICE

MARKER = "PLAINTEXT-MARKER-4F2A"


def _write_marker(directory: Path, key: bytes | None = None) -> None:
    store = open_store(directory, key=key)
    try:
        with store.transaction() as session:
            session.execute(
                text("INSERT INTO store_info (key, value) VALUES ('probe', :v)"), {"v": MARKER}
            )
    finally:
        store.close()


def _read_marker(directory: Path, key: bytes | None = None) -> str | None:
    store = open_store(directory, key=key)
    try:
        with store.reading() as session:
            return session.execute(
                text("SELECT value FROM store_info WHERE key = 'probe'")
            ).scalar()
    finally:
        store.close()


def test_database_file_holds_no_plaintext(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    _write_marker(tmp_path, key)
    files = [p for p in tmp_path.iterdir() if p.name.startswith(DATABASE_NAME)]
    assert files, "the database file was not created"
    for path in files:  # the main file and any WAL/SHM left behind
        data = path.read_bytes()
        assert MARKER.encode() not in data
        assert b"SQLite format 3" not in data
        assert b"store_info" not in data
    assert _read_marker(tmp_path, key) == MARKER


def test_wrong_key_is_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    _write_marker(tmp_path, key)
    before = (tmp_path / DATABASE_NAME).read_bytes()
    with pytest.raises(WrongKeyError, match="cannot be opened with this key"):
        open_store(tmp_path, key=secrets.token_bytes(32))
    assert (tmp_path / DATABASE_NAME).read_bytes() == before
    assert _read_marker(tmp_path, key) == MARKER


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    (tmp_path / DATABASE_NAME).write_bytes(b"this is a shopping list, not a database\n" * 200)
    with pytest.raises(StoreError, match="cannot be opened"):
        open_store(tmp_path, key=secrets.token_bytes(32))


def test_schema_is_migrated_to_the_newest_revision(store) -> None:  # type: ignore[no-untyped-def]
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from connectors.store.database import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert schema_revision(store) == head


def test_key_is_created_in_the_keyring_and_reused(tmp_path: Path, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    _write_marker(tmp_path)
    stored = [k for k in memory_keyring.secrets if k[0] == SERVICE]
    assert len(stored) == 1
    assert len(bytes.fromhex(memory_keyring.secrets[stored[0]])) == 32
    assert _read_marker(tmp_path) == MARKER  # opened again with the same key from the keyring
    sidecar = (tmp_path / "store.json").read_text()
    assert memory_keyring.secrets[stored[0]] not in sidecar  # only the source is recorded


def test_key_missing_from_keyring_is_a_clear_error(tmp_path: Path, memory_keyring) -> None:  # type: ignore[no-untyped-def]
    _write_marker(tmp_path)
    memory_keyring.secrets.clear()
    with pytest.raises(StoreError, match="missing from the keyring"):
        open_store(tmp_path)


def test_no_keyring_asks_for_a_passphrase_and_writes_no_key_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
        with pytest.raises(KeyringUnavailableError, match=PASSPHRASE_ENV):
            open_store(tmp_path)
        assert not (tmp_path / DATABASE_NAME).exists()

        monkeypatch.setenv(PASSPHRASE_ENV, "correct horse battery staple")
        _write_marker(tmp_path)
        assert _read_marker(tmp_path) == MARKER
        for path in tmp_path.iterdir():
            assert b"correct horse" not in path.read_bytes()

        monkeypatch.setenv(PASSPHRASE_ENV, "wrong horse")
        with pytest.raises(WrongKeyError):
            open_store(tmp_path)
    finally:
        keyring.set_keyring(previous)


def test_plaintext_keyrings_do_not_count_as_a_keyring(memory_keyring) -> None:  # type: ignore[no-untyped-def]
    import keyring

    from connectors.store.keys import secure_keyring

    assert secure_keyring() is memory_keyring
    plaintext = type(
        "PlaintextKeyring", (type(memory_keyring),), {"__module__": "keyrings.alt.file"}
    )
    keyring.set_keyring(plaintext())
    assert secure_keyring() is None


def test_a_failed_transaction_writes_nothing(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuntimeError), store.transaction() as session:
        session.execute(text("INSERT INTO store_info (key, value) VALUES ('half', 'x')"))
        raise RuntimeError("the tool failed after its first write")
    with store.reading() as session:
        assert (
            session.execute(text("SELECT count(*) FROM store_info WHERE key='half'")).scalar() == 0
        )


def test_full_disk_is_reported_and_keeps_earlier_data(tmp_path: Path) -> None:
    """A real write limit (RLIMIT_FSIZE) makes the OS refuse to grow the file, like a full disk."""
    key = secrets.token_bytes(32)
    _write_marker(tmp_path, key)
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from sqlalchemy import text
        from connectors.errors import DiskFullError
        from connectors.store.database import open_store
        store = open_store(Path({str(tmp_path)!r}), key=bytes.fromhex({key.hex()!r}))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        size = sum(p.stat().st_size for p in Path({str(tmp_path)!r}).iterdir())
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 8192, size + 8192))
        try:
            with store.transaction() as session:
                for i in range(2000):
                    session.execute(
                        text("INSERT INTO store_info (key, value) VALUES (:k, :v)"),
                        {{"k": f"bulk{{i}}", "v": "x" * 4000}},
                    )
        except DiskFullError as exc:
            print("FULL:", exc)
            sys.exit(0)
        sys.exit(3)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "nothing was saved" in done.stdout
    assert _read_marker(tmp_path, key) == MARKER
    store = open_store(tmp_path, key=key)
    try:
        with store.reading() as session:
            bulk = session.execute(
                text("SELECT count(*) FROM store_info WHERE key LIKE 'bulk%'")
            ).scalar()
        assert bulk == 0  # all or nothing
    finally:
        store.close()
    assert DiskFullError.__mro__[1] is StoreError
