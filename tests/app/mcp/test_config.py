"""MCP servers in the settings: Claude Desktop's block pasted as is, bad entries refused."""

from __future__ import annotations

import json

import pytest

from app.mcp.config import McpServer, servers_json, tool_prefix
from app.settings import Settings, SettingsError, load_settings, save_settings, settings_path

CLAUDE_DESKTOP = {
    "mcpServers": {
        "time": {"command": "uvx", "args": ["mcp-server-time", "--local-timezone", "UTC"]},
        "brave-search": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-brave-search"],
            "env": {"BRAVE_API_KEY": "secret"},
        },
        "remote": {"url": "https://example.org/mcp"},
    }
}


def test_a_claude_desktop_config_file_is_read_as_is() -> None:
    settings_path().write_text(json.dumps({"model": "bundled", **CLAUDE_DESKTOP}))

    servers = load_settings().mcp_servers

    assert servers["time"].args == ["mcp-server-time", "--local-timezone", "UTC"]
    assert servers["brave-search"].env == {"BRAVE_API_KEY": "secret"}
    assert servers["remote"].url == "https://example.org/mcp"
    assert servers["remote"].command is None


def test_servers_survive_a_save_and_a_load() -> None:
    save_settings(Settings(mcp_servers=CLAUDE_DESKTOP["mcpServers"]))

    assert load_settings().mcp_servers == Settings(mcp_servers=CLAUDE_DESKTOP).mcp_servers


def test_the_dialogs_json_text_with_or_without_the_outer_key() -> None:
    text = servers_json(Settings(mcp_servers=CLAUDE_DESKTOP).mcp_servers)

    assert json.loads(text) == CLAUDE_DESKTOP
    inner = json.dumps(CLAUDE_DESKTOP["mcpServers"])
    assert Settings(mcp_servers=inner).mcp_servers == Settings(mcp_servers=text).mcp_servers
    assert Settings(mcp_servers="  ").mcp_servers == {}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"args": ["x"]}, "either a command"),
        ({"command": "x", "url": "http://h/mcp"}, "either a command"),
        ({"url": "ftp://h/mcp"}, "must start with http"),
        ({"command": "x", "timeout_seconds": 0}, "greater than 0"),
    ],
)
def test_a_bad_entry_is_refused_naming_the_problem(entry: dict, message: str) -> None:
    settings_path().write_text(json.dumps({"mcpServers": {"s": entry}}))

    with pytest.raises(SettingsError, match=message):
        load_settings()


def test_text_that_is_not_json_says_so() -> None:
    with pytest.raises(ValueError, match="not valid JSON"):
        Settings(mcp_servers='{"time": {"command": "uvx",}')


def test_server_names_become_tool_prefixes_and_must_stay_distinct() -> None:
    assert tool_prefix("Brave-Search") == "brave_search"
    assert tool_prefix("2fa tool") == "fa_tool"
    with pytest.raises(ValueError, match="at least one letter"):
        tool_prefix("123")
    with pytest.raises(ValueError, match="share the tool prefix"):
        Settings(mcp_servers={"my-time": {"command": "a"}, "my_time": {"command": "b"}})


def test_a_disabled_server_is_kept() -> None:
    assert Settings(mcp_servers={"t": {"command": "x", "disabled": True}}).mcp_servers[
        "t"
    ] == McpServer(command="x", disabled=True)
