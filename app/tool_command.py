"""``callmemaybe tool NAME 'JSON' [--yes]``: one tool run by hand, under the same rules as
the assistant's calls.

A person typing the command chooses the values, but the tool's policy still holds: "never"
refuses it, "ask" (the default for changes) needs ``--yes``, which is the approval. Whatever
needed an approval, or changes data, goes through the action log exactly like an action
approved in the window (:meth:`app.actions.Actions.approve`): it is recorded, the audit log gets
its run, and ``callmemaybe undo`` can revert it. Only a read that its policy lets run at once
runs directly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from app.actions import Actions
from app.decisions import outcome_text
from app.records import ActionState
from app.tool_policy import Policy, disposition, tool_policy
from connectors.errors import ApprovalRequiredError, ConnectorError
from connectors.registry import Registry
from connectors.tool import Effect, ToolContext


def run_tool_command(
    registry: Registry,
    context: ToolContext,
    name: str,
    arguments: str,
    *,
    approved: bool,
    policies: Mapping[str, Policy] | None,
) -> dict[str, Any]:
    """Run one tool as ``callmemaybe tool`` does; returns what the command prints (JSON).

    Args:
        approved: the user gave ``--yes``.
        policies: the per-tool policies from the settings.

    Raises:
        UnknownToolError, InvalidArgumentsError: nothing was stored or run.
        ConnectorError: the policy is "never", the approval is missing (nothing was stored), or
            the tool failed (the action is recorded as failed; nothing changed).
    """
    item = registry.get(name)
    args = item.validate(arguments).model_dump(mode="json", exclude_unset=True)
    policy = tool_policy(item, policies)
    decided = disposition(policy)  # no conflict flags: the user typed every value
    if decided == "refuse":
        raise ConnectorError(
            f"{name} is set to 'never' in your settings, so it does not run; "
            "change its policy in the settings to use it"
        )
    if decided == "run" and item.effect is Effect.READS:
        return registry.run(name, args, context).to_dict()
    if decided == "wait" and not approved:
        what = "changes your data" if item.effect is Effect.CHANGES else "is set to 'ask'"
        raise ApprovalRequiredError(
            f"{name} {what} and needs your approval first: add --yes to approve it"
        )
    actions = Actions(registry, context)
    action = actions.propose(name, args)
    action = actions.approve(action.id)
    if action.state is not ActionState.DONE:
        raise ConnectorError(outcome_text(action))
    out: dict[str, Any] = {"action": action.id, "result": action.result or {}}
    if action.summary:
        out["summary"] = action.summary
    if action.undoable:
        out["undo"] = f"callmemaybe undo {action.id}"
    return out


def printable(result: dict[str, Any]) -> str:
    """The command's output: indented JSON, dates as text."""
    return json.dumps(result, indent=2, ensure_ascii=False, default=str)
