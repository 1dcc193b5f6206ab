"""Notes: notes, their tags and previous versions, and an FTS5 full-text index kept by triggers.

The index ``notes_fts`` is an external-content FTS5 table over ``notes`` (the text is stored
once, in ``notes``; the index holds only terms), in the same SQLCipher file, so it is encrypted
like everything else. Triggers index a note while it is out of the trash and unindex it when it
is trashed, changed or deleted, so search never finds a trashed note and no code path can forget
to update the index. Each trigger hands FTS5 the *old* values on delete, as external-content
tables require.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_FTS_COLUMNS = "title, body, tags"
_TRIGGERS = {
    "notes_fts_insert": """
        CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes WHEN new.trashed IS NULL BEGIN
            INSERT INTO notes_fts (rowid, title, body, tags)
            VALUES (new.id, new.title, new.body, new.tags);
        END""",
    "notes_fts_delete": """
        CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes WHEN old.trashed IS NULL BEGIN
            INSERT INTO notes_fts (notes_fts, rowid, title, body, tags)
            VALUES ('delete', old.id, old.title, old.body, old.tags);
        END""",
    # One trigger for both steps, so the old entry always goes before the new one comes in.
    "notes_fts_update": """
        CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, body, tags, trashed ON notes
        BEGIN
            INSERT INTO notes_fts (notes_fts, rowid, title, body, tags)
            SELECT 'delete', old.id, old.title, old.body, old.tags WHERE old.trashed IS NULL;
            INSERT INTO notes_fts (rowid, title, body, tags)
            SELECT new.id, new.title, new.body, new.tags WHERE new.trashed IS NULL;
        END""",
}


def upgrade() -> None:
    utc = sa.DateTime()  # naive UTC, as connectors.store.base.UTCDateTime writes it
    op.create_table(
        "notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("title_key", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("created", utc, nullable=False),
        sa.Column("updated", utc, nullable=False),
        sa.Column("trashed", utc, nullable=True),
        sqlite_autoincrement=True,  # an id the user was shown never names another note later
    )
    # Names are looked up among notes in (or out of) the trash, so the trash state leads.
    op.create_index("ix_notes_trashed_title_key", "notes", ["trashed", "title_key"])
    op.create_index("ix_notes_trashed_updated", "notes", ["trashed", "updated"])
    op.create_table(
        "note_tags",
        sa.Column("tag", sa.String(64), primary_key=True),
        sa.Column(
            "note_id",
            sa.Integer(),
            sa.ForeignKey("notes.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("updated", utc, nullable=False),
    )
    op.create_index("ix_note_tags_note_id", "note_tags", ["note_id"])
    op.create_index("ix_note_tags_tag_updated", "note_tags", ["tag", "updated"])
    op.create_table(
        "note_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "note_id",
            sa.Integer(),
            sa.ForeignKey("notes.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("saved", utc, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("updated", utc, nullable=False),
        sa.Column("trashed", utc, nullable=True),
    )
    op.create_index("ix_note_versions_note_id", "note_versions", ["note_id"])
    op.execute(
        f"CREATE VIRTUAL TABLE notes_fts USING fts5({_FTS_COLUMNS}, content='notes', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )
    for statement in _TRIGGERS.values():
        op.execute(statement)


def downgrade() -> None:
    for name in _TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS notes_fts")
    op.drop_table("note_versions")
    op.drop_table("note_tags")
    op.drop_table("notes")
