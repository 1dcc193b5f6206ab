"""The tool-call grammar, checked byte by byte with llguidance and no model.

Every table here is what decoding can and cannot produce: a string the grammar rejects is a
string the model can never write, whatever it prefers. A byte-level tokenizer lets each test
feed exact text to a real ``LLMatcher``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from llguidance import LLMatcher, LLTokenizer, TokenizerWrapper

from backends.call_format import CallFormat, call_format_for
from backends.errors import GrammarError
from backends.grammar import build_tool_grammar, tool_call_lark
from backends.schema import parse_tools


class _ByteTokenizer:
    """One token per byte plus an end-of-sequence token: the matcher sees exact text."""

    def __init__(self) -> None:
        self.tokens = [bytes([i]) for i in range(256)] + [b"\xff<|end|>"]
        self.eos_token_id = 256
        self.bos_token_id = None
        self.special_token_ids = [256]

    def __call__(self, s: str | bytes) -> list[int]:
        return list(s.encode() if isinstance(s, str) else s)


TOKENIZER = LLTokenizer(TokenizerWrapper(_ByteTokenizer()))
FMT = call_format_for("qwen2")


def accepts(grammar: str, text: str) -> bool:
    """Whether the grammar lets decoding produce exactly ``text`` and then stop."""
    m = LLMatcher(TOKENIZER, grammar, log_level=0)
    assert not m.is_error(), m.get_error()
    return m.consume_tokens(list(text.encode())) and m.is_accepting()


def grammar_for(*tools: dict[str, Any], allow_text: bool = True, fmt: CallFormat = FMT) -> str:
    """The compiled grammar for tools given in any supported dialect."""
    return build_tool_grammar(parse_tools(tools), fmt, allow_text=allow_text)


def call(name: str, arguments: Any, **extra: Any) -> str:
    """A call in the canonical layout (``", "`` and ``": "`` separators, raw UTF-8)."""
    return json.dumps({"name": name, "arguments": arguments, **extra}, ensure_ascii=False)


def tool(name: str, properties: dict[str, Any], required: list[str] | None = None) -> dict:
    """A bare ``{"name", "parameters"}`` tool."""
    params: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        params["required"] = required
    return {"name": name, "description": f"{name} tool", "parameters": params}


SET_VOLUME = {
    "type": "function",
    "function": {
        "name": "set_volume",
        "description": "Set the speaker volume",
        "parameters": {
            "type": "object",
            "properties": {
                "level": {"type": "integer", "minimum": 0, "maximum": 50},
                "mute": {"type": "boolean"},
            },
            "required": ["level"],
        },
    },
}
WEATHER = tool(
    "get_weather",
    {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 8},
    },
    ["city"],
)
VOLUME_AND_WEATHER = grammar_for(SET_VOLUME, WEATHER)
VOL5 = call("set_volume", {"level": 5})
PARIS = call("get_weather", {"city": "Paris"})


# --- text answers -----------------------------------------------------------------------------

TEXT_PASSES = [
    "Hello",
    "The volume is now 12.",
    "Ça va? 日本語のテキスト 😀",
    "Line one\nLine two\n",
    "Ends with whitespace   ",
    "I can't do that {yet} [sorry] `really`",
    "42",
    '"quoted"',
    "-",
    "1 < 2 and <b> is markup",
]
TEXT_FAILS = [
    "",
    " Hello",
    "\nHello",
    "\tHello",
    "{not a call",
    '{"name": "nope"}',
    "[1, 2]",
    "`code`",
    "```\nplain fenced text\n```",
    '<tools>\n{"type": "function"}',  # the prompt's tool block, copied
    "<tool_call>",
]


@pytest.mark.parametrize("text", TEXT_PASSES)
def test_text_answer_passes(text: str) -> None:
    """Any text that does not begin with whitespace, a brace, a bracket, a backtick or "<" is a
    reply."""
    assert accepts(VOLUME_AND_WEATHER, text)


@pytest.mark.parametrize("text", TEXT_FAILS)
def test_text_answer_that_looks_like_a_call_fails(text: str) -> None:
    """Text may not start like a call (or with padding), so the branch is decided at once."""
    assert not accepts(VOLUME_AND_WEATHER, text)


def test_allow_text_false_rejects_text() -> None:
    """With text disallowed the model must call a tool."""
    grammar = grammar_for(SET_VOLUME, WEATHER, allow_text=False)
    assert not accepts(grammar, "Hello")
    assert not accepts(grammar, "I would rather not.")
    assert accepts(grammar, VOL5)


# --- layout of calls --------------------------------------------------------------------------

LAYOUT_PASSES = {
    "bare": VOL5,
    "fenced json": f"```json\n{VOL5}\n```",
    "fenced plain": f"```\n{VOL5}\n```",
    "array of one": f"[{VOL5}]",
    "array of two tools": f"[{VOL5}, {PARIS}]",
    "array without spaces": f"[{VOL5},{PARIS}]",
    "array on lines": f"[\n{VOL5},\n{PARIS}\n]",
    "array indented 4": f"[\n    {VOL5},\n    {PARIS}\n]",
    "fenced array": f"```json\n[{VOL5}, {PARIS}]\n```",
    "array of max_calls": "[" + ", ".join([VOL5] * FMT.max_calls) + "]",
    "raw non-ASCII in a value": call("get_weather", {"city": "Zürich"}),
}
LAYOUT_FAILS = {
    "array over max_calls": "[" + ", ".join([VOL5] * (FMT.max_calls + 1)) + "]",
    "array indented 5": f"[\n     {VOL5}\n]",
    "blank line in array": f"[\n{VOL5},\n\n{PARIS}\n]",
    "empty array": "[]",
    "trailing comma in array": f"[{VOL5}, ]",
    "two calls without array": f"{VOL5}\n{PARIS}",
    "call pretty-printed": json.dumps({"name": "set_volume", "arguments": {"level": 5}}, indent=2),
    "space before colon": '{"name" : "set_volume", "arguments": {"level": 5}}',
    "two spaces after colon": '{"name":  "set_volume", "arguments": {"level": 5}}',
    "newline between keys": '{"name": "set_volume",\n"arguments": {"level": 5}}',
    "leading space": f" {VOL5}",
    "trailing space": f"{VOL5} ",
    "trailing newline": f"{VOL5}\n",
    "text after call": f"{VOL5} done",
    "unclosed fence": f"```json\n{VOL5}",
    "python fence": f"```python\n{VOL5}\n```",
    "fence without newline": f"```json{VOL5}```",
    "unclosed object": VOL5[:-1],
}


@pytest.mark.parametrize("text", LAYOUT_PASSES.values(), ids=LAYOUT_PASSES.keys())
def test_call_layout_passes(text: str) -> None:
    """Calls bare, fenced, or as a JSON array (whitespace between calls bounded) are accepted."""
    assert accepts(VOLUME_AND_WEATHER, text)


@pytest.mark.parametrize("text", LAYOUT_FAILS.values(), ids=LAYOUT_FAILS.keys())
def test_call_layout_fails(text: str) -> None:
    """Padding, pretty-printing inside a call and over-long arrays cannot be decoded."""
    assert not accepts(VOLUME_AND_WEATHER, text)


@pytest.mark.parametrize(
    ("key_separator", "item_separator", "compact_passes"),
    [(": ", ", ", False), (": ?", ", ?", True)],
)
def test_separators_come_from_the_call_format(
    key_separator: str, item_separator: str, compact_passes: bool
) -> None:
    """The format's separator regexes decide whether ``{"a":1,"b":[1,2]}``-style JSON decodes."""
    fmt = CallFormat(family="test", key_separator=key_separator, item_separator=item_separator)
    weather = tool("w", {"city": {"type": "string"}, "days": {"type": "array"}}, ["city"])
    grammar = grammar_for(weather, fmt=fmt)
    spaced = call("w", {"city": "Oslo", "days": [1, 2]})
    compact = json.dumps(
        {"name": "w", "arguments": {"city": "Oslo", "days": [1, 2]}}, separators=(",", ":")
    )
    assert accepts(grammar, spaced)
    assert accepts(grammar, compact) is compact_passes


def test_format_without_lists_rejects_arrays() -> None:
    """A family that never writes arrays gets one call per answer."""
    fmt = CallFormat(family="single", allow_list=False)
    grammar = grammar_for(SET_VOLUME, fmt=fmt)
    assert accepts(grammar, VOL5)
    assert not accepts(grammar, f"[{VOL5}]")


# --- names, keys and types --------------------------------------------------------------------

SHAPE_FAILS = {
    "unknown tool": call("set_brightness", {"level": 5}),
    "name prefix": call("set_vol", {"level": 5}),
    "name case": call("Set_Volume", {"level": 5}),
    "missing arguments": json.dumps({"name": "set_volume"}),
    "missing name": json.dumps({"arguments": {"level": 5}}),
    "missing required argument": call("set_volume", {"mute": True}),
    "empty arguments": call("set_volume", {}),
    "extra top-level key": call("set_volume", {"level": 5}, id="1"),
    "extra argument": call("set_volume", {"level": 5, "speaker": "left"}),
    "arguments not an object": call("set_volume", [5]),
    "arguments as a string": call("set_volume", '{"level": 5}'),
    "keys out of schema order": '{"arguments": {"level": 5}, "name": "set_volume"}',
    "string for integer": call("set_volume", {"level": "5"}),
    "float for integer": call("set_volume", {"level": 5.0}),
    "fraction for integer": call("set_volume", {"level": 5.5}),
    "exponent for integer": '{"name": "set_volume", "arguments": {"level": 5e0}}',
    "bool for integer": call("set_volume", {"level": True}),
    "null for integer": call("set_volume", {"level": None}),
    "string true for boolean": call("set_volume", {"level": 5, "mute": "true"}),
    "1 for boolean": call("set_volume", {"level": 5, "mute": 1}),
    "tool of other schema": call("get_weather", {"level": 5}),
}


@pytest.mark.parametrize("text", SHAPE_FAILS.values(), ids=SHAPE_FAILS.keys())
def test_wrong_name_keys_or_types_fail(text: str) -> None:
    """Only declared tools, with exactly their keys and value types, can be written."""
    assert not accepts(VOLUME_AND_WEATHER, text)


def test_optional_arguments_may_be_left_out_or_given() -> None:
    """Required keys are required, optional ones optional."""
    assert accepts(VOLUME_AND_WEATHER, call("set_volume", {"level": 5, "mute": False}))
    assert accepts(VOLUME_AND_WEATHER, call("get_weather", {"city": "Paris", "unit": "celsius"}))


def test_a_least_number_of_arguments_is_enforced() -> None:
    """An update needs its thing and one change (``minProperties``, as the calendar's and the
    notes' updates declare): a call naming only the thing cannot be written."""
    edit = tool("edit", {"note": {"type": "string"}, "body": {"type": "string"}}, ["note"])
    edit["parameters"]["minProperties"] = 2
    grammar = grammar_for(edit)
    assert not accepts(grammar, call("edit", {"note": "Todo"}))
    assert accepts(grammar, call("edit", {"note": "Todo", "body": "- stamps"}))


# --- numeric bounds ---------------------------------------------------------------------------

BOUNDED = tool(
    "bounded",
    {
        "level": {"type": "integer", "minimum": 0, "maximum": 50},
        "days": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 8},
        "temp": {"type": "number", "minimum": -10.5, "maximum": 40},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
    },
)
BOUNDED_GRAMMAR = grammar_for(BOUNDED)
BOUND_CASES = [
    ("level", 0, True),
    ("level", 50, True),
    ("level", 12, True),
    ("level", 51, False),
    ("level", 120, False),
    ("level", -1, False),
    ("days", 1, True),
    ("days", 7, True),
    ("days", 0, False),
    ("days", 8, False),
    ("temp", -10.5, True),
    ("temp", 40, True),
    ("temp", 40.0, True),
    ("temp", 0.25, True),
    ("temp", 12, True),
    ("temp", -10.6, False),
    ("temp", -11, False),
    ("temp", 40.01, False),
    ("temp", 41, False),
    ("ratio", 0.5, True),
    ("ratio", 0.999, True),
    ("ratio", 0, False),
    ("ratio", 0.0, False),
    ("ratio", 1, False),
    ("ratio", 1.0, False),
]


@pytest.mark.parametrize(("key", "value", "ok"), BOUND_CASES)
def test_numeric_bounds(key: str, value: float, ok: bool) -> None:
    """minimum/maximum are inclusive, exclusive bounds exclusive, for integers and numbers."""
    assert accepts(BOUNDED_GRAMMAR, call("bounded", {key: value})) is ok


# --- enum, const, pattern ---------------------------------------------------------------------

CHOICES = tool(
    "choose",
    {
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit", 'a "b" é']},
        "mixed": {"enum": [1, 2.5, True, None, "auto"]},
        "level": {"type": "integer", "enum": [1, 2, 3]},
        "version": {"const": "v2"},
        "answer": {"const": 42},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "digits": {"type": "string", "pattern": "[0-9]+"},
        "short": {"type": "string", "minLength": 2, "maxLength": 3},
    },
)
CHOICES_GRAMMAR = grammar_for(CHOICES)
CHOICE_CASES = [
    ("unit", "celsius", True),
    ("unit", "fahrenheit", True),
    ("unit", 'a "b" é', True),
    ("unit", "kelvin", False),
    ("unit", "Celsius", False),
    ("unit", "celsius ", False),
    ("unit", "cel", False),
    ("mixed", 1, True),
    ("mixed", 2.5, True),
    ("mixed", True, True),
    ("mixed", None, True),
    ("mixed", "auto", True),
    ("mixed", 2, False),
    ("mixed", "1", False),
    ("mixed", False, False),
    ("mixed", "true", False),
    ("level", 3, True),
    ("level", 4, False),
    ("level", "1", False),
    ("version", "v2", True),
    ("version", "v1", False),
    ("answer", 42, True),
    ("answer", 43, False),
    ("answer", "42", False),
    ("currency", "USD", True),
    ("currency", "usd", False),
    ("currency", "USDX", False),
    ("currency", "US", False),
    ("digits", "12", True),
    ("digits", "room 12", True),  # JSON Schema patterns are unanchored
    ("digits", "none", False),
    ("short", "ab", True),
    ("short", "éé", True),  # length counts characters, not bytes
    ("short", "😀😀😀", True),
    ("short", "a", False),
    ("short", "abcd", False),
]


@pytest.mark.parametrize(("key", "value", "ok"), CHOICE_CASES)
def test_enum_const_pattern_and_length(key: str, value: Any, ok: bool) -> None:
    """Enums (of any JSON type), const, patterns and string lengths are enforced."""
    assert accepts(CHOICES_GRAMMAR, call("choose", {key: value})) is ok


# --- string escaping --------------------------------------------------------------------------

NOTE = tool("note", {"text": {"type": "string"}}, ["text"])
NOTE_GRAMMAR = grammar_for(NOTE)
ESCAPE_CASES = {
    "escaped quote": (r"say \"hi\"", True),
    "escaped backslash": (r"C:\\temp", True),
    "escaped newline": (r"line\nbreak", True),
    "escaped tab": (r"a\tb", True),
    "escaped b f r": (r"\b\f\r", True),
    "escaped control": (r"\u0001", True),
    "raw non-ASCII": ("café 日本 😀", True),
    "escaped e-acute": (r"caf\u00e9", False),  # llguidance: \u only for control characters
    "escaped surrogate pair": (r"\ud83d\ude00", False),
    "raw newline": ("line\nbreak", False),
    "raw tab": ("a\tb", False),
    "raw control": ("a\x01b", False),
    "raw DEL": ("a\x7fb", False),  # valid JSON, but llguidance wants it escaped
    "unescaped quote": ('say "hi"', False),
    "lone backslash": ("C:\\qux", False),
    "unknown escape": (r"\x41", False),
    "escaped apostrophe": (r"it\'s", False),
}


@pytest.mark.parametrize(("inner", "ok"), ESCAPE_CASES.values(), ids=list(ESCAPE_CASES.keys()))
def test_string_escaping(inner: str, ok: bool) -> None:
    """JSON escapes are required for quotes, backslashes and controls; raw controls never decode.

    A ``\\u`` escape of a printable character is valid JSON but llguidance 1.9.1 does not produce
    it: the model has to write ``é`` as raw UTF-8 (which every JSON parser reads the same).
    """
    text = '{"name": "note", "arguments": {"text": "' + inner + '"}}'
    assert accepts(NOTE_GRAMMAR, text) is ok


def test_escaped_strings_round_trip_through_json() -> None:
    """What ``json.dumps`` writes for awkward strings (without ASCII escaping) is decodable."""
    for value in ['say "hi"', "C:\\temp", "line\nbreak", "tab\there", "\x00\x1f", "ünï 😀"]:
        assert accepts(NOTE_GRAMMAR, call("note", {"text": value})), value


# --- nested objects and arrays ----------------------------------------------------------------

ORDER = tool(
    "order",
    {
        "customer": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "vip": {"type": "boolean"}},
            "required": ["name"],
        },
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "sku": {"type": "string"},
                    "qty": {"type": "integer", "minimum": 1},
                },
                "required": ["sku", "qty"],
            },
            "minItems": 1,
            "maxItems": 3,
        },
        "tags": {"type": "array", "items": {"type": "string"}},
    },
    ["customer", "items"],
)
ORDER_GRAMMAR = grammar_for(ORDER)
ANN = {"name": "Ann"}
ITEM = {"sku": "A1", "qty": 2}
NESTED_CASES = {
    "one item": ({"customer": ANN, "items": [ITEM]}, True),
    "three items": ({"customer": {"name": "Ann", "vip": True}, "items": [ITEM] * 3}, True),
    "with tags": ({"customer": ANN, "items": [ITEM], "tags": ["a", "b"]}, True),
    "empty tags": ({"customer": ANN, "items": [ITEM], "tags": []}, True),
    "no items": ({"customer": ANN, "items": []}, False),
    "four items": ({"customer": ANN, "items": [ITEM] * 4}, False),
    "item missing qty": ({"customer": ANN, "items": [{"sku": "A1"}]}, False),
    "item qty below minimum": ({"customer": ANN, "items": [{"sku": "A1", "qty": 0}]}, False),
    "item extra key": ({"customer": ANN, "items": [{**ITEM, "note": "x"}]}, False),
    "customer extra key": ({"customer": {"name": "Ann", "age": 3}, "items": [ITEM]}, False),
    "customer missing name": ({"customer": {"vip": True}, "items": [ITEM]}, False),
    "tag of wrong type": ({"customer": ANN, "items": [ITEM], "tags": [1]}, False),
    "object for array": ({"customer": ANN, "items": ITEM}, False),
}


@pytest.mark.parametrize(("arguments", "ok"), NESTED_CASES.values(), ids=NESTED_CASES.keys())
def test_nested_objects_and_arrays(arguments: dict[str, Any], ok: bool) -> None:
    """Nested objects and array items keep their own required keys, bounds and no extras."""
    assert accepts(ORDER_GRAMMAR, call("order", arguments)) is ok


# --- formats ----------------------------------------------------------------------------------

WHEN = tool(
    "when",
    {"day": {"type": "string", "format": "date"}, "at": {"type": "string", "format": "date-time"}},
)
WHEN_GRAMMAR = grammar_for(WHEN)
FORMAT_CASES = [
    ("day", "2024-02-29", True),
    ("day", "2024-12-31", True),
    ("day", "2024-13-01", False),
    ("day", "2024-1-5", False),
    ("day", "tomorrow", False),
    ("at", "2024-05-01T10:00:00Z", True),
    ("at", "2024-05-01T10:00:00+02:00", True),
    ("at", "2024-05-01T10:00:00.5-05:30", True),
    ("at", "2024-05-01T10:00:00", False),  # llguidance requires the offset
    ("at", "2024-05-01", False),
    ("at", "10:00", False),
]


@pytest.mark.parametrize(("key", "value", "ok"), FORMAT_CASES)
def test_date_formats(key: str, value: str, ok: bool) -> None:
    """``date`` (used by BFCL) and ``date-time`` (with a UTC offset) are enforced."""
    assert accepts(WHEN_GRAMMAR, call("when", {key: value})) is ok


# --- BFCL dialect -----------------------------------------------------------------------------

BFCL_TOOL = {
    "name": "java.util.process",
    "description": "A BFCL-style tool with Python and Java type names.",
    "parameters": {
        "type": "dict",
        "properties": {
            "ratio": {"type": "float", "description": "a float"},
            "point": {"type": "tuple", "items": {"type": "integer"}},
            "anything": {"type": "any", "description": "whatever"},
            "label": {"type": "String"},
            "options": {"type": "HashMap"},
            "count": {"type": "long"},
            "flag": {"type": "Boolean", "optional": True, "default": None},
            "names": {"type": "ArrayList", "items": {"type": "String"}},
        },
        "required": ["ratio"],
    },
}
BFCL_GRAMMAR = grammar_for(BFCL_TOOL)
BFCL_CASES = [
    ("ratio", 1, True),
    ("ratio", 1.5, True),
    ("ratio", -2, True),
    ("ratio", "1.5", False),
    ("point", [1, 2], True),
    ("point", [1.5], False),
    ("point", "(1, 2)", False),
    ("anything", "text", True),
    ("anything", 7, True),
    ("anything", [1, "a"], True),
    ("anything", {"k": [None]}, True),
    ("anything", None, True),
    ("label", "x", True),
    ("label", 1, False),
    ("options", {"key": "value", "n": 1}, True),
    ("options", "key=value", False),
    ("count", 123456789012, True),
    ("count", 1.5, False),
    ("flag", False, True),
    ("flag", None, False),
    ("names", ["a", "b"], True),
    ("names", [1], False),
]


@pytest.mark.parametrize(("key", "value", "ok"), BFCL_CASES)
def test_bfcl_type_names(key: str, value: Any, ok: bool) -> None:
    """BFCL's dict/float/tuple/any and Java names decode as their JSON Schema meaning."""
    arguments = {"ratio": 1.5} if key != "ratio" else {}
    arguments[key] = value
    ordered = {k: arguments[k] for k in BFCL_TOOL["parameters"]["properties"] if k in arguments}
    assert accepts(BFCL_GRAMMAR, call("java.util.process", ordered)) is ok


# --- errors -----------------------------------------------------------------------------------


def test_no_tools_is_a_grammar_error() -> None:
    """An empty tool list cannot become a call grammar."""
    with pytest.raises(GrammarError, match="no tools"):
        build_tool_grammar([], FMT)
    with pytest.raises(GrammarError, match="no tools"):
        tool_call_lark([], FMT)


@pytest.mark.parametrize(
    ("schema", "reason"),
    [
        ({"type": "string", "pattern": "^(?=a)b$"}, "look-around"),
        ({"type": "string", "pattern": "["}, "unclosed"),
        ({"type": "string", "format": "credit-card"}, "credit-card"),
        ({"$ref": "#/$defs/missing"}, "missing"),
    ],
    ids=["lookaround", "bad regex", "unknown format", "dangling ref"],
)
def test_uncompilable_schema_names_the_tool(schema: dict[str, Any], reason: str) -> None:
    """A schema llguidance cannot enforce raises GrammarError naming the tool and the reason."""
    bad = tool("bad_tool", {"x": schema}, ["x"])
    with pytest.raises(GrammarError) as excinfo:
        grammar_for(SET_VOLUME, bad)
    message = str(excinfo.value)
    assert "'bad_tool'" in message
    assert "set_volume" not in message
    assert reason in message


def test_unsatisfiable_lone_tool_is_a_grammar_error() -> None:
    """A tool whose arguments can never be written is reported, not left as a dead branch."""
    impossible = tool("impossible", {"x": {"type": "integer", "minimum": 5, "maximum": 1}}, ["x"])
    with pytest.raises(GrammarError, match="'impossible'"):
        grammar_for(impossible)


def test_unsatisfiable_tool_beside_others_is_a_grammar_error() -> None:
    """A tool that cannot be called must be reported even when other tools are fine."""
    impossible = tool("impossible", {"x": {"type": "integer", "minimum": 5, "maximum": 1}}, ["x"])
    with pytest.raises(GrammarError, match="'impossible'"):
        grammar_for(SET_VOLUME, impossible)


def test_parameters_with_defs_and_refs_compile() -> None:
    """A tool whose parameters use ``$defs``/``$ref`` (pydantic's output) can be called."""
    params = {
        "type": "object",
        "$defs": {
            "Item": {
                "type": "object",
                "properties": {"qty": {"type": "integer"}},
                "required": ["qty"],
            }
        },
        "properties": {"item": {"$ref": "#/$defs/Item"}},
        "required": ["item"],
    }
    grammar = grammar_for({"name": "order", "parameters": params})
    assert accepts(grammar, call("order", {"item": {"qty": 1}}))
    assert not accepts(grammar, call("order", {"item": {"qty": "1"}}))


# --- property test: random schemas, values built from them -------------------------------------

_PROP_NAMES = ["city", "count", "flag", "mode", "items", "when", "x_1", "ratio", "sub"]
# Raw DEL (U+007F) is valid JSON that llguidance 1.9.1 rejects unescaped; json.dumps leaves it raw.
_CHARS = st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x7f")
_ENUM_MEMBERS = st.one_of(
    st.text(st.characters(codec="ascii", min_codepoint=32, max_codepoint=126), max_size=6),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
)


@st.composite
def _integer_schema(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer"}
    low = draw(st.integers(-1000, 1000))
    high = low + draw(st.integers(2, 1000))
    if draw(st.booleans()):
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if draw(st.booleans()):
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = high
    return schema


@st.composite
def _number_schema(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    low = draw(st.integers(-400, 400)) / 4
    high = low + draw(st.integers(2, 400)) / 4
    if draw(st.booleans()):
        schema["exclusiveMinimum" if draw(st.booleans()) else "minimum"] = low
    if draw(st.booleans()):
        schema["exclusiveMaximum" if draw(st.booleans()) else "maximum"] = high
    return schema


def _leaf_schemas() -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(
        st.just({"type": "string"}),
        st.integers(1, 6).map(lambda n: {"type": "string", "maxLength": n}),
        _integer_schema(),
        _number_schema(),
        st.just({"type": "boolean"}),
        st.lists(_ENUM_MEMBERS, min_size=1, max_size=4, unique_by=json.dumps).map(
            lambda members: {"enum": members}
        ),
        st.lists(st.sampled_from(["a", "b c", 'd"e', "é"]), min_size=1, unique=True).map(
            lambda members: {"type": "string", "enum": members}
        ),
    )


@st.composite
def _object_schema(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(_PROP_NAMES), min_size=1, max_size=4, unique=True))
    children = _leaf_schemas()
    if depth < 1:
        children = st.one_of(
            children,
            _object_schema(depth + 1),
            st.builds(
                lambda items, low, extra: {
                    "type": "array",
                    "items": items,
                    "minItems": low,
                    "maxItems": low + extra,
                },
                st.one_of(_leaf_schemas(), _object_schema(depth + 1)),
                st.integers(0, 2),
                st.integers(0, 2),
            ),
        )
    properties = {name: draw(children) for name in names}
    required = draw(st.lists(st.sampled_from(names), unique=True))
    return {"type": "object", "properties": properties, "required": required}


def _value_for(data: st.DataObject, schema: dict[str, Any]) -> Any:
    """Draw a value that satisfies ``schema`` (a schema made by the strategies above)."""
    if "enum" in schema:
        return data.draw(st.sampled_from(schema["enum"]))
    kind = schema["type"]
    if kind == "string":
        return data.draw(st.text(_CHARS, max_size=schema.get("maxLength", 8)))
    if kind == "boolean":
        return data.draw(st.booleans())
    if kind in ("integer", "number"):
        step = 1 if kind == "integer" else 0.25
        low = schema.get("minimum", schema.get("exclusiveMinimum", -2000))
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2000))
        first = 0 if "exclusiveMinimum" not in schema else 1
        last = round((high - low) / step) - (1 if "exclusiveMaximum" in schema else 0)
        k = data.draw(st.integers(first, last))
        if kind == "integer":
            return int(low + k)
        value = low + k * step
        return int(value) if data.draw(st.booleans()) and value == int(value) else value
    if kind == "array":
        size = data.draw(st.integers(schema["minItems"], schema["maxItems"]))
        return [_value_for(data, schema["items"]) for _ in range(size)]
    out = {}
    for name, sub in schema["properties"].items():  # schema order: llguidance enforces it
        if name in schema["required"] or data.draw(st.booleans()):
            out[name] = _value_for(data, sub)
    return out


def _mutations(schema: dict[str, Any], value: dict[str, Any]) -> list[tuple[str, Any]]:
    """Ways to break ``value`` so it no longer satisfies ``schema``."""
    out: list[tuple[str, Any]] = [("extra key", {**value, "zz_extra": 1})]
    for name in schema["required"]:
        out.append((f"missing {name}", {k: v for k, v in value.items() if k != name}))
    for name, sub in schema["properties"].items():
        if name not in value:
            continue
        broken: list[tuple[str, Any]] = []
        if "enum" in sub:
            broken.append(("not in enum", "zz-not-a-member"))
        elif sub["type"] in ("integer", "number"):
            if "maximum" in sub:
                broken.append(("above maximum", sub["maximum"] + 1))
            if "exclusiveMaximum" in sub:
                broken.append(("at exclusiveMaximum", sub["exclusiveMaximum"]))
            if "minimum" in sub:
                broken.append(("below minimum", sub["minimum"] - 1))
            if "exclusiveMinimum" in sub:
                broken.append(("at exclusiveMinimum", sub["exclusiveMinimum"]))
            broken.append(("string for number", str(value[name])))
            if sub["type"] == "integer":
                broken.append(("fraction for integer", value[name] + 0.5))
        elif sub["type"] == "string":
            broken.append(("number for string", 1))
            if "maxLength" in sub:
                broken.append(("too long", "x" * (sub["maxLength"] + 1)))
        elif sub["type"] == "boolean":
            broken.append(("string for boolean", "true"))
        elif sub["type"] == "object":
            broken.append(("nested extra key", {**value[name], "zz_extra": 1}))
        elif sub["type"] == "array":
            items = value[name]
            if items:
                extra = sub["maxItems"] - len(items) + 1
                broken.append(("too many items", items + [items[0]] * extra))
            if sub["minItems"]:
                broken.append(("too few items", items[: sub["minItems"] - 1]))
            broken.append(("object for array", {"zz": items}))
        for label, bad in broken:
            mutated = copy.deepcopy(value)
            mutated[name] = bad
            out.append((f"{name}: {label}", mutated))
    return out


@settings(max_examples=50, deadline=None)
@given(
    name=st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True),
    schema=_object_schema(),
    data=st.data(),
)
def test_random_schemas_accept_valid_and_reject_invalid_arguments(
    name: str, schema: dict[str, Any], data: st.DataObject
) -> None:
    """Arguments valid for a random schema decode, in both layouts; broken ones never do.

    jsonschema is the referee: the grammar and a schema validator must agree on every value.
    """
    spec = parse_tools([{"name": name, "parameters": schema}])[0]
    validator = jsonschema.Draft202012Validator(spec.parameters)
    loose = CallFormat(family="loose", key_separator=": ?", item_separator=", ?")
    grammar = build_tool_grammar([spec], FMT)
    loose_grammar = build_tool_grammar([spec], loose)

    value = _value_for(data, schema)
    assert validator.is_valid(value), list(validator.iter_errors(value))
    document = {"name": name, "arguments": value}
    spaced = json.dumps(document, ensure_ascii=False)
    compact = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    assert accepts(grammar, spaced), spaced
    assert accepts(loose_grammar, spaced), spaced
    assert accepts(loose_grammar, compact), compact

    label, mutated = data.draw(st.sampled_from(_mutations(schema, value)), label="mutation")
    assert not validator.is_valid(mutated), label
    bad = json.dumps({"name": name, "arguments": mutated}, ensure_ascii=False)
    assert not accepts(grammar, bad), (label, bad)
    assert not accepts(loose_grammar, bad), (label, bad)


# --- BFCL files compile -----------------------------------------------------------------------

BFCL_DIR = Path(__file__).parents[3] / "shared" / "bfcl"
BFCL_FILES = [
    "BFCL_v4_simple_python.json",
    "BFCL_v4_multiple.json",
    "BFCL_v4_parallel.json",
    "BFCL_v4_parallel_multiple.json",
    "BFCL_v4_irrelevance.json",
    "BFCL_v4_live_simple.json",
    "BFCL_v4_simple_java.json",
    "BFCL_v4_simple_javascript.json",
]
BFCL_ENTRIES_PER_FILE = 30


def _bfcl_params() -> list[Any]:
    if not BFCL_DIR.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{BFCL_DIR} is absent"))]
    params = []
    for file_name in BFCL_FILES:
        path = BFCL_DIR / file_name
        if not path.is_file():
            params.append(
                pytest.param(None, id=file_name, marks=pytest.mark.skip(reason=f"{path} absent"))
            )
            continue
        with path.open(encoding="utf-8") as handle:
            for _, line in zip(range(BFCL_ENTRIES_PER_FILE), handle, strict=False):
                entry = json.loads(line)
                params.append(pytest.param(entry, id=entry["id"]))
    return params


@pytest.mark.parametrize("entry", _bfcl_params())
def test_bfcl_tools_compile(entry: dict[str, Any]) -> None:
    """Every tool of the first BFCL entries parses and compiles, alone and with its siblings."""
    specs = parse_tools(entry["function"])
    for spec in specs:
        build_tool_grammar([spec], FMT)
    build_tool_grammar(specs, FMT)


# Tools beyond the first entries whose enum disagrees with their type (found by compiling every
# tool of every BFCL file): an array-typed parameter whose string "enum" means the items' enum,
# and an integer parameter whose enum lists the numbers as strings.
BFCL_MISTYPED_ENUMS = [
    ("BFCL_v4_live_simple.json", "live_simple_71-35-0", "array with string enum"),
    ("BFCL_v4_live_irrelevance.json", "live_irrelevance_428-103-0", "array with string enum"),
    ("BFCL_v4_live_relevance.json", "live_relevance_8-8-0", "integer with string enum"),
]


@pytest.mark.parametrize(
    ("file_name", "entry_id", "why"),
    BFCL_MISTYPED_ENUMS,
    ids=[entry_id for _, entry_id, _ in BFCL_MISTYPED_ENUMS],
)
def test_bfcl_tools_with_mistyped_enums_compile(file_name: str, entry_id: str, why: str) -> None:
    """BFCL tools whose enum disagrees with the declared type still compile (each alone)."""
    path = BFCL_DIR / file_name
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    with path.open(encoding="utf-8") as handle:
        entry = next(e for e in map(json.loads, handle) if e["id"] == entry_id)
    for spec in parse_tools(entry["function"]):
        build_tool_grammar([spec], FMT)


def test_a_name_may_be_written_with_dots_and_underscores_swapped() -> None:
    """``math.roots.quadratic`` for the offered ``math_roots.quadratic``: the model copies the
    separators of the names around it; a spelling that could mean two tools is refused."""
    args = {"a": 1}
    grammar = grammar_for(
        tool("math_roots.quadratic", {"a": {"type": "integer"}}, ["a"]),
        tool("math.roots.cubic", {"a": {"type": "integer"}}, ["a"]),
        tool("x.y_z", {}),
        tool("x_y.z", {}),
    )
    assert accepts(grammar, call("math_roots.quadratic", args))
    assert accepts(grammar, call("math.roots.quadratic", args))
    assert accepts(grammar, call("math_roots_cubic", args))
    assert accepts(grammar, call("x.y_z", {}))
    assert not accepts(grammar, call("x.y.z", {}))  # x.y_z or x_y.z: neither is guessed
    assert not accepts(grammar, call("math-roots-cubic", args))
