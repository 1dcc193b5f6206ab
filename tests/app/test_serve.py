"""``callmemaybe serve`` driven by the official ``openai`` client, as another program would.

A real uvicorn server on loopback serves the tiny random-weight model through the real llama.cpp
decode loop and grammar: the model's words are noise, which is the point: whatever it wants to
write, every call that comes back must match its schema.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import openai
import pytest

from app.serve.app import ServeLimits, create_app
from app.serve.run import model_id_for
from app.serve.run import serving_in_thread as serving
from app.serve.security import UnsafeBindError, bearer_matches, check_bind, is_loopback
from backends.llamacpp import LlamaCppBackend, LlamaSettings

WEATHER_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "enum": ["Paris", "Oslo", "Lima"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 5},
        "note": {"type": "string", "maxLength": 8},
    },
    "required": ["city", "days"],
    "additionalProperties": False,
}
TIME_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string", "enum": ["Paris", "Oslo", "Lima"]}},
    "required": ["city"],
    "additionalProperties": False,
}
TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": WEATHER_PARAMETERS,
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "Time in a city",
            "parameters": TIME_PARAMETERS,
        },
    },
]
SCHEMAS = {"get_weather": WEATHER_PARAMETERS, "get_time": TIME_PARAMETERS}


@pytest.fixture(scope="module")
def backend(tiny_gguf_path: Path) -> Iterator[LlamaCppBackend]:
    model = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1))
    model.load(tiny_gguf_path)
    yield model
    model.close()


@pytest.fixture(scope="module")
def server(backend: LlamaCppBackend) -> Iterator[tuple[str, Any]]:
    app = create_app(backend, model_id="tiny", limits=ServeLimits(max_tokens=512))
    with serving(app) as url:
        yield url, app


@pytest.fixture
def client(server: tuple[str, Any]) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server[0] + "/v1", api_key="unused", max_retries=0) as made:
        yield made


def request_json(url: str, body: Any = None, timeout: float = 30) -> tuple[int, Any]:
    """A bare HTTP request (no OpenAI client): the status and the JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def assert_valid(calls: Any) -> None:
    for call in calls:
        jsonschema.validate(json.loads(call.function.arguments), SCHEMAS[call.function.name])


def ask(client: openai.OpenAI, text: str, **options: Any) -> Any:
    return client.chat.completions.create(
        model="tiny", messages=[{"role": "user", "content": text}], **options
    )


def test_models_lists_the_served_model(client: openai.OpenAI) -> None:
    assert [m.id for m in client.models.list()] == ["tiny"]


def test_a_plain_request_gets_text_and_usage(client: openai.OpenAI) -> None:
    answer = ask(client, "hello", max_tokens=12)
    choice = answer.choices[0]
    assert choice.message.role == "assistant"
    assert isinstance(choice.message.content, str) and choice.message.content
    assert choice.message.tool_calls is None
    assert choice.finish_reason in ("stop", "length")
    assert answer.usage is not None
    assert answer.usage.prompt_tokens > 0
    assert 0 < answer.usage.completion_tokens <= 12
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


@pytest.mark.parametrize("text", ["weather in Paris", "time in Lima", "Oslo?", "x", "5 days"])
def test_required_calls_always_match_their_schemas(client: openai.OpenAI, text: str) -> None:
    for temperature in (0.0, 1.5):
        answer = ask(
            client,
            text,
            tools=TOOLS,
            tool_choice="required",
            max_tokens=500,
            temperature=temperature,
            seed=3,
        )
        choice = answer.choices[0]
        assert choice.finish_reason == "tool_calls"
        assert choice.message.content is None
        assert choice.message.tool_calls
        assert len({c.id for c in choice.message.tool_calls}) == len(choice.message.tool_calls)
        assert_valid(choice.message.tool_calls)


def test_a_named_tool_choice_calls_that_tool(client: openai.OpenAI) -> None:
    answer = ask(
        client,
        "weather in Paris",
        tools=TOOLS,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
        max_tokens=100,
    )
    calls = answer.choices[0].message.tool_calls
    assert calls and {c.function.name for c in calls} == {"get_time"}
    assert_valid(calls)


def test_tool_choice_none_answers_in_text(client: openai.OpenAI) -> None:
    answer = ask(client, "weather in Paris", tools=TOOLS, tool_choice="none", max_tokens=20)
    assert answer.choices[0].message.tool_calls is None
    assert answer.choices[0].message.content


def test_parallel_calls_come_as_several_and_can_be_turned_off(client: openai.OpenAI) -> None:
    options: dict[str, Any] = {"tools": TOOLS, "tool_choice": "required", "max_tokens": 400}
    text = "time in Lima and weather in Oslo"
    several = ask(client, text, **options).choices[0].message.tool_calls
    assert several and len(several) > 1  # the tiny model's greedy answer holds three calls
    assert_valid(several)
    one = ask(client, text, parallel_tool_calls=False, **options)
    calls = one.choices[0].message.tool_calls
    assert calls and len(calls) == 1
    assert_valid(calls)


def test_tool_results_in_the_conversation_are_read(client: openai.OpenAI) -> None:
    history: list[dict[str, Any]] = [
        {"role": "user", "content": "weather in Paris"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {
                        "name": "get_weather",
                        "arguments": '{"city": "Paris", "days": 1}',
                    },
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"sky": "clear", "high_c": 21}'},
    ]
    answer = client.chat.completions.create(
        model="tiny", messages=history, tools=TOOLS, max_tokens=20
    )
    shorter = client.chat.completions.create(
        model="tiny", messages=history[:1], tools=TOOLS, max_tokens=20
    )
    assert answer.usage and shorter.usage
    assert answer.usage.prompt_tokens > shorter.usage.prompt_tokens + 20  # call and result shown
    history[1]["tool_calls"][0]["function"]["arguments"] = "{not json"
    with pytest.raises(openai.BadRequestError, match="not valid JSON"):
        client.chat.completions.create(model="tiny", messages=history, tools=TOOLS)


def test_the_prefix_is_reused_across_requests_with_the_same_tools(client: openai.OpenAI) -> None:
    options: dict[str, Any] = {"tools": TOOLS, "tool_choice": "required", "max_tokens": 100}
    ask(client, "weather in Lima", **options)
    again = ask(client, "what time is it in Oslo", **options)
    assert again.usage and again.usage.prompt_tokens_details
    cached = again.usage.prompt_tokens_details.cached_tokens or 0
    assert cached > again.usage.prompt_tokens // 2  # the system-and-tools block, not recomputed


def test_streamed_calls_are_assembled_by_the_openai_client(client: openai.OpenAI) -> None:
    request: dict[str, Any] = {
        "model": "tiny",
        "messages": [{"role": "user", "content": "time in Lima and weather in Oslo"}],
        "tools": TOOLS,
        "tool_choice": "required",
        "max_tokens": 400,
    }
    whole = client.chat.completions.create(**request).choices[0].message.tool_calls
    with client.chat.completions.stream(**request, stream_options={"include_usage": True}) as s:
        final = s.get_final_completion()
    streamed = final.choices[0].message.tool_calls
    assert whole and streamed
    assert [(c.function.name, json.loads(c.function.arguments)) for c in streamed] == [
        (c.function.name, json.loads(c.function.arguments)) for c in whole
    ]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.usage and final.usage.completion_tokens > 0
    assert_valid(streamed)


def test_streamed_text_arrives_in_pieces(client: openai.OpenAI) -> None:
    chunks = list(ask(client, "hello", max_tokens=16, stream=True))
    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) > 1 and "".join(pieces).strip()
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] in ("stop", "length") and set(finishes[:-1]) == {None}


def test_response_format_json_schema_gives_a_matching_document(client: openai.OpenAI) -> None:
    schema = {
        "type": "object",
        "properties": {
            "mood": {"enum": ["happy", "sad"]},
            "score": {"type": "integer", "maximum": 9},
        },
        "required": ["mood", "score"],
        "additionalProperties": False,
    }
    answer = ask(
        client,
        "how are you",
        response_format={"type": "json_schema", "json_schema": {"name": "m", "schema": schema}},
        max_tokens=60,
    )
    jsonschema.validate(json.loads(answer.choices[0].message.content or ""), schema)


def test_a_schema_that_cannot_be_enforced_is_a_400_with_the_reason(client: openai.OpenAI) -> None:
    impossible = {
        "type": "function",
        "function": {
            "name": "count",
            "parameters": {
                "type": "object",
                "properties": {"n": {"type": "integer", "minimum": 5, "maximum": 1}},
                "required": ["n"],
            },
        },
    }
    with pytest.raises(openai.BadRequestError) as caught:
        ask(client, "count", tools=[impossible], tool_choice="required")
    assert caught.value.status_code == 400
    assert "count" in caught.value.message and "cannot be enforced" in caught.value.message
    with pytest.raises(openai.BadRequestError, match="unknown type"):
        bad_type = {"type": "function", "function": {"name": "f", "parameters": {"type": "blob"}}}
        ask(client, "x", tools=[bad_type])
    impossible_answer = {"type": "integer", "minimum": 5, "maximum": 1}
    with pytest.raises(openai.BadRequestError, match="response schema cannot be enforced"):
        ask(
            client,
            "x",
            response_format={
                "type": "json_schema",
                "json_schema": {"name": "n", "schema": impossible_answer},
            },
        )
    with pytest.raises(openai.BadRequestError, match="not among the tools"):
        ask(
            client, "x", tools=TOOLS, tool_choice={"type": "function", "function": {"name": "nope"}}
        )


def test_bad_bodies_are_400_and_oversized_ones_413(server: tuple[str, Any]) -> None:
    url = server[0] + "/v1/chat/completions"
    assert request_json(url, {"messages": []})[0] == 400
    status, refused = request_json(url, {"messages": [{"role": "wizard", "content": "x"}]})
    assert status == 400 and "role" in refused["error"]["message"]
    # A body announced as too long is refused before it is read: the client sends only a
    # little of it (sending all of it would race the server's early answer).
    host, port = server[0].removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    connection.putrequest("POST", "/v1/chat/completions")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", str(2_000_000))
    connection.endheaders(b'{"messages": [{"role": "user", "content": "' + b"x" * 1000)
    response = connection.getresponse()
    assert response.status == 413
    assert json.loads(response.read())["error"]["code"] == "request_too_large"
    connection.close()


def test_a_prompt_over_the_limit_is_refused(backend: LlamaCppBackend) -> None:
    app = create_app(backend, model_id="tiny", limits=ServeLimits(max_prompt_tokens=50))
    with (
        serving(app) as url,
        openai.OpenAI(base_url=url + "/v1", api_key="-", max_retries=0) as c,
        pytest.raises(openai.BadRequestError) as caught,
    ):
        ask(c, "tell me a long story " * 20)
    assert caught.value.code == "context_length_exceeded"


def test_an_api_key_is_required_when_set(backend: LlamaCppBackend) -> None:
    app = create_app(backend, model_id="tiny", api_key="s3cret")
    with serving(app) as url:
        with openai.OpenAI(base_url=url + "/v1", api_key="wrong", max_retries=0) as c:
            with pytest.raises(openai.AuthenticationError):
                c.models.list()
            with pytest.raises(openai.AuthenticationError):
                ask(c, "hi", max_tokens=4)
        assert request_json(url + "/v1/models")[0] == 401
        with openai.OpenAI(base_url=url + "/v1", api_key="s3cret", max_retries=0) as c:
            assert ask(c, "hi", max_tokens=4).choices[0].message.content


def test_beyond_loopback_needs_a_key() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "key")
    with pytest.raises(UnsafeBindError, match="--api-key"):
        check_bind("0.0.0.0", None)
    assert bearer_matches("Bearer abc", "abc") and not bearer_matches("Bearer abd", "abc")
    assert not bearer_matches("Basic abc", "abc") and not bearer_matches(None, "abc")


def test_the_model_id_names_the_model_file() -> None:
    assert model_id_for("bundled") == "bundled"
    assert model_id_for("/models/qwen2.5-0.5b.gguf") == "qwen2.5-0.5b"
    assert model_id_for("hf:Qwen/Qwen2.5-GGUF/qwen-q4.gguf@main") == "qwen-q4"


def _wait_until(condition: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


def test_a_request_over_the_queue_gets_429_with_retry_after(backend: LlamaCppBackend) -> None:
    app = create_app(backend, model_id="tiny", limits=ServeLimits(max_queue=0))
    worker = app.state.worker
    results: list[Any] = []
    with serving(app) as url, openai.OpenAI(base_url=url + "/v1", api_key="-", max_retries=0) as c:
        with backend._lock:  # the model is busy: the first request holds the only slot
            first = threading.Thread(target=lambda: results.append(ask(c, "hi", max_tokens=4)))
            first.start()
            _wait_until(lambda: worker.admitted == 1)
            with pytest.raises(openai.RateLimitError) as caught:
                ask(c, "me too", max_tokens=4)
        first.join(timeout=30)
    assert int(caught.value.response.headers["Retry-After"]) >= 1
    assert caught.value.code == "queue_full"
    assert results and results[0].choices[0].message.content  # the admitted one was answered


def test_a_client_that_leaves_cancels_its_generation(backend: LlamaCppBackend) -> None:
    app = create_app(backend, model_id="tiny")
    worker = app.state.worker
    with serving(app) as url:
        with backend._lock:  # hold the model so the request is still waiting when it leaves
            with pytest.raises(TimeoutError):  # the client gives up and hangs up
                request_json(
                    url + "/v1/chat/completions",
                    {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 200},
                    timeout=0.5,
                )
            _wait_until(lambda: worker.cancelled == 0 and worker.admitted == 1)
            time.sleep(0.5)  # the server notices the disconnect
        _wait_until(lambda: worker.admitted == 0)
    assert worker.cancelled == 1
