"""An MCP server's tools as registry tools: ``server.tool``, always asking first.

A server's own description of a tool is a claim, not a guarantee: ``readOnlyHint`` may be
wrong by mistake or on purpose. So every MCP tool is registered as one that changes data,
which puts it behind the same policy ("ask" until the user chooses otherwise), approval and
audit log as ours; the hint is shown to the user beside the pending call, never used to skip
it. What the tool returns goes back to the model cut to :data:`MAX_RESULT_CHARS`, and an
error it reports goes back as an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from mcp.types import CallToolResult, TextContent, Tool

from app.mcp.config import tool_prefix
from app.mcp.errors import McpToolError
from app.mcp.log import McpLog
from backends.errors import GrammarError
from backends.schema import parse_tools
from connectors.registry import Registry
from connectors.schema_tool import JsonArguments, SchemaTool
from connectors.tool import Effect, ToolContext, ToolResult

MAX_RESULT_CHARS = 4000  # what one MCP call may hand back (the turn cuts its copy further)
MAX_DESCRIPTION_CHARS = 400  # a server's description, in a 4k-token prompt

Caller = Callable[[str, str, dict[str, Any]], CallToolResult]
"""``call(server, tool, arguments)``: runs the tool on its server (see the supervisor)."""


def registry_name(server: str, tool: str) -> str:
    """``server.tool`` as the registry and the model see it."""
    own = re.sub(r"[^A-Za-z0-9_-]", "_", tool)[:64]
    if own.startswith("-"):
        own = "_" + own[1:]
    return f"{tool_prefix(server)}.{own}"


def mcp_tool(server: str, tool: Tool, call: Caller) -> SchemaTool:
    """The registry tool that calls ``tool`` on ``server``.

    Raises:
        ValueError: its argument schema cannot be used.
    """
    name = registry_name(server, tool.name)
    hint = tool.annotations.read_only_hint if tool.annotations is not None else None
    description = " ".join((tool.description or tool.title or tool.name).split())
    if len(description) > MAX_DESCRIPTION_CHARS:
        description = description[: MAX_DESCRIPTION_CHARS - 1] + "…"

    def run(context: ToolContext, args: JsonArguments) -> ToolResult:
        return to_result(name, call(server, tool.name, args.root))

    def preview(context: ToolContext, args: JsonArguments) -> dict[str, Any]:
        said = (
            "only reads (the server says so; nothing checks it)"
            if hint
            else "may change things (the server does not say it only reads)"
        )
        return {
            "summary": f"Run {tool.name} on the MCP server {server!r}",
            "server": server,
            "this tool": said,
        }

    return SchemaTool(
        name=name,
        description=description,
        arguments=JsonArguments,
        effect=Effect.CHANGES,
        function=run,
        preview=preview,
        schema=dict(tool.input_schema),
    )


def to_result(name: str, result: CallToolResult) -> ToolResult:
    """What a call returned, as a :class:`ToolResult` no longer than :data:`MAX_RESULT_CHARS`.

    Raises:
        McpToolError: the tool reported an error (``isError``); its text is the message.
    """
    texts = [b.text if isinstance(b, TextContent) else f"[{b.type}]" for b in result.content]
    text = "\n".join(texts).strip()
    if result.is_error:
        raise McpToolError(f"{name} reported an error: {_cut(text) or 'no details'}")
    structured = result.structured_content
    data: dict[str, Any]
    if isinstance(structured, dict):
        data = structured
    elif structured is not None:
        data = {"result": structured}
    else:
        data = {"text": text}
    encoded = json.dumps(data, ensure_ascii=False, default=str)
    if len(encoded) > MAX_RESULT_CHARS:
        data = {"text": _cut(text or encoded), "cut": True}
    said = " ".join(text.split())
    return ToolResult(data, None, f"{name}: {said}"[:160] if said else name)


def _cut(text: str) -> str:
    if len(text) <= MAX_RESULT_CHARS:
        return text
    return text[:MAX_RESULT_CHARS] + " …(cut)"


class McpToolSync:
    """Keeps the registry's ``server.*`` tools equal to what each server lists."""

    def __init__(self, registry: Registry, call: Caller, log: McpLog) -> None:
        self.registry = registry
        self.call = call
        self.log = log
        self._names: dict[str, dict[str, SchemaTool]] = {}  # server -> registry name -> tool

    def publish(self, server: str, tools: list[Tool]) -> None:
        """Replace ``server``'s tools in the registry with ``tools`` (unusable ones logged)."""
        wanted: dict[str, SchemaTool] = {}
        for tool in tools:
            try:
                item = mcp_tool(server, tool, self.call)
                parse_tools([item.definition()])  # the grammar must be able to take it
            except (ValueError, GrammarError) as exc:
                self.log.write(server, f"(call-me-maybe) tool {tool.name!r} left out: {exc}")
                continue
            if item.name in wanted:
                self.log.write(server, f"(call-me-maybe) tool {tool.name!r} left out: duplicate")
                continue
            wanted[item.name] = item
        current = self._names.get(server, {})
        for name, item in current.items():
            if name not in wanted or wanted[name].schema != item.schema:
                self.registry.remove(name)
        for name, item in wanted.items():
            if name in current and current[name].schema == item.schema:
                wanted[name] = current[name]
                continue
            try:
                self.registry.add(item)
            except ValueError as exc:  # a built-in tool already has this name
                self.log.write(server, f"(call-me-maybe) tool {item.name!r} left out: {exc}")
        self._names[server] = {n: t for n, t in wanted.items() if n in _names(self.registry)}

    def remove_all(self) -> None:
        """Take every MCP tool out of the registry (the servers are stopped)."""
        for tools in self._names.values():
            for name in tools:
                self.registry.remove(name)
        self._names.clear()


def _names(registry: Registry) -> set[str]:
    return {t.name for t in registry.tools(include_hidden=True)}
