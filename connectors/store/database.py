"""Opening the encrypted database: key, engine, migrations, and writes that are all or nothing.

SQLCipher through ``sqlcipher3`` and SQLAlchemy's ``sqlite+pysqlcipher`` dialect, with the raw
256-bit key passed as ``x'<hex>'`` (no key derivation on every open). The schema is brought to
the newest Alembic revision on open, so an older store is migrated before first use. WAL mode
lets the GUI read while the CLI writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import URL, Engine, create_engine, event, text
from sqlalchemy.exc import DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from connectors.errors import DiskFullError, StoreError, WrongKeyError
from connectors.store.keys import database_key

DATABASE_NAME = "store.db"
MIGRATIONS = Path(__file__).with_name("migrations")


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


class DryRunStore(Store):
    """The store as a preview sees it: a tool runs for real, then nothing is kept.

    Used to show exactly what a change to notes or events would do (its summary, its diff,
    the resolved times) while it waits for approval, with no preview code of its own.
    """

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with super().reading() as session:
            yield session
            session.flush()  # run the writes (and their checks) before they are dropped

    def close(self) -> None:
        """Nothing to close: the engine belongs to the real store."""


def _store_error(exc: OperationalError, path: Path) -> StoreError:
    message = str(exc.orig) if exc.orig is not None else str(exc)
    if "full" in message.lower():
        return DiskFullError(f"the disk is full: nothing was saved to {path.name} ({message})")
    if "i/o error" in message.lower():  # what a write refused by the OS (EFBIG, EIO) becomes
        return DiskFullError(
            f"the disk refused the write ({message}; it may be full or failing): "
            f"nothing was saved to {path.name}"
        )
    return StoreError(f"the store {path} could not be written: {message}; nothing was saved")


def engine_for(path: Path, key: bytes) -> Engine:
    """A SQLAlchemy engine on the SQLCipher file at ``path`` opened with ``key``."""
    if len(key) != 32:
        raise StoreError("the database key must be 32 bytes")
    url = URL.create("sqlite+pysqlcipher", password=f"x'{key.hex()}'", database=str(path))
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _pragmas(connection: Any, _record: Any) -> None:
        cursor = connection.cursor()
        cursor.execute("PRAGMA cipher_log_level = NONE")  # a wrong key is reported, not logged
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()

    return engine


def open_store(
    directory: Path, *, key: bytes | None = None, passphrase: str | None = None
) -> Store:
    """Open (creating and migrating as needed) the store in ``directory``.

    Args:
        key: the raw key; by default it comes from the keyring (or the passphrase).

    Raises:
        WrongKeyError: the file exists and the key does not open it.
        KeyringUnavailableError: no keyring and no passphrase.
        StoreError: the file is not a database, or the disk is full.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / DATABASE_NAME
    existed = path.exists() and path.stat().st_size > 0
    engine = engine_for(path, key if key is not None else database_key(path, passphrase))
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()
            connection.exec_driver_sql("PRAGMA journal_mode=WAL")
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
            raise DiskFullError(f"the disk is full: {path} could not be created") from exc
        raise StoreError(f"{path} could not be opened: {message}") from exc
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
