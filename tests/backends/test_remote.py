"""The remote backend against real OpenAI-compatible servers on loopback.

Two servers run the tiny random-weight model: ``callmemaybe serve`` (which enforces ``tools``
itself) and llama-cpp-python's ``llama_cpp.server`` (which takes a GBNF grammar, and whose
JSON-Schema-to-GBNF converter ignores numeric ranges: what the backend's own check after
decoding is for). The failure cases use real sockets too: a port nobody listens on, a server
that accepts and never answers, and a web server that answers in another shape.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from app.serve.app import create_app
from app.serve.run import serving_in_thread as serving
from backends.base import GenerateOptions
from backends.call_format import call_format_for
from backends.errors import BackendError
from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.remote import (
    RemoteBackend,
    RemoteCallError,
    RemoteError,
    RemoteProtocolError,
    RemoteSettings,
    RemoteTimeoutError,
    RemoteUnreachableError,
    to_openai_messages,
)
from backends.remote_dialects import LlamaCppDialect
from backends.schema import ToolSpec, parse_tools
from tests.loopback import free_port

TOOLS = parse_tools(
    [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string", "enum": ["Paris", "Oslo", "Lima"]},
                        "days": {"type": "integer"},
                    },
                    "required": ["city", "days"],
                },
            },
        },
        {
            "type": "function",
            "function": {
                "name": "get_time",
                "description": "Time in a city",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string", "enum": ["Paris", "Oslo", "Lima"]}},
                    "required": ["city"],
                },
            },
        },
    ]
)
ASK = [{"role": "user", "content": "weather in Paris"}]


def assert_valid(calls: Any, tools: list[ToolSpec]) -> None:
    schemas = {t.name: t.parameters for t in tools}
    for call in calls:
        assert call.valid, call.errors
        jsonschema.validate(call.arguments, schemas[call.name])


@pytest.fixture(scope="module")
def tiny(tiny_gguf_path: Path) -> Iterator[LlamaCppBackend]:
    model = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1))
    model.load(tiny_gguf_path)
    yield model
    model.close()


@pytest.fixture(scope="module")
def serve_url(tiny: LlamaCppBackend) -> Iterator[str]:
    with serving(create_app(tiny, model_id="tiny")) as url:
        yield url + "/v1"


@pytest.fixture(scope="module")
def llama_server(tiny_gguf_path: Path) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on the tiny model."""
    with llama_cpp_server(tiny_gguf_path) as url:
        yield url


# llama_cpp.server loads its model as the app does, with AMX's extra buffers off where the
# processor has AMX: otherwise its first decode crashes the server there (see
# backends.llamacpp.loading_guard).
_SERVER_WITHIN_GUARD = (
    "import runpy, llama_cpp\n"
    "from backends.llamacpp import loading_guard\n"
    "with loading_guard(llama_cpp):\n"
    "    runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)\n"
)


@contextlib.contextmanager
def llama_cpp_server(model: Path, n_ctx: int = 2048, threads: int = 1) -> Iterator[str]:
    """``llama_cpp.server`` on ``model``, on a free loopback port; yields its ``/v1`` URL.

    ``--logits_all False``: the server's default keeps a logits row per context position
    (2.5 GB for Qwen's vocabulary at 4,096 tokens), which nothing here reads."""
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _SERVER_WITHIN_GUARD,
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(n_ctx),
            "--n_threads",
            str(threads),
            "--logits_all",
            "False",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url + "/models", timeout=2):
                    break
            except OSError:
                assert process.poll() is None, "llama_cpp.server exited"
                assert time.monotonic() < deadline, "llama_cpp.server did not start"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def connect(url: str, **settings: Any) -> RemoteBackend:
    backend = RemoteBackend(RemoteSettings(base_url=url, **settings))
    backend.load(None)
    return backend


def test_through_callmemaybe_serve_calls_are_valid(serve_url: str) -> None:
    backend = connect(serve_url)
    assert (backend.dialect, backend.model, backend.architecture) == ("tools", "tiny", "qwen2")
    for text in ("weather in Paris", "time in Oslo", "x"):
        answer = backend.generate(
            [{"role": "user", "content": text}],
            TOOLS,
            options=GenerateOptions(max_tokens=300, allow_text=False),
        )
        assert answer.tool_calls and answer.text is None
        assert_valid(answer.tool_calls, TOOLS)
    assert backend.requests == 3  # no retries: the server's grammar held
    only_time = backend.generate(
        ASK,
        TOOLS,
        options=GenerateOptions(max_tokens=300, allow_text=False, constrain_to=(TOOLS[1],)),
    )
    assert only_time.tool_calls and {c.name for c in only_time.tool_calls} == {"get_time"}
    text = backend.generate(ASK, TOOLS, options=GenerateOptions(max_tokens=12, allow_calls=False))
    assert text.text and not text.tool_calls
    assert text.prompt_tokens > 0 and text.completion_tokens > 0


def test_through_callmemaybe_serve_a_json_answer_matches_its_schema(serve_url: str) -> None:
    schema = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer", "maximum": 3}},
        "required": ["ok", "n"],
    }
    backend = connect(serve_url)
    options = GenerateOptions(max_tokens=40, response_schema=schema)
    answer = backend.generate(ASK, None, options=options)
    jsonschema.validate(__import__("json").loads(answer.text or ""), schema)


def test_through_llama_cpp_server_calls_are_valid(llama_server: str) -> None:
    backend = connect(llama_server)
    assert backend.dialect == "llama.cpp"
    answer = backend.generate(ASK, TOOLS, options=GenerateOptions(max_tokens=300, allow_text=False))
    assert answer.tool_calls
    assert_valid(answer.tool_calls, TOOLS)
    text = backend.generate(ASK, TOOLS, options=GenerateOptions(max_tokens=12, allow_calls=False))
    assert text.text and not text.tool_calls and text.text[0] not in "{[`"


def test_through_llama_cpp_server_a_conversation_with_an_earlier_call_is_answered(
    llama_server: str,
) -> None:
    """A follow-up after a call: llama-cpp-python's server answered 500 to an earlier call
    sent with a null content, so every second step of a turn failed through it."""
    backend = connect(llama_server)
    call = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}
    conversation = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "name": "get_weather", "content": "sunny"},
    ]
    answer = backend.generate(
        conversation, TOOLS, options=GenerateOptions(max_tokens=12, allow_calls=False)
    )
    assert answer.text and not answer.tool_calls


def test_a_call_the_server_cannot_enforce_is_retried_once_then_refused(llama_server: str) -> None:
    # llama-cpp-python's GBNF converter drops minimum/maximum: the server lets any integer
    # through, the backend's schema check does not.
    ranged = parse_tools(
        [
            {
                "name": "set_volume",
                "description": "Set the volume",
                "parameters": {
                    "type": "object",
                    "properties": {"level": {"type": "integer", "minimum": 7000, "maximum": 7001}},
                    "required": ["level"],
                },
            }
        ]
    )
    backend = connect(llama_server)
    with pytest.raises(RemoteCallError, match=r"twice; it was not run .*level"):
        backend.generate(
            [{"role": "user", "content": "volume up"}],
            ranged,
            options=GenerateOptions(max_tokens=300, allow_text=False),
        )
    assert backend.requests == 2


def test_an_api_key_is_sent_and_a_wrong_one_explained(tiny: LlamaCppBackend) -> None:
    with serving(create_app(tiny, model_id="tiny", api_key="k3y")) as url:
        with pytest.raises(RemoteError, match="refused the API key"):
            connect(url + "/v1", api_key="nope")
        backend = connect(url + "/v1", api_key="k3y")
        assert backend.generate(ASK, None, options=GenerateOptions(max_tokens=4)).text


def test_an_unreachable_server_is_said_plainly() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(RemoteUnreachableError, match="cannot reach the model server"):
        connect(url)


def test_a_server_that_never_answers_times_out() -> None:
    with socket.socket() as silent:  # accepts connections (the kernel does), never replies
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        started = time.monotonic()
        with pytest.raises(RemoteTimeoutError, match=r"did not answer within 0\.5 s"):
            connect(url, timeout_s=0.5)
        assert time.monotonic() - started < 5


def test_a_server_that_answers_in_another_shape_is_refused() -> None:
    from fastapi import FastAPI

    other = FastAPI()

    @other.get("/v1/models")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": "m", "owned_by": "someone"}]}

    @other.post("/v1/chat/completions")
    def chat() -> dict[str, Any]:
        return {"result": "done"}

    @other.get("/not-openai/models")
    def listing() -> list[str]:
        return ["m"]

    with serving(other) as url:
        backend = connect(url + "/v1")
        with pytest.raises(RemoteProtocolError, match="shape this backend does not expect"):
            backend.generate(ASK, TOOLS)
        with pytest.raises(RemoteProtocolError, match="did not list models"):
            connect(url + "/not-openai")
        with pytest.raises(RemoteError, match="answered 404"):
            connect(url + "/nothing-here")


def test_generating_before_connecting_is_an_error() -> None:
    with pytest.raises(BackendError, match="not connected"):
        RemoteBackend(RemoteSettings(base_url="http://127.0.0.1:1/v1")).generate(ASK)


def test_conversation_calls_get_ids_their_results_point_at() -> None:
    messages = to_openai_messages(
        [
            {"role": "user", "content": "weather in Paris and the time in Oslo"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": {"city": "Paris"}},
                    },
                    {
                        "type": "function",
                        "function": {"name": "get_time", "arguments": {"city": "Oslo"}},
                    },
                ],
            },
            {"role": "tool", "name": "get_time", "content": "10:00"},
            {"role": "tool", "name": "get_weather", "content": "sunny"},
        ]
    )
    calls = messages[1]["tool_calls"]
    assert [c["function"]["arguments"] for c in calls] == ['{"city": "Paris"}', '{"city": "Oslo"}']
    assert messages[1]["content"] == ""
    assert messages[2]["tool_call_id"] == calls[1]["id"]
    assert messages[3]["tool_call_id"] == calls[0]["id"]


def test_the_llama_cpp_grammar_leaves_huge_bounds_to_the_check() -> None:
    # llama-cpp-python's converter spells a bound of N as N nested rules: a 1,000,000-character
    # limit made an 8 MB rule, which the server parsed and ran for every token.
    text = parse_tools(
        [
            {
                "name": "write_file",
                "parameters": {
                    "type": "object",
                    "properties": {"text": {"type": "string", "maxLength": 1_000_000}},
                    "required": ["text"],
                },
            }
        ]
    )
    ask = LlamaCppDialect().ask(text, text, GenerateOptions(), call_format_for(""))
    assert len(ask.extra["grammar"]) < 20_000
    assert ask.extra["grammar"].startswith("root ::= answer-text | answer-calls")


def test_the_llama_cpp_grammar_keeps_the_arguments_in_the_tool_s_order() -> None:
    """The converter writes properties in the order the schema lists them; sorted by name,
    an event's "start" had to come before its "title", which the model never writes first
    (through ``llama_cpp.server`` the product evaluation scored 0.160 with sorted keys)."""
    event = parse_tools(
        [
            {
                "name": "calendar_create",
                "parameters": {
                    "type": "object",
                    "properties": {"title": {"type": "string"}, "start": {"type": "string"}},
                    "required": ["title", "start"],
                },
            }
        ]
    )
    grammar = (
        LlamaCppDialect().ask(event, event, GenerateOptions(), call_format_for("")).extra["grammar"]
    )
    objects = [line for line in grammar.splitlines() if "-arguments ::=" in line]
    assert objects
    for rule in objects:
        assert rule.index("title-kv") < rule.index("start-kv"), rule
