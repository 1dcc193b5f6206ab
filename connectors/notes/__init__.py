"""Notes connector: Markdown notes with tags, versions, trash and full-text search."""

from __future__ import annotations

from connectors.registry import Registry


def register(registry: Registry) -> None:
    """Add the notes tools (entry point ``callmemaybe.connectors: notes``).

    Every change is previewed by running it in a transaction that is rolled back, so the
    approval shows exactly the summary and diff that approving will produce.
    """
    import dataclasses

    from connectors.notes.tools import TOOLS
    from connectors.tool import Effect, dry_run_preview

    for item in TOOLS:
        if item.effect is Effect.CHANGES and item.preview is None:
            item = dataclasses.replace(item, preview=dry_run_preview(item.function))
        registry.add(item)
