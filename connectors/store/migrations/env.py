"""Alembic environment: migrations run on the connection the store opened (key already set)."""

from __future__ import annotations

from alembic import context

import connectors.store.tables  # noqa: F401  (registers every table on the metadata)
from connectors.store.base import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
