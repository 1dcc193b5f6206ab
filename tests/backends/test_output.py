"""From raw model output to the completion the user sees: calls, validity and conflict flags.

A conflict is the one thing a user must not miss: the grammar changed what the model meant
(``120`` became ``12``). These tests pin which overrides become flags, on which call and field,
and which are harmless layout.
"""

from __future__ import annotations

import json

import pytest

from backends.call_format import call_format_for
from backends.conflicts import Override, format_path, scalar_spans
from backends.generation import Conflict, Timings
from backends.output import assemble, byte_to_char_offsets, validate_arguments
from backends.schema import parse_tools

FMT = call_format_for("qwen2")
TOOLS = parse_tools(
    [
        {
            "type": "function",
            "function": {
                "name": "set_volume",
                "description": "Set the volume",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "level": {"type": "integer", "minimum": 0, "maximum": 50},
                        "unit": {"type": "string", "enum": ["percent", "decibel"]},
                    },
                    "required": ["level"],
                },
            },
        },
        {
            "name": "order",
            "parameters": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                            "required": ["sku", "qty"],
                        },
                    }
                },
                "required": ["items"],
            },
        },
    ]
)
VOL12 = '{"name": "set_volume", "arguments": {"level": 12}}'
AFTER_12 = VOL12.index("12") + 2


def _after(text: str, fragment: str, nth: int = 0) -> int:
    """Offset just past the ``nth`` occurrence of ``fragment`` in ``text``."""
    pos = -1
    for _ in range(nth + 1):
        pos = text.index(fragment, pos + 1)
    return pos + len(fragment)


# --- text answers and valid calls -------------------------------------------------------------


def test_text_answer() -> None:
    """Prose comes back as stripped text with no calls, and prints as ``{"text": ...}``."""
    done = assemble("  It is sunny.\n", TOOLS, FMT, finish_reason="length", prompt_tokens=7)
    assert done.text == "It is sunny."
    assert done.tool_calls == ()
    assert done.raw == "  It is sunny.\n"
    assert (done.finish_reason, done.prompt_tokens) == ("length", 7)
    assert done.to_json() == {"text": "It is sunny."}


def test_without_tools_json_is_just_text() -> None:
    """With no tools offered, even JSON-looking output is a text answer."""
    done = assemble(VOL12, [], FMT)
    assert done.text == VOL12
    assert done.tool_calls == ()


def test_unreadable_call_leaves_a_text_answer() -> None:
    """Broken JSON is shown as text rather than lost."""
    raw = '{"name": "set_volume", "arguments": {"level": }'
    done = assemble(raw, TOOLS, FMT)
    assert done.text == raw
    assert done.tool_calls == ()


def test_valid_call() -> None:
    """A well-formed call is valid, has no conflicts, and the completion has no text."""
    timings = Timings(prompt_s=0.5, first_token_s=0.6, total_s=1.0)
    done = assemble(VOL12, TOOLS, FMT, completion_tokens=15, forced_tokens=9, timings=timings)
    assert done.text is None
    (only,) = done.tool_calls
    assert (only.name, only.arguments, only.valid, only.errors) == (
        "set_volume",
        {"level": 12},
        True,
        (),
    )
    assert only.conflicts == ()
    assert (done.completion_tokens, done.forced_tokens, done.timings) == (15, 9, timings)
    assert done.to_json() == {
        "tool_calls": [{"name": "set_volume", "arguments": {"level": 12}, "conflicts": []}]
    }


def test_several_calls_in_an_array() -> None:
    """Every call of an array comes back, in order, each validated."""
    raw = f'[{VOL12}, {{"name": "order", "arguments": {{"items": []}}}}]'
    done = assemble(raw, TOOLS, FMT)
    assert [(c.name, c.valid) for c in done.tool_calls] == [("set_volume", True), ("order", True)]


# --- invalid calls (unconstrained output) -----------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        ('{"name": "set_brightness", "arguments": {"level": 1}}', "unknown tool 'set_brightness'"),
        ('{"arguments": {"level": 1}}', "unknown tool None"),
        ('{"name": 7, "arguments": {"level": 1}}', "unknown tool 7"),
        (
            '{"name": "set_volume", "arguments": {"level": "loud"}}',
            "level: 'loud' is not of type 'integer'",
        ),
        (
            '{"name": "set_volume", "arguments": {"level": 120}}',
            "level: 120 is greater than the maximum of 50",
        ),
        (
            '{"name": "set_volume", "arguments": {}}',
            "arguments: 'level' is a required property",
        ),
        (
            '{"name": "set_volume", "arguments": {"level": 1, "speaker": "left"}}',
            "arguments: Additional properties are not allowed ('speaker' was unexpected)",
        ),
        (
            '{"name": "set_volume", "arguments": {"level": 1, "unit": "loud"}}',
            "unit: 'loud' is not one of ['percent', 'decibel']",
        ),
        ('{"name": "set_volume", "arguments": [12]}', "arguments must be a JSON object"),
        ('{"name": "set_volume", "arguments": "level=12"}', "arguments must be a JSON object"),
    ],
)
def test_invalid_call_is_flagged_with_a_readable_error(raw: str, error: str) -> None:
    """A call that breaks its tool's rules is returned, marked invalid, saying why."""
    (only,) = assemble(raw, TOOLS, FMT).tool_calls
    assert only.valid is False
    assert error in only.errors
    printed = only.to_json()
    assert printed["valid"] is False
    assert error in printed["errors"]


def test_non_object_arguments_become_empty() -> None:
    """Arguments that are not an object are never passed on to a tool."""
    (only,) = assemble('{"name": "set_volume", "arguments": [12]}', TOOLS, FMT).tool_calls
    assert only.arguments == {}


def test_validate_arguments_reports_every_nested_error_in_path_order() -> None:
    """Each failing item is named by its path, so the user sees which one is wrong."""
    order = TOOLS[1]
    errors = validate_arguments(
        order, {"items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": "2"}, {"sku": "c"}]}
    )
    assert errors == (
        "items.1.qty: '2' is not of type 'integer'",
        "items.2: 'qty' is a required property",
    )
    assert validate_arguments(order, {"items": [{"sku": "a", "qty": 1}]}) == ()


# --- conflicts --------------------------------------------------------------------------------


def test_override_at_end_of_number_is_a_conflict() -> None:
    """The model wanted 120 for a field limited to 50; the grammar stopped at 12."""
    done = assemble(VOL12, TOOLS, FMT, overrides=[Override(offset=AFTER_12, wanted="0")])
    (only,) = done.tool_calls
    assert only.conflicts == (Conflict(path="arguments.level", wanted="120", got=12),)
    assert only.valid is True
    assert done.to_json()["tool_calls"][0]["conflicts"] == [
        {"path": "arguments.level", "wanted": "120", "got": 12}
    ]


@pytest.mark.parametrize("wanted", [" ", "\n", "  \n", "}", ",", "]", "}}", "}\n"])
def test_layout_override_at_end_of_value_is_not_a_conflict(wanted: str) -> None:
    """Whitespace, or a brace/comma where the value ends anyway, changes nothing the user cares."""
    done = assemble(VOL12, TOOLS, FMT, overrides=[Override(offset=AFTER_12, wanted=wanted)])
    assert done.tool_calls[0].conflicts == ()


@pytest.mark.parametrize("wanted", [" }", "\n}", " ,"])
def test_spaced_structural_override_at_end_of_value_is_not_a_conflict(wanted: str) -> None:
    """A model that wanted pretty-printed JSON (``12 }``) meant the same value."""
    done = assemble(VOL12, TOOLS, FMT, overrides=[Override(offset=AFTER_12, wanted=wanted)])
    assert done.tool_calls[0].conflicts == ()


def test_override_inside_the_name() -> None:
    """The grammar steering the tool name is flagged on ``name``."""
    offset = _after(VOL12, '"set_vol')
    (only,) = assemble(VOL12, TOOLS, FMT, overrides=[Override(offset, "ts")]).tool_calls
    assert only.conflicts == (Conflict(path="name", wanted="set_volts", got="set_volume"),)


def test_override_inside_a_string_value_reads_without_quotes() -> None:
    """What the model wanted is shown as text (``decibels``), not as a JSON fragment."""
    raw = '{"name": "set_volume", "arguments": {"level": 1, "unit": "decibel"}}'
    overrides = [Override(_after(raw, '"decibel'), "s")]
    (only,) = assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls
    assert only.conflicts == (Conflict(path="arguments.unit", wanted="decibels", got="decibel"),)


def test_override_at_start_of_string_value() -> None:
    """A different value from its first character on is flagged with the whole wanted token."""
    raw = '{"name": "set_volume", "arguments": {"level": 1, "unit": "decibel"}}'
    overrides = [Override(raw.index('"decibel'), '"loud')]
    (only,) = assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls
    assert only.conflicts == (Conflict(path="arguments.unit", wanted="loud", got="decibel"),)


def test_nested_conflict_path() -> None:
    """A conflict deep in the arguments names the item and field."""
    items = [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 12}]
    raw = json.dumps({"name": "order", "arguments": {"items": items}})
    overrides = [Override(_after(raw, "12"), "0")]
    (only,) = assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls
    assert only.conflicts == (Conflict(path="arguments.items[1].qty", wanted="120", got=12),)


def test_one_conflict_per_field() -> None:
    """Several overrides in one value make a single flag (the first)."""
    raw = '{"name": "set_volume", "arguments": {"level": 12}}'
    overrides = [Override(_after(raw, ": 1"), "9"), Override(AFTER_12, "0")]
    (only,) = assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls
    assert only.conflicts == (Conflict(path="arguments.level", wanted="19", got=12),)


def test_override_outside_the_call_is_ignored() -> None:
    """Overrides on the fence or after the call are layout, not conflicts."""
    raw = f"```json\n{VOL12}\n```"
    overrides = [Override(0, "<tool_call>"), Override(len(raw) - 3, "Done")]
    assert assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls[0].conflicts == ()


def test_override_on_a_key_is_ignored() -> None:
    """Keys are fixed by the schema; the model wanting another key name is not a value conflict."""
    raw = VOL12
    overrides = [Override(_after(raw, '"lev'), "el_db")]
    assert assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls[0].conflicts == ()


@pytest.mark.parametrize(
    "layout",
    ["{a}\n{b}", "<tool_call>\n{a}\n</tool_call>\n<tool_call>\n{b}\n</tool_call>", "{a} {b}"],
    ids=["objects in a row", "tags", "space separated"],
)
def test_conflict_goes_to_the_right_call(layout: str) -> None:
    """With two calls, the flag lands on the call whose value was changed."""
    first = '{"name": "set_volume", "arguments": {"level": 12}}'
    second = '{"name": "set_volume", "arguments": {"level": 13}}'
    raw = layout.replace("{a}", first).replace("{b}", second)
    done = assemble(raw, TOOLS, FMT, overrides=[Override(_after(raw, "13"), "0")])
    assert [c.conflicts for c in done.tool_calls] == [
        (),
        (Conflict(path="arguments.level", wanted="130", got=13),),
    ]


@pytest.mark.parametrize("nth", [0, 1])
def test_conflict_in_an_array_goes_to_the_right_call(nth: int) -> None:
    """The grammar's own array layout must keep conflict flags, on the call they belong to."""
    raw = f"[{VOL12}, {VOL12}]"
    done = assemble(raw, TOOLS, FMT, overrides=[Override(_after(raw, "12", nth), "0")])
    expected = [(), ()]
    expected[nth] = (Conflict(path="arguments.level", wanted="120", got=12),)
    assert [c.conflicts for c in done.tool_calls] == expected


def test_byte_offsets_become_character_offsets() -> None:
    """Overrides recorded in bytes land on the right character after multi-byte text."""
    raw = '{"name": "set_volume", "arguments": {"level": 12, "unit": "é"}}'
    data = raw.encode()
    (override,) = byte_to_char_offsets(data, [(data.index(b"12") + 2, b"0")])
    assert override == Override(raw.index("12") + 2, "0")
    (partial,) = byte_to_char_offsets(data, [(data.index(b"\xc3") + 1, b"\xa9x")])
    assert partial.offset == raw.index("é")
    assert partial.wanted.endswith("x")


def test_scalar_spans_and_paths() -> None:
    """Scalar values are located with their paths; containers are walked, not reported."""
    text = ' {"a": [1, {"b": "x"}], "c": null}'
    spans, end = scalar_spans(text, 0)
    assert end == len(text)
    assert [(format_path(s.path), text[s.start : s.end]) for s in spans] == [
        ("a[0]", "1"),
        ("a[1].b", '"x"'),
        ("c", "null"),
    ]
    with pytest.raises(ValueError):
        scalar_spans("   ", 0)


@pytest.mark.parametrize("wanted", ['",', '", ', '"}'])
def test_closing_a_string_where_the_grammar_closed_the_object_is_not_a_conflict(
    wanted: str,
) -> None:
    """The model ended "decibel" too, it only wanted another key after it: same value."""
    raw = '{"name": "set_volume", "arguments": {"level": 1, "unit": "decibel"}}'
    overrides = [Override(_after(raw, '"decibel'), wanted)]
    (only,) = assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls
    assert only.conflicts == ()


def test_a_string_cut_short_by_the_grammar_is_still_a_conflict() -> None:
    raw = '{"name": "set_volume", "arguments": {"level": 1, "unit": "decibel"}}'
    overrides = [Override(_after(raw, '"decibel'), 's",')]
    (only,) = assemble(raw, TOOLS, FMT, overrides=overrides).tool_calls
    assert [(c.path, c.wanted[:8], c.got) for c in only.conflicts] == [
        ("arguments.unit", "decibels", "decibel")
    ]


def test_a_call_spelled_with_swapped_separators_is_read_as_the_real_tool() -> None:
    tools = parse_tools(
        [{"name": "math_roots.quadratic", "parameters": {"type": "object", "properties": {}}}]
    )
    done = assemble('{"name": "math.roots.quadratic", "arguments": {}}', tools, FMT)
    assert [(c.name, c.valid) for c in done.tool_calls] == [("math_roots.quadratic", True)]
