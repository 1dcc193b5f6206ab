"""The BFCL answer checker: one hand-made case per rule and corner case, then the real data.

The hand-made cases pin the rules of /work/shared/bfcl/SOURCE.md one at a time. The data-driven
tests build a "perfect" answer from every ground truth and require the checker to accept it, and
a damaged one that it must reject: that proves the checker agrees with the data set itself.
"""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from app.evaluation.checker import (
    KNOWN_CATEGORIES,
    Verdict,
    category_of,
    check_entry,
    checker_for,
    normalise_string,
)

BFCL_DIR = Path(__file__).resolve().parents[3] / "shared" / "bfcl"


def _fn(name: str, properties: dict[str, Any], required: list[str] | None = None) -> dict:
    """A BFCL function doc."""
    return {
        "name": name,
        "description": f"{name} for tests",
        "parameters": {"type": "dict", "properties": properties, "required": required or []},
    }


def _call(name: str, /, **arguments: Any) -> dict:
    """One model call in our JSON call format."""
    return {"name": name, "arguments": arguments}


def _one(
    schema: dict[str, Any], acceptable: list[Any], value: Any, *, category: str = "simple_python"
) -> Verdict:
    """Check a single parameter ``x`` (optional in the schema) with one value."""
    functions = [_fn("f", {"x": schema})]
    ground_truth = [{"f": {"x": acceptable}}]
    return check_entry(category, [_call("f", x=value)], functions, ground_truth)


# --- categories -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry_id", "category"),
    [
        ("simple_3", "simple"),
        ("simple_python_3", "simple_python"),
        ("simple_java_12", "simple_java"),
        ("simple_javascript_0", "simple_javascript"),
        ("multiple_199", "multiple"),
        ("parallel_0", "parallel"),
        ("parallel_multiple_12", "parallel_multiple"),
        ("irrelevance_7", "irrelevance"),
        ("live_simple_71-35-0", "live_simple"),
        ("live_multiple_40-2-3", "live_multiple"),
        ("live_parallel_9-5-0", "live_parallel"),
        ("live_parallel_multiple_13-11-0", "live_parallel_multiple"),
        ("live_irrelevance_2-1-0", "live_irrelevance"),
        ("live_relevance_0-0-0", "live_relevance"),
        ("relevance_4", "relevance"),
        ("mytests_parallel_4", "parallel"),
        ("mytests_parallel_multiple_4", "parallel_multiple"),
        ("acme_live_irrelevance_2-1-0", "live_irrelevance"),
        ("acme_irrelevance_2", "irrelevance"),
        ("home_made_simple_javascript_5", "simple_javascript"),
        ("home_made_simple_java_5", "simple_java"),
        ("a_b_c_live_simple_1", "live_simple"),
    ],
)
def test_category_of_reads_the_id(entry_id: str, category: str) -> None:
    assert category_of(entry_id) == category


@pytest.mark.parametrize(
    "entry_id",
    [
        "",
        "simple_python",  # no number
        "multi_turn_base_0",
        "exec_parallel",
        "xsimple_3",  # "simple" must be a whole "_"-separated part
        "simple_python_3a",
        "simple_python_-3",
        "_3",
    ],
)
def test_category_of_rejects_unknown_ids(entry_id: str) -> None:
    with pytest.raises(ValueError, match="cannot tell the BFCL category"):
        category_of(entry_id)


@pytest.mark.parametrize(
    ("category", "checker"),
    [
        ("simple", "simple"),
        ("simple_python", "simple"),
        ("simple_java", "simple"),
        ("simple_javascript", "simple"),
        ("live_simple", "simple"),
        ("multiple", "multiple"),
        ("live_multiple", "multiple"),
        ("parallel", "parallel"),
        ("parallel_multiple", "parallel"),
        ("live_parallel", "parallel"),
        ("live_parallel_multiple", "parallel"),
        ("irrelevance", "irrelevance"),
        ("live_irrelevance", "irrelevance"),
        ("relevance", "relevance"),
        ("live_relevance", "relevance"),
    ],
)
def test_checker_for_routes_like_bfcl(category: str, checker: str) -> None:
    assert checker_for(category) == checker


def test_every_known_category_has_a_checker() -> None:
    assert {checker_for(category) for category in KNOWN_CATEGORIES} == {
        "simple",
        "multiple",
        "parallel",
        "irrelevance",
        "relevance",
    }


def test_unknown_category_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown BFCL category"):
        checker_for("multi_turn_base")
    with pytest.raises(ValueError, match="unknown BFCL category"):
        check_entry("exec_simple", [], [], [])


def test_verdict_is_frozen_and_correct_has_no_reason() -> None:
    verdict = _one({"type": "integer"}, [1], 1)
    assert verdict == Verdict(True, "")
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.correct = False  # type: ignore[misc]


# --- function name --------------------------------------------------------------------------------

FACTORIAL = [_fn("math.factorial", {"number": {"type": "integer"}}, ["number"])]
FACTORIAL_TRUTH = [{"math.factorial": {"number": [5]}}]


@pytest.mark.parametrize("name", ["math.factorial", "math_factorial"])
def test_name_exact_or_with_dots_as_underscores(name: str) -> None:
    assert check_entry("simple_python", [_call(name, number=5)], FACTORIAL, FACTORIAL_TRUTH).correct


@pytest.mark.parametrize(
    "name", ["Math.factorial", "factorial", "math.factorial2", "mathfactorial"]
)
def test_other_names_fail(name: str) -> None:
    verdict = check_entry("simple_python", [_call(name, number=5)], FACTORIAL, FACTORIAL_TRUTH)
    assert not verdict.correct
    assert "instead of 'math.factorial'" in verdict.reason


def test_underscore_is_not_accepted_as_a_dot() -> None:
    functions = [_fn("math_factorial", {"number": {"type": "integer"}}, ["number"])]
    truth = [{"math_factorial": {"number": [5]}}]
    verdict = check_entry("simple_python", [_call("math.factorial", number=5)], functions, truth)
    assert not verdict.correct


# --- parameters present and absent ----------------------------------------------------------------

TRIANGLE = [
    _fn(
        "calculate_triangle_area",
        {
            "base": {"type": "integer"},
            "height": {"type": "integer"},
            "unit": {"type": "string", "default": "units"},
            "precision": {"type": "integer", "default": 2},
        },
        ["base", "height"],
    )
]
TRIANGLE_TRUTH = [{"calculate_triangle_area": {"base": [10], "height": [5], "unit": ["units", ""]}}]


def _triangle(**arguments: Any) -> Verdict:
    call = _call("calculate_triangle_area", **arguments)
    return check_entry("simple_python", [call], TRIANGLE, TRIANGLE_TRUTH)


def test_all_expected_parameters_pass() -> None:
    assert _triangle(base=10, height=5, unit="units").correct


def test_optional_parameter_with_empty_string_may_be_omitted() -> None:
    assert _triangle(base=10, height=5).correct


def test_missing_required_parameter_fails() -> None:
    verdict = _triangle(base=10, unit="units")
    assert not verdict.correct
    assert verdict.reason == "missing required parameter 'height'"


def test_parameter_outside_the_schema_fails() -> None:
    verdict = _triangle(base=10, height=5, colour="red")
    assert not verdict.correct
    assert "'colour'" in verdict.reason and "schema" in verdict.reason


def test_optional_parameter_not_in_ground_truth_fails_even_with_its_default() -> None:
    verdict = _triangle(base=10, height=5, precision=2)
    assert not verdict.correct
    assert "'precision'" in verdict.reason


def test_ground_truth_parameter_without_empty_string_may_not_be_omitted() -> None:
    functions = [_fn("f", {"a": {"type": "integer"}, "b": {"type": "string"}}, ["a"])]
    truth = [{"f": {"a": [1], "b": ["x"]}}]
    verdict = check_entry("simple_python", [_call("f", a=1)], functions, truth)
    assert not verdict.correct
    assert verdict.reason == "missing parameter 'b'"


def test_required_parameter_stays_required_even_if_ground_truth_allows_empty() -> None:
    # simple_python_200 lists "" for a required parameter: the schema still wins.
    functions = [_fn("f", {"a": {"type": "float"}}, ["a"])]
    truth = [{"f": {"a": ["", 25.0]}}]
    assert not check_entry("simple_python", [_call("f")], functions, truth).correct
    assert check_entry("simple_python", [_call("f", a=25)], functions, truth).correct


def test_empty_string_output_is_accepted_where_empty_string_is_listed() -> None:
    assert _triangle(base=10, height=5, unit="").correct


# --- types ----------------------------------------------------------------------------------------


def test_int_is_accepted_for_float() -> None:
    assert _one({"type": "float"}, [5.0], 5).correct
    assert _one({"type": "float"}, [5.0], 5.0).correct


def test_float_is_not_accepted_for_integer_even_when_whole() -> None:
    verdict = _one({"type": "integer"}, [5], 5.0)
    assert not verdict.correct
    assert "expected integer, got float" in verdict.reason


@pytest.mark.parametrize("declared", ["integer", "float"])
def test_bool_is_not_a_number(declared: str) -> None:
    assert not _one({"type": declared}, [1], True).correct


@pytest.mark.parametrize(
    ("declared", "value"),
    [
        ("integer", "5"),
        ("string", 5),
        ("boolean", "true"),
        ("boolean", 1),
        ("array", "a"),
        ("dict", ["a"]),
        ("tuple", {"a": 1}),
    ],
)
def test_wrong_kind_fails(declared: str, value: Any) -> None:
    assert not _one({"type": declared}, [""], value).correct


def test_tuple_takes_a_json_array_or_python_tuple() -> None:
    schema = {"type": "tuple", "items": {"type": "float"}}
    assert _one(schema, [[33.4484, -112.074]], [33.4484, -112.074]).correct
    assert _one(schema, [[33.4484, -112.074]], (33.4484, -112.074)).correct


def test_array_elements_are_type_checked_one_level() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    assert _one(schema, [[1, 2]], [1, 2]).correct
    assert "element 1 should be integer" in _one(schema, [[1, 2]], [1, 2.0]).reason
    assert not _one(schema, [[1, 1]], [1, True]).correct


def test_int_elements_are_accepted_in_a_float_array() -> None:
    schema = {"type": "array", "items": {"type": "float"}}
    assert _one(schema, [[23.0, 45.5]], [23, 45.5]).correct


def test_nested_array_elements_are_checked_only_one_level_deep() -> None:
    schema = {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}
    assert _one(schema, [[[10, 20], [30, 40]]], [[10, 20], [30, 40]]).correct
    assert not _one(schema, [[[10, 20], [30, 40]]], [10, 20, 30, 40]).correct


def test_any_accepts_every_kind_and_the_value_check_decides() -> None:
    assert _one({"type": "any"}, ["my_data"], "My Data").correct
    assert _one({"type": "any"}, [[1, 2]], [1, 2]).correct
    assert _one({"type": "any"}, [5], 5).correct
    verdict = _one({"type": "any"}, ["5"], 5)
    assert not verdict.correct
    assert "not among the acceptable values" in verdict.reason


def test_variable_escape_hatch_accepts_the_ground_truth_kind_exactly() -> None:
    # The answer is a variable name where the schema wants an integer.
    assert _one({"type": "integer"}, ["num_var"], "num_var").correct
    assert not _one({"type": "integer"}, ["num_var"], "Num_Var").correct  # exact, no normalising
    assert not _one({"type": "integer"}, ["num_var"], 3).correct
    # parallel_multiple_21: a variable name for an array parameter.
    schema = {"type": "array", "items": {"type": "float"}}
    assert _one(schema, ["data['sales']"], "data['sales']").correct
    # simple_python_307: True listed for a string parameter.
    assert _one({"type": "string"}, ["", True], True).correct
    assert not _one({"type": "string"}, ["", True], False).correct


def test_variable_escape_hatch_one_level_down_in_arrays() -> None:
    # parallel_multiple_94: words in an array declared as integers.
    schema = {"type": "array", "items": {"type": "integer"}}
    assert _one(schema, [["apple", "banana"]], ["Apple", "banana"]).correct
    assert not _one(schema, [["apple", "banana"]], ["apple", 3]).correct


def test_unknown_type_name_is_treated_like_any() -> None:
    assert _one({"type": "frobnicator"}, ["x"], "X").correct
    assert _one({}, [3], 3).correct


# --- values ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "answer"),
    [
        ("April 1, 2024", "april 1 2024"),
        ("New York", "new-york"),
        ("bronze", "Bronze"),
        ("x^2 * y", "X2Y"),
        ("a/b_c.d", "abcd"),
        ("it's", 'it"s'),
    ],
)
def test_strings_are_normalised(output: str, answer: str) -> None:
    assert _one({"type": "string"}, [answer], output).correct


@pytest.mark.parametrize(("output", "answer"), [("Paris", "London"), ("2024-04-01", "2024-04-02")])
def test_different_strings_fail(output: str, answer: str) -> None:
    verdict = _one({"type": "string"}, [answer], output)
    assert not verdict.correct
    assert verdict.reason.startswith("parameter 'x': ")


def test_normalise_string_rules() -> None:
    assert normalise_string("Jan. 28, 2021") == "jan282021"
    assert normalise_string("O'Hare") == 'o"hare'
    assert normalise_string("a\tb") == "a\tb"  # only the space character is dropped


def test_any_acceptable_string_will_do() -> None:
    acceptable = ["2021-01-28", "01/28/2021", "Jan.28,2021"]
    assert _one({"type": "string"}, acceptable, "Jan 28, 2021").correct


def test_list_order_matters() -> None:
    schema = {"type": "array", "items": {"type": "string"}}
    assert _one(schema, [["Lakers", "Clippers"]], ["lakers", "CLIPPERS"]).correct
    assert not _one(schema, [["Lakers", "Clippers"]], ["Clippers", "Lakers"]).correct
    assert _one(
        schema, [["Lakers", "Clippers"], ["Clippers", "Lakers"]], ["Clippers", "Lakers"]
    ).correct


def test_list_length_must_match() -> None:
    schema = {"type": "array", "items": {"type": "integer"}}
    assert not _one(schema, [[1, 2]], [1, 2, 3]).correct
    assert not _one(schema, [[1, 2]], [1]).correct
    assert _one(schema, [[]], []).correct


def test_numbers_compare_by_equality() -> None:
    assert _one({"type": "float"}, [0], 0.0).correct  # parallel_84: an int answer, float param
    assert _one({"type": "float"}, [2.5], 2.5).correct
    assert not _one({"type": "float"}, [2.5], 2.50001).correct
    assert _one({"type": "boolean"}, [False], False).correct
    assert not _one({"type": "boolean"}, [False], True).correct


DICT_SCHEMA = {
    "type": "dict",
    "properties": {"name": {"type": "string"}, "email": {"type": "string"}},
}


def test_dict_with_every_key_passes_and_values_are_normalised() -> None:
    answer = {"name": ["John Doe"], "email": ["john@example.com"]}
    assert _one(DICT_SCHEMA, [answer], {"name": "john doe", "email": "JOHN@example.com"}).correct


def test_dict_key_may_be_missing_only_with_empty_string() -> None:
    optional = {"name": ["John"], "email": ["", "john@example.com"]}
    required = {"name": ["John"], "email": ["john@example.com"]}
    assert _one(DICT_SCHEMA, [optional], {"name": "John"}).correct
    assert not _one(DICT_SCHEMA, [required], {"name": "John"}).correct


def test_dict_extra_key_or_wrong_value_fails() -> None:
    answer = {"name": ["John"]}
    assert not _one(DICT_SCHEMA, [answer], {"name": "John", "email": "j@x.org"}).correct
    assert not _one(DICT_SCHEMA, [answer], {"name": "Jane"}).correct


def test_dict_any_acceptable_dict_will_do() -> None:
    answers = [{"name": ["John"]}, {"name": ["Jane"]}]
    assert _one(DICT_SCHEMA, answers, {"name": "Jane"}).correct


def test_dict_is_checked_one_level_deep() -> None:
    # live_multiple_121-46-0: a nested dict is a literal acceptable value, compared whole.
    answer = {"position": [{"lateral": 10.5, "longitudinal": 50}], "orientation": [30]}
    schema = {"type": "dict", "properties": {}}
    good = {"position": {"lateral": 10.5, "longitudinal": 50.0}, "orientation": 30}
    assert _one(schema, [answer], good).correct
    partial = {"position": {"lateral": 10.5}, "orientation": 30}
    assert not _one(schema, [answer], partial).correct


def test_dict_values_keep_bool_and_number_apart() -> None:
    schema = {"type": "dict", "properties": {}}
    assert _one(schema, [{"on": [True]}], {"on": True}).correct
    assert not _one(schema, [{"on": [True]}], {"on": 1}).correct


def test_empty_dict_answer() -> None:
    # live_simple_132-85-0: ["", {}]
    schema = {"type": "dict", "properties": {}}
    assert _one(schema, ["", {}], {}).correct
    assert not _one(schema, ["", {}], {"a": 1}).correct


ORDER_SCHEMA = {"type": "array", "items": {"type": "dict"}}
ORDER_ANSWER = [
    {"item": ["burgers"], "quantity": [5]},
    {"item": ["chicken wings"], "quantity": [6], "note": [""]},
]


def test_list_of_dicts_checks_each_dict_in_order() -> None:
    order = [{"item": "Burgers", "quantity": 5}, {"item": "chicken-wings", "quantity": 6}]
    assert _one(ORDER_SCHEMA, [ORDER_ANSWER], order).correct
    assert not _one(ORDER_SCHEMA, [ORDER_ANSWER], order[::-1]).correct
    assert not _one(ORDER_SCHEMA, [ORDER_ANSWER], order[:1]).correct
    wrong = [{"item": "burgers", "quantity": 5}, {"item": "chicken wings", "quantity": 7}]
    assert not _one(ORDER_SCHEMA, [ORDER_ANSWER], wrong).correct


def test_null_passes_only_where_listed() -> None:
    assert _one({"type": "string", "default": None}, ["", None], None).correct
    assert _one({"type": "integer", "default": None}, [None, ""], None).correct
    verdict = _one({"type": "string"}, ["", "all"], None)
    assert not verdict.correct
    assert "null" in verdict.reason


def test_empty_acceptable_list_for_an_array_means_the_empty_array() -> None:
    # live_simple_106-63-0 lists [] (no acceptable value) for required array parameters.
    functions = [_fn("record", {"q": {"type": "array", "items": {"type": "string"}}}, ["q"])]
    truth = [{"record": {"q": []}}]
    assert check_entry("live_simple", [_call("record", q=[])], functions, truth).correct
    assert not check_entry("live_simple", [_call("record", q=["x"])], functions, truth).correct


# --- call counts and the simple / multiple checkers -----------------------------------------------


def test_simple_needs_exactly_one_call() -> None:
    text = check_entry("simple_python", [], TRIANGLE, TRIANGLE_TRUTH)
    assert text == Verdict(False, "expected 1 call, got 0")
    call = _call("calculate_triangle_area", base=10, height=5)
    two = check_entry("live_simple", [call, call], TRIANGLE, TRIANGLE_TRUTH)
    assert two == Verdict(False, "expected 1 call, got 2")


WEATHER_AND_TIME = [
    _fn("get_weather", {"city": {"type": "string"}}, ["city"]),
    _fn("get_time", {"city": {"type": "string"}}, ["city"]),
]


def test_multiple_checks_the_chosen_function() -> None:
    truth = [{"get_time": {"city": ["Paris"]}}]
    good = check_entry("multiple", [_call("get_time", city="paris")], WEATHER_AND_TIME, truth)
    assert good.correct
    wrong = check_entry(
        "live_multiple", [_call("get_weather", city="Paris")], WEATHER_AND_TIME, truth
    )
    assert wrong == Verdict(False, "called 'get_weather' instead of 'get_time'")


def test_multiple_needs_as_many_calls_as_expected() -> None:
    truth = [{"get_time": {"city": ["Paris"]}}]
    calls = [_call("get_time", city="Paris"), _call("get_weather", city="Paris")]
    assert check_entry("multiple", calls, WEATHER_AND_TIME, truth).reason == (
        "expected 1 call, got 2"
    )
    assert not check_entry("multiple", [], WEATHER_AND_TIME, truth).correct


# --- parallel -------------------------------------------------------------------------------------

PARALLEL_TRUTH = [
    {"get_weather": {"city": ["Paris"]}},
    {"get_weather": {"city": ["London"]}},
    {"get_time": {"city": ["Tokyo"]}},
]


def test_parallel_in_ground_truth_order_passes() -> None:
    calls = [
        _call("get_weather", city="Paris"),
        _call("get_weather", city="London"),
        _call("get_time", city="Tokyo"),
    ]
    assert check_entry("parallel_multiple", calls, WEATHER_AND_TIME, PARALLEL_TRUTH).correct


def test_parallel_in_another_order_passes() -> None:
    calls = [
        _call("get_time", city="tokyo"),
        _call("get_weather", city="London"),
        _call("get_weather", city="Paris"),
    ]
    assert check_entry("live_parallel_multiple", calls, WEATHER_AND_TIME, PARALLEL_TRUTH).correct


def test_parallel_with_one_wrong_value_fails() -> None:
    calls = [
        _call("get_weather", city="Paris"),
        _call("get_weather", city="Berlin"),
        _call("get_time", city="Tokyo"),
    ]
    verdict = check_entry("parallel_multiple", calls, WEATHER_AND_TIME, PARALLEL_TRUTH)
    assert not verdict.correct
    assert verdict.reason.startswith("no call matches expected call 2 'get_weather'")
    assert "Berlin" in verdict.reason


def test_parallel_needs_the_same_number_of_calls() -> None:
    calls = [_call("get_weather", city="Paris"), _call("get_weather", city="London")]
    verdict = check_entry("parallel", calls, WEATHER_AND_TIME, PARALLEL_TRUTH)
    assert verdict == Verdict(False, "expected 3 calls, got 2")
    assert not check_entry("parallel", [], WEATHER_AND_TIME, PARALLEL_TRUTH).correct


def test_parallel_uses_each_call_once() -> None:
    truth = [{"get_weather": {"city": ["Paris"]}}, {"get_weather": {"city": ["Paris", "London"]}}]
    twice = [_call("get_weather", city="Paris"), _call("get_weather", city="Paris")]
    assert check_entry("parallel", twice, WEATHER_AND_TIME, truth).correct
    truth = [{"get_weather": {"city": ["Paris"]}}, {"get_weather": {"city": ["London"]}}]
    assert not check_entry("parallel", twice, WEATHER_AND_TIME, truth).correct


def test_parallel_matching_is_greedy_first_fit_not_optimal() -> None:
    # Expected call 1 accepts either city, expected call 2 only Paris (as in parallel_178).
    truth = [{"get_weather": {"city": ["Paris", "London"]}}, {"get_weather": {"city": ["Paris"]}}]
    paris_first = [_call("get_weather", city="Paris"), _call("get_weather", city="London")]
    london_first = [_call("get_weather", city="London"), _call("get_weather", city="Paris")]
    # Call 1 grabs Paris, leaving London for call 2, though a perfect matching exists.
    assert not check_entry("parallel", paris_first, WEATHER_AND_TIME, truth).correct
    assert check_entry("parallel", london_first, WEATHER_AND_TIME, truth).correct


# --- irrelevance / relevance ----------------------------------------------------------------------


def test_irrelevance_text_answer_passes_and_a_call_fails() -> None:
    assert check_entry("irrelevance", [], WEATHER_AND_TIME, None).correct
    assert check_entry("live_irrelevance", [], [], None).correct
    verdict = check_entry(
        "irrelevance", [_call("get_weather", city="Paris")], WEATHER_AND_TIME, None
    )
    assert verdict == Verdict(False, "called 'get_weather' though no function fits")


def test_irrelevance_an_empty_call_object_is_not_a_call() -> None:
    assert check_entry("live_irrelevance", [{}], WEATHER_AND_TIME, None).correct
    assert check_entry(
        "irrelevance", [{"name": "", "arguments": {}}], WEATHER_AND_TIME, None
    ).correct


def test_relevance_needs_a_call_with_any_arguments() -> None:
    assert not check_entry("live_relevance", [], WEATHER_AND_TIME, None).correct
    assert check_entry("live_relevance", [_call("get_weather")], WEATHER_AND_TIME, None).correct
    assert check_entry("relevance", [_call("get_time", zone=3)], WEATHER_AND_TIME, None).correct


# --- malformed output and ground truth ------------------------------------------------------------


@pytest.mark.parametrize(
    "calls",
    [
        [{"name": "math.factorial"}],
        [{"arguments": {"number": 5}}],
        [{"name": "math.factorial", "arguments": "number=5"}],
        ["math.factorial(number=5)"],
    ],
)
def test_malformed_output_is_wrong_output_format(calls: list[Any]) -> None:
    verdict = check_entry("simple_python", calls, FACTORIAL, FACTORIAL_TRUTH)
    assert not verdict.correct
    assert verdict.reason.startswith("wrong output format")


def test_missing_or_bad_ground_truth_is_an_error_not_a_wrong_answer() -> None:
    with pytest.raises(ValueError, match="needs a ground truth"):
        check_entry("simple_python", [], FACTORIAL, None)
    with pytest.raises(ValueError, match="not among the entry's functions"):
        check_entry("simple_python", [], FACTORIAL, [{"math.gamma": {"x": [1]}}])
    with pytest.raises(ValueError, match="one call"):
        check_entry("simple_python", [], FACTORIAL, FACTORIAL_TRUTH * 2)


# --- Java / JavaScript (best effort) --------------------------------------------------------------


def test_java_literals_written_as_strings_are_read() -> None:
    assert _one({"type": "boolean"}, [True], "true", category="simple_java").correct
    assert _one({"type": "long"}, [42], "42L", category="simple_java").correct
    assert _one({"type": "double"}, [0.5], "0.5d", category="simple_java").correct
    assert _one({"type": "String"}, ["abc"], '"abc"', category="simple_java").correct
    assert _one({"type": "ArrayList"}, [[1, 2]], "[1, 2]", category="simple_java").correct
    assert _one(
        {"type": "HashMap"}, [{"limit": [50]}], {"limit": 50}, category="simple_java"
    ).correct


def test_java_values_as_json_and_variables_pass() -> None:
    assert _one({"type": "integer"}, [3], 3, category="simple_java").correct
    assert _one({"type": "any"}, ["mapController"], "mapController", category="simple_java").correct
    assert _one(
        {"type": "Array"}, ["user:online:both"], "user:online:both", category="simple_java"
    ).correct
    assert not _one({"type": "boolean"}, [True], "false", category="simple_java").correct


def test_javascript_literals() -> None:
    schema = {"type": "array", "items": {"type": "String"}}
    good = _one(
        schema, [["completed", "failed"]], '["completed", "failed"]', category="simple_javascript"
    )
    assert good.correct
    assert _one({"type": "Boolean"}, [True], "true", category="simple_javascript").correct


def test_python_categories_do_not_read_literals() -> None:
    assert not _one({"type": "boolean"}, [True], "true").correct
    assert not _one({"type": "integer"}, [42], "42").correct


# --- the real data --------------------------------------------------------------------------------

DATA_CATEGORIES = [
    "simple_python",
    "multiple",
    "parallel",
    "parallel_multiple",
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "simple_java",
    "simple_javascript",
]
SANITY_CATEGORIES = DATA_CATEGORIES[:6]
FIRST_N = 50

# Ground truths no answer can satisfy (BFCL fails every model on them too):
# live_multiple_862-181-3 expects "journey_start_time" on Trains_1_FindTrains, whose schema has no
# such parameter; live_multiple_964-207-0 expects "question" on transfer_to_human_agent, whose
# schema has only the required "statement".
UNSATISFIABLE = {"live_multiple_862-181-3", "live_multiple_964-207-0"}

needs_data = pytest.mark.skipif(not BFCL_DIR.is_dir(), reason=f"no BFCL data at {BFCL_DIR}")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


@cache
def _entries(category: str) -> list[tuple[dict, list[dict]]]:
    """(question entry, ground truth) pairs of one category, in file order."""
    questions = _read_jsonl(BFCL_DIR / f"BFCL_v4_{category}.json")
    answers = _read_jsonl(BFCL_DIR / "possible_answer" / f"BFCL_v4_{category}.json")
    truth = {answer["id"]: answer["ground_truth"] for answer in answers}
    return [(question, truth[question["id"]]) for question in questions]


def _is_blank(value: Any) -> bool:
    return isinstance(value, str) and value == ""


def _concrete(value: Any) -> Any:
    """A value the model could send for an acceptable value: answer dicts take first choices."""
    if isinstance(value, dict) and all(isinstance(v, list) for v in value.values()):
        return {k: _concrete(vs[0]) for k, vs in value.items() if vs and not _is_blank(vs[0])}
    if isinstance(value, list):
        return [_concrete(v) for v in value]
    return value


def _perfect_calls(functions: list[dict], ground_truth: list[dict]) -> list[dict]:
    """The ground truth's own first choices as calls.

    Parameters whose first acceptable value is "" are left out, except required ones, which
    take the first real value (or "" where that is all there is, live_multiple_507-149-4).
    Omittable parameters the function's schema lacks (parallel_multiple_12, _26) are left out:
    sending them would rightly fail. An empty acceptable list (live_simple_106-63-0) means [].
    """
    docs = {doc["name"]: doc for doc in functions}
    calls = []
    for item in ground_truth:
        ((name, params),) = item.items()
        schema = docs[name]["parameters"]
        properties, required = schema.get("properties", {}), schema.get("required", [])
        arguments: dict[str, Any] = {}
        for param, acceptable in params.items():
            real = [v for v in acceptable if not _is_blank(v)]
            if not acceptable:
                arguments[param] = []
            elif param not in properties and len(real) < len(acceptable):
                continue
            elif not _is_blank(acceptable[0]):
                arguments[param] = _concrete(acceptable[0])
            elif param in required:
                arguments[param] = _concrete(real[0]) if real else ""
        calls.append(_call(name, **arguments))
    return calls


def _damaged(calls: list[dict], functions: list[dict]) -> list[dict]:
    """The perfect calls with the first call broken: a required parameter dropped, else a
    number, string or flag changed to something no ground truth lists, else a bogus parameter."""
    first = calls[0]
    arguments = dict(first["arguments"])
    doc = next(doc for doc in functions if doc["name"] == first["name"])
    required = [p for p in doc["parameters"].get("required", []) if p in arguments]
    if required:
        del arguments[required[0]]
    else:
        for param, value in arguments.items():
            if isinstance(value, bool):
                arguments[param] = "not a flag"
            elif isinstance(value, int | float):
                arguments[param] = value + 987654321
            elif isinstance(value, str):
                arguments[param] = "zz definitely not the answer"
            else:
                continue
            break
        else:
            arguments["zz_not_a_parameter"] = 1
    return [_call(first["name"], **arguments), *calls[1:]]


@needs_data
@pytest.mark.parametrize("category", SANITY_CATEGORIES)
def test_first_entries_accept_their_own_ground_truth(category: str) -> None:
    entries = _entries(category)[:FIRST_N]
    assert len(entries) == FIRST_N
    for question, truth in entries:
        calls = _perfect_calls(question["function"], truth)
        verdict = check_entry(category, calls, question["function"], truth)
        assert verdict.correct, (question["id"], verdict.reason, calls)


@needs_data
@pytest.mark.parametrize("category", SANITY_CATEGORIES)
def test_first_entries_reject_a_damaged_answer(category: str) -> None:
    for question, truth in _entries(category)[:FIRST_N]:
        calls = _damaged(_perfect_calls(question["function"], truth), question["function"])
        verdict = check_entry(category, calls, question["function"], truth)
        assert not verdict.correct, (question["id"], calls)
        assert verdict.reason


@needs_data
@pytest.mark.parametrize("category", DATA_CATEGORIES)
def test_every_satisfiable_entry_accepts_its_own_ground_truth(category: str) -> None:
    wrong = {}
    for question, truth in _entries(category):
        calls = _perfect_calls(question["function"], truth)
        verdict = check_entry(category, calls, question["function"], truth)
        if not verdict.correct:
            wrong[question["id"]] = verdict.reason
    assert wrong.keys() == {i for i in UNSATISFIABLE if i.startswith(category + "_")}, wrong


@needs_data
def test_category_of_every_real_id() -> None:
    for path in BFCL_DIR.glob("BFCL_v4_*.json"):
        category = path.stem.removeprefix("BFCL_v4_")
        for entry in _read_jsonl(path):
            assert category_of(entry["id"]) == category, entry["id"]


@needs_data
def test_real_parallel_178_shows_greedy_matching() -> None:
    # Its first expected call accepts Microsoft *or* Apple on 2022-01-01, so with Apple's
    # January call first that expected call takes it and Microsoft's January call is left over.
    question, truth = next(e for e in _entries("parallel") if e[0]["id"] == "parallel_178")
    calls = _perfect_calls(question["function"], truth)
    assert check_entry("parallel", calls, question["function"], truth).correct
    assert not check_entry("parallel", calls[::-1], question["function"], truth).correct
