"""Tables of the notes connector.

A note's tags live twice on purpose: as a space-separated ``tags`` column (what full-text search
indexes and what a version snapshots) and as rows of ``note_tags`` (what an index answers "notes
tagged X, newest first" and "how many notes per tag" from, without reading 100,000 notes).
``note_tags`` holds rows only for notes out of the trash, with a copy of the note's ``updated``;
:func:`connectors.notes.service.sync_tags` keeps it equal to the notes after every change. The
full-text index ``notes_fts`` is an FTS5 table kept in sync by triggers written in migration
0002; it is not mapped here because the ORM never writes it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connectors.store.base import Base, UTCDateTime


class Note(Base):
    """A Markdown note; ``trashed`` is set while it is in the trash (then search skips it)."""

    __tablename__ = "notes"
    __table_args__ = (
        Index("ix_notes_trashed_title_key", "trashed", "title_key"),
        Index("ix_notes_trashed_updated", "trashed", "updated"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    title_key: Mapped[str] = mapped_column(String(200))
    """The title case-folded with spaces collapsed: what a name the user says is compared to."""
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(Text, default="")
    """Normalised tags separated by single spaces (``"work ideas"``)."""
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    trashed: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, default=None)

    tag_rows: Mapped[list[NoteTag]] = relationship(
        back_populates="note", cascade="all, delete-orphan", passive_deletes=True
    )

    def tag_list(self) -> list[str]:
        return self.tags.split() if self.tags else []


class NoteTag(Base):
    """One tag on one note out of the trash, with the note's last change time for sorting."""

    __tablename__ = "note_tags"
    __table_args__ = (Index("ix_note_tags_tag_updated", "tag", "updated"),)

    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    note_id: Mapped[int] = mapped_column(
        ForeignKey("notes.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    updated: Mapped[datetime] = mapped_column(UTCDateTime)

    note: Mapped[Note] = relationship(back_populates="tag_rows")


class NoteVersion(Base):
    """A note's whole state just before one change, so undoing the change restores it exactly."""

    __tablename__ = "note_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("notes.id", ondelete="CASCADE"), index=True)
    saved: Mapped[datetime] = mapped_column(UTCDateTime)
    """When the change that replaced this state happened."""
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    tags: Mapped[str] = mapped_column(Text)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    trashed: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
