"""Tool parsing and schema normalisation: every dialect in, one strict JSON Schema out.

What the grammar enforces and what validation checks both come from this form, so a wrong
fold here means the model is held to the wrong rules.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from backends.errors import GrammarError
from backends.schema import ToolSpec, normalize_schema, parse_tools


def test_bfcl_type_names_are_folded() -> None:
    """Python and Java type names become JSON Schema's; ``any`` removes the constraint."""
    schema = {
        "type": "dict",
        "properties": {
            "ratio": {"type": "float"},
            "point": {"type": "tuple", "items": {"type": "String"}},
            "options": {"type": "HashMap"},
            "count": {"type": "long"},
            "small": {"type": "short"},
            "flag": {"type": "bool"},
            "names": {"type": "ArrayList", "items": {"type": "char"}},
            "anything": {"type": "any", "description": "free"},
        },
    }
    assert normalize_schema(schema) == {
        "type": "object",
        "properties": {
            "ratio": {"type": "number"},
            "point": {"type": "array", "items": {"type": "string"}},
            "options": {"type": "object", "properties": {}},
            "count": {"type": "integer"},
            "small": {"type": "integer"},
            "flag": {"type": "boolean"},
            "names": {"type": "array", "items": {"type": "string"}},
            "anything": {"description": "free"},
        },
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (["String", "null"], ["string", "null"]),
        (["int", "integer", "long"], "integer"),
        (["float"], "number"),
        (["string", "any"], None),
        (" Integer ", "integer"),
    ],
)
def test_type_lists_are_folded_and_deduplicated(given: Any, expected: Any) -> None:
    """A list of type names folds element-wise; a lone survivor is written as a plain name."""
    out = normalize_schema({"type": given})
    assert out.get("type") == expected


def test_additional_properties_false_is_added_to_every_object_with_properties() -> None:
    """Objects that list properties get no extras, at any depth, unless they say otherwise."""
    out = normalize_schema(
        {
            "type": "object",
            "properties": {
                "inner": {"type": "object", "properties": {"a": {"type": "string"}}},
                "rows": {
                    "type": "array",
                    "items": {"type": "object", "properties": {"b": {"type": "int"}}},
                },
                "open": {
                    "type": "object",
                    "properties": {"c": {"type": "string"}},
                    "additionalProperties": True,
                },
            },
        }
    )
    assert out["additionalProperties"] is False
    assert out["properties"]["inner"]["additionalProperties"] is False
    assert out["properties"]["rows"]["items"]["additionalProperties"] is False
    assert out["properties"]["open"]["additionalProperties"] is True


def test_free_form_object_stays_open() -> None:
    """A nested object with no properties (BFCL's bare ``dict``) accepts any keys."""
    out = normalize_schema({"type": "object", "properties": {"meta": {"type": "dict"}}})
    assert out["properties"]["meta"] == {"type": "object", "properties": {}}


def test_additional_properties_schema_is_normalised() -> None:
    """A schema given for extra keys is folded like any other."""
    out = normalize_schema({"type": "HashMap", "additionalProperties": {"type": "float"}})
    assert out["additionalProperties"] == {"type": "number"}


def test_properties_imply_an_object() -> None:
    """A schema with properties but no type is an object."""
    out = normalize_schema({"properties": {"a": {"type": "str"}}})
    assert out["type"] == "object"
    assert out["additionalProperties"] is False


@pytest.mark.parametrize(
    ("required", "expected"),
    [
        (["a", "ghost"], ["a"]),
        (["b", "a", "b"], ["b", "a"]),
        (["ghost"], None),
        ([], None),
    ],
)
def test_required_is_limited_to_existing_properties(
    required: list[str], expected: list[str] | None
) -> None:
    """Required names that are not properties are dropped (an unsatisfiable schema otherwise)."""
    out = normalize_schema(
        {"type": "object", "properties": {"a": {}, "b": {}}, "required": required}
    )
    assert out.get("required") == expected


def test_unknown_keys_and_optional_are_dropped() -> None:
    """BFCL's ``optional`` and vendor keys never reach the grammar."""
    out = normalize_schema(
        {
            "type": "string",
            "optional": True,
            "x-vendor": {"anything": 1},
            "nullable": True,
            "description": "kept",
            "title": "kept too",
        }
    )
    assert out == {"type": "string", "description": "kept", "title": "kept too"}


def test_null_default_is_dropped_but_real_default_kept() -> None:
    """``default: null`` (BFCL's way of saying optional) is no hint; a real default is."""
    out = normalize_schema(
        {
            "type": "dict",
            "properties": {
                "city": {"type": "string", "default": None},
                "days": {"type": "integer", "default": 3},
                "flag": {"type": "boolean", "default": False},
            },
        }
    )
    assert "default" not in out["properties"]["city"]
    assert out["properties"]["days"]["default"] == 3
    assert out["properties"]["flag"]["default"] is False


def test_string_enum_members_are_coerced_to_strings() -> None:
    """A string-typed enum listing numbers or booleans lists their JSON text instead."""
    out = normalize_schema({"type": "string", "enum": [1, 2.5, True, None, "a"]})
    assert out["enum"] == ["1", "2.5", "true", "null", "a"]


def test_enum_of_other_types_is_kept() -> None:
    """Enums of untyped or non-string schemas keep their values as given."""
    assert normalize_schema({"enum": [1, "a", None]})["enum"] == [1, "a", None]
    assert normalize_schema({"type": "int", "enum": [1, 2]})["enum"] == [1, 2]


@pytest.mark.parametrize("enum", [[], "celsius", None])
def test_empty_or_non_list_enum_is_an_error(enum: Any) -> None:
    """An enum that allows nothing is reported with the path to it."""
    with pytest.raises(GrammarError, match=r"f\.parameters\.unit: enum must be a non-empty list"):
        parse_tools([{"name": "f", "parameters": {"properties": {"unit": {"enum": enum}}}}])


def test_items_as_list_becomes_prefix_items() -> None:
    """Draft-4 tuple ``items: [...]`` becomes ``prefixItems``, each normalised."""
    out = normalize_schema({"type": "tuple", "items": [{"type": "float"}, {"type": "String"}]})
    assert out == {"type": "array", "prefixItems": [{"type": "number"}, {"type": "string"}]}


def test_combinators_and_defs_are_normalised() -> None:
    """anyOf/oneOf/allOf branches and $defs entries get the same folding."""
    out = normalize_schema(
        {
            "anyOf": [{"type": "float"}, {"type": "dict", "properties": {"a": {"type": "int"}}}],
            "oneOf": [{"type": "str"}],
            "allOf": [{"type": "long"}],
            "$defs": {"P": {"type": "HashMap", "properties": {"x": {"type": "double"}}}},
        }
    )
    assert out["anyOf"] == [
        {"type": "number"},
        {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": False},
    ]
    assert out["oneOf"] == [{"type": "string"}]
    assert out["allOf"] == [{"type": "integer"}]
    assert out["$defs"]["P"] == {
        "type": "object",
        "properties": {"x": {"type": "number"}},
        "additionalProperties": False,
    }


def test_normalising_does_not_change_the_input() -> None:
    """Callers' tool definitions are left as they were."""
    schema = {
        "type": "dict",
        "properties": {"a": {"type": "float", "default": None, "optional": True}},
        "required": ["a", "ghost"],
    }
    before = copy.deepcopy(schema)
    normalize_schema(schema)
    assert schema == before


@pytest.mark.parametrize("schema", [True, None])
def test_empty_schema_means_anything(schema: Any) -> None:
    """``true`` or a missing schema constrains nothing."""
    assert normalize_schema(schema) == {}


# --- parse_tools ------------------------------------------------------------------------------

PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}


def test_openai_and_bare_formats_give_the_same_tool() -> None:
    """``{"type": "function", "function": {...}}`` and the bare object are the same tool."""
    bare = {"name": "get_weather", "description": "Weather", "parameters": PARAMS}
    openai = {"type": "function", "function": bare}
    assert parse_tools([openai]) == parse_tools([bare])
    (spec,) = parse_tools([bare])
    assert spec == ToolSpec(
        name="get_weather",
        description="Weather",
        parameters={**PARAMS, "additionalProperties": False},
    )


def test_to_openai_round_trips() -> None:
    """A parsed tool written back in OpenAI format parses to itself."""
    (spec,) = parse_tools([{"name": "f", "description": "d", "parameters": PARAMS}])
    assert spec.to_openai()["type"] == "function"
    assert parse_tools([spec.to_openai()]) == [spec]


def test_missing_parameters_means_no_arguments() -> None:
    """A tool without parameters takes exactly ``{}`` and has an empty description if none."""
    (spec,) = parse_tools([{"name": "ping"}])
    assert spec.description == ""
    assert spec.parameters == {"type": "object", "properties": {}, "additionalProperties": False}


def test_top_level_parameters_are_always_a_closed_object() -> None:
    """Even a BFCL ``dict`` with no properties is closed at the top: no invented arguments."""
    (spec,) = parse_tools([{"name": "f", "parameters": {"type": "dict"}}])
    assert spec.parameters["type"] == "object"
    assert spec.parameters["additionalProperties"] is False


def test_names_with_dots_and_dashes_are_accepted() -> None:
    """BFCL names such as ``math.factorial`` and ``aws.lexv2_models.list-exports`` are valid."""
    names = ["math.factorial", "aws.lexv2_models.list-exports", "_private", "A" * 128]
    assert [s.name for s in parse_tools([{"name": n} for n in names])] == names


def test_duplicate_names_are_an_error() -> None:
    """Two tools with one name would make calls ambiguous."""
    with pytest.raises(GrammarError, match="two tools are named 'f'"):
        parse_tools([{"name": "f"}, {"type": "function", "function": {"name": "f"}}])


@pytest.mark.parametrize(
    "name", ["", "1abc", "has space", "semi;colon", "A" * 129, None, 7, "naïve"]
)
def test_invalid_names_are_an_error(name: Any) -> None:
    """A name the model could not write reliably is refused, quoting it."""
    with pytest.raises(GrammarError, match=r"tool #2 has an invalid name"):
        parse_tools([{"name": "ok"}, {"name": name}])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("get_weather", r"tool #1 is not a JSON object"),
        ({"type": "function"}, r"tool #1 has no 'function' object"),
        ({"type": "function", "function": "f"}, r"tool #1 has no 'function' object"),
    ],
)
def test_malformed_tool_entries_are_an_error(raw: Any, message: str) -> None:
    """Entries that are not tool objects are reported by position."""
    with pytest.raises(GrammarError, match=message):
        parse_tools([raw])


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"type": "string"}, r"f: parameters must be an object schema"),
        ({"type": "array", "items": {}}, r"f: parameters must be an object schema"),
        ([{"type": "string"}], r"f\.parameters: a schema must be a JSON object"),
        ("city: str", r"f\.parameters: a schema must be a JSON object"),
        ({"type": "object", "properties": [1]}, r"f\.parameters\.properties must be an object"),
    ],
)
def test_non_object_parameters_are_an_error(parameters: Any, message: str) -> None:
    """Arguments must be an object; anything else is refused with the tool's name."""
    with pytest.raises(GrammarError, match=message):
        parse_tools([{"name": "f", "parameters": parameters}])


@pytest.mark.parametrize(
    ("prop", "message"),
    [
        ({"type": "banana"}, r"f\.parameters\.a: unknown type 'banana'"),
        ({"type": 5}, r"f\.parameters\.a: type must be a string, got 5"),
        (
            {"type": "array", "items": {"type": "Thing"}},
            r"f\.parameters\.a\[\]: unknown type 'Thing'",
        ),
        (
            {"type": "object", "properties": {"b": {"type": "?"}}},
            r"f\.parameters\.a\.b: unknown type '\?'",
        ),
    ],
)
def test_unknown_type_is_an_error_naming_the_path(prop: dict[str, Any], message: str) -> None:
    """An unknown type name is reported with where it is, so the tool author can fix it."""
    with pytest.raises(GrammarError, match=message):
        parse_tools([{"name": "f", "parameters": {"type": "object", "properties": {"a": prop}}}])
