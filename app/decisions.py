"""Approve, edit, reject and undo, with the outcome written into the conversation.

These work without the model: ``callmemaybe approve 3`` in a new process (or the approvals
panel) opens the store, runs the tool and records what happened, so the next turn the model
sees the real result, and the user sees a confirmation built from it.
"""

from __future__ import annotations

import json
from typing import Any

from app.actions import Action, Actions
from app.conversations import Conversations
from app.records import ActionState


class Decisions:
    """The user's side of an action's life."""

    def __init__(self, actions: Actions, conversations: Conversations) -> None:
        self.actions = actions
        self.conversations = conversations

    def approve(self, action_id: int, edited: dict[str, Any] | str | None = None) -> Action:
        """Run a waiting action (after an edit, if given) and note the outcome."""
        action = self.actions.approve(action_id, edited=edited)
        self._note(action, outcome_text(action))
        return action

    def reject(self, action_id: int) -> Action:
        """Reject a waiting action; nothing runs."""
        action = self.actions.reject(action_id)
        self._note(action, f"Rejected #{action.id}: nothing was changed.")
        return action

    def undo(self, action_id: int | None = None) -> tuple[Action, str]:
        """Revert the last (or a chosen) done action; returns it and what was said."""
        action, said = self.actions.undo(action_id)
        self._note(action, said)
        return action, said

    def _note(self, action: Action, text: str) -> None:
        if action.conversation_id is None:
            return
        content: dict[str, Any] = {"action": action.id, "state": action.state.value}
        if action.result is not None:
            content["result"] = action.result
        if action.error:
            content["error"] = action.error
        self.conversations.append(
            action.conversation_id,
            {
                "role": "tool",
                "name": action.tool,
                "content": json.dumps(content, ensure_ascii=False, default=str)[:1500],
            },
        )
        self.conversations.append(action.conversation_id, {"role": "assistant", "content": text})


def outcome_text(action: Action) -> str:
    """What the user is told after an approved action ran: only what the tool reported."""
    what = action.summary or f"{action.tool} {json.dumps(action.arguments, ensure_ascii=False)}"
    if action.state is ActionState.DONE:
        return f"Done #{action.id}: {what}"
    return f"Failed #{action.id}: {action.error or 'the tool reported an error'}. Nothing changed."
