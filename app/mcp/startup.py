"""Starting the configured MCP servers for one process (the window, or a CLI command).

The SDK is imported only when at least one server is configured, so a user without MCP
servers pays nothing for them at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from app.paths import data_dir
from app.settings import Settings
from connectors.registry import Registry

if TYPE_CHECKING:
    from app.mcp.supervisor import McpSupervisor


def log_path() -> Path:
    """Where the servers' stderr and their starts, exits and restarts are written."""
    return data_dir() / "logs" / "mcp.log"


def start_servers(settings: Settings, registry: Registry, wait: float) -> McpSupervisor | None:
    """Start every enabled server in ``settings``; their tools join ``registry`` as they connect.

    Args:
        wait: seconds to wait for the servers' first connection (0: return at once; the
            window does, and their tools appear when ready).

    Returns:
        The supervisor to stop at exit, or None when no server is configured.
    """
    if not any(not server.disabled for server in settings.mcp_servers.values()):
        return None
    from app.mcp.log import McpLog
    from app.mcp.supervisor import McpSupervisor

    supervisor = McpSupervisor(settings.mcp_servers, registry, McpLog(log_path()))
    supervisor.start(wait=wait)
    return supervisor
