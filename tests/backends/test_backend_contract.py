"""Every backend on the tiny random-weight model: one suite, run for llama.cpp and for MLX.

The MLX runs use the same tiny GGUF converted to an mlx-lm folder (real MLX on the CPU, through
``mlx[cpu]`` on Linux). Random weights make the model's choices arbitrary, which is exactly what
the grammar must survive: whatever the model prefers, every completion is text or calls valid
for their schema, on either runtime.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.base import Backend, CancelToken, GenerateOptions
from backends.errors import (
    ContextOverflowError,
    GenerationCancelled,
    GenerationIncomplete,
    GrammarError,
)
from backends.generation import CallDelta, Completion, TextDelta
from backends.schema import ToolSpec, parse_tools

KINDS = ["llama.cpp", "mlx"]
# Examples of the property test per backend: MLX on the CPU costs about 4 ms a token on the
# tiny model (llama.cpp well under 1), and these answers run to hundreds of tokens.
EXAMPLES = {"llama.cpp": 25, "mlx": 10}

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


def make_backend(
    kind: str, model: Path, *, n_ctx: int = 2048, cache_dir: Path | None = None
) -> Backend:
    """A loaded tiny-model backend of ``kind``."""
    backend: Backend
    if kind == "mlx":
        from backends.mlxlm import MlxBackend, MlxSettings

        backend = MlxBackend(MlxSettings(n_ctx=n_ctx, cache_dir=cache_dir))
    else:
        from backends.llamacpp import LlamaCppBackend, LlamaSettings

        backend = LlamaCppBackend(LlamaSettings(n_ctx=n_ctx, n_threads=1, cache_dir=cache_dir))
    backend.load(model)
    return backend


@pytest.fixture(scope="module", params=KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(scope="module")
def model(kind: str, request: pytest.FixtureRequest) -> Path:
    """The tiny model in the format ``kind`` reads (MLX runs skip where MLX is missing)."""
    return request.getfixturevalue("tiny_mlx_path" if kind == "mlx" else "tiny_gguf_path")


@pytest.fixture(scope="module")
def backend(kind: str, model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """One loaded tiny-model backend per kind for the module (loading is the slow part)."""
    b = make_backend(kind, model, cache_dir=tmp_path_factory.mktemp("kv"))
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


def test_render_uses_the_models_template_with_tools(backend: Backend) -> None:
    """The prompt comes from the model's chat template and lists the tool schema."""
    tools = parse_tools([WEATHER])
    prompt = backend.render(_messages(), tools)
    assert prompt.startswith("<|im_start|>system\nYou help.")
    assert '"name": "get_weather"' in prompt
    assert prompt.endswith("<|im_start|>assistant\n")


def test_tokenize_round_trips_unicode(backend: Backend) -> None:
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


def test_random_model_under_grammar_always_yields_valid_output(backend: Backend, kind: str) -> None:
    """Whatever the random weights prefer, the grammar turns it into valid text or valid calls."""

    @settings(
        max_examples=EXAMPLES[kind],
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        schemas=st.lists(_bounded_schema(), min_size=1, max_size=3),
        seed=st.integers(0, 2**16),
        allow_text=st.booleans(),
    )
    def check(schemas: list[dict[str, Any]], seed: int, allow_text: bool) -> None:
        tools = parse_tools([{"name": f"tool_{i}", "parameters": s} for i, s in enumerate(schemas)])
        completion = backend.generate(
            _messages("do it"),
            tools,
            options=GenerateOptions(
                max_tokens=1200, temperature=1.0, seed=seed, allow_text=allow_text
            ),
        )
        _assert_valid(completion, tools)
        if not allow_text:
            assert completion.tool_calls, completion.raw

    check()


def test_required_call_is_parsed_from_what_was_streamed(backend: Backend) -> None:
    """The streamed pieces add up to the raw output, and a required call comes back parsed."""
    tools = parse_tools([WEATHER])
    events = list(backend.stream(_messages(), tools, options=GenerateOptions(allow_text=False)))
    completion = events[-1]
    assert isinstance(completion, Completion)
    streamed = "".join(e.text for e in events[:-1] if isinstance(e, CallDelta | TextDelta))
    assert streamed == completion.raw
    assert len(events) > 3  # streamed piece by piece, not in one block at the end
    assert all(isinstance(e, CallDelta) for e in events[:-1])
    assert completion.tool_calls
    for call in completion.tool_calls:
        assert call.name == "get_weather"
        assert call.arguments["unit"] in ("celsius", "fahrenheit")
        assert len(call.arguments["city"]) <= 12
    assert completion.forced_tokens > 0  # '{"name": "get_weather", "arguments": {' is forced


def test_output_is_deterministic_and_independent_of_cache_reuse(backend: Backend) -> None:
    """Reusing the KV cache across requests never changes an answer."""
    tools = parse_tools([WEATHER])
    options = GenerateOptions(allow_text=False, max_tokens=800)
    first = backend.generate(_messages("Paris?"), tools, options=options)
    backend.generate(_messages("Something else entirely"), tools, options=options)
    again = backend.generate(_messages("Paris?"), tools, options=options)
    assert again.raw == first.raw
    assert again.cached_tokens >= len(backend.prefix_tokens(_messages(), tools))


def test_cancel_stops_without_partial_result_and_next_request_works(backend: Backend) -> None:
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


def test_cancel_from_another_thread(backend: Backend) -> None:
    """The front ends generate in a worker thread and cancel from the UI thread."""
    cancel = CancelToken()
    outcome: list[object] = []

    def work() -> None:
        try:
            for event in backend.stream(
                _messages("talk"), options=GenerateOptions(max_tokens=400), cancel=cancel
            ):
                if isinstance(event, TextDelta) and not outcome:
                    outcome.append("started")
                    cancel.cancel()
        except GenerationCancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert outcome[0] == "started"
    assert isinstance(outcome[-1], GenerationCancelled)


def test_budget_exhausted_inside_a_call_is_an_error_not_a_half_call(backend: Backend) -> None:
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


def test_text_answer_cut_by_budget_is_returned_as_text(backend: Backend) -> None:
    """Without tools the model answers in text; a budget cut says so in finish_reason."""
    completion = backend.generate(_messages("hello"), options=GenerateOptions(max_tokens=5))
    assert completion.tool_calls == ()
    assert completion.finish_reason in ("length", "stop")
    assert completion.completion_tokens <= 5


def test_empty_tool_list_is_a_clear_error(backend: Backend) -> None:
    """Constraining to 'one of no tools' is a caller mistake, reported before decoding."""
    with pytest.raises(GrammarError, match="no tools"):
        backend.generate(_messages(), [])


def test_uncompilable_schema_names_the_tool(backend: Backend) -> None:
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


def test_unconstrained_output_is_parsed_and_validated(backend: Backend) -> None:
    """With the grammar off, whatever comes out is still read safely (text or flagged calls)."""
    tools = parse_tools([WEATHER])
    completion = backend.generate(
        _messages(), tools, options=GenerateOptions(constrained=False, max_tokens=30)
    )
    json.dumps(completion.to_json())  # always printable
    for call in completion.tool_calls:
        assert call.valid or call.errors


def test_a_second_system_message_stays_out_of_the_cached_prefix(backend: Backend) -> None:
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


def test_prompt_longer_than_context_is_refused(kind: str, model: Path) -> None:
    """A prompt that cannot fit is refused with the numbers, not truncated silently."""
    small = make_backend(kind, model, n_ctx=256)
    try:
        with pytest.raises(ContextOverflowError, match="context holds 256"):
            small.generate(_messages("word " * 400))
    finally:
        small.close()


def test_prefix_state_is_restored_from_disk_after_a_restart(
    kind: str, model: Path, tmp_path: Path
) -> None:
    """A new process (here: a new backend) restores the saved prefix and answers identically."""
    tools = parse_tools([WEATHER])
    options = GenerateOptions(allow_text=False, max_tokens=800)
    cache = tmp_path / "kv"

    first = make_backend(kind, model, cache_dir=cache)
    cold = first.generate(_messages(), tools, options=options)
    first.close()
    assert cold.cached_tokens == 0
    assert list(cache.glob("*.kv")), "the prefix state was not saved"

    second = make_backend(kind, model, cache_dir=cache)
    try:
        warm = second.generate(_messages(), tools, options=options)
        prefix = second.prefix_tokens(_messages(), tools)
    finally:
        second.close()
    assert warm.cached_tokens >= len(prefix) > 10
    assert warm.raw == cold.raw


def test_context_filling_up_inside_a_call_is_an_incomplete_call(kind: str, model: Path) -> None:
    """When the context fills up in the middle of a call the caller gets a clear error, and the
    model keeps working for the next (shorter) request."""
    small = make_backend(kind, model, n_ctx=512)
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
