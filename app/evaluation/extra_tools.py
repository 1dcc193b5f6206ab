"""Tools of other services beside the product's: the ~150-tool registry both measures use.

Issue 28 asks how the assistant fares when many tools are registered, as when a user adds MCP
servers: tool retrieval (bench/retrieval.py) and the product evaluation
(``callmemaybe eval-assistant --registry-tools 150``) measure it on the same registry, built
here once: the product's own tools, the tools of a real ``mcp-server-time`` (started over
stdio to list them, then stopped) and BFCL functions (from BFCL_v4_multiple and live_simple, a
seeded sample) to make up the rest.

In the evaluation the extra tools are stand-ins (:func:`stand_in`): offered to the model with
their own names, descriptions and schemas, read-only, and never run: a call to one is an error
the turn reports, so the case has a wrong call, as it would with a real tool of the wrong
service.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from backends.schema import ToolSpec, parse_tools
from connectors.errors import ConnectorError
from connectors.registry import Registry, load_registry
from connectors.schema_tool import JsonArguments, SchemaTool
from connectors.tool import Effect, ToolContext, ToolResult

REGISTRY_SIZE = 150
SEED = 20261206  # the BFCL sample's seed: the registry is the same on every run
BFCL_FILES = ("BFCL_v4_multiple.json", "BFCL_v4_live_simple.json")
STAND_IN_PREFIX = "bfcl"  # for a BFCL name the registry cannot take ("ThinQ_Connect")

# connectors.registry's rule for tool names (``notes_create``, ``server.tool``)
_REGISTRY_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}(\.[A-Za-z0-9_][A-Za-z0-9_-]{0,63})?$")


def time_server_tools(log_path: Path) -> list[ToolSpec]:
    """The tools of a real ``mcp-server-time`` (as ``time.get_current_time`` ...): the server
    is started over stdio, listed and stopped.

    Args:
        log_path: where the server's stderr goes.
    """
    from app.mcp.config import McpServer
    from app.mcp.log import McpLog
    from app.mcp.supervisor import McpSupervisor

    registry = Registry()
    server = McpServer(
        command=sys.executable, args=["-m", "mcp_server_time", "--local-timezone", "UTC"]
    )
    supervisor = McpSupervisor({"time": server}, registry, McpLog(log_path))
    supervisor.start(wait=60)
    try:
        return parse_tools(registry.definitions())
    finally:
        supervisor.stop()


def bfcl_functions(bfcl: Path, taken: set[str], count: int) -> list[ToolSpec]:
    """``count`` distinct BFCL functions whose names are not in ``taken``, a seeded sample of
    those in :data:`BFCL_FILES` under ``bfcl``."""
    found: dict[str, dict] = {}
    for name in BFCL_FILES:
        with (bfcl / name).open(encoding="utf-8") as handle:
            for line in handle:
                for function in json.loads(line).get("function") or []:
                    if function["name"] not in taken:
                        found.setdefault(function["name"], function)
    names = sorted(found)
    random.Random(SEED).shuffle(names)
    return parse_tools([found[n] for n in names[:count]])


def registry_tools(
    bfcl: Path, *, size: int = REGISTRY_SIZE, time_server_log: Path | None = None
) -> tuple[list[ToolSpec], str]:
    """The registry's tools, the product's first, and a line saying what it is made of.

    Args:
        bfcl: the folder of the BFCL v4 files.
        size: how many tools in all (the product's alone when it has as many).
        time_server_log: the time server's log; ``None`` leaves its tools out.
    """
    product = parse_tools(load_registry().definitions())
    timed = time_server_tools(time_server_log) if time_server_log is not None else []
    taken = {t.name for t in product + timed}
    others = bfcl_functions(bfcl, taken, max(size - len(taken), 0))
    tools = product + timed + others
    made_of = (
        f"registry: {len(tools)} tools = product {len(product)} + time server {len(timed)} "
        f"({', '.join(t.name for t in timed) or 'left out'}) + BFCL {len(others)}"
    )
    return tools, made_of


def stand_in_name(name: str) -> str:
    """``name`` if the registry takes it, else ``bfcl.`` and the name with its dots and other
    signs the registry refuses made underscores (``ThinQ_Connect`` ->
    ``bfcl.ThinQ_Connect``, ``uber.eat.order`` -> ``bfcl.uber_eat_order``)."""
    if _REGISTRY_NAME.match(name):
        return name
    return f"{STAND_IN_PREFIX}.{re.sub(r'[^A-Za-z0-9_-]', '_', name)[:64]}"


def stand_in(spec: ToolSpec) -> SchemaTool:
    """A read-only registry tool shown as ``spec`` that never runs: calling it raises
    :class:`ConnectorError`, which the turn reports as the tool's error."""
    name = stand_in_name(spec.name)

    def refuse(context: ToolContext, args: JsonArguments) -> ToolResult:
        raise ConnectorError(f"{name} is another service's tool, not available here")

    return SchemaTool(
        name=name,
        description=spec.description,
        arguments=JsonArguments,
        effect=Effect.READS,
        function=refuse,
        schema=spec.parameters or {"type": "object"},
    )


def with_stand_ins(registry: Registry, specs: Sequence[ToolSpec]) -> Registry:
    """A new registry: ``registry``'s tools (hidden helpers too), then a stand-in of each of
    ``specs`` it does not already have."""
    tools = registry.tools(include_hidden=True)
    have = {t.name for t in tools}
    for spec in specs:
        if stand_in_name(spec.name) not in have:  # two names may fold into one
            tools.append(stand_in(spec))
            have.add(tools[-1].name)
    return Registry(tools)
