"""Files connector: list, find, read, write, move, copy and trash files under granted folders.

Only folders the user granted (``callmemaybe folders add PATH``) are reachable; see
:mod:`connectors.granted` for how a path is checked and :mod:`connectors.files.trash` for how a
deleted file is found again for undo.
"""

from __future__ import annotations

import dataclasses

from connectors.files.tools import PREVIEWS, TOOLS
from connectors.registry import Registry


def register(registry: Registry) -> None:
    """Add the file tools (entry point ``callmemaybe.connectors: files``), each change with
    the preview that checks its paths and says what approving will do."""
    for item in TOOLS:
        preview = PREVIEWS.get(item.name)
        registry.add(dataclasses.replace(item, preview=preview) if preview else item)
