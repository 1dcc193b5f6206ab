"""Conversations and their messages, in the encrypted store (shared by the CLI and the GUI)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.records import Conversation, MessageRecord
from connectors.errors import NotFoundError
from connectors.store.database import Store


@dataclass(frozen=True)
class ConversationInfo:
    """A conversation as listed: id, title, last activity."""

    id: int
    title: str
    updated: datetime


class Conversations:
    """Create, append to and read conversations."""

    def __init__(self, store: Callable[[], Store], now: Callable[[], datetime]) -> None:
        self._store = store
        self._now = now

    def create(self, title: str = "") -> int:
        """A new empty conversation; returns its id."""
        now = self._now()
        with self._store().transaction() as session:
            record = Conversation(title=title[:200], created=now, updated=now)
            session.add(record)
            session.flush()
            return record.id

    def append(self, conversation_id: int, message: dict[str, Any]) -> None:
        """Add one message (OpenAI chat format) at the end.

        Raises:
            NotFoundError: no such conversation.
        """
        now = self._now()
        with self._store().transaction() as session:
            conversation = session.get(Conversation, conversation_id)
            if conversation is None:
                raise NotFoundError(f"there is no conversation #{conversation_id}")
            conversation.updated = now
            session.add(
                MessageRecord(
                    conversation_id=conversation_id,
                    role=str(message.get("role", "")),
                    data=json.dumps(message, ensure_ascii=False, default=str),
                    created=now,
                )
            )

    def messages(self, conversation_id: int, limit: int | None = None) -> list[dict[str, Any]]:
        """The messages in order (only the last ``limit`` when given)."""
        with self._store().reading() as session:
            query = select(MessageRecord).where(MessageRecord.conversation_id == conversation_id)
            if limit is not None:
                query = query.order_by(MessageRecord.id.desc()).limit(limit)
                rows = list(session.scalars(query))[::-1]
            else:
                rows = list(session.scalars(query.order_by(MessageRecord.id)))
            return [row.message() for row in rows]

    def latest(self, limit: int = 20) -> list[ConversationInfo]:
        """The most recently active conversations."""
        with self._store().reading() as session:
            rows = session.scalars(
                select(Conversation).order_by(Conversation.updated.desc()).limit(limit)
            )
            return [ConversationInfo(r.id, r.title, r.updated) for r in rows]
