"""Approvals and undo: every change the model proposes is stored, decided on, run, and revertible.

A change never runs because the model said so: it becomes a pending :class:`ActionRecord`
(tool, validated arguments, a preview, conflict flags), and runs only when the user approves it
(or a per-tool policy says "always"). Every run and every undo is appended to the audit log
with the inverse call, so ``undo`` can revert the last action, or a chosen one, and say what it
did. All of it lives in the encrypted store, so it survives restarts and is shared by the CLI
and the GUI.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from app.records import WAITING, ActionRecord, ActionState, AuditEntry
from connectors.errors import ConnectorError, NotFoundError
from connectors.registry import Registry
from connectors.tool import ToolContext, ToolResult

PENDING_LIFETIME = timedelta(days=7)


class ActionError(ConnectorError):
    """An approval, rejection or undo that cannot be done (the message says why)."""


@dataclass(frozen=True)
class Action:
    """A stored action, as front ends show it."""

    id: int
    tool: str
    arguments: dict[str, Any]
    preview: dict[str, Any]
    conflicts: tuple[str, ...]
    state: ActionState
    created: datetime
    summary: str
    result: dict[str, Any] | None
    error: str | None
    undoable: bool
    conversation_id: int | None

    @classmethod
    def of(cls, record: ActionRecord) -> Action:
        return cls(
            id=record.id,
            tool=record.tool,
            arguments=json.loads(record.arguments),
            preview=json.loads(record.preview or "{}"),
            conflicts=tuple(json.loads(record.conflicts or "[]")),
            state=ActionState(record.state),
            created=record.created,
            summary=record.summary,
            result=json.loads(record.result) if record.result else None,
            error=record.error,
            undoable=bool(record.undo) and record.state == ActionState.DONE,
            conversation_id=record.conversation_id,
        )

    def describe(self) -> str:
        """One line for a list: id, state, and what it does."""
        what = self.summary or f"{self.tool} {json.dumps(self.arguments, ensure_ascii=False)}"
        flags = f" [check: {'; '.join(self.conflicts)}]" if self.conflicts else ""
        return f"#{self.id} {self.state.value}: {what}{flags}"


class Actions:
    """The action queue and audit log over the registry and the store."""

    def __init__(
        self,
        registry: Registry,
        context: ToolContext,
        *,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.registry = registry
        self.context = context
        self._now = now or context.current_time

    # -- proposing -----------------------------------------------------------------------------

    def propose(
        self,
        tool: str,
        arguments: dict[str, Any],
        *,
        conversation_id: int | None = None,
        conflicts: tuple[str, ...] = (),
    ) -> Action:
        """Store a change waiting for approval (arguments validated first).

        Raises:
            UnknownToolError, InvalidArgumentsError: nothing is stored.
            ConnectorError: the preview shows the call cannot work (nothing is stored).
        """
        item = self.registry.get(tool)
        args = item.validate(arguments).model_dump(mode="json", exclude_unset=True)
        preview = self._preview(tool, args)
        now = self._now()
        with self.context.store().transaction() as session:
            record = ActionRecord(
                conversation_id=conversation_id,
                tool=tool,
                arguments=json.dumps(args, ensure_ascii=False),
                preview=json.dumps(preview, ensure_ascii=False, default=str),
                conflicts=json.dumps(list(conflicts), ensure_ascii=False),
                state=ActionState.PENDING,
                created=now,
                updated=now,
                expires=now + PENDING_LIFETIME,
                summary=str(preview.get("summary", "")),
            )
            session.add(record)
            session.flush()
            return Action.of(record)

    def _preview(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """What approving would do; a call that cannot work (a refused path, an unknown note)
        raises here, so it goes back to the model or the user before anyone approves it."""
        item = self.registry.get(tool)
        if item.preview is None:
            return {}
        return dict(item.preview(self.context, item.validate(arguments)))

    # -- deciding ------------------------------------------------------------------------------

    def get(self, action_id: int) -> Action:
        """One action.

        Raises:
            NotFoundError: no action has this id.
        """
        with self.context.store().reading() as session:
            record = session.get(ActionRecord, action_id)
            if record is None:
                raise NotFoundError(f"there is no action #{action_id}")
            return Action.of(record)

    def pending(self) -> list[Action]:
        """Actions waiting for a decision, oldest first (expired ones are marked so first).

        Only reads unless something has expired: the window asks for this on the GUI thread
        while a turn may be writing, and a write would wait for the store's write lock.
        """
        now = self._now()
        with self.context.store().reading() as session:
            rows = list(
                session.scalars(
                    select(ActionRecord)
                    .where(ActionRecord.state.in_([s.value for s in WAITING]))
                    .order_by(ActionRecord.id)
                )
            )
            waiting = [Action.of(r) for r in rows if r.expires is None or r.expires > now]
        if len(waiting) < len(rows):
            self.expire()
        return waiting

    def history(self, limit: int = 50) -> list[Action]:
        """The newest actions in any state."""
        with self.context.store().reading() as session:
            rows = session.scalars(
                select(ActionRecord).order_by(ActionRecord.id.desc()).limit(limit)
            )
            return [Action.of(r) for r in rows]

    def expire(self) -> int:
        """Mark pending actions past their lifetime as expired; returns how many."""
        now = self._now()
        count = 0
        with self.context.store().transaction() as session:
            for record in session.scalars(
                select(ActionRecord).where(ActionRecord.state.in_([s.value for s in WAITING]))
            ):
                if record.expires is not None and record.expires <= now:
                    record.state = ActionState.EXPIRED
                    record.updated = now
                    count += 1
        return count

    def reject(self, action_id: int) -> Action:
        """Reject a waiting action; nothing runs."""
        return self._decide(action_id, ActionState.REJECTED)

    def edit(self, action_id: int, arguments: dict[str, Any] | str) -> Action:
        """Replace a waiting action's arguments (validated against the same schema)."""
        action = self._waiting(action_id)
        item = self.registry.get(action.tool)
        args = item.validate(arguments).model_dump(mode="json", exclude_unset=True)
        preview = self._preview(action.tool, args)
        with self.context.store().transaction() as session:
            record = session.get(ActionRecord, action_id)
            assert record is not None
            _still_waiting(record)  # the other front end may have decided it meanwhile
            record.arguments = json.dumps(args, ensure_ascii=False)
            record.preview = json.dumps(preview, ensure_ascii=False, default=str)
            record.summary = str(preview.get("summary", ""))
            record.conflicts = "[]"  # the user wrote these values: nothing was overridden
            record.state = ActionState.EDITED
            record.updated = self._now()
            return Action.of(record)

    def approve(self, action_id: int, *, edited: dict[str, Any] | str | None = None) -> Action:
        """Approve (optionally after editing) and run a waiting action.

        Returns the action in its final state: ``done`` with its result, or ``failed`` with
        the error (nothing changed then).

        Raises:
            ActionError: the action is not waiting (already decided, expired, unknown).
        """
        if edited is not None:
            self.edit(action_id, edited)
        self._waiting(action_id)
        # Run the arguments as they were when approved: an edit from the other front end just
        # before wins over what was read above.
        approved = self._decide(action_id, ActionState.APPROVED)
        return self._execute(action_id, approved.tool, approved.arguments)

    def run_now(
        self, tool: str, arguments: dict[str, Any], *, conversation_id: int | None = None
    ) -> Action:
        """Run a change allowed by an "always" policy: recorded and undoable like the rest."""
        action = self.propose(tool, arguments, conversation_id=conversation_id)
        self._decide(action.id, ActionState.APPROVED)
        return self._execute(action.id, tool, action.arguments)

    def _waiting(self, action_id: int) -> Action:
        self.expire()
        action = self.get(action_id)
        if action.state not in WAITING:
            raise ActionError(
                f"action #{action_id} is {action.state.value}, not waiting for approval"
            )
        return action

    def _decide(self, action_id: int, state: ActionState) -> Action:
        if state is ActionState.REJECTED:
            self._waiting(action_id)
        with self.context.store().transaction() as session:
            record = session.get(ActionRecord, action_id)
            if record is None:
                raise NotFoundError(f"there is no action #{action_id}")
            # Checked again inside the write transaction: the GUI and a CLI command approving
            # the same action at once would otherwise both see it waiting and both run it.
            _still_waiting(record)
            record.state = state
            record.updated = self._now()
            return Action.of(record)

    def _execute(self, action_id: int, tool: str, arguments: dict[str, Any]) -> Action:
        try:
            result = self.registry.run(tool, arguments, self.context, approved=True)
        except ConnectorError as exc:
            return self._finish(action_id, ActionState.FAILED, error=str(exc))
        return self._finish(action_id, ActionState.DONE, result=result)

    def _finish(
        self,
        action_id: int,
        state: ActionState,
        *,
        result: ToolResult | None = None,
        error: str | None = None,
    ) -> Action:
        now = self._now()
        with self.context.store().transaction() as session:
            record = session.get(ActionRecord, action_id)
            assert record is not None
            record.state = state
            record.updated = now
            record.error = error
            if result is not None:
                record.result = json.dumps(result.data, ensure_ascii=False, default=str)
                record.summary = result.summary or record.summary
                record.undo = (
                    json.dumps(result.undo.to_dict(), ensure_ascii=False, default=str)
                    if result.undo
                    else None
                )
            session.add(
                AuditEntry(
                    action_id=action_id,
                    event="run" if state is ActionState.DONE else "failed",
                    tool=record.tool,
                    arguments=record.arguments,
                    detail=error or record.undo or "",
                    at=now,
                )
            )
            return Action.of(record)

    # -- undoing -------------------------------------------------------------------------------

    def undo(self, action_id: int | None = None) -> tuple[Action, str]:
        """Revert a done action (the last undoable one by default).

        Returns:
            The action, now ``undone``, and a sentence saying what was reverted.

        Raises:
            ActionError: nothing to undo, or that action cannot be undone.
            ConnectorError: the inverse failed (the action stays ``done``).
        """
        with self.context.store().reading() as session:
            if action_id is None:
                record = session.scalars(
                    select(ActionRecord)
                    .where(ActionRecord.state == ActionState.DONE)
                    .where(ActionRecord.undo.is_not(None))
                    .order_by(ActionRecord.updated.desc(), ActionRecord.id.desc())
                    .limit(1)
                ).first()
                if record is None:
                    raise ActionError("there is nothing to undo")
            else:
                record = session.get(ActionRecord, action_id)
                if record is None:
                    raise NotFoundError(f"there is no action #{action_id}")
            action = Action.of(record)
            inverse = json.loads(record.undo) if record.undo else None
        if action.state is not ActionState.DONE or inverse is None:
            raise ActionError(f"action #{action.id} ({action.state.value}) cannot be undone")
        self.registry.run(inverse["tool"], inverse["arguments"], self.context, approved=True)
        now = self._now()
        with self.context.store().transaction() as session:
            record = session.get(ActionRecord, action.id)
            assert record is not None
            record.state = ActionState.UNDONE
            record.updated = now
            session.add(
                AuditEntry(
                    action_id=action.id,
                    event="undo",
                    tool=inverse["tool"],
                    arguments=json.dumps(inverse["arguments"], ensure_ascii=False, default=str),
                    at=now,
                )
            )
            undone = Action.of(record)
        what = action.summary or f"{action.tool} {json.dumps(action.arguments)}"
        return undone, f"Undid #{action.id}: {what}"

    def audit(self, limit: int = 100) -> list[AuditItem]:
        """The newest audit entries, newest first."""
        with self.context.store().reading() as session:
            rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit))
            return [
                AuditItem(r.action_id, r.event, r.tool, json.loads(r.arguments), r.detail, r.at)
                for r in rows
            ]


def _still_waiting(record: ActionRecord) -> None:
    """Refuse a decision on an action that is no longer waiting (checked under the write lock).

    Raises:
        ActionError: it was approved, rejected or has expired since it was read.
    """
    if ActionState(record.state) not in WAITING:
        raise ActionError(f"action #{record.id} is {record.state}, not waiting for approval")


@dataclass(frozen=True)
class AuditItem:
    """One audit log entry: a run, a failure or an undo, with the call made."""

    action_id: int | None
    event: str
    tool: str
    arguments: dict[str, Any]
    detail: str
    at: datetime
