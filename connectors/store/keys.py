"""The database key: 256 random bits in the OS keyring, or derived from a passphrase.

The key never touches the disk in the clear. When no secure keyring is reachable (a headless
Linux session without Secret Service, say), the store is opened only with a passphrase the user
types (``CALLMEMAYBE_PASSPHRASE`` for scripts), stretched with scrypt and a per-store salt.
Plaintext keyrings (``keyrings.alt``) count as no keyring. Which source a store uses is recorded
beside it (``store.json``: source and salt, nothing secret), so a keyring appearing later does
not mint a new key for an old database.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.atomic import write_bytes_atomic
from connectors.errors import KeyringUnavailableError, StoreError

SERVICE = "call-me-maybe"
PASSPHRASE_ENV = "CALLMEMAYBE_PASSPHRASE"
LOCKED = (
    "the OS keyring is locked, so the database key cannot be read (nothing was changed): "
    "unlock it (log in to the desktop, or open Passwords and Keys) and try again"
)
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}


@dataclass(frozen=True)
class KeySource:
    """How a store's key is obtained: ``keyring`` or ``passphrase`` (with its salt)."""

    kind: str
    salt: bytes = b""


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


def read_source(database: Path) -> KeySource | None:
    """The recorded key source of ``database``, or ``None`` for a new store."""
    try:
        data = json.loads(_sidecar(database).read_text(encoding="utf-8"))
        return KeySource(data["source"], bytes.fromhex(data.get("salt", "")))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"{_sidecar(database)} is damaged ({exc}); restore it from a backup"
        ) from exc


def _write_source(database: Path, source: KeySource) -> None:
    path = _sidecar(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"source": source.kind, "salt": source.salt.hex()}
    write_bytes_atomic(path, json.dumps(record).encode("utf-8"), overwrite=True)


def database_key(database: Path, passphrase: str | None = None) -> bytes:
    """The 32-byte key of ``database``, created on first use.

    Args:
        passphrase: used when the store was created with one, or when no keyring exists
            (default: ``$CALLMEMAYBE_PASSPHRASE``).

    Raises:
        KeyringUnavailableError: no secure keyring and no passphrase.
        StoreError: the keyring refused, or the store's key record is missing from it.
    """
    import keyring.errors

    passphrase = passphrase if passphrase is not None else os.environ.get(PASSPHRASE_ENV)
    source = read_source(database)
    if source is None:
        backend = secure_keyring()
        if backend is None and not passphrase:
            raise KeyringUnavailableError(
                "no secure keyring is available to hold the database key (on Linux: start "
                "gnome-keyring or KWallet); to use a passphrase instead, set "
                f"{PASSPHRASE_ENV}. The key is never stored in a plain file."
            )
        if backend is None:
            source = KeySource("passphrase", secrets.token_bytes(16))
        else:
            key = secrets.token_bytes(32)
            try:
                backend.set_password(SERVICE, _account(database), key.hex())
            except keyring.errors.KeyringLocked as exc:
                raise KeyringUnavailableError(LOCKED) from exc
            except keyring.errors.KeyringError as exc:
                raise StoreError(f"the keyring refused to store the database key: {exc}") from exc
            _write_source(database, KeySource("keyring"))
            return key
        _write_source(database, source)
    if source.kind == "passphrase":
        if not passphrase:
            raise KeyringUnavailableError(
                f"this store is protected by a passphrase: set {PASSPHRASE_ENV} or enter it"
            )
        return hashlib.scrypt(passphrase.encode("utf-8"), salt=source.salt, **_SCRYPT)
    backend = secure_keyring()
    if backend is None:
        raise KeyringUnavailableError(
            "the database key is in the OS keyring, which is not available now; unlock or "
            "start it (on Linux: gnome-keyring or KWallet) and try again"
        )
    try:
        stored = backend.get_password(SERVICE, _account(database))
    except keyring.errors.KeyringLocked as exc:
        raise KeyringUnavailableError(LOCKED) from exc
    except keyring.errors.KeyringError as exc:
        raise StoreError(f"the keyring refused to give the database key: {exc}") from exc
    if not stored:
        raise StoreError(
            f"the key of {database} is missing from the keyring: the database cannot be opened "
            "without it (restore the keyring, or move the database away to start afresh)"
        )
    return bytes.fromhex(stored)
