"""``callmemaybe serve`` and ``--backend openai`` as a user starts them: real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import openai
import pytest

from app.cli import main
from tests.loopback import free_port


def test_serve_then_a_remote_call_from_the_command_line(
    tiny_gguf_path: Path, tmp_path: Path
) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as errors:  # the child keeps its own copy of the handle
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app",
                "serve",
                "--model",
                str(tiny_gguf_path),
                "--port",
                str(port),
                "--threads",
                "1",
            ],
            stdout=subprocess.DEVNULL,
            stderr=errors,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/models", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "callmemaybe serve did not start"
                time.sleep(0.2)
        with openai.OpenAI(base_url=url, api_key="-", max_retries=0) as client:
            assert [m.id for m in client.models.list()] == ["tiny-qwen2"]
        tools = tmp_path / "tools.json"
        tools.write_text(
            json.dumps(
                [
                    {
                        "name": "get_time",
                        "description": "Time in a city",
                        "parameters": {
                            "type": "object",
                            "properties": {"city": {"enum": ["Paris", "Oslo"]}},
                            "required": ["city"],
                        },
                    }
                ]
            )
        )
        call = subprocess.run(
            [
                sys.executable,
                "-m",
                "app",
                "call",
                "time in Oslo",
                "--tools",
                str(tools),
                "--backend",
                "openai",
                "--base-url",
                url,
                "--max-tokens",
                "200",
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "CALLMEMAYBE_API_KEY": ""},
        )
        assert call.returncode == 0, call.stderr
        answer = json.loads(call.stdout)
        for made in answer.get("tool_calls", []):
            assert made["name"] == "get_time" and made["arguments"]["city"] in ("Paris", "Oslo")
        assert "tool_calls" in answer or answer["text"]
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)


def test_serving_beyond_loopback_without_a_key_is_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CALLMEMAYBE_SERVE_KEY", raising=False)
    assert main(["serve", "--host", "0.0.0.0"]) == 2
    assert "--api-key" in capsys.readouterr().err


def test_the_remote_backend_needs_an_address(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    tools = tmp_path / "tools.json"
    tools.write_text('[{"name": "f", "parameters": {"type": "object", "properties": {}}}]')
    assert main(["call", "hi", "--tools", str(tools), "--backend", "openai"]) == 2
    assert "--base-url" in capsys.readouterr().err
