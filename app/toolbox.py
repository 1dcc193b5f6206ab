"""The connectors' tools wired to this user's store, folders, clock and time zone.

``backends`` and ``connectors`` never meet; this is where the app joins them: the registry of
installed connectors, a :class:`~connectors.tool.ToolContext` built from the settings (the
store is opened on first use, so listing tools never asks the keyring for anything), and the
tools as :class:`~backends.schema.ToolSpec` for the model.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from app.actions import Actions
from app.clock import clock, local_timezone
from app.passphrase_prompt import TRIES as PASSPHRASE_TRIES
from app.passphrase_prompt import Ask, default_ask
from app.paths import data_dir
from app.policy import pipeline
from app.settings import Settings
from backends.schema import ToolSpec, parse_tools
from connectors.errors import WrongKeyError
from connectors.files.ops import prune_kept
from connectors.registry import Registry, load_registry
from connectors.store.database import DATABASE_NAME, Store, open_store
from connectors.store.keys import PASSPHRASE_ENV, passphrase_needed
from connectors.tool import ToolContext

if TYPE_CHECKING:
    from app.mcp.supervisor import McpSupervisor


@dataclass
class Toolbox:
    """The registry and the context its tools run in; close it to close the store."""

    registry: Registry
    context: ToolContext
    _store: list[Store] = field(default_factory=list)
    mcp: McpSupervisor | None = None  # the MCP servers whose tools are in the registry

    def specs(self) -> list[ToolSpec]:
        """The offered tools, as the model sees them."""
        return parse_tools(self.registry.definitions())

    def close(self) -> None:
        """Stop the MCP servers, and close the store if it was opened."""
        if self.mcp is not None:
            self.mcp.stop()
            self.mcp = None
        for store in self._store:
            store.close()
        self._store.clear()


def open_toolbox(
    settings: Settings,
    registry: Registry | None = None,
    *,
    passphrase: Ask | None = None,
    mcp_wait: float | None = None,
) -> Toolbox:
    """Tools for ``settings``; the encrypted store opens the first time a tool needs it.

    Args:
        passphrase: how to ask the user for the store's passphrase when there is no keyring
            (the window's dialog); by default the terminal asks when a person is there, and
            ``$CALLMEMAYBE_PASSPHRASE`` is used when set.
        mcp_wait: start the configured MCP servers (their tools join the registry as
            ``server.tool``) and wait this many seconds for them to connect; None starts none.
    """
    opened: list[Store] = []
    lock = threading.Lock()
    home = data_dir()
    ask = passphrase or default_ask()

    def store() -> Store:
        with lock:
            if not opened:
                opened.append(_open_asking(home / "store", ask))
                # Actions a stopped process left half-way are settled before any other use.
                ready = dataclasses.replace(context, open_store=lambda: opened[0])
                Actions(tools, ready).reconcile()
            return opened[0]

    zone = local_timezone(settings.timezone)
    # the settings' switched-off passes join those a command line named (app.policy.pipeline)
    pipeline.set_without(pipeline.disabled() | frozenset(settings.policy_without))
    tools = registry or load_registry()
    context = ToolContext(
        open_store=store,
        granted_folders=tuple(Path(p).expanduser() for p in settings.granted_folders),
        timezone=zone,
        now=clock(zone),
        data_dir=home,
    )
    prune_kept(context)  # undo copies are kept KEEP_DAYS days, not for ever (they are plain)
    toolbox = Toolbox(tools, context, opened)
    if mcp_wait is not None:
        from app.mcp.startup import start_servers

        toolbox.mcp = start_servers(settings, tools, mcp_wait)
    return toolbox


def _open_asking(directory: Path, ask: Ask | None) -> Store:
    """Open the store, asking for its passphrase (again after a wrong one) where needed."""
    if ask is None or os.environ.get(PASSPHRASE_ENV):
        return open_store(directory)
    for attempt in range(PASSPHRASE_TRIES):
        need = passphrase_needed(directory / DATABASE_NAME)
        if need is None:
            return open_store(directory)
        try:
            return open_store(directory, passphrase=ask(need) or "")
        except WrongKeyError:
            if need != "open" or attempt == PASSPHRASE_TRIES - 1:
                raise
            print("That passphrase does not open the store; try again.", file=sys.stderr)
    raise AssertionError("unreachable")
