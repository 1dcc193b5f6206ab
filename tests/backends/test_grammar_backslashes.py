r"""Free text without a backslash the user never typed (``GenerateOptions.backslashes``).

Asked for a note "with milk and eggs", the bundled model wrote ``\\n`` (an escaped backslash,
then ``n``) inside the JSON string, and the note was saved as ``- milk\n- eggs`` on one line.
With ``backslashes=False`` the grammar refuses the escape ``\\`` in free-text values and keeps
``\n``, a real line break. Checked three ways: byte by byte with a real ``LLMatcher``; by real
decoding of the tiny model, its logits pushed toward the backslash token, on each local runtime;
and through llama.cpp's own GBNF engine, for the grammar the remote llama.cpp dialect sends.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from llguidance import LLMatcher

from backends.base import Backend, GenerateOptions
from backends.grammar import build_tool_grammar, said_backslash
from backends.remote_dialects import LlamaCppDialect, VllmDialect
from backends.schema import parse_tools
from tests.backends.test_grammar import FMT, accepts, call

NOTE = {
    "name": "add_note",
    "description": "Save a note",
    "parameters": {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "text": {"type": "string"},
        },
        "required": ["text"],
    },
}
# The same tool with a short text, so a model that keeps writing escapes still ends its call.
SHORT_NOTE = {
    **NOTE,
    "parameters": {
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": 8}},
        "required": ["text"],
    },
}

# Strings in every place a schema can put them, and strings the schema already constrains.
NESTED = {
    "name": "file_away",
    "parameters": {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": ["string", "null"]}},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}]},
            "meta": {"type": "object", "additionalProperties": {"type": "string"}},
            "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "where": {"$ref": "#/$defs/Place"},
            "folder": {"type": "string", "enum": ["C:\\Users", "home"]},
            "glob": {"type": "string", "pattern": "^[a-z\\\\*]+$"},
        },
        "$defs": {
            "Place": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    },
}


def grammar_for(*tools: dict[str, Any], backslashes: bool = True) -> str:
    return build_tool_grammar(parse_tools(tools), FMT, allow_text=False, backslashes=backslashes)


def note(text: str) -> str:
    """A call of ``add_note`` whose ``text`` is written as the JSON string ``text`` (raw)."""
    return '{"name": "add_note", "arguments": {"text": "' + text + '"}}'


# -- the grammar, byte by byte -----------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        r"- milk\\n- eggs",  # the bug: an escaped backslash, then "n"
        r"C:\\Users",
        r"a\u005cb",  # the same backslash, spelled as a unicode escape
        r"a\u005Cb",
    ],
)
def test_without_backslashes_an_escaped_backslash_is_refused(written: str) -> None:
    assert accepts(grammar_for(NOTE), note(written)) == ("u005" not in written)
    assert not accepts(grammar_for(NOTE, backslashes=False), note(written))


@pytest.mark.parametrize(
    "written", [r"- milk\n- eggs", r"say \"hi\"", r"a\tb\r\n", r"é 🎉", r"bell\u0007"]
)
def test_without_backslashes_line_breaks_and_other_escapes_stay(written: str) -> None:
    assert accepts(grammar_for(NOTE, backslashes=False), note(written))


def test_with_backslashes_a_path_the_user_typed_can_be_written() -> None:
    grammar = grammar_for(NOTE, backslashes=True)
    assert accepts(grammar, note(r"C:\\Users"))
    assert json.loads(note(r"C:\\Users"))["arguments"]["text"] == "C:\\Users"


@pytest.mark.parametrize(
    ("arguments", "free"),
    [
        ({"tags": ["a\\b"]}, True),
        ({"tags": [None, "ok"]}, False),
        ({"pair": ["a\\b", 1]}, True),
        ({"meta": {"k": "a\\b"}}, True),
        ({"either": "a\\b"}, True),
        ({"where": {"path": "a\\b"}}, True),
        # what the schema's author wrote down stays writable: an enum member, a pattern
        ({"folder": "C:\\Users"}, False),
        ({"glob": "a\\*"}, False),
    ],
)
def test_every_free_string_is_covered_and_constrained_ones_are_kept(
    arguments: dict[str, Any], free: bool
) -> None:
    text = call("file_away", arguments)
    assert accepts(grammar_for(NESTED), text)
    assert accepts(grammar_for(NESTED, backslashes=False), text) is not free


def test_the_vllm_dialect_sends_the_same_refusal() -> None:
    ask = VllmDialect().ask(
        parse_tools([NOTE]), None, GenerateOptions(backslashes=False, allow_text=False), FMT
    )
    grammar = LLMatcher.grammar_from_lark(ask.extra["structured_outputs"]["grammar"])
    assert accepts(grammar, note(r"- milk\n- eggs"))
    assert not accepts(grammar, note(r"- milk\\n- eggs"))


# -- where the knowledge comes from ------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "said"),
    [
        ([{"role": "user", "content": "a note with milk and eggs"}], False),
        ([{"role": "user", "content": "list C:\\Users please"}], True),
        # a tool result is JSON: the escapes of its encoding are no backslash anyone wrote
        (
            [
                {"role": "user", "content": "what is in my notes?"},
                {"role": "tool", "content": json.dumps({"text": '- milk\n- "eggs"'})},
            ],
            False,
        ),
        (
            [
                {"role": "user", "content": "move the report"},
                {"role": "tool", "content": json.dumps(["D:\\work\\report.txt"])},
            ],
            True,
        ),
        ([{"role": "tool", "content": "not json: a\\b"}], True),
        # the model's own words do not count
        ([{"role": "assistant", "content": "C:\\Users"}, {"role": "user", "content": "ok"}], False),
    ],
)
def test_said_backslash_reads_the_users_and_the_tools_words(
    messages: list[dict[str, str]], said: bool
) -> None:
    assert said_backslash(messages) is said


# -- real decoding, pushed toward a backslash --------------------------------------------------

# Added to the backslash token's logit at every step: the tiny model then writes one wherever
# the grammar lets it, which is what a model that learned ``\\n`` from its data does.
PUSH = 60.0


def leaning_to_backslash(kind: str, model: Path) -> Backend:
    """The tiny model on ``kind``'s runtime, its logits pushed toward the backslash token.

    Only the logits rows the runtime returns are changed; prompt reading, the grammar, the
    token chooser and the decode loop are the real ones.
    """
    if kind == "mlx":
        from backends.mlxlm import MlxBackend, MlxSettings

        class LeaningMlx(MlxBackend):
            def _forward(self, tokens: Sequence[int], first_row: int) -> list[np.ndarray]:
                return pushed(self, super()._forward(tokens, first_row))

        backend: Backend = LeaningMlx(MlxSettings(n_ctx=2048))
    else:
        from backends.llamacpp import LlamaCppBackend, LlamaSettings

        class LeaningLlama(LlamaCppBackend):
            def _forward(self, tokens: Sequence[int], first_row: int) -> list[np.ndarray]:
                return pushed(self, super()._forward(tokens, first_row))

        backend = LeaningLlama(LlamaSettings(n_ctx=2048, n_threads=1))
    backend.load(model)
    return backend


def pushed(backend: Backend, rows: list[np.ndarray]) -> list[np.ndarray]:
    (token,) = backend.tokenize("\\")
    out = []
    for row in rows:
        row = row.copy()
        row[token] += PUSH
        out.append(row)
    return out


@pytest.fixture(scope="module", params=["llama.cpp", "mlx"])
def leaning(request: pytest.FixtureRequest, tiny_gguf_path: Path) -> Iterator[Backend]:
    model = (
        tiny_gguf_path if request.param == "llama.cpp" else request.getfixturevalue("tiny_mlx_path")
    )
    backend = leaning_to_backslash(request.param, model)
    yield backend
    backend.close()


def note_text(backend: Backend, request: str, backslashes: bool) -> str:
    options = GenerateOptions(
        allow_text=False, single_call=True, max_tokens=80, backslashes=backslashes
    )
    messages = [{"role": "user", "content": request}]
    completion = backend.generate(messages, parse_tools([SHORT_NOTE]), options=options)
    (made,) = completion.tool_calls
    assert made.valid, made.errors
    return str(made.arguments["text"])


def test_a_model_drawn_to_backslashes_cannot_write_one_the_user_did_not_type(
    leaning: Backend,
) -> None:
    request = "a note with milk and eggs"
    assert not said_backslash([{"role": "user", "content": request}])
    text = note_text(leaning, request, backslashes=False)
    assert "\\" not in text
    # it did write escapes (line breaks, quotes, tabs...): the push reached the grammar
    assert any(c in text for c in '\n\r\t\b\f"') or any(ord(c) < 0x20 for c in text), text


def test_a_backslash_the_user_typed_can_be_written(leaning: Backend) -> None:
    request = "a note: C:\\Users"
    assert said_backslash([{"role": "user", "content": request}])
    assert "\\" in note_text(leaning, request, backslashes=True)


# -- the GBNF the remote llama.cpp dialect sends, in llama.cpp's own grammar engine ------------


@pytest.fixture(scope="module")
def llama(tiny_gguf_path: Path) -> Iterator[Any]:
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(str(tiny_gguf_path), n_ctx=1024, n_threads=1, verbose=False)
    yield llm
    llm.close()


def gbnf_note_text(llm: Any, backslashes: bool) -> str:
    from llama_cpp import LlamaGrammar

    options = GenerateOptions(allow_text=False, backslashes=backslashes, single_call=True)
    gbnf = LlamaCppDialect().ask(parse_tools([SHORT_NOTE]), None, options, FMT).extra["grammar"]
    (token,) = llm.tokenize(b"\\", add_bos=False, special=False)
    out = llm.create_completion(
        "A note:",
        max_tokens=80,
        temperature=0.0,
        grammar=LlamaGrammar.from_string(gbnf, verbose=False),
        logit_bias={token: PUSH},
    )
    return str(json.loads(out["choices"][0]["text"])["arguments"]["text"])


def test_the_llama_cpp_servers_grammar_refuses_the_escaped_backslash(llama: Any) -> None:
    text = gbnf_note_text(llama, backslashes=False)
    assert "\\" not in text
    assert any(c in text for c in '\n\r\t\b\f"/') or any(ord(c) < 0x20 for c in text), text
    assert "\\" in gbnf_note_text(llama, backslashes=True)


# -- the report itself, on the real bundled model ----------------------------------------------

# The product's note tool as the model saw it when it wrote "- milk\\n- eggs": its description's
# example holds a backslash, which the model copied as an escaped one.
NOTES_CREATE = {
    "name": "notes_create",
    "description": "Create a note.",
    "parameters": {
        "type": "object",
        "properties": {
            "title": {"type": "string", "description": "The note's title, as the user gave it."},
            "body": {
                "type": "string",
                "description": "The note's text in Markdown, e.g. '- milk\\n- eggs'.",
            },
        },
        "required": ["title", "body"],
    },
}


@pytest.mark.bundled_model
def test_the_bundled_model_writes_the_note_on_separate_lines(bundled_model_path: Path) -> None:
    from backends.llamacpp import LlamaCppBackend, LlamaSettings

    backend = LlamaCppBackend(LlamaSettings(n_ctx=2048))
    backend.load(bundled_model_path)
    request = "Make a note called Shopping with milk and eggs"
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": request},
    ]
    try:
        completion = backend.generate(
            messages,
            parse_tools([NOTES_CREATE]),
            options=GenerateOptions(max_tokens=60, backslashes=said_backslash(messages)),
        )
    finally:
        backend.close()
    (made,) = completion.tool_calls
    body = made.arguments["body"]
    assert "\\" not in body  # with backslashes allowed it was "- milk\\n- eggs", on one line
    lines = body.splitlines()
    assert len(lines) == 2 and "milk" in lines[0] and "eggs" in lines[1], body
