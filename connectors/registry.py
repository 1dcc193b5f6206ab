"""The tools the assistant can offer, collected from connectors by entry point.

Built-in connectors register exactly as a third-party package would: a function
``register(registry)`` named in the ``callmemaybe.connectors`` entry-point group of its
distribution's metadata. Running a tool always goes through :meth:`Registry.run`, which
validates the arguments again and refuses a change without approval.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from importlib.metadata import entry_points
from typing import Any

from connectors.errors import ApprovalRequiredError, ConnectorError, UnknownToolError
from connectors.tool import Effect, Tool, ToolContext, ToolResult

ENTRY_POINT_GROUP = "callmemaybe.connectors"
# Our own tools: ``notes_create``. A tool from an MCP server is named ``server.tool``: the
# server's name (chosen by the user) and the tool's own, which may be mixed-case or hyphenated.
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,63})?$")


class Registry:
    """Tools by name."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        self.version = 0  # counts changes, so a cached view of the tools knows it is stale
        for item in tools:
            self.add(item)

    def add(self, item: Tool) -> None:
        """Add a tool.

        Raises:
            ValueError: the name is not a valid function name or is taken.
        """
        if not _NAME.match(item.name):
            raise ValueError(f"tool name {item.name!r} must match {_NAME.pattern}")
        if item.name in self._tools:
            raise ValueError(f"two tools are named {item.name!r}")
        # A new dict rather than an update: tools from MCP servers come and go from another
        # thread while a turn may be iterating over the old one.
        self._tools = {**self._tools, item.name: item}
        self.version += 1

    def remove(self, name: str) -> None:
        """Remove a tool (one an MCP server no longer offers); unknown names are ignored."""
        if name in self._tools:
            self._tools = {k: v for k, v in self._tools.items() if k != name}
            self.version += 1

    def get(self, name: str) -> Tool:
        """The tool called ``name``.

        Raises:
            UnknownToolError: no such tool; the message lists the offered ones.
        """
        try:
            return self._tools[name]
        except KeyError:
            offered = ", ".join(sorted(t.name for t in self.tools()))
            raise UnknownToolError(f"there is no tool named {name!r} (tools: {offered})") from None

    def tools(self, *, include_hidden: bool = False) -> list[Tool]:
        """The tools, in registration order; hidden helpers only when asked."""
        return [t for t in self._tools.values() if t.offered or include_hidden]

    def definitions(self) -> list[dict[str, Any]]:
        """The offered tools in the OpenAI function format."""
        return [t.definition() for t in self.tools()]

    def run(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | None,
        context: ToolContext,
        *,
        approved: bool = False,
    ) -> ToolResult:
        """Validate and run one tool.

        Raises:
            UnknownToolError, InvalidArgumentsError: nothing ran.
            ApprovalRequiredError: the tool changes data and ``approved`` is false.
            ConnectorError: the tool failed; nothing was changed.
        """
        item = self.get(name)
        args = item.validate(arguments)
        if item.effect is Effect.CHANGES and not approved:
            raise ApprovalRequiredError(f"{name} changes your data and needs your approval first")
        result = item.function(context, args)
        if not isinstance(result, ToolResult):  # a third-party tool got the contract wrong
            raise ConnectorError(f"{name} returned {type(result).__name__}, not a ToolResult")
        return result


Register = Callable[[Registry], None]


def load_registry(group: str = ENTRY_POINT_GROUP) -> Registry:
    """A registry with every installed connector's tools.

    Raises:
        ConnectorError: a connector failed to load; the message names its entry point.
    """
    registry = Registry()
    for point in sorted(entry_points(group=group), key=lambda p: p.name):
        try:
            register: Register = point.load()
            register(registry)
        except ConnectorError:
            raise
        except Exception as exc:
            raise ConnectorError(
                f"the connector {point.name!r} ({point.value}) failed to load: {exc}"
            ) from exc
    return registry
