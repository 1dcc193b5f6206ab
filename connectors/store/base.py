"""The declarative base every connector's tables derive from, and column types they share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, TypeDecorator
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Tables of the private store (one metadata, migrated by Alembic)."""


class UTCDateTime(TypeDecorator[datetime]):
    """A time zone aware datetime kept as UTC: SQLite has no time zones, so naive values in
    the database would be ambiguous; aware values out of it always compare correctly."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a time zone")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)
