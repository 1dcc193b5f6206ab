"""The llama.cpp backend on the tiny random-weight model: real loading, templates and decoding.

Random weights make the model's choices arbitrary, which is exactly what the grammar must
survive: whatever the model prefers, every completion is text or calls valid for their schema.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.base import CancelToken, GenerateOptions
from backends.errors import (
    ContextOverflowError,
    GenerationCancelled,
    GenerationIncomplete,
    GrammarError,
    ModelFileError,
)
from backends.generation import CallDelta, Completion, TextDelta
from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.schema import ToolSpec, parse_tools

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "maxLength": 12},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1, "maximum": 7},
            },
            "required": ["city", "unit"],
        },
    },
}


def _messages(text: str = "What is the weather in Paris?") -> list[dict[str, str]]:
    return [{"role": "system", "content": "You help."}, {"role": "user", "content": text}]


@pytest.fixture(scope="module")
def backend(tiny_gguf_path: Path, tmp_path_factory: pytest.TempPathFactory) -> LlamaCppBackend:
    """One loaded tiny-model backend for the module (loading is the slow part)."""
    b = LlamaCppBackend(
        LlamaSettings(n_ctx=2048, n_threads=1, cache_dir=tmp_path_factory.mktemp("kv"))
    )
    b.load(tiny_gguf_path)
    yield b
    b.close()


def _assert_valid(completion: Completion, tools: list[ToolSpec]) -> None:
    """A completion is either text or calls that validate against their tool's schema."""
    by_name = {t.name: t for t in tools}
    if completion.tool_calls:
        assert completion.text is None
        for call in completion.tool_calls:
            assert call.valid, call.errors
            jsonschema.validate(call.arguments, by_name[call.name].parameters)
    else:
        assert isinstance(completion.text, str)


def test_render_uses_the_models_template_with_tools(backend: LlamaCppBackend) -> None:
    """The prompt comes from the GGUF's chat template and lists the tool schema."""
    tools = parse_tools([WEATHER])
    prompt = backend.render(_messages(), tools)
    assert prompt.startswith("<|im_start|>system\nYou help.")
    assert '"name": "get_weather"' in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_tokenize_round_trips_unicode(backend: LlamaCppBackend) -> None:
    """Byte-level tokenization loses nothing: accents, emoji, newlines."""
    text = 'Grüße 👋\n{"a": "ü"}'
    assert backend.detokenize(backend.tokenize(text)) == text


def _bounded_schema() -> st.SearchStrategy[dict[str, Any]]:
    """Schemas whose every value is bounded, so decoding always finishes within the budget."""
    leaf = st.one_of(
        st.builds(
            lambda lo, span: {"type": "integer", "minimum": lo, "maximum": lo + span},
            st.integers(-50, 50),
            st.integers(0, 100),
        ),
        st.just({"type": "boolean"}),
        st.lists(
            st.text("abcxyz", min_size=1, max_size=5), min_size=1, max_size=4, unique=True
        ).map(lambda values: {"type": "string", "enum": values}),
        st.integers(1, 6).map(lambda n: {"type": "string", "maxLength": n}),
    )
    nested = st.dictionaries(st.sampled_from(["p", "q", "r"]), leaf, min_size=1, max_size=2).map(
        lambda props: {"type": "object", "properties": props, "required": sorted(props)[:1]}
    )
    value = st.one_of(leaf, nested)
    return st.dictionaries(
        st.sampled_from(["alpha", "beta", "gamma", "delta"]), value, min_size=1, max_size=3
    ).flatmap(
        lambda props: st.lists(st.sampled_from(sorted(props)), unique=True).map(
            lambda req: {"type": "object", "properties": props, "required": req}
        )
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    schemas=st.lists(_bounded_schema(), min_size=1, max_size=3),
    seed=st.integers(0, 2**16),
    allow_text=st.booleans(),
)
def test_random_model_under_grammar_always_yields_valid_output(
    backend: LlamaCppBackend, schemas: list[dict[str, Any]], seed: int, allow_text: bool
) -> None:
    """Whatever the random weights prefer, the grammar turns it into valid text or valid calls."""
    tools = parse_tools([{"name": f"tool_{i}", "parameters": s} for i, s in enumerate(schemas)])
    completion = backend.generate(
        _messages("do it"),
        tools,
        options=GenerateOptions(max_tokens=1200, temperature=1.0, seed=seed, allow_text=allow_text),
    )
    _assert_valid(completion, tools)
    if not allow_text:
        assert completion.tool_calls, completion.raw


def test_required_call_is_parsed_from_what_was_streamed(backend: LlamaCppBackend) -> None:
    """The streamed pieces add up to the raw output, and a required call comes back parsed."""
    tools = parse_tools([WEATHER])
    events = list(backend.stream(_messages(), tools, options=GenerateOptions(allow_text=False)))
    completion = events[-1]
    assert isinstance(completion, Completion)
    streamed = "".join(e.text for e in events[:-1] if isinstance(e, CallDelta | TextDelta))
    assert streamed == completion.raw
    assert all(isinstance(e, CallDelta) for e in events[:-1])
    assert completion.tool_calls
    for call in completion.tool_calls:
        assert call.name == "get_weather"
        assert call.arguments["unit"] in ("celsius", "fahrenheit")
        assert len(call.arguments["city"]) <= 12
    assert completion.forced_tokens > 0  # '{"name": "get_weather", "arguments": {' is forced


def test_output_is_deterministic_and_independent_of_cache_reuse(backend: LlamaCppBackend) -> None:
    """Reusing the KV cache across requests never changes an answer."""
    tools = parse_tools([WEATHER])
    options = GenerateOptions(allow_text=False, max_tokens=800)
    first = backend.generate(_messages("Paris?"), tools, options=options)
    backend.generate(_messages("Something else entirely"), tools, options=options)
    again = backend.generate(_messages("Paris?"), tools, options=options)
    assert again.raw == first.raw
    assert again.cached_tokens >= len(backend.prefix_tokens(_messages(), tools))


def test_cancel_stops_without_partial_result_and_next_request_works(
    backend: LlamaCppBackend,
) -> None:
    """Cancelling mid-answer raises and returns nothing; the model keeps working afterwards."""
    tools = parse_tools([WEATHER])
    options = GenerateOptions(allow_text=False, max_tokens=800)
    reference = backend.generate(_messages("Rome?"), tools, options=options)
    cancel = CancelToken()
    seen: list[object] = []
    with pytest.raises(GenerationCancelled):
        for event in backend.stream(_messages("Rome?"), tools, options=options, cancel=cancel):
            seen.append(event)
            cancel.cancel()
    assert not any(isinstance(e, Completion) for e in seen)
    assert backend.generate(_messages("Rome?"), tools, options=options).raw == reference.raw


def test_budget_exhausted_inside_a_call_is_an_error_not_a_half_call(
    backend: LlamaCppBackend,
) -> None:
    """A call cut off by the token budget is reported as incomplete, never returned."""
    tools = parse_tools(
        [
            {
                "name": "write",
                "parameters": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                },
            }
        ]
    )
    with pytest.raises(GenerationIncomplete) as info:
        backend.generate(
            _messages(), tools, options=GenerateOptions(allow_text=False, max_tokens=3)
        )
    assert "budget" in str(info.value)
    assert info.value.partial_text.startswith(("{", "[", "`"))


def test_text_answer_cut_by_budget_is_returned_as_text(backend: LlamaCppBackend) -> None:
    """Without tools the model answers in text; a budget cut says so in finish_reason."""
    completion = backend.generate(_messages("hello"), options=GenerateOptions(max_tokens=5))
    assert completion.tool_calls == ()
    assert completion.finish_reason in ("length", "stop")
    assert completion.completion_tokens <= 5


def test_empty_tool_list_is_a_clear_error(backend: LlamaCppBackend) -> None:
    """Constraining to 'one of no tools' is a caller mistake, reported before decoding."""
    with pytest.raises(GrammarError, match="no tools"):
        backend.generate(_messages(), [])


def test_uncompilable_schema_names_the_tool(backend: LlamaCppBackend) -> None:
    """A schema llguidance cannot enforce fails up front, naming the tool."""
    tools = parse_tools(
        [
            WEATHER,
            {
                "name": "lookahead",
                "parameters": {
                    "type": "object",
                    "properties": {"s": {"type": "string", "pattern": "(?=a)b"}},
                },
            },
        ]
    )
    with pytest.raises(GrammarError, match="lookahead"):
        backend.generate(_messages(), tools)


def test_prompt_longer_than_context_is_refused(tiny_gguf_path: Path) -> None:
    """A prompt that cannot fit is refused with the numbers, not truncated silently."""
    small = LlamaCppBackend(LlamaSettings(n_ctx=256, n_threads=1))
    small.load(tiny_gguf_path)
    try:
        with pytest.raises(ContextOverflowError, match="context holds 256"):
            small.generate(_messages("word " * 400))
    finally:
        small.close()


def test_prefix_state_is_restored_from_disk_after_a_restart(
    tiny_gguf_path: Path, tmp_path: Path
) -> None:
    """A new process (here: a new backend) restores the saved prefix and answers identically."""
    tools = parse_tools([WEATHER])
    options = GenerateOptions(allow_text=False, max_tokens=800)
    cache = tmp_path / "kv"

    first = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1, cache_dir=cache))
    first.load(tiny_gguf_path)
    cold = first.generate(_messages(), tools, options=options)
    first.close()
    assert cold.cached_tokens == 0
    assert list(cache.glob("*.kv")), "the prefix state was not saved"

    second = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1, cache_dir=cache))
    second.load(tiny_gguf_path)
    try:
        warm = second.generate(_messages(), tools, options=options)
        prefix = second.prefix_tokens(_messages(), tools)
    finally:
        second.close()
    assert warm.cached_tokens >= len(prefix) > 10
    assert warm.raw == cold.raw


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    """Pointing at a file that is not there says so."""
    with pytest.raises(ModelFileError):
        LlamaCppBackend().load(tmp_path / "nope.gguf")


def test_truncated_model_file_is_a_clear_error(tiny_gguf_path: Path, tmp_path: Path) -> None:
    """A GGUF cut short (an interrupted copy) is refused before llama.cpp touches it."""
    truncated = tmp_path / "cut.gguf"
    data = tiny_gguf_path.read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        LlamaCppBackend().load(truncated)


def test_unconstrained_output_is_parsed_and_validated(backend: LlamaCppBackend) -> None:
    """With the grammar off, whatever comes out is still read safely (text or flagged calls)."""
    tools = parse_tools([WEATHER])
    completion = backend.generate(
        _messages(), tools, options=GenerateOptions(constrained=False, max_tokens=30)
    )
    json.dumps(completion.to_json())  # always printable
    for call in completion.tool_calls:
        assert call.valid or call.errors


def test_context_is_capped_at_what_the_model_was_trained_for(tiny_gguf_path: Path) -> None:
    """Asking for more context than the model knows gives the trained length, not garbage."""
    wide = LlamaCppBackend(LlamaSettings(n_ctx=8192, n_threads=1))
    wide.load(tiny_gguf_path)
    try:
        assert wide.n_ctx == 2048
        assert wide.llm.n_ctx() == 2048
    finally:
        wide.close()


def test_context_filling_up_inside_a_call_is_an_incomplete_call(tiny_gguf_path: Path) -> None:
    """When the context fills up in the middle of a call the caller gets a clear error, and the
    model keeps working for the next (shorter) request."""
    small = LlamaCppBackend(LlamaSettings(n_ctx=512, n_threads=1))
    small.load(tiny_gguf_path)
    many = {"type": "array", "items": {"type": "integer"}, "minItems": 300}
    schema = {"type": "object", "properties": {"numbers": many}, "required": ["numbers"]}
    tools = parse_tools([{"name": "write", "parameters": schema}])
    try:
        prompt_tokens = len(small.tokenize(small.render(_messages(), tools)))
        assert prompt_tokens < 400
        with pytest.raises(GenerationIncomplete):
            small.generate(
                _messages(), tools, options=GenerateOptions(allow_text=False, max_tokens=4000)
            )
        assert (
            small.generate(_messages(), options=GenerateOptions(max_tokens=4)).completion_tokens
            <= 4
        )
    finally:
        small.close()


def test_a_second_system_message_stays_out_of_the_cached_prefix(backend: LlamaCppBackend) -> None:
    """The assistant's "Now: ..." system message changes every minute; the cached prefix is the
    first system message and the tools only, so a new minute does not make a cold prompt."""
    tools = parse_tools([WEATHER])

    def at(minute: str) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": "You help."},
            {"role": "system", "content": f"Now: Wednesday 10:{minute}."},
            {"role": "user", "content": "Paris?"},
        ]

    prefix = backend.prefix_tokens(at("00"), tools)
    assert prefix == backend.prefix_tokens(at("01"), tools)
    assert prefix == backend.prefix_tokens(_messages(), tools)
    prompt = backend.tokenize(backend.render(at("01"), tools))
    assert prompt[: len(prefix)] == prefix
    assert "Now:" not in backend.detokenize(prefix)
