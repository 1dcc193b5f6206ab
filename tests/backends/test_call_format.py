"""Reading tool calls back out of what a model wrote.

The grammar produces bare, fenced or array calls; unconstrained output (a model run without
the grammar, or another family) drifts into ``<tool_call>`` tags, several objects in a row and
arguments written as a JSON string. Each must come back as the calls the model meant, and a
text answer must come back as no calls at all.
"""

from __future__ import annotations

import json

import pytest

from backends.call_format import (
    CALL_FORMATS,
    CallFormat,
    RawCall,
    call_format_for,
    name_spellings,
    parse_calls,
    starts_call,
    tools_by_name,
)
from backends.schema import parse_tools

FMT = call_format_for("qwen2")
VOL = '{"name": "set_volume", "arguments": {"level": 12}}'
WEATHER = '{"name": "get_weather", "arguments": {"city": "Paris"}}'


def _pairs(calls: list[RawCall] | None) -> list[tuple[object, object]]:
    assert calls is not None
    return [(c.name, c.arguments) for c in calls]


def test_call_format_for_known_and_unknown_families() -> None:
    """Qwen2 has a measured format; unknown or missing architectures get plain JSON calls."""
    assert call_format_for("qwen2") is CALL_FORMATS["qwen2"]
    assert call_format_for("QWEN2") is CALL_FORMATS["qwen2"]
    fallback = call_format_for("llama")
    assert fallback.family == "json"
    assert call_format_for(None) == fallback
    assert (fallback.name_key, fallback.arguments_key) == ("name", "arguments")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", True),
        ('[{"name"', True),
        ("```json\n", True),
        ("  \n{", True),
        ("Hello", False),
        ("The answer is {x}", False),
        ("", False),
        ("   ", False),
    ],
)
def test_starts_call(text: str, expected: bool) -> None:
    """Whether output is a call is decided by its first non-blank character."""
    assert starts_call(text, FMT) is expected


def test_bare_call() -> None:
    """A bare call object is one call, with offsets spanning the object."""
    (only,) = parse_calls(VOL, FMT) or []
    assert only == RawCall("set_volume", {"level": 12}, 0, len(VOL))


@pytest.mark.parametrize("fence", ["```json\n", "```\n", "```JSON\n"])
def test_fenced_call_offsets_point_into_the_output(fence: str) -> None:
    """A fenced call is read, and its offsets locate the object in the full output."""
    text = f"{fence}{VOL}\n```"
    (only,) = parse_calls(text, FMT) or []
    assert (only.name, only.arguments) == ("set_volume", {"level": 12})
    assert text[only.start : only.end] == VOL


def test_unclosed_fence_still_reads_the_call() -> None:
    """Output cut off before the closing fence still yields the call."""
    assert _pairs(parse_calls(f"```json\n{VOL}", FMT)) == [("set_volume", {"level": 12})]


def test_array_of_calls() -> None:
    """A JSON array gives one call per element, in order."""
    calls = parse_calls(f"[{VOL}, {WEATHER}]", FMT)
    assert _pairs(calls) == [("set_volume", {"level": 12}), ("get_weather", {"city": "Paris"})]


def test_fenced_pretty_array() -> None:
    """A fenced, line-broken array is read like a compact one."""
    text = f"```json\n[\n  {VOL},\n  {WEATHER}\n]\n```"
    assert [c.name for c in parse_calls(text, FMT) or []] == ["set_volume", "get_weather"]


def test_array_call_offsets_locate_each_object() -> None:
    """Each call of an array knows where its own object is in the output."""
    text = f"[{VOL}, {WEATHER}]"
    first, second = parse_calls(text, FMT) or []
    assert text[first.start : first.end] == VOL
    assert text[second.start : second.end] == WEATHER


def test_tool_call_tags() -> None:
    """``<tool_call>`` tags (Qwen's template form) are read, one or more, closed or not."""
    text = f"<tool_call>\n{VOL}\n</tool_call>\n<tool_call>\n{WEATHER}"
    calls = parse_calls(text, FMT) or []
    assert _pairs(calls) == [("set_volume", {"level": 12}), ("get_weather", {"city": "Paris"})]
    assert text[calls[0].start : calls[0].end] == VOL
    assert text[calls[1].start : calls[1].end] == WEATHER


def test_tool_call_tags_after_text() -> None:
    """Tags win over a text preamble in unconstrained output."""
    text = f"Sure, setting it now.\n<tool_call>{VOL}</tool_call>"
    assert _pairs(parse_calls(text, FMT)) == [("set_volume", {"level": 12})]


def test_tags_without_a_readable_call_are_no_call() -> None:
    """A tag around prose is not a call."""
    assert parse_calls("<tool_call>I cannot do that</tool_call>", FMT) is None


@pytest.mark.parametrize("separator", ["\n", " ", ", ", ";\n", "\n\n"])
def test_several_objects_in_a_row(separator: str) -> None:
    """Objects written one after another (no array) are each a call, with their own offsets."""
    text = f"{VOL}{separator}{WEATHER}"
    first, second = parse_calls(text, FMT) or []
    assert (first.name, second.name) == ("set_volume", "get_weather")
    assert text[first.start : first.end] == VOL
    assert text[second.start : second.end] == WEATHER


def test_reading_stops_at_trailing_prose() -> None:
    """Prose after the calls is ignored, the calls before it kept."""
    assert _pairs(parse_calls(f"{VOL}\nDone!", FMT)) == [("set_volume", {"level": 12})]


@pytest.mark.parametrize(
    "text",
    [
        "Hello there.",
        "",
        "   \n",
        "I would call {set_volume} but no.",
        "{not json at all",
        "[1, 2, 3]",
        '"just a string"',
        "```python\nprint('hi')\n```",
        "`inline code`",
    ],
)
def test_text_answers_are_not_calls(text: str) -> None:
    """Anything that does not hold a call object is a text answer (``None``)."""
    assert parse_calls(text, FMT) is None


def test_arguments_given_as_a_json_string_are_decoded() -> None:
    """OpenAI-style ``"arguments": "{...}"`` is decoded to an object."""
    text = json.dumps({"name": "set_volume", "arguments": json.dumps({"level": 12})})
    assert _pairs(parse_calls(text, FMT)) == [("set_volume", {"level": 12})]


def test_arguments_string_that_is_not_json_is_kept() -> None:
    """An undecodable arguments string is passed on as is, for validation to refuse."""
    text = json.dumps({"name": "set_volume", "arguments": "level=12"})
    assert _pairs(parse_calls(text, FMT)) == [("set_volume", "level=12")]


def test_parameters_instead_of_arguments() -> None:
    """``"parameters"`` is read where ``"arguments"`` is missing."""
    text = '{"name": "set_volume", "parameters": {"level": 3}}'
    assert _pairs(parse_calls(text, FMT)) == [("set_volume", {"level": 3})]


def test_missing_arguments_and_name() -> None:
    """A call without arguments has empty ones; one without a name has ``None`` for it."""
    assert _pairs(parse_calls('{"name": "ping"}', FMT)) == [("ping", {})]
    assert _pairs(parse_calls('{"arguments": {"a": 1}}', FMT)) == [(None, {"a": 1})]


def test_non_object_array_elements_are_skipped() -> None:
    """Only objects in an array are calls."""
    text = f'[1, {VOL}, "x"]'
    assert _pairs(parse_calls(text, FMT)) == [("set_volume", {"level": 12})]


def test_custom_keys_are_honoured() -> None:
    """A family writing ``{"function": ..., "args": ...}`` is read with its own keys."""
    fmt = CallFormat(family="other", name_key="function", arguments_key="args")
    text = '{"function": "set_volume", "args": {"level": 1}}'
    assert _pairs(parse_calls(text, fmt)) == [("set_volume", {"level": 1})]


def test_tools_by_name() -> None:
    """Tools are indexed by their names, and a name's dots and underscores may be swapped."""
    tools = parse_tools([{"name": "a"}, {"name": "b.c"}])
    index = tools_by_name(tools)
    assert sorted(index) == ["a", "b.c", "b_c"]
    assert index["b.c"] is tools[1]
    assert index["b_c"] is tools[1]
    plain = parse_tools([{"name": "calendar_list"}, {"name": "notes_list"}])
    assert sorted(tools_by_name(plain)) == ["calendar_list", "notes_list"]  # no dotted names


def test_a_swapped_spelling_that_could_mean_two_tools_means_neither() -> None:
    """``x.y`` and ``x_y`` both offered: each spelling names its own tool, nothing else."""
    tools = parse_tools([{"name": "x.y_z"}, {"name": "x_y.z"}, {"name": "math_roots.quadratic"}])
    spellings = name_spellings(tools)
    assert spellings["x.y_z"] == "x.y_z"
    assert spellings["x_y.z"] == "x_y.z"
    assert "x.y.z" not in spellings and "x_y_z" not in spellings  # either tool: refused
    assert spellings["math.roots.quadratic"] == "math_roots.quadratic"
