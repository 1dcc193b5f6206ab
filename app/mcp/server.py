"""``callmemaybe mcp``: our calendar, notes and files tools for another MCP client, over stdio.

Another assistant (Claude Desktop, an IDE) can then use the user's private data, but only
through this app's rules. A tool that only reads answers at once (unless the user's policy
for it says "ask" or "never"). A tool that changes data never runs on the client's word: the
call becomes a pending action, exactly like one the local model proposed, and the answer says
"waiting for approval" with the action's id; the change happens when the user approves it in
the window or with ``callmemaybe approve ID``, and is in the audit log and undoable like any
other. The tools are described with the JSON Schema the local model is constrained by, and
``readOnlyHint`` says truthfully which ones only read.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from mcp.server import Server, ServerRequestContext
from mcp.server.stdio import stdio_server
from mcp.types import (
    CallToolRequestParams,
    CallToolResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    ToolAnnotations,
)
from mcp.types import Tool as McpTool

from app import __version__
from app.actions import Actions
from app.settings import Settings
from connectors.errors import ConnectorError, UnknownToolError
from connectors.registry import Registry
from connectors.tool import Effect, Tool, ToolContext

INSTRUCTIONS = (
    "Tools over the user's private calendar, notes and files. Tools that change data do not "
    "run when called: they return 'waiting for approval' with an action id, and run only "
    "when the user approves that action in Call-Me-Maybe. Tell the user so; do not call "
    "the same change again."
)


def describe(item: Tool) -> McpTool:
    """A registry tool as MCP lists it: the same schema the local model sees."""
    reads = item.effect is Effect.READS
    return McpTool(
        name=item.name,
        description=item.description,
        input_schema=item.parameters(),
        annotations=ToolAnnotations(
            read_only_hint=reads,
            destructive_hint=None if reads else False,  # every change can be undone
            idempotent_hint=True if reads else None,
            open_world_hint=False,
        ),
    )


class ToolService:
    """What the MCP handlers do, as plain blocking methods (run off the event loop).

    Args:
        policies: the user's per-tool policies: "never" refuses a tool, and "ask" makes even
            a read wait for approval. A change always waits, whatever its policy: the client
            is another program, and "always" was given to this app's own assistant.
    """

    def __init__(self, registry: Registry, context: ToolContext, policies: dict[str, str]) -> None:
        self.registry = registry
        self.context = context
        self.policies = policies
        self.actions = Actions(registry, context)

    def tools(self) -> list[McpTool]:
        return [describe(item) for item in self.registry.tools()]

    def call(self, name: str, arguments: dict[str, Any]) -> CallToolResult:
        """Run a read, or store a change as a pending action; errors come back as results."""
        try:
            item = self.registry.get(name)
            if not item.offered:
                raise UnknownToolError(f"there is no tool named {name!r}")
            policy = self.policies.get(name)
            if policy == "never":
                return _error(f"the user does not allow {name}")
            if item.effect is Effect.CHANGES or policy == "ask":
                action = self.actions.propose(name, arguments)
                what = action.summary or name
                text = (
                    f"Waiting for the user's approval: action #{action.id} (once approved: "
                    f"{what}). Nothing has changed yet; it runs only when the user approves it "
                    f"in Call-Me-Maybe (the window, or `callmemaybe approve {action.id}`)."
                )
                status = {"status": "waiting for approval", "action": action.id, "summary": what}
                return CallToolResult(content=[TextContent(text=text)], structured_content=status)
            result = self.registry.run(name, arguments, self.context)
        except ConnectorError as exc:
            return _error(str(exc))
        data = result.to_dict()
        return CallToolResult(
            content=[TextContent(text=json.dumps(data, ensure_ascii=False, default=str))],
            structured_content=data,
        )


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def build_server(service: ToolService) -> Server[Any]:
    """The low-level SDK server over ``service`` (one call at a time, off the event loop)."""
    one_at_a_time = anyio.CapacityLimiter(1)

    async def list_tools(
        ctx: ServerRequestContext[Any], params: PaginatedRequestParams | None
    ) -> ListToolsResult:
        return ListToolsResult(tools=service.tools())

    async def call_tool(
        ctx: ServerRequestContext[Any], params: CallToolRequestParams
    ) -> CallToolResult:
        return await anyio.to_thread.run_sync(
            service.call, params.name, dict(params.arguments or {}), limiter=one_at_a_time
        )

    return Server(
        "call-me-maybe",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )


def serve_stdio(settings: Settings) -> int:
    """Serve until the client closes stdin; returns the exit status."""
    from app.toolbox import open_toolbox

    toolbox = open_toolbox(settings)
    try:
        service = ToolService(toolbox.registry, toolbox.context, dict(settings.tool_policies))
        server = build_server(service)

        async def run() -> None:
            async with stdio_server() as (read, write):
                await server.run(read, write, server.create_initialization_options())

        anyio.run(run)
    finally:
        toolbox.close()
    return 0
