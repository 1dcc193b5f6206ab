"""``callmemaybe mcp`` spoken to by the official SDK's client over stdio, as Claude Desktop would.

The server is the real command in a subprocess, over a real encrypted store in this test's
data directory; approving is the real ``callmemaybe approve`` in this process, on the same
store, while the client stays connected.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from app.cli import main
from app.settings import Settings, save_settings
from tests.app.mcp.servers import ROOT

PASSPHRASE = "correct horse battery staple"


def test_reads_answer_and_changes_wait_for_the_users_approval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    granted = tmp_path / "granted"
    granted.mkdir()
    (granted / "plan.txt").write_text("Ship on Friday\n", encoding="utf-8")
    save_settings(
        Settings(
            granted_folders=[str(granted)],
            tool_policies={"notes_delete": "never", "notes_tags": "ask"},
        )
    )
    monkeypatch.setenv("CALLMEMAYBE_PASSPHRASE", PASSPHRASE)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "app", "mcp"],
        env={
            "CALLMEMAYBE_HOME": os.environ["CALLMEMAYBE_HOME"],
            "CALLMEMAYBE_PASSPHRASE": PASSPHRASE,
        },
        cwd=str(ROOT),
    )

    async def session() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        async with Client(stdio_client(params)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            seen["tools"] = tools
            seen["read"] = await client.call_tool("files_read", {"path": str(granted / "plan.txt")})
            seen["create"] = await client.call_tool(
                "notes_create", {"title": "Groceries", "body": "milk"}
            )
            seen["before"] = await client.call_tool("notes_list", {})
            action = seen["create"].structured_content["action"]
            seen["approved"] = main(["approve", str(action)])  # the user, from a terminal
            seen["after"] = await client.call_tool("notes_list", {})
            seen["never"] = await client.call_tool("notes_delete", {"title": "Groceries"})
            seen["bad"] = await client.call_tool("notes_create", {"colour": "red"})
            seen["asked"] = await client.call_tool("notes_tags", {})
        return seen

    seen = asyncio.run(asyncio.wait_for(session(), 120))

    tools = seen["tools"]
    assert {"calendar_create", "notes_list", "files_read"} <= set(tools)
    assert tools["notes_list"].annotations.read_only_hint is True
    assert tools["notes_create"].annotations.read_only_hint is False
    assert tools["notes_create"].input_schema["required"] == ["title"]

    assert "Ship on Friday" in seen["read"].content[0].text  # a read answers at once

    create = seen["create"]
    assert not create.is_error
    assert create.structured_content["status"] == "waiting for approval"
    assert "callmemaybe approve" in create.content[0].text
    assert _titles(seen["before"]) == []  # nothing changed on the client's word

    assert seen["approved"] == 0
    assert "Done #" in capsys.readouterr().out
    assert _titles(seen["after"]) == ["Groceries"]

    assert seen["never"].is_error and "does not allow notes_delete" in seen["never"].content[0].text
    assert seen["bad"].is_error and "not a parameter" in seen["bad"].content[0].text
    # A read the user set to "ask" waits too.
    assert seen["asked"].structured_content["status"] == "waiting for approval"


def _titles(result: Any) -> list[str]:
    data = json.loads(result.content[0].text)
    return [note["title"] for note in data["result"]["notes"]]
