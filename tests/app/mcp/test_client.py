"""The MCP client against real servers: ``mcp-server-time`` and tests/mcp_servers/notebook.py.

Both run as real subprocesses spoken to over stdio by the official SDK; the registry, the
assistant's turn, the action queue, the audit log and the store are the real ones. Only the
model's words are scripted (a random-weight model cannot be made to pick a given tool).
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.actions import Actions
from app.assistant import Assistant, AssistantOptions
from app.cli import main
from app.decisions import Decisions
from app.events import ActionPending, ToolErrorEvent, TurnDone
from app.mcp.config import McpServer
from app.mcp.errors import McpToolError, McpUnavailableError
from app.mcp.log import McpLog
from app.mcp.supervisor import Backoff, McpSupervisor
from app.records import ActionState
from app.settings import Settings, save_settings
from app.toolbox import open_toolbox
from backends.base import GenerateOptions
from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.schema import parse_tools
from connectors.errors import ApprovalRequiredError, InvalidArgumentsError
from connectors.registry import Registry
from connectors.tool import Effect, ToolContext
from tests.app.mcp.servers import ROOT, notebook_server, time_server, wait_until
from tests.loopback import free_port
from tests.scripted_backend import ScriptedBackend

FAST = Backoff(first=0.2, longest=1.0)


@dataclass
class Running:
    supervisor: McpSupervisor
    registry: Registry
    notebook: Path
    log: McpLog


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The time server and the notebook server, started once for the tests that only call."""
    folder = tmp_path_factory.mktemp("mcp")
    notebook = folder / "notebook.txt"
    registry = Registry()
    log = McpLog(folder / "mcp.log")
    servers = {"time": time_server(), "notebook": notebook_server(notebook)}
    supervisor = McpSupervisor(servers, registry, log, backoff=FAST)
    supervisor.start(wait=60)
    yield Running(supervisor, registry, notebook, log)
    supervisor.stop()


def call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def test_the_time_servers_tools_join_the_registry_and_ask_first(running: Running) -> None:
    names = [t.name for t in running.registry.tools()]
    assert {"time.get_current_time", "time.convert_time"} <= set(names)
    item = running.registry.get("time.get_current_time")
    # The server says it only reads (readOnlyHint); that is not trusted to skip approval.
    assert item.effect is Effect.CHANGES
    assistant = Assistant(ScriptedBackend([]), running.registry, ToolContext())
    assert assistant.policy(item) == "ask"
    with pytest.raises(ApprovalRequiredError):
        running.registry.run("time.get_current_time", {"timezone": "Asia/Tokyo"}, ToolContext())
    parameters = item.definition()["function"]["parameters"]
    assert parameters["required"] == ["timezone"]


def test_the_time_server_answers_and_its_errors_come_back(running: Running) -> None:
    result = running.registry.run(
        "time.get_current_time", {"timezone": "Asia/Tokyo"}, ToolContext(), approved=True
    )
    assert result.data["timezone"] == "Asia/Tokyo"
    assert result.data["datetime"].endswith("+09:00")

    with pytest.raises(McpToolError, match="Invalid timezone"):
        running.registry.run(
            "time.get_current_time", {"timezone": "Nowhere/Atlantis"}, ToolContext(), approved=True
        )
    with pytest.raises(InvalidArgumentsError, match="timezone"):  # checked before any call
        running.registry.run("time.get_current_time", {}, ToolContext(), approved=True)


def test_the_grammar_holds_the_real_model_to_a_server_tools_schema(
    running: Running, tiny_gguf_path: Path
) -> None:
    """Real llama.cpp decoding (the tiny random model) under the grammar built from the time
    server's own schemas: whatever it writes is a call of that server's tool, in its schema."""
    tools = [t for t in parse_tools(running.registry.definitions()) if t.name.startswith("time.")]
    backend = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1))
    backend.load(tiny_gguf_path)
    try:
        completion = backend.generate(
            [{"role": "user", "content": "What time is it in Tokyo?"}],
            tools,
            options=GenerateOptions(allow_text=False, max_tokens=300),
        )
    finally:
        backend.close()
    assert completion.tool_calls
    for made in completion.tool_calls:
        assert made.name in {"time.get_current_time", "time.convert_time"}
        running.registry.get(made.name).validate(made.arguments)  # raises if off-schema


def test_a_change_waits_for_approval_then_runs_and_is_audited(
    running: Running, tool_context: ToolContext
) -> None:
    backend = ScriptedBackend([call("notebook.append_line", text="buy milk")])
    assistant = Assistant(backend, running.registry, tool_context)

    events = list(assistant.turn(None, "Note in my notebook: buy milk"))

    pending = [e for e in events if isinstance(e, ActionPending)]
    assert [p.tool for p in pending] == ["notebook.append_line"]
    assert "nothing checks it" in pending[0].preview["this tool"]  # the hint, shown, not trusted
    assert "buy milk" not in _text(running.notebook)

    action = Decisions(assistant.actions, assistant.conversations).approve(pending[0].action_id)

    assert action.state is ActionState.DONE
    assert "buy milk" in _text(running.notebook)
    entry = Actions(running.registry, tool_context).audit()[0]
    assert (entry.event, entry.tool, entry.arguments) == (
        "run",
        "notebook.append_line",
        {"text": "buy milk"},
    )


def test_a_server_that_never_answers_is_timed_out_and_the_turn_goes_on(
    running: Running, tool_context: ToolContext
) -> None:
    backend = ScriptedBackend([call("notebook.never_answers"), "The notebook did not answer."])
    options = AssistantOptions(policies={"notebook.never_answers": "always"})
    assistant = Assistant(backend, running.registry, tool_context, options)

    began = time.monotonic()
    events = list(assistant.turn(None, "Wait on the notebook"))
    took = time.monotonic() - began

    errors = [e for e in events if isinstance(e, ToolErrorEvent)]
    assert len(errors) == 1 and "did not answer never_answers within 2 s" in errors[0].message
    assert isinstance(events[-1], TurnDone)
    assert "did not answer" in events[-1].text
    assert took < 10
    # The model was told why, and the server still serves other calls.
    told = [m for m in backend.prompts[-1] if m.get("role") == "tool"]
    assert "did not answer" in told[-1]["content"]
    running.registry.run(
        "notebook.append_line", {"text": "still here"}, tool_context, approved=True
    )
    assert "still here" in _text(running.notebook)
    assert "never_answers did not answer within 2 s" in running.log.read()


def test_a_crashed_server_is_started_again_with_its_stderr_in_the_log(tmp_path: Path) -> None:
    registry = Registry()
    log = McpLog(tmp_path / "mcp.log")
    supervisor = McpSupervisor(
        {"notebook": notebook_server(tmp_path / "notebook.txt")}, registry, log, backoff=FAST
    )
    supervisor.start(wait=60)
    try:
        with pytest.raises(McpUnavailableError, match="closed the connection"):
            registry.run("notebook.exit_now", {}, ToolContext(), approved=True)

        wait_until(lambda: supervisor.status()["notebook"].state == "running")
        registry.run("notebook.append_line", {"text": "back"}, ToolContext(), approved=True)
    finally:
        supervisor.stop()
    assert supervisor.status()["notebook"].restarts == 1
    assert _text(tmp_path / "notebook.txt") == "back\n"
    text = log.read()
    assert "[notebook] notebook: exiting on request" in text  # the server's own stderr
    assert "starting again in 0.2 s" in text
    assert text.count("notebook server ready") == 2


def test_a_broken_server_holds_up_nothing_and_stopping_ends_the_others(tmp_path: Path) -> None:
    registry = Registry()
    log = McpLog(tmp_path / "mcp.log")
    servers = {
        "broken": notebook_server(tmp_path / "x").model_copy(
            update={"command": str(tmp_path / "no-such-program")}
        ),
        "notebook": notebook_server(tmp_path / "notebook.txt"),
    }
    supervisor = McpSupervisor(servers, registry, log, backoff=FAST)
    supervisor.start(wait=60)
    try:
        broken = supervisor.status()["broken"]
        assert broken.state in ("restarting", "starting")
        assert "no program" in broken.detail
        assert "notebook.append_line" in [t.name for t in registry.tools()]
        pid = int(re.findall(r"notebook server ready, pid (\d+)", log.read())[0])
    finally:
        supervisor.stop()

    assert registry.tools() == []
    assert supervisor.status()["notebook"].state == "stopped"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def test_callmemaybe_approve_runs_a_servers_tool_from_the_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The window proposed it; the user approves it later with the command, in a process
    that starts the configured servers itself."""
    monkeypatch.setenv("CALLMEMAYBE_PASSPHRASE", "correct horse battery staple")
    notebook = tmp_path / "notebook.txt"
    settings = Settings(mcp_servers={"notebook": notebook_server(notebook)})
    save_settings(settings)
    toolbox = open_toolbox(settings, mcp_wait=60)
    try:
        action = Actions(toolbox.registry, toolbox.context).propose(
            "notebook.append_line", {"text": "from the terminal"}
        )
    finally:
        toolbox.close()
    assert not notebook.exists()

    assert main(["approve", str(action.id)]) == 0

    assert notebook.read_text(encoding="utf-8") == "from the terminal\n"
    assert f"Done #{action.id}" in capsys.readouterr().out


def test_a_server_at_a_url_is_spoken_to_over_streamable_http(tmp_path: Path) -> None:
    port = free_port()
    notebook = tmp_path / "notebook.txt"
    http = subprocess.Popen(
        [sys.executable, "-m", "tests.mcp_servers.notebook", str(notebook), str(port)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
    )
    registry = Registry()
    supervisor = McpSupervisor(
        {"web": McpServer(url=f"http://127.0.0.1:{port}/mcp")},
        registry,
        McpLog(tmp_path / "mcp.log"),
        backoff=FAST,
    )
    try:
        wait_until(lambda: _listening(port))
        supervisor.start(wait=60)
        registry.run("web.append_line", {"text": "over http"}, ToolContext(), approved=True)
    finally:
        supervisor.stop()
        http.terminate()
        http.wait(timeout=10)
    assert notebook.read_text(encoding="utf-8") == "over http\n"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
