"""The connectors' tools wired to this user's store, folders, clock and time zone.

``backends`` and ``connectors`` never meet; this is where the app joins them: the registry of
installed connectors, a :class:`~connectors.tool.ToolContext` built from the settings (the
store is opened on first use, so listing tools never asks the keyring for anything), and the
tools as :class:`~backends.schema.ToolSpec` for the model.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from app.clock import local_timezone
from app.paths import data_dir
from app.settings import Settings
from backends.schema import ToolSpec, parse_tools
from connectors.registry import Registry, load_registry
from connectors.store.database import Store, open_store
from connectors.tool import ToolContext


@dataclass
class Toolbox:
    """The registry and the context its tools run in; close it to close the store."""

    registry: Registry
    context: ToolContext
    _store: list[Store] = field(default_factory=list)

    def specs(self) -> list[ToolSpec]:
        """The offered tools, as the model sees them."""
        return parse_tools(self.registry.definitions())

    def close(self) -> None:
        """Close the store if it was opened."""
        for store in self._store:
            store.close()
        self._store.clear()


def open_toolbox(settings: Settings, registry: Registry | None = None) -> Toolbox:
    """Tools for ``settings``; the encrypted store opens the first time a tool needs it."""
    opened: list[Store] = []
    lock = threading.Lock()
    home = data_dir()

    def store() -> Store:
        with lock:
            if not opened:
                opened.append(open_store(home / "store"))
            return opened[0]

    context = ToolContext(
        open_store=store,
        granted_folders=tuple(Path(p).expanduser() for p in settings.granted_folders),
        timezone=local_timezone(settings.timezone),
        data_dir=home,
    )
    return Toolbox(registry or load_registry(), context, opened)
