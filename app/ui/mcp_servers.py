"""The MCP servers field of the settings dialog: Claude Desktop's ``mcpServers`` JSON, editable.

People who use MCP servers already have them written down in that form (it is what every
server's README shows), so the field takes it as is, pasted whole or entry by entry, and
checks it with the same validation the settings file gets.
"""

from __future__ import annotations

from pydantic import TypeAdapter
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from app.mcp.config import McpServer, McpServers, servers_json
from app.mcp.startup import log_path

EXAMPLE = """{
  "mcpServers": {
    "time": {"command": "uvx", "args": ["mcp-server-time"]}
  }
}"""

_SERVERS = TypeAdapter(McpServers)


class McpServersEdit(QWidget):
    """A JSON editor for the MCP servers, with where their output goes."""

    def __init__(self, servers: dict[str, McpServer], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QPlainTextEdit(servers_json(servers) if servers else "")
        self.text.setPlaceholderText(EXAMPLE)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setAccessibleName("MCP servers (JSON)")
        self.text.setToolTip(
            "Model Context Protocol servers, as Claude Desktop's mcpServers block: a name, "
            "then a command with args and env, or a url. Their tools ask before every call "
            "until you choose otherwise below."
        )
        self.text.setMinimumHeight(90)
        note = QLabel(f"Applies at the next start. What the servers say: {log_path()}")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addWidget(note)

    def servers(self) -> dict[str, McpServer]:
        """The servers as written.

        Raises:
            ValidationError: not JSON, or an entry is wrong (the message says which).
        """
        return _SERVERS.validate_python(self.text.toPlainText())
