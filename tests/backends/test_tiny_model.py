"""The tiny GGUF fixture is a faithful stand-in for the bundled Qwen2.5 model.

Other tests run the real llama.cpp loading, chat-template and decoding code against
``tiny_gguf_path`` instead of the 490 MB model. That is only worth something if the tiny file
behaves like Qwen's in every way those code paths rely on: the tokenizer (special tokens, byte
level round trips, multi-byte JSON tokens), the metadata (chat template, eos), deterministic
finite logits that depend on the context, and an llguidance tokenizer built from its vocabulary.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2.sandbox import ImmutableSandboxedEnvironment

from backends.ggml_backends import ensure_cpu_backend
from tests.tiny_model import (
    TINY_CHAT_TEMPLATE,
    TINY_SPECIAL_TOKEN_IDS,
    TINY_VOCAB_SIZE,
    build_tiny_gguf,
)

llama_cpp = pytest.importorskip("llama_cpp")
ensure_cpu_backend(llama_cpp)  # a portable llama.cpp build loads its CPU variant first

IM_START = TINY_SPECIAL_TOKEN_IDS["<|im_start|>"]
IM_END = TINY_SPECIAL_TOKEN_IDS["<|im_end|>"]
ENDOFTEXT = TINY_SPECIAL_TOKEN_IDS["<|endoftext|>"]
TOOL_CALL = TINY_SPECIAL_TOKEN_IDS["<tool_call>"]
TOOL_CALL_END = TINY_SPECIAL_TOKEN_IDS["</tool_call>"]


def _load(path: Path, n_ctx: int = 512) -> Any:
    return llama_cpp.Llama(model_path=str(path), n_ctx=n_ctx, verbose=False, n_threads=1)


@pytest.fixture(scope="module")
def llm(tiny_gguf_path: Path) -> Iterator[Any]:
    """One loaded tiny model shared by the read-only tokenizer and metadata tests."""
    model = _load(tiny_gguf_path)
    yield model
    model.close()


def _last_logits(model: Any) -> np.ndarray:
    ptr = llama_cpp.llama_get_logits_ith(model.ctx, -1)
    return np.ctypeslib.as_array(ptr, shape=(model.n_vocab(),)).copy()


def _greedy(model: Any, prompt: bytes, n_tokens: int) -> list[int]:
    """Greedy decoding straight on the logits, the way the app's constrained decoder drives it."""
    model.reset()
    model.eval(model.tokenize(prompt, add_bos=False, special=True))
    out: list[int] = []
    for _ in range(n_tokens):
        token = int(np.argmax(_last_logits(model)))
        out.append(token)
        model.eval([token])
    return out


def _render(template: str, **context: Any) -> str:
    """Render like HF transformers: trim/lstrip blocks and a unicode-keeping ``tojson``."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value, indent=None: json.dumps(
        value, ensure_ascii=False, indent=indent
    )
    return env.from_string(template).render(**context)


# -- the file ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_small_file(tmp_path: Path) -> None:
    first = build_tiny_gguf(tmp_path / "a.gguf", seed=7)
    second = build_tiny_gguf(tmp_path / "b.gguf", seed=7)
    other = build_tiny_gguf(tmp_path / "c.gguf", seed=8)
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    assert first.stat().st_size < 2 * 1024 * 1024


def test_loads_with_qwen2_shape(llm: Any) -> None:
    assert llm.n_vocab() == TINY_VOCAB_SIZE
    assert llm.n_embd() == 64
    assert llama_cpp.llama_model_n_ctx_train(llm.model) == 2048
    assert llm.metadata["general.architecture"] == "qwen2"
    assert llm.metadata["tokenizer.ggml.model"] == "gpt2"
    assert llm.metadata["tokenizer.ggml.pre"] == "qwen2"


def test_eos_bos_and_padding_match_qwen(llm: Any) -> None:
    assert llm.token_eos() == IM_END
    assert llm.token_bos() == ENDOFTEXT
    assert llm.metadata["tokenizer.ggml.padding_token_id"] == str(ENDOFTEXT)
    assert llm.tokenize(b"hi", add_bos=True) == llm.tokenize(b"hi", add_bos=False)  # no bos added


def test_chat_template_is_in_metadata(llm: Any) -> None:
    assert llm.metadata["tokenizer.chat_template"] == TINY_CHAT_TEMPLATE


def test_chat_template_can_be_replaced_or_left_out(tmp_path: Path) -> None:
    custom = _load(build_tiny_gguf(tmp_path / "custom.gguf", chat_template="{{ messages }}"))
    bare = _load(build_tiny_gguf(tmp_path / "bare.gguf", chat_template=""))
    try:
        assert custom.metadata["tokenizer.chat_template"] == "{{ messages }}"
        assert "tokenizer.chat_template" not in bare.metadata
    finally:
        custom.close()
        bare.close()


# -- the tokenizer ----------------------------------------------------------------------------


def test_chatml_special_tokens_are_single_tokens(llm: Any) -> None:
    ids = llm.tokenize(b"<|im_start|>user\nhi<|im_end|>", add_bos=False, special=True)
    assert ids[0] == IM_START
    assert ids[-1] == IM_END
    assert llm.detokenize(ids[1:-1]) == b"user\nhi"


def test_control_tokens_are_text_unless_special(llm: Any) -> None:
    ids = llm.tokenize(b"<|im_start|>user", add_bos=False, special=False)
    assert IM_START not in ids
    assert llm.detokenize([IM_START, IM_END]) == b""
    assert llm.detokenize([IM_START, IM_END], special=True) == b"<|im_start|><|im_end|>"


def test_tool_call_tags_are_always_single_tokens_like_qwen(llm: Any) -> None:
    # In Qwen's GGUF the tool-call tags are USER_DEFINED, not CONTROL: matched as single tokens
    # even without special=True, and always detokenized to their text.
    for special in (False, True):
        ids = llm.tokenize(
            b'<tool_call>\n{"name": "f"}\n</tool_call>', add_bos=False, special=special
        )
        assert ids[0] == TOOL_CALL
        assert ids[-1] == TOOL_CALL_END
    assert llm.detokenize([TOOL_CALL, TOOL_CALL_END]) == b"<tool_call></tool_call>"


def test_json_pieces_are_multibyte_tokens(llm: Any) -> None:
    text = b'{"name": "get_weather", "arguments": {"city": "Paris", "ok": true}}'
    pieces = [llm.detokenize([i]) for i in llm.tokenize(text, add_bos=False)]
    for piece in (b'{"', b"name", b'":', b' "', b"arguments", b' {"', b'",', b" true", b"}}"):
        assert piece in pieces
    assert len(pieces) < len(text) / 2


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "line one\nline two\r\n\n\ttabbed  double  spaced",
        "emoji 🎉👩‍💻 and flags 🇩🇪",
        "Köln, 東京, Ελληνικά, عربى",
        "null\x00byte and \x7f delete",
        '{"name": "get_weather", "arguments": {"city": "Zürich"}}',
    ],
)
def test_byte_level_round_trip(llm: Any, text: str) -> None:
    ids = llm.tokenize(text.encode(), add_bos=False)
    assert llm.detokenize(ids).decode() == text


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_any_utf8_round_trips(llm: Any, text: str) -> None:
    ids = llm.tokenize(text.encode(), add_bos=False)
    assert llm.detokenize(ids).decode() == text


# -- the chat template ------------------------------------------------------------------------


def test_chat_template_renders_qwen_layout() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather in a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ]
    calls = [
        {"type": "function", "function": {"name": "get_weather", "arguments": {"city": city}}}
        for city in ("Paris", "Köln")
    ]
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather in Paris and Köln?"},
        {"role": "assistant", "content": "", "tool_calls": calls},
        {"role": "tool", "content": "18 C"},
        {"role": "tool", "content": "12 C"},
        {"role": "assistant", "content": "Both mild."},
    ]
    rendered = _render(
        TINY_CHAT_TEMPLATE, messages=messages, tools=tools, add_generation_prompt=True
    )
    tool_json = json.dumps(tools[0])
    assert rendered.startswith("<|im_start|>system\nBe brief.\n\n# Tools\n\n")
    assert f"<tools>\n{tool_json}\n</tools>" in rendered
    assert rendered.endswith(
        "<|im_start|>user\nWeather in Paris and Köln?<|im_end|>\n"
        "<|im_start|>assistant\n"
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>\n'
        '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Köln"}}\n</tool_call>'
        "<|im_end|>\n"
        "<|im_start|>user\n<tool_response>\n18 C\n</tool_response>\n"
        "<tool_response>\n12 C\n</tool_response><|im_end|>\n"
        "<|im_start|>assistant\nBoth mild.<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def test_chat_template_defaults_system_and_omits_generation_prompt() -> None:
    rendered = _render(
        TINY_CHAT_TEMPLATE,
        messages=[{"role": "user", "content": "hi"}],
        add_generation_prompt=False,
    )
    assert rendered == (
        "<|im_start|>system\nYou are a tiny test assistant.<|im_end|>\n"
        "<|im_start|>user\nhi<|im_end|>\n"
    )


# -- the weights ------------------------------------------------------------------------------


def test_logits_are_finite_and_peaked(llm: Any) -> None:
    llm.reset()
    llm.eval(llm.tokenize(b"<|im_start|>user\nhello<|im_end|>\n", add_bos=False, special=True))
    logits = _last_logits(llm)
    assert np.isfinite(logits).all()
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    assert probs.max() > 10 / TINY_VOCAB_SIZE  # far from a flat distribution


def test_next_token_depends_on_context(llm: Any) -> None:
    prefixes = [b"a b c x", b"hello x", b"the cat sat x", b"1 2 3 x", b'{"name": x', b"zzzz x"]
    choices = {_greedy(llm, prefix, 1)[0] for prefix in prefixes}
    assert len(choices) > 1


def test_greedy_generation_is_deterministic_across_loads(tiny_gguf_path: Path) -> None:
    prompt = b"<|im_start|>user\nwhat is the weather<|im_end|>\n<|im_start|>assistant\n"
    runs = []
    for _ in range(2):
        model = _load(tiny_gguf_path)
        try:
            runs.append(_greedy(model, prompt, 8))
        finally:
            model.close()
    assert runs[0] == runs[1]
    assert all(0 <= token < TINY_VOCAB_SIZE for token in runs[0])


# -- llguidance -------------------------------------------------------------------------------


def _allowed(matcher: Any, tokenizer: Any) -> set[int]:
    import llguidance.numpy

    mask = llguidance.numpy.allocate_token_bitmask(1, tokenizer.vocab_size)
    llguidance.numpy.fill_next_token_bitmask(matcher, mask, 0)
    bits = np.unpackbits(mask.view(np.uint8), bitorder="little")[: tokenizer.vocab_size]
    return {int(i) for i in np.flatnonzero(bits)}


@pytest.fixture(scope="module")
def ll_tokenizer(llm: Any) -> Any:
    import llguidance.llamacpp

    vocab = llama_cpp.llama_model_get_vocab(llm.model)
    # llguidance 1.9.1 calls llama_token_get_attr, which llama-cpp-python 0.3.36 marks as
    # deprecated once per token; the suite turns warnings into errors.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", "llama_token_get_attr is deprecated", category=DeprecationWarning
        )
        return llguidance.llamacpp.lltokenizer_from_vocab(vocab, n_vocab=llm.n_vocab())


def test_llguidance_tokenizer_from_vocab(ll_tokenizer: Any) -> None:
    assert ll_tokenizer.vocab_size == TINY_VOCAB_SIZE
    assert ll_tokenizer.eos_token == IM_END


def test_llguidance_matcher_masks_and_consumes(llm: Any, ll_tokenizer: Any) -> None:
    import llguidance

    grammar = llguidance.LLMatcher.grammar_from_lark('start: "yes" | "no"')
    matcher = llguidance.LLMatcher(ll_tokenizer, grammar)
    assert not matcher.is_error(), matcher.get_error()
    first = _allowed(matcher, ll_tokenizer)
    assert {llm.detokenize([t]) for t in first} == {b"y", b"n"}
    for token in llm.tokenize(b"yes", add_bos=False):
        assert matcher.consume_token(token), matcher.get_error()
    assert _allowed(matcher, ll_tokenizer) == {IM_END}
    assert matcher.is_accepting()
    assert matcher.consume_token(IM_END)
    assert matcher.is_stopped()
    assert not matcher.is_error()


def test_llguidance_forces_special_tokens_by_id(ll_tokenizer: Any) -> None:
    import llguidance

    lark = f'start: <[{TOOL_CALL}]> "x" <[{TOOL_CALL_END}]>'
    matcher = llguidance.LLMatcher(ll_tokenizer, llguidance.LLMatcher.grammar_from_lark(lark))
    assert not matcher.is_error(), matcher.get_error()
    forced = matcher.compute_ff_tokens()
    assert forced[0] == TOOL_CALL
    assert forced[-1] == TOOL_CALL_END


def test_llguidance_sees_tool_call_tags_as_special_tokens(llm: Any, ll_tokenizer: Any) -> None:
    # As with Qwen's real vocabulary: llguidance marks USER_DEFINED "<...>" tokens as special,
    # so a grammar must name them as tokens (<tool_call> or <[id]>). A quoted "<tool_call>"
    # literal only matches the plain bytes, yet compute_ff_tokens retokenizes the forced text
    # into the special token, which the grammar then rejects.
    import llguidance

    assert ll_tokenizer.is_special_token(TOOL_CALL)
    assert ll_tokenizer.is_special_token(IM_END)
    assert not ll_tokenizer.is_special_token(llm.tokenize(b"x", add_bos=False)[0])

    by_name = llguidance.LLMatcher(
        ll_tokenizer, llguidance.LLMatcher.grammar_from_lark('start: <tool_call> "x"')
    )
    assert by_name.consume_token(TOOL_CALL)

    quoted = llguidance.LLMatcher(
        ll_tokenizer, llguidance.LLMatcher.grammar_from_lark('start: "<tool_call>" "x"')
    )
    assert quoted.compute_ff_tokens()[0] == TOOL_CALL
    assert not quoted.consume_token(TOOL_CALL)  # llguidance logs the parser error to stderr
    assert quoted.is_error()
