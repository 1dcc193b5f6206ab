"""Tables of the calendar connector.

An event is stored twice on purpose. ``calendar_events.ical`` holds its VEVENTs (the series and
every RECURRENCE-ID override) as iCalendar text exactly as imported or built, so an export gives
back every property, X- properties included; ``vtimezones`` holds the VTIMEZONE blocks that text
needs (Outlook's "W. Europe Standard Time" means nothing without its block). Everything a range
query needs is derived from that text and kept in ``calendar_occurrences``: one row per
occurrence, recurrences expanded, so listing a week is an index range scan and never parses or
expands a series. An infinite series is expanded over a window around the time it was written
(``indexed_from``..``indexed_until``); a range outside the window is expanded on the fly.

Floating times and all-day dates belong to no time zone: their occurrence rows hold the wall
time as if it were UTC with ``floating`` set, and readers widen their range by 14 hours (the
largest UTC offset) before placing them in the user's zone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from connectors.store.base import Base, UTCDateTime


class CalendarImport(Base):
    """One .ics import, so that undoing it removes exactly what it brought."""

    __tablename__ = "calendar_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    imported: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarEvent(Base):
    """An event or a recurring series, with its overrides: one iCalendar UID."""

    __tablename__ = "calendar_events"
    __table_args__ = (
        Index("ix_calendar_events_indexed_until", "indexed_until"),
        Index("ix_calendar_events_import_id", "import_id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(500), unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    title_key: Mapped[str] = mapped_column(String(500), index=True, default="")
    """The title case-folded with spaces collapsed: what a name the user says is compared to."""
    ical: Mapped[str] = mapped_column(Text)
    """The VEVENT blocks (series first, then overrides), CRLF-separated iCalendar text."""
    vtimezones: Mapped[str] = mapped_column(Text, default="")
    """VTIMEZONE blocks the VEVENTs refer to (empty when they use IANA names only)."""
    recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    first_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    """Start of the earliest occurrence (14 hours earlier for floating times)."""
    last_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """End of the last occurrence (14 hours later for floating times); ``None`` when endless."""
    indexed_from: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    indexed_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Occurrences are in ``calendar_occurrences`` only within this window; both ``None``
    when every occurrence is."""
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("calendar_imports.id", ondelete="SET NULL"), nullable=True
    )
    """The import that created this event (undoing that import deletes it)."""
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarOccurrence(Base):
    """One live (not cancelled) occurrence of an event, for range queries."""

    __tablename__ = "calendar_occurrences"
    # Covering: a range's candidates are read from the index alone (see service.py).
    __table_args__ = (
        Index(
            "ix_calendar_occurrences_range", "long", "start", "end", "busy", "event_id", "floating"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("calendar_events.id", ondelete="CASCADE"), index=True
    )
    start: Mapped[datetime] = mapped_column(UTCDateTime)
    end: Mapped[datetime] = mapped_column(UTCDateTime)
    long: Mapped[bool] = mapped_column(Boolean)
    """Longer than a day: short ones are found by a narrow range on ``start``."""
    floating: Mapped[bool] = mapped_column(Boolean)
    all_day: Mapped[bool] = mapped_column(Boolean)
    busy: Mapped[bool] = mapped_column(Boolean)
    """Blocks time (timed and not TRANSP:TRANSPARENT): what conflicts and free time use."""
    recurrence_id: Mapped[str] = mapped_column(String(32), default="")
    """The original start of this occurrence of a series (``""`` for a single event)."""
    title: Mapped[str] = mapped_column(String(500), default="")
    location: Mapped[str] = mapped_column(Text, default="")


class CalendarVersion(Base):
    """An event's text just before one change, so undoing the change restores it exactly."""

    __tablename__ = "calendar_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(
        ForeignKey("calendar_events.id", ondelete="CASCADE"), index=True
    )
    saved: Mapped[datetime] = mapped_column(UTCDateTime)
    ical: Mapped[str] = mapped_column(Text)
    vtimezones: Mapped[str] = mapped_column(Text)
    import_id: Mapped[int | None] = mapped_column(
        ForeignKey("calendar_imports.id", ondelete="CASCADE"), nullable=True, index=True
    )
    """Set when an import replaced the event: undoing the import puts this text back."""
