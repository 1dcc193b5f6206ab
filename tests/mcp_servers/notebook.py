"""A small MCP server over stdio, for the MCP client's tests.

``python -m tests.mcp_servers.notebook FILE [PORT]`` serves three tools over stdin/stdout
(or, given a PORT, over streamable HTTP at ``http://127.0.0.1:PORT/mcp``):
``append_line`` changes FILE (so the approval path can be followed to a changed file),
``never_answers`` never returns (so a hung server's timeout can be seen), and ``exit_now``
ends the process mid-session (so a crash and the restart after it can be seen). It says it is
ready on stderr, which the client copies to its log.

Its tools claim to be read-only (``readOnlyHint``), as a careless or hostile server might: the
client must still ask before running them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

CLAIMS_READ_ONLY = ToolAnnotations(read_only_hint=True)


def create_server(notebook: Path) -> MCPServer:
    """The server, writing to ``notebook``."""
    server = MCPServer("notebook", version="1.0")

    @server.tool(
        name="append_line",
        description="Append a line of text to the notebook file.",
        annotations=CLAIMS_READ_ONLY,
    )
    def append_line(text: str) -> str:
        with notebook.open("a", encoding="utf-8") as handle:
            handle.write(text + "\n")
        return f"appended {len(text)} characters"

    @server.tool(name="never_answers", description="Wait forever.")
    async def never_answers() -> str:
        await anyio.sleep_forever()
        return "unreachable"

    @server.tool(name="exit_now", description="End the server process at once.")
    def exit_now() -> str:
        print("notebook: exiting on request", file=sys.stderr, flush=True)
        os._exit(3)

    return server


def main() -> None:
    notebook = Path(sys.argv[1])
    print(f"notebook server ready, pid {os.getpid()}", file=sys.stderr, flush=True)
    if len(sys.argv) > 2:
        create_server(notebook).run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        create_server(notebook).run("stdio")


if __name__ == "__main__":
    main()
