"""The database key: 256 random bits in the OS keyring, or derived from a passphrase.

The key never touches the disk in the clear. When no secure keyring is reachable (a headless
Linux session without Secret Service, say), the store is opened only with a passphrase the user
types (``CALLMEMAYBE_PASSPHRASE`` for scripts, a prompt in the terminal, a dialog in the
window), stretched with scrypt. Plaintext keyrings (``keyrings.alt``) count as no keyring.

Which source a store uses is recorded beside it (``store.json``: source, salt and scrypt
parameters, nothing secret), so a keyring appearing later does not mint a new key for an old
database. Losing that small file must not lose the data, so:

* nothing is ever created (no key, no salt) while ``store.db`` (or its write-ahead log) holds
  data: without ``store.json`` the key is looked up in the keyring, or derived from the
  passphrase with the salt the database file itself holds, and the record is written again
  once the key has opened the store;
* a passphrase store's scrypt salt is SQLCipher's own per-file salt (the first 16 bytes of the
  file, which SQLCipher keeps in the clear): it is chosen when the store is made and passed
  with the key (``x'<key><salt>'``), so the database carries what its passphrase needs; the
  parameters are recorded, and a store whose record is lost is tried with the current ones;
* an entry already in the keyring is reused, never overwritten (a second front end, or a
  store made again after its file was moved away, gets the key the keyring holds);
* first creation runs under a file lock (``store.lock``), so two front ends starting a fresh
  store at the same moment make one key, not two.

Stores made before the salt moved into the file (scrypt N=2^14, salt only in ``store.json``)
still open with their recorded parameters.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from connectors.atomic import write_bytes_atomic
from connectors.errors import KeyringUnavailableError, StoreError

SERVICE = "call-me-maybe"
PASSPHRASE_ENV = "CALLMEMAYBE_PASSPHRASE"
LOCKED = (
    "the OS keyring is locked, so the database key cannot be read (nothing was changed): "
    "unlock it (log in to the desktop, or open Passwords and Keys) and try again"
)
SALT_BYTES = 16
"""SQLCipher's per-file salt: the first 16 bytes of the database file, kept in the clear."""
LOCK_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Scrypt:
    """scrypt parameters (recorded per store, so raising them never locks out an old store)."""

    n: int
    r: int = 8
    p: int = 1

    def derive(self, passphrase: str, salt: bytes) -> bytes:
        """The 32-byte key (``maxmem`` sized to the parameters: 128 * r * n bytes and a margin)."""
        return _derive(passphrase, salt, self.n, self.r, self.p)

    def to_dict(self) -> dict[str, Any]:
        return {"name": "scrypt", "n": self.n, "r": self.r, "p": self.p}


SCRYPT = Scrypt(n=2**17)
"""New stores: OWASP's scrypt guidance (N=2^17, r=8, p=1; 128 MiB and about 0.3 s per open)."""
LEGACY_SCRYPT = Scrypt(n=2**14)
"""Stores made before 2026-12-06, whose record has no parameters."""


@functools.lru_cache(maxsize=8)
def _derive(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # Cached: one process opens its store more than once (a window and its worker threads);
    # the key is in this process's memory while the store is open anyway.
    return hashlib.scrypt(
        passphrase.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=160 * r * n, dklen=32
    )


@dataclass(frozen=True)
class KeySource:
    """How a store's key is obtained.

    Attributes:
        kind: ``keyring`` or ``passphrase``.
        salt: a passphrase store's scrypt salt.
        in_file: the salt is the database file's own (SQLCipher's header); else it lives only
            in ``store.json`` (stores made before 2026-12-06).
        kdf: the scrypt parameters.
    """

    kind: str
    salt: bytes = b""
    in_file: bool = False
    kdf: Scrypt = field(default=LEGACY_SCRYPT)


@dataclass(frozen=True)
class StoreKey:
    """What opens a store: the raw key, and the salt SQLCipher must use for a new file.

    Attributes:
        key: 32 bytes.
        salt: for a passphrase store whose salt lives in the file: passed with the key
            (``x'<key><salt>'``) so that a new file gets exactly this salt.
        record: the source to write to ``store.json`` once this key has opened the store
            (``None`` when the record on disk is already right).
    """

    key: bytes
    salt: bytes | None = None
    record: KeySource | None = None


def secure_keyring() -> Any | None:
    """The OS keyring backend, or ``None`` when there is none that keeps secrets safe."""
    import keyring
    from keyring.backends import chainer, fail

    def secure(backend: Any) -> bool:
        if isinstance(backend, fail.Keyring):
            return False
        if isinstance(backend, chainer.ChainerBackend):
            return any(secure(b) for b in backend.backends)
        return not type(backend).__module__.startswith("keyrings.alt")

    backend = keyring.get_keyring()
    return backend if secure(backend) else None


def _account(database: Path) -> str:
    return f"database:{database.resolve()}"


def _sidecar(database: Path) -> Path:
    return database.with_name(database.stem + ".json")


def _lock_path(database: Path) -> Path:
    return database.with_name(database.stem + ".lock")


def read_source(database: Path) -> KeySource | None:
    """The recorded key source of ``database``, or ``None`` when there is no record."""
    try:
        data = json.loads(_sidecar(database).read_text(encoding="utf-8"))
        kdf = data.get("kdf")
        return KeySource(
            data["source"],
            bytes.fromhex(data.get("salt", "")),
            in_file=data.get("salt_in") == "database",
            kdf=Scrypt(int(kdf["n"]), int(kdf["r"]), int(kdf["p"])) if kdf else LEGACY_SCRYPT,
        )
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StoreError(
            f"{_sidecar(database)} is damaged ({exc}); restore it from a backup, or move it "
            "away: the store opens without it (with the keyring or the passphrase)"
        ) from exc


def write_source(database: Path, source: KeySource) -> None:
    """Record ``source`` in ``store.json`` (atomically; nothing secret)."""
    path = _sidecar(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    record: dict[str, Any] = {"source": source.kind}
    if source.kind == "passphrase":
        record["salt"] = source.salt.hex()
        if source.in_file:
            record["salt_in"] = "database"
        if source.kdf != LEGACY_SCRYPT or source.in_file:
            record["kdf"] = source.kdf.to_dict()
    write_bytes_atomic(path, json.dumps(record).encode("utf-8"), overwrite=True)


def holds_data(database: Path) -> bool:
    """Whether the database file, or its write-ahead log, holds anything (then nothing may be
    created for it: a new key or salt would replace the one its data needs)."""
    for path in (database, database.with_name(database.name + "-wal")):
        try:
            if path.stat().st_size > 0:
                return True
        except FileNotFoundError:
            continue
    return False


def file_salt(database: Path) -> bytes | None:
    """The salt SQLCipher keeps at the start of ``database``, or ``None`` where it has none.

    A store killed before its first checkpoint has an empty main file and its first page in
    the write-ahead log: the salt is then read from the log's newest copy of page 1.
    """
    try:
        with database.open("rb") as file:
            head = file.read(SALT_BYTES)
        if len(head) == SALT_BYTES:
            return head
    except FileNotFoundError:
        pass
    return _wal_salt(database.with_name(database.name + "-wal"))


def _wal_salt(wal: Path) -> bytes | None:
    try:
        data = wal.read_bytes()
    except FileNotFoundError:
        return None
    if len(data) < 32:
        return None
    page_size = struct.unpack(">I", data[8:12])[0]
    salt = None
    offset = 32
    while offset + 24 + SALT_BYTES <= len(data):  # frames: 24-byte header, then one page
        if struct.unpack(">I", data[offset : offset + 4])[0] == 1:
            salt = data[offset + 24 : offset + 24 + SALT_BYTES]
        offset += 24 + page_size
    return salt


@contextmanager
def creation_lock(database: Path) -> Iterator[None]:
    """Held while a store's key or salt may be made, by any process (``store.lock``)."""
    from filelock import FileLock, Timeout

    database.parent.mkdir(parents=True, exist_ok=True)
    try:
        with FileLock(str(_lock_path(database)), timeout=LOCK_TIMEOUT_S):
            yield
    except Timeout as exc:
        raise StoreError(
            f"another Call-Me-Maybe window or command has been setting up the store for over "
            f"{LOCK_TIMEOUT_S:.0f} s; nothing was changed. Try again when it has finished"
        ) from exc


PassphraseNeed = Literal["create", "open"]


def passphrase_needed(database: Path) -> PassphraseNeed | None:
    """Whether opening ``database`` needs a passphrase the user must type.

    For front ends, before they open the store: ``"create"`` (a new store with no keyring:
    ask twice, it cannot be recovered), ``"open"`` (the store is protected by a passphrase,
    or its record is lost and the keyring holds no key for it), ``None`` (the keyring holds or
    will hold the key).
    """
    source = read_source(database)
    if source is not None:
        return "open" if source.kind == "passphrase" else None
    backend = secure_keyring()
    if not holds_data(database):
        return "create" if backend is None else None
    if backend is not None and _stored_key(backend, database) is not None:
        return None
    return "open"


def database_key(database: Path, passphrase: str | None = None) -> bytes:
    """The 32-byte key of ``database`` (see :func:`store_key`, which also gives the salt)."""
    return store_key(database, passphrase).key


def store_key(database: Path, passphrase: str | None = None) -> StoreKey:
    """The key of ``database``, created on first use (under :func:`creation_lock`).

    Args:
        passphrase: used when the store was created with one, or when no keyring exists
            (default: ``$CALLMEMAYBE_PASSPHRASE``).

    Raises:
        KeyringUnavailableError: no secure keyring and no passphrase.
        StoreError: the keyring refused, or the store's key is in neither the keyring nor
            a record.
    """
    passphrase = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_ENV)
    source = read_source(database)
    if source is not None and (source.kind == "passphrase" or holds_data(database)):
        return _key_for(database, source, passphrase)
    with creation_lock(database):
        source = read_source(database)  # another process may have made it meanwhile
        if holds_data(database):
            if source is not None:
                return _key_for(database, source, passphrase)
            return _recover(database, passphrase)
        if source is not None and source.kind == "passphrase":
            return _key_for(database, source, passphrase)
        # No data yet (a keyring record without a database is a store moved away to start
        # afresh): make the key, or take the one the keyring already holds.
        return _create(database, passphrase)


def _key_for(database: Path, source: KeySource, passphrase: str | None) -> StoreKey:
    if source.kind != "passphrase":
        return StoreKey(_keyring_key(database))
    if not passphrase:
        raise KeyringUnavailableError(
            f"this store is protected by a passphrase: set {PASSPHRASE_ENV} or enter it"
        )
    if not source.in_file:
        return StoreKey(source.kdf.derive(passphrase, source.salt))
    salt = file_salt(database) or source.salt
    return StoreKey(source.kdf.derive(passphrase, salt), salt)


def _recover(database: Path, passphrase: str | None) -> StoreKey:
    """The key of a store whose record is gone: from the keyring, or the passphrase and the
    file's own salt. Nothing is created; the record is written once the key has opened it."""
    backend = secure_keyring()
    if backend is not None:
        stored = _stored_key(backend, database)
        if stored is not None:
            return StoreKey(stored, record=KeySource("keyring"))
    salt = file_salt(database)
    if passphrase and salt is not None:
        source = KeySource("passphrase", salt, in_file=True, kdf=SCRYPT)
        return StoreKey(SCRYPT.derive(passphrase, salt), salt, record=source)
    raise KeyringUnavailableError(
        f"{_sidecar(database).name}, which says where the key of {database} is, is missing, and "
        f"the keyring holds no key for it; nothing was created or changed. If the store is "
        f"protected by a passphrase, set {PASSPHRASE_ENV} or enter it; otherwise restore the "
        "keyring (or the file) from a backup"
    )


def _create(database: Path, passphrase: str | None) -> StoreKey:
    """A new store's key: the keyring's (an entry already there is reused, never
    overwritten), or the passphrase's with a new salt that becomes the file's own."""
    import keyring.errors

    backend = secure_keyring()
    if backend is None:
        if not passphrase:
            raise KeyringUnavailableError(
                "no secure keyring is available to hold the database key (on Linux: start "
                "gnome-keyring or KWallet); to use a passphrase instead, set "
                f"{PASSPHRASE_ENV} or enter it. The key is never stored in a plain file."
            )
        salt = secrets.token_bytes(SALT_BYTES)
        source = KeySource("passphrase", salt, in_file=True, kdf=SCRYPT)
        write_source(database, source)
        return StoreKey(SCRYPT.derive(passphrase, salt), salt)
    key = _stored_key(backend, database)
    if key is None:
        key = secrets.token_bytes(32)
        try:
            backend.set_password(SERVICE, _account(database), key.hex())
        except keyring.errors.KeyringLocked as exc:
            raise KeyringUnavailableError(LOCKED) from exc
        except keyring.errors.KeyringError as exc:
            raise StoreError(f"the keyring refused to store the database key: {exc}") from exc
    write_source(database, KeySource("keyring"))
    return StoreKey(key)


def _stored_key(backend: Any, database: Path) -> bytes | None:
    """The key the keyring holds for ``database``, or ``None``."""
    import keyring.errors

    try:
        stored = backend.get_password(SERVICE, _account(database))
    except keyring.errors.KeyringLocked as exc:
        raise KeyringUnavailableError(LOCKED) from exc
    except keyring.errors.KeyringError as exc:
        raise StoreError(f"the keyring refused to give the database key: {exc}") from exc
    if not stored:
        return None
    try:
        key = bytes.fromhex(stored)
    except ValueError as exc:
        raise StoreError(f"the keyring's entry for {database} is not a database key") from exc
    if len(key) != 32:
        raise StoreError(f"the keyring's entry for {database} is not a database key")
    return key


def _keyring_key(database: Path) -> bytes:
    backend = secure_keyring()
    if backend is None:
        raise KeyringUnavailableError(
            "the database key is in the OS keyring, which is not available now; unlock or "
            "start it (on Linux: gnome-keyring or KWallet) and try again"
        )
    stored = _stored_key(backend, database)
    if stored is None:
        raise StoreError(
            f"the key of {database} is missing from the keyring: the database cannot be opened "
            "without it (restore the keyring, or move the database away to start afresh)"
        )
    return stored
