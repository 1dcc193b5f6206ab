"""Model Context Protocol, both ways, on the official ``mcp`` SDK.

In: tools of the MCP servers the user configured join the registry as ``server.tool`` and go
through the same grammar, approvals and audit as ours (:mod:`app.mcp.config`,
:mod:`app.mcp.supervisor`, :mod:`app.mcp.tools`). Out: ``callmemaybe mcp`` offers our calendar,
notes and files tools to another MCP client, under this app's approvals (:mod:`app.mcp.server`).

The SDK is async; the rest of the app is not. The client side runs the SDK on one event-loop
thread of its own (:mod:`app.mcp.loop`) and offers plain blocking calls to the assistant.
"""
