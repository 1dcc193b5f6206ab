"""Calendar: events as iCalendar text, their expanded occurrences, versions and imports.

``calendar_occurrences`` is derived from ``calendar_events.ical`` (see
``connectors.calendar.models``); its covering index on ``(long, start, end, ...)`` is what
keeps listing a week fast with tens of thousands of occurrences.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    utc = sa.DateTime()  # naive UTC, as connectors.store.base.UTCDateTime writes it
    op.create_table(
        "calendar_imports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("imported", utc, nullable=False),
    )
    op.create_table(
        "calendar_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(500), nullable=False, unique=True),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("title_key", sa.String(500), nullable=False),
        sa.Column("ical", sa.Text(), nullable=False),
        sa.Column("vtimezones", sa.Text(), nullable=False),
        sa.Column("recurring", sa.Boolean(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("first_start", utc, nullable=False),
        sa.Column("last_end", utc, nullable=True),
        sa.Column("indexed_from", utc, nullable=True),
        sa.Column("indexed_until", utc, nullable=True),
        sa.Column(
            "import_id",
            sa.Integer(),
            sa.ForeignKey("calendar_imports.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("created", utc, nullable=False),
        sa.Column("updated", utc, nullable=False),
        sqlite_autoincrement=True,  # an id the user was shown never names another event later
    )
    op.create_index("ix_calendar_events_title_key", "calendar_events", ["title_key"])
    op.create_index("ix_calendar_events_first_start", "calendar_events", ["first_start"])
    op.create_index("ix_calendar_events_indexed_until", "calendar_events", ["indexed_until"])
    op.create_index("ix_calendar_events_import_id", "calendar_events", ["import_id"])
    op.create_table(
        "calendar_occurrences",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("calendar_events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("start", utc, nullable=False),
        sa.Column("end", utc, nullable=False),
        sa.Column("long", sa.Boolean(), nullable=False),
        sa.Column("floating", sa.Boolean(), nullable=False),
        sa.Column("all_day", sa.Boolean(), nullable=False),
        sa.Column("busy", sa.Boolean(), nullable=False),
        sa.Column("recurrence_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
    )
    op.create_index("ix_calendar_occurrences_event_id", "calendar_occurrences", ["event_id"])
    # Covering: a range's candidates are read from this index alone.
    op.create_index(
        "ix_calendar_occurrences_range",
        "calendar_occurrences",
        ["long", "start", "end", "busy", "event_id", "floating"],
    )
    op.create_table(
        "calendar_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "event_id",
            sa.Integer(),
            sa.ForeignKey("calendar_events.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("saved", utc, nullable=False),
        sa.Column("ical", sa.Text(), nullable=False),
        sa.Column("vtimezones", sa.Text(), nullable=False),
        sa.Column(
            "import_id",
            sa.Integer(),
            sa.ForeignKey("calendar_imports.id", ondelete="CASCADE"),
            nullable=True,
        ),
    )
    op.create_index("ix_calendar_versions_event_id", "calendar_versions", ["event_id"])
    op.create_index("ix_calendar_versions_import_id", "calendar_versions", ["import_id"])


def downgrade() -> None:
    op.drop_table("calendar_versions")
    op.drop_table("calendar_occurrences")
    op.drop_table("calendar_events")
    op.drop_table("calendar_imports")
