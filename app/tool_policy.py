"""What happens to a tool call: run it now, wait for the user's approval, or refuse it.

One place decides this for every way a tool is called (a turn of the assistant, and
``callmemaybe tool``), so that a setting means the same thing everywhere:

- "never" refuses the tool, whatever else is true.
- "ask" waits for the user's approval, for a tool that only reads as much as for one that
  changes data: the settings dialog offers "ask" for every tool, and a user who chose it for
  ``files_read`` expects to be asked before a file is read.
- "always" runs it at once, except for a call whose values the grammar substituted (a conflict
  flag: the model wanted another value than the one the call now holds). Nobody chose that
  value, so it waits for approval whatever the policy says.

Without a setting, tools that change data ask and tools that only read run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from connectors.tool import Effect, Tool

Policy = Literal["always", "ask", "never"]
Disposition = Literal["run", "wait", "refuse"]


def tool_policy(item: Tool, policies: Mapping[str, Policy] | None) -> Policy:
    """The policy the user set for ``item``, or its default (changes ask, reads run)."""
    configured = (policies or {}).get(item.name)
    if configured is not None:
        return configured
    return "ask" if item.effect is Effect.CHANGES else "always"


def disposition(policy: Policy, conflicts: tuple[str, ...] = ()) -> Disposition:
    """Whether a call runs now, waits for approval, or is refused.

    Args:
        policy: the tool's policy (see :func:`tool_policy`).
        conflicts: the call's conflict flags (values the grammar put in place of the model's).
    """
    if policy == "never":
        return "refuse"
    if policy == "ask" or conflicts:
        return "wait"
    return "run"
