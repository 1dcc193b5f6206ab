"""Approvals and undo: every change the model proposes is stored, decided on, run, and revertible.

A change never runs because the model said so: it becomes a pending :class:`ActionRecord`
(tool, validated arguments, a preview, conflict flags), and runs only when the user approves it
(or a per-tool policy says "always"). Every run and every undo is appended to the audit log
with the inverse call, so ``undo`` can revert the last action, or a chosen one, and say what it
did. All of it lives in the encrypted store, so it survives restarts and is shared by the CLI
and the GUI.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psutil
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.action_effects import settled_undo, took_effect, undo_took_effect
from app.records import IN_FLIGHT, WAITING, ActionRecord, ActionState, AuditEntry
from connectors.errors import ConnectorError, NotFoundError
from connectors.registry import Registry
from connectors.tool import ToolContext, ToolResult, Undo

PENDING_LIFETIME = timedelta(days=7)
_MARKS = ("running", "undoing")
"""Audit events that only say which process started a files change or its undo."""


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
        # Runs the arguments as they are when approved, read under the write lock: an edit
        # from the other front end just before wins over what was read above.
        return self._run(action_id)

    def run_now(
        self, tool: str, arguments: dict[str, Any], *, conversation_id: int | None = None
    ) -> Action:
        """Run a change allowed by an "always" policy: recorded and undoable like the rest."""
        action = self.propose(tool, arguments, conversation_id=conversation_id)
        return self._run(action.id)

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

    def _run(self, action_id: int) -> Action:
        """Approve and run a waiting action; it ends ``done`` or ``failed``, whatever happens.

        Raises:
            ActionError: it is no longer waiting; or (files only) the change ran but its
                outcome could not be recorded (it is then settled at the next start-up).
            StoreError: not even the failure could be recorded (a full disk): nothing ran.
        """
        action = self.get(action_id)
        try:
            in_store = self.registry.get(action.tool).in_store
        except ConnectorError as exc:  # a tool that is gone (an MCP server removed)
            return self._record_failure(action_id, str(exc))
        if in_store:
            return self._run_in_store(action_id)
        return self._run_outside(action_id)

    def _run_in_store(self, action_id: int) -> Action:
        """A change to notes or events: the approval, the change, its result, undo and audit
        entry commit in one transaction, so a crash or a full disk keeps all or none."""
        store = self.context.store()
        try:
            with store.transaction() as session:
                record = _record(session, action_id)
                _still_waiting(record)
                joined = dataclasses.replace(self.context, open_store=lambda: store.joined(session))
                part = session.begin_nested()  # the tool's writes, dropped alone if it fails
                try:
                    result = self.registry.run(
                        record.tool, json.loads(record.arguments), joined, approved=True
                    )
                except Exception as exc:
                    part.rollback()
                    self._settle(session, record, ActionState.FAILED, error=_failure(exc, True))
                else:
                    part.commit()
                    self._settle(session, record, ActionState.DONE, result=result)
                return Action.of(record)
        except ActionError:
            raise
        except Exception as exc:  # the commit failed (full disk, busy): the change with it
            return self._record_failure(
                action_id, f"it could not be saved, so nothing was changed: {_reason(exc)}"
            )

    def _run_outside(self, action_id: int) -> Action:
        """A change to files: "running" with its planned undo first, then the change, then the
        outcome. A process stopped in between leaves "running", which the next start-up
        settles from what the files show (:meth:`reconcile`)."""
        with self.context.store().transaction() as session:
            record = _record(session, action_id)
            _still_waiting(record)
            tool, arguments = record.tool, json.loads(record.arguments)
            planned = settled_undo(tool, arguments, json.loads(record.preview or "{}"))
            record.state = ActionState.RUNNING
            record.updated = self._now()
            record.undo = _undo_text(planned)
            self._audit(session, record, "running", json.dumps(_runner()))
        try:
            result = self.registry.run(tool, arguments, self.context, approved=True)
        except Exception as exc:
            return self._finish(action_id, ActionState.FAILED, error=_failure(exc, False))
        try:
            return self._finish(action_id, ActionState.DONE, result=result)
        except ConnectorError as exc:
            raise ActionError(
                f"{tool} ran, but its record could not be saved ({exc}); the action shows as "
                "running until the app starts again, which records it as done with its undo"
            ) from exc

    def _record_failure(self, action_id: int, error: str) -> Action:
        """End a waiting action as failed (in a transaction of its own)."""
        with self.context.store().transaction() as session:
            record = _record(session, action_id)
            if ActionState(record.state) in WAITING or record.state == ActionState.RUNNING:
                self._settle(session, record, ActionState.FAILED, error=error)
            return Action.of(record)

    def _finish(
        self,
        action_id: int,
        state: ActionState,
        *,
        result: ToolResult | None = None,
        error: str | None = None,
    ) -> Action:
        with self.context.store().transaction() as session:
            record = _record(session, action_id)
            self._settle(session, record, state, result=result, error=error)
            return Action.of(record)

    def _settle(
        self,
        session: Session,
        record: ActionRecord,
        state: ActionState,
        *,
        result: ToolResult | None = None,
        error: str | None = None,
    ) -> None:
        """Write an action's outcome and its audit entry (in the caller's transaction)."""
        record.state = state
        record.updated = self._now()
        record.error = error
        if state is ActionState.FAILED:
            record.undo = None
        if result is not None:
            record.result = json.dumps(result.data, ensure_ascii=False, default=str)
            record.summary = result.summary or record.summary
            record.undo = _undo_text(result.undo)
        event = "run" if state is ActionState.DONE else "failed"
        self._audit(session, record, event, error or record.undo or "")

    def _audit(self, session: Session, record: ActionRecord, event: str, detail: str) -> None:
        session.add(
            AuditEntry(
                action_id=record.id,
                event=event,
                tool=record.tool,
                arguments=record.arguments,
                detail=detail,
                at=self._now(),
            )
        )

    # -- after a crash ---------------------------------------------------------------------------

    def reconcile(self) -> list[Action]:
        """Settle actions left in flight by a process that is gone; returns them.

        Run at start-up (:func:`app.toolbox.open_toolbox`). A files change left "running"
        becomes ``done`` with its undo when the files show it happened, ``failed`` ("nothing
        was changed") when they show it did not, and ``failed`` with a sentence saying what to
        check when they cannot tell. An undo left "undoing" becomes ``undone`` or ``done``
        again. Actions of a process still running (the other front end) are left alone.
        """
        store = self.context.store()
        with store.reading() as session:
            ids = list(
                session.scalars(
                    select(ActionRecord.id).where(
                        ActionRecord.state.in_([s.value for s in IN_FLIGHT])
                    )
                )
            )
        settled = []
        for action_id in ids:
            with store.transaction() as session:
                record = _record(session, action_id)
                if ActionState(record.state) not in IN_FLIGHT or _runner_alive(session, record):
                    continue
                self._reconcile_one(session, record)
                settled.append(Action.of(record))
        return settled

    def _reconcile_one(self, session: Session, record: ActionRecord) -> None:
        arguments = json.loads(record.arguments)
        preview = json.loads(record.preview or "{}")
        stopped = "the app stopped while it ran"
        if record.state == ActionState.UNDOING:
            inverse = json.loads(record.undo) if record.undo else {}
            if undo_took_effect(inverse):
                record.state = ActionState.UNDONE
                self._audit(session, record, "undo", f"{stopped}; the files show it was undone")
            else:
                record.state = ActionState.DONE
                record.error = None
            record.updated = self._now()
            return
        happened = took_effect(record.tool, arguments, preview)
        if happened:
            record.undo = _undo_text(settled_undo(record.tool, arguments, preview))
            self._settle(session, record, ActionState.DONE)
        elif happened is False:
            self._settle(
                session, record, ActionState.FAILED, error=f"{stopped}; nothing was changed"
            )
        else:
            what = record.summary or f"{record.tool} {record.arguments}"
            self._settle(
                session,
                record,
                ActionState.FAILED,
                error=f"{stopped} and it cannot tell whether it happened: check {what}",
            )

    # -- undoing -------------------------------------------------------------------------------

    def undo(self, action_id: int | None = None) -> tuple[Action, str]:
        """Revert a done action (the last undoable one by default).

        The action's state is checked again under the store's write lock, so two front ends
        undoing the same action at once run its inverse once. An inverse refuses (with a
        sentence saying why) to destroy a change made after the action: text appended to the
        note it created, an event edited since, a file put where it moved one.

        Returns:
            The action, now ``undone``, and a sentence saying what was reverted.

        Raises:
            ActionError: nothing to undo, or that action cannot be undone (any more).
            ConnectorError: the inverse refused or failed (the action stays ``done``).
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
        if self.registry.get(inverse["tool"]).in_store:
            undone = self._undo_in_store(action.id)
        else:
            undone = self._undo_outside(action.id)
        what = action.summary or f"{action.tool} {json.dumps(action.arguments)}"
        return undone, f"Undid #{action.id}: {what}"

    def _undo_in_store(self, action_id: int) -> Action:
        """The inverse and the ``undone`` mark in one transaction (both or neither)."""
        store = self.context.store()
        with store.transaction() as session:
            record = _record(session, action_id)
            inverse = _undoable(record)
            joined = dataclasses.replace(self.context, open_store=lambda: store.joined(session))
            self.registry.run(inverse["tool"], inverse["arguments"], joined, approved=True)
            self._mark_undone(session, record, inverse)
            return Action.of(record)

    def _undo_outside(self, action_id: int) -> Action:
        """Claim the undo ("undoing", under the write lock), run the inverse, then mark it."""
        with self.context.store().transaction() as session:
            record = _record(session, action_id)
            inverse = _undoable(record)
            record.state = ActionState.UNDOING
            record.updated = self._now()
            self._audit(session, record, "undoing", json.dumps(_runner()))
        try:
            self.registry.run(inverse["tool"], inverse["arguments"], self.context, approved=True)
        except Exception as exc:  # refused or failed: nothing was reverted
            with self.context.store().transaction() as session:
                record = _record(session, action_id)
                if record.state == ActionState.UNDOING:
                    record.state = ActionState.DONE  # still done, still undoable
                    record.updated = self._now()
            if isinstance(exc, ConnectorError):
                raise
            raise ActionError(f"the undo of #{action_id} failed: {_reason(exc)}") from exc
        try:
            with self.context.store().transaction() as session:
                record = _record(session, action_id)
                self._mark_undone(session, record, inverse)
                return Action.of(record)
        except ConnectorError as exc:
            raise ActionError(
                f"the undo of #{action_id} ran, but could not be recorded ({exc}); it shows as "
                "undoing until the app starts again, which records it as undone"
            ) from exc

    def _mark_undone(self, session: Session, record: ActionRecord, inverse: dict[str, Any]) -> None:
        now = self._now()
        record.state = ActionState.UNDONE
        record.updated = now
        session.add(
            AuditEntry(
                action_id=record.id,
                event="undo",
                tool=inverse["tool"],
                arguments=json.dumps(inverse["arguments"], ensure_ascii=False, default=str),
                at=now,
            )
        )

    def audit(self, limit: int = 100) -> list[AuditItem]:
        """The newest audit entries, newest first: runs, failures and undos (the "running"
        and "undoing" marks, which say which process worked on an action, are left out)."""
        with self.context.store().reading() as session:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.event.not_in(_MARKS))
                .order_by(AuditEntry.id.desc())
                .limit(limit)
            )
            return [
                AuditItem(r.action_id, r.event, r.tool, json.loads(r.arguments), r.detail, r.at)
                for r in rows
            ]


def _record(session: Session, action_id: int) -> ActionRecord:
    record = session.get(ActionRecord, action_id)
    if record is None:
        raise NotFoundError(f"there is no action #{action_id}")
    return record


def _undoable(record: ActionRecord) -> dict[str, Any]:
    """The inverse call of a done action, read under the write lock.

    Raises:
        ActionError: it was undone (or is being undone) since it was read.
    """
    if record.state != ActionState.DONE or not record.undo:
        raise ActionError(f"action #{record.id} is {record.state}: it cannot be undone now")
    inverse: dict[str, Any] = json.loads(record.undo)
    return inverse


def _undo_text(undo: Undo | None) -> str | None:
    return json.dumps(undo.to_dict(), ensure_ascii=False, default=str) if undo else None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ConnectorError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _failure(exc: Exception, in_store: bool) -> str:
    """What the user reads about a tool that raised: its own sentence, or what went wrong."""
    if isinstance(exc, ConnectorError):
        return str(exc)
    if in_store:
        return f"it stopped with an unexpected error ({_reason(exc)}); nothing was changed"
    return f"it stopped with an unexpected error ({_reason(exc)}); check what it changed"


def _runner() -> dict[str, Any]:
    """Who runs an action: enough to tell later whether that process is still alive."""
    return {"pid": os.getpid(), "started": psutil.Process().create_time()}


def _runner_alive(session: Session, record: ActionRecord) -> bool:
    """Whether the process that put ``record`` in flight is still running (then it is left to
    finish; a process id reused by another program does not count: its start time differs)."""
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action_id == record.id)
        .where(AuditEntry.event.in_(_MARKS))
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).first()
    try:
        runner = json.loads(entry.detail) if entry is not None else {}
        process = psutil.Process(int(runner["pid"]))
        return abs(process.create_time() - float(runner["started"])) < 1.0
    except (ValueError, KeyError, TypeError, psutil.Error):
        return False


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
