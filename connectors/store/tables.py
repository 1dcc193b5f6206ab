"""Imports every module that defines tables, so the metadata knows them all (for Alembic)."""

from __future__ import annotations

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

import connectors.calendar.models
import connectors.notes.models
from connectors.store.base import Base

__all__ = ["Base", "StoreInfo", "connectors"]


class StoreInfo(Base):
    """Facts about the store itself (``created``)."""

    __tablename__ = "store_info"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
