"""Opening the encrypted database: key, engine, migrations, and writes that are all or nothing.

SQLCipher through ``sqlcipher3`` and SQLAlchemy's ``sqlite+pysqlcipher`` dialect, with the raw
256-bit key passed as ``x'<hex>'`` (no key derivation on every open). The schema is brought to
the newest Alembic revision on open, so an older store is migrated before first use. WAL mode
lets the GUI read while the CLI writes.

Transactions are begun by this module, not by the driver: pysqlite's own ``BEGIN`` comes only
before the first write, so the reads of a read-modify-write (append to a note) ran outside any
transaction and two processes appending at once lost one side's text. Every
:meth:`Store.transaction` starts with ``BEGIN IMMEDIATE`` (it takes the write lock first, so its
reads are the latest and no one else writes until it commits; another writer waits up to
``BUSY_TIMEOUT_MS``), and every :meth:`Store.reading` with a plain ``BEGIN`` (one consistent
snapshot).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import DiskFullError, StoreError, WrongKeyError
from connectors.store.keys import StoreKey, holds_data, store_key, write_source
from connectors.store.permissions import tighten

DATABASE_NAME = "store.db"
MIGRATIONS = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000
"""How long a write waits for another process's transaction (the GUI and a CLI command)."""
_BEGIN = "callmemaybe_begin"  # execution option: how the next transaction begins


class Store:
    """An open private store.

    Use :meth:`transaction` for every write: it commits everything or nothing, and turns a
    full disk into :class:`DiskFullError`.
    """

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed at the end of the block, rolled back on any error."""
        session = self._sessions()
        try:
            session.connection(execution_options={_BEGIN: "IMMEDIATE"})
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise _store_error(exc, self.path) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads (nothing is committed)."""
        session = self._sessions()
        try:
            yield session
        except OperationalError as exc:
            raise _store_error(exc, self.path) from exc
        finally:
            session.rollback()
            session.close()

    def close(self) -> None:
        """Close every connection."""
        self.engine.dispose()

    def dry_run(self) -> DryRunStore:
        """A view of this store whose transactions are always rolled back."""
        return DryRunStore(self.path, self.engine)

    def joined(self, session: Session) -> JoinedStore:
        """A view of this store whose transactions are parts of ``session``'s.

        How a change and its record commit together: the action log opens one transaction,
        runs the tool against this view (each of the tool's transactions becomes a savepoint
        in it), writes the action's outcome, and commits once.
        """
        return JoinedStore(self.path, self.engine, session)


class DryRunStore(Store):
    """The store as a preview sees it: a tool runs for real, then nothing is kept.

    Used to show exactly what a change to notes or events would do (its summary, its diff,
    the resolved times) while it waits for approval, with no preview code of its own.
    """

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            # IMMEDIATE as for a real write: a deferred transaction whose snapshot is older
            # than another process's commit cannot take the write lock at its first flush.
            session.connection(execution_options={_BEGIN: "IMMEDIATE"})
            yield session
            session.flush()  # run the writes (and their checks) before they are dropped
        except OperationalError as exc:
            raise _store_error(exc, self.path) from exc
        finally:
            session.rollback()
            session.close()

    def close(self) -> None:
        """Nothing to close: the engine belongs to the real store."""


class JoinedStore(Store):
    """The store as a tool sees it while its action's record waits in the same transaction.

    :meth:`transaction` is a savepoint of the outer session (a tool that fails rolls back its
    own writes, and the caller decides about the rest); :meth:`reading` reads in the outer
    session, so a tool sees what it wrote. Nothing is committed here: the owner of the outer
    session commits the change and its record at once, or neither.
    """

    def __init__(self, path: Path, engine: Engine, session: Session) -> None:
        super().__init__(path, engine)
        self._outer = session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        try:
            with self._outer.begin_nested():
                yield self._outer
        except OperationalError as exc:
            raise _store_error(exc, self.path) from exc

    @contextmanager
    def reading(self) -> Iterator[Session]:
        try:
            yield self._outer
        except OperationalError as exc:
            raise _store_error(exc, self.path) from exc

    def close(self) -> None:
        """Nothing to close: the engine belongs to the real store."""


def _store_error(exc: OperationalError, path: Path) -> StoreError:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if "full" in message.lower():
        return DiskFullError(
            f"the disk is full: nothing was saved to {path.name} ({message}); free some space "
            "and try again"
        )
    if "i/o error" in message.lower():  # what a write refused by the OS (EFBIG, EIO) becomes
        return DiskFullError(
            f"the disk refused the write ({message}; it may be full or failing): "
            f"nothing was saved to {path.name}; free some space and try again"
        )
    if "locked" in message.lower() or "busy" in message.lower():
        return StoreError(
            f"another Call-Me-Maybe window or command kept the store busy for over "
            f"{BUSY_TIMEOUT_MS // 1000} s; nothing was saved. Try again when it has finished"
        )
    if "readonly" in message.lower() or "read-only" in message.lower():
        return StoreError(_read_only_message(path))
    return StoreError(f"the store {path} could not be written: {message}; nothing was saved")


def _read_only_message(path: Path) -> str:
    return (
        f"the store's folder {path.parent} is read-only, so nothing can be saved (nothing was "
        "changed); make it writable again, or free the disk it is on, and try again"
    )


def _writable(directory: Path, path: Path) -> bool:
    """Whether the store's folder and file can be written (a read-only mount, permissions)."""
    return os.access(directory, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


def engine_for(path: Path, key: bytes, salt: bytes | None = None) -> Engine:
    """A SQLAlchemy engine on the SQLCipher file at ``path`` opened with ``key``.

    Args:
        salt: the 16-byte salt a new file gets (``x'<key><salt>'``); a passphrase store's
            scrypt salt, kept this way inside the database (see :mod:`connectors.store.keys`).
    """
    if len(key) != 32:
        raise StoreError("the database key must be 32 bytes")
    if salt is not None and len(salt) != 16:
        raise StoreError("the database salt must be 16 bytes")
    raw = key.hex() + (salt.hex() if salt is not None else "")
    url = URL.create("sqlite+pysqlcipher", password=f"x'{raw}'", database=str(path))
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        connection.isolation_level = None  # the driver begins nothing; _begin does
        cursor = connection.cursor()
        cursor.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is reported, not logged
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # Outside any transaction (WAL cannot be switched on inside one); a no-op once set, and
        # the first read of the file, so a wrong key fails here.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def open_store(
    directory: Path, *, key: bytes | None = None, passphrase: str | None = None
) -> Store:
    """Open (creating and migrating as needed) the store in ``directory``.

    This is the one way a passphrase reaches the store: a front end that asked the user for it
    (the terminal's prompt, the window's first-run dialog; :func:`connectors.store.keys.
    passphrase_needed` says whether to ask, and whether it is a new one to confirm) passes it
    here, or through :func:`app.toolbox.open_toolbox`'s ``passphrase`` callback.

    Args:
        key: the raw key; by default it comes from the keyring (or the passphrase).
        passphrase: for a store without a keyring (default: ``$CALLMEMAYBE_PASSPHRASE``).

    Raises:
        WrongKeyError: the file exists and the key does not open it.
        KeyringUnavailableError: no keyring and no passphrase.
        StoreError: the file is not a database, or the disk is full.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DATABASE_NAME
    existed = holds_data(path)
    opened = StoreKey(key) if key is not None else store_key(path, passphrase)
    engine = engine_for(path, opened.key, opened.salt)
    try:
        with engine.connect() as connection:
            # IMMEDIATE: two processes opening a new store at once migrate it one after the other.
            connection.execution_options(**{_BEGIN: "IMMEDIATE"})
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
            _migrate(connection)
            connection.commit()
    except DatabaseError as exc:
        engine.dispose()
        message = str(exc.orig) if exc.orig is not None else str(exc)
        if existed and "not a database" in message:
            raise WrongKeyError(
                f"{path} cannot be opened with this key: the key is wrong or the file is "
                "damaged. Nothing was changed."
            ) from exc
        if "full" in message.lower():
            raise DiskFullError(
                f"the disk is full: {path} could not be created; free some space and try again"
            ) from exc
        if not _writable(directory, path):  # SQLite needs to write its lock files beside it
            raise StoreError(_read_only_message(path)) from exc
        raise StoreError(f"{path} could not be opened: {message}") from exc
    if opened.record is not None:  # the key was found without its record: write it again
        write_source(path, opened.record)
    tighten(path)
    return Store(path, engine)


def _migrate(connection: Any) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")


def schema_revision(store: Store) -> str | None:
    """The Alembic revision the store is at."""
    with store.engine.connect() as connection:
        row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    return row[0] if row else None
