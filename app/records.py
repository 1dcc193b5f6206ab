"""Conversations, pending actions and the audit log, kept in the encrypted store.

They live beside the connectors' tables in the same database and the same Alembic history
(revision 0010), so the GUI and the CLI share one state: an action proposed in one can be
approved in the other, and a pending action survives a restart.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from connectors.store.base import Base, UTCDateTime


class ActionState(StrEnum):
    """Where an action is in its life."""

    PENDING = "pending"
    APPROVED = "approved"
    RUNNING = "running"
    """A change outside the store (files) is running; its planned undo is recorded."""
    UNDOING = "undoing"
    """The undo of a change outside the store is running."""
    EDITED = "edited"
    REJECTED = "rejected"
    EXPIRED = "expired"
    DONE = "done"
    FAILED = "failed"
    UNDONE = "undone"


WAITING = (ActionState.PENDING, ActionState.EDITED)
IN_FLIGHT = (ActionState.APPROVED, ActionState.RUNNING, ActionState.UNDOING)
"""States a process leaves an action in only while it works on it; one found at start-up
whose process is gone is settled (:meth:`app.actions.Actions.reconcile`)."""


class Conversation(Base):
    """A chat: its messages in order."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    updated: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class MessageRecord(Base):
    """One message of a conversation, in the OpenAI chat format (``data`` holds it as JSON)."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    data: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime())

    def message(self) -> dict[str, Any]:
        return json.loads(self.data)


class ActionRecord(Base):
    """A change the model proposed (or ran under an "always" policy), and what became of it."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[int | None] = mapped_column(
        ForeignKey("conversations.id", ondelete="SET NULL"), index=True
    )
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[str] = mapped_column(Text)
    preview: Mapped[str] = mapped_column(Text, default="{}")
    conflicts: Mapped[str] = mapped_column(Text, default="[]")
    state: Mapped[str] = mapped_column(String(16), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    updated: Mapped[datetime] = mapped_column(UTCDateTime())
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    result: Mapped[str | None] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text, default="")
    error: Mapped[str | None] = mapped_column(Text)
    undo: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    """Append-only log of everything that changed data: runs and undos, with their inverses."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int | None] = mapped_column(ForeignKey("actions.id"), index=True)
    event: Mapped[str] = mapped_column(String(16))
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[str] = mapped_column(Text)
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
