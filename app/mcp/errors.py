"""What goes wrong with an MCP server, as sentences the user and the model can act on.

Every one is a :class:`~connectors.errors.ConnectorError`, so a failing MCP tool is handled
like a failing built-in tool: the turn goes on, and the model is told why.
"""

from __future__ import annotations

from connectors.errors import ConnectorError


class McpError(ConnectorError):
    """An MCP server or one of its tools failed."""


class McpUnavailableError(McpError):
    """The server is not running (not started yet, crashed and restarting, or stopped)."""


class McpTimeoutError(McpError):
    """The server did not answer a call in time; its outcome is unknown."""


class McpToolError(McpError):
    """The tool ran and reported an error (``isError``), or refused the call."""
