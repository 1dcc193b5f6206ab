"""MCP servers as the user configures them: the ``mcpServers`` block Claude Desktop uses.

Each entry is either a program to start (``command``, ``args``, ``env``), spoken to over its
stdin and stdout, or a ``url`` spoken to over streamable HTTP. A block copied from Claude
Desktop's ``claude_desktop_config.json`` (with or without the outer ``{"mcpServers": ...}``)
works as is. The server's name becomes the first half of its tools' names
(``time.get_current_time``), so it is folded to lower-case letters, digits and underscores.

This module imports no MCP code: the settings load it on every start.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

DEFAULT_CALL_SECONDS = 30.0


class McpServer(BaseModel):
    """One MCP server: a command to start, or a URL to connect to."""

    model_config = ConfigDict(extra="ignore")  # Claude Desktop entries may carry other keys

    command: str | None = Field(None, description="The program that runs the server (stdio).")
    args: list[str] = Field(default_factory=list, description="Its command-line arguments.")
    env: dict[str, str] = Field(
        default_factory=dict, description="Environment variables it gets besides PATH, HOME..."
    )
    cwd: str | None = Field(None, description="The folder it starts in.")
    url: str | None = Field(None, description="A streamable HTTP endpoint instead of a command.")
    timeout_seconds: float = Field(
        DEFAULT_CALL_SECONDS,
        gt=0,
        le=600,
        description="How long one tool call may take before it is reported as hung.",
    )
    disabled: bool = Field(False, description="Keep the entry but do not start the server.")

    @model_validator(mode="after")
    def _command_or_url(self) -> McpServer:
        if bool(self.command) == bool(self.url):
            raise ValueError("give either a command (a program to start) or a url, not both")
        if self.url and not re.match(r"^https?://", self.url):
            raise ValueError(f"url {self.url!r} must start with http:// or https://")
        return self


def tool_prefix(server: str) -> str:
    """The name a server's tools are prefixed with: ``"Brave-Search"`` -> ``"brave_search"``.

    Raises:
        ValueError: nothing usable is left of the name.
    """
    folded = re.sub(r"[^a-z0-9_]", "_", server.strip().lower())
    folded = re.sub(r"^[^a-z]+", "", folded)[:32].rstrip("_")
    if not folded:
        raise ValueError(f"the MCP server name {server!r} needs at least one letter")
    return folded


def _read(value: Any) -> Any:
    """Accept the JSON text the settings dialog holds, and the outer ``mcpServers`` key."""
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"MCP servers: not valid JSON ({exc})") from exc
    if isinstance(value, dict) and set(value) == {"mcpServers"}:
        value = value["mcpServers"]
    return value


def _distinct(servers: dict[str, McpServer]) -> dict[str, McpServer]:
    seen: dict[str, str] = {}
    for name in servers:
        prefix = tool_prefix(name)
        if prefix in seen:
            raise ValueError(
                f"the MCP servers {seen[prefix]!r} and {name!r} would share the tool prefix "
                f"{prefix!r}; rename one"
            )
        seen[prefix] = name
    return servers


McpServers = Annotated[dict[str, McpServer], BeforeValidator(_read), AfterValidator(_distinct)]
"""The ``mcp_servers`` setting: server name -> :class:`McpServer`."""


def servers_json(servers: dict[str, McpServer]) -> str:
    """The servers as the ``mcpServers`` JSON block a user edits (only the values set)."""
    block = {
        name: server.model_dump(exclude_defaults=True, exclude_none=True)
        for name, server in servers.items()
    }
    return json.dumps({"mcpServers": block}, indent=2, ensure_ascii=False)
