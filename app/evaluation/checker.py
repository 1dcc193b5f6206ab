"""Decide whether one answer of the model to one BFCL entry is correct (BFCL's "AST" checks).

The rules are those of BFCL's AST checker as paraphrased in ``/work/shared/bfcl/SOURCE.md``
(implemented from that description, no BFCL code), so that our numbers can be set beside the
leaderboard's. The model's answer arrives already decoded in our JSON call format, a list of
``{"name": str, "arguments": dict}``; an empty list means it answered in text. BFCL's own
decoding step (Python call syntax) therefore does not apply, but its "wrong output format"
failure does: a call that is not such an object fails every call-checked category.

How an entry is checked depends on its category (:func:`checker_for`):

* simple: exactly one call, checked against the one expected call.
* multiple: as many calls as expected (always one in BFCL), the first checked against the first.
* parallel: as many calls as expected, matched order-free but *greedily*: each expected call, in
  ground-truth order, takes the first still-unmatched output call that passes against it. This
  can reject a set of calls that an optimal matching would accept; BFCL does the same.
* irrelevance: correct iff the model made no call. relevance: correct iff it made at least one
  (arguments are not checked).

One call passes against an expected call when: its name is the expected name (or that name with
"." written as "_", which is how names reach models through OpenAI-style tool APIs); every
parameter the schema marks required is present; every parameter it sends is in the schema *and*
in the ground truth (so an optional parameter the ground truth leaves out fails even when sent
with its default); every ground-truth parameter it leaves out lists ``""`` ("may be omitted");
and every value passes the type check and then matches one acceptable value.

Type check: the declared type names a set of JSON kinds; ``bool`` is never an integer, an
integer is accepted for ``float``, ``tuple`` is a JSON array. Arrays also check their elements'
kinds one level deep against ``items``. The "variable" escape hatch: when the ground truth
holds values of another kind than declared (a variable name string for an integer, ``True`` for
a string), an output of that kind passes the type check and is then compared exactly.

Value check: strings are normalised (spaces and ``, . / - _ * ^`` deleted, lower-cased, ``'``
turned into ``"``) before comparing, so "April 1, 2024" equals "april 1 2024"; lists must equal
an acceptable list element by element in the same order; dict values are dicts of per-key
acceptable-value lists, checked one level deep (keys may be left out only where ``""`` is
allowed); a list of dicts is compared element by element; numbers, booleans and null compare by
equality (``5 == 5.0``, but ``True`` is not ``1``).

Choices where SOURCE.md is silent (or where BFCL's behaviour is an accident):

* ``any`` accepts every JSON value in the type check (BFCL maps it to ``str`` only because it
  hands ``any`` to APIs as a string). The value check then decides, so in practice the model
  still has to produce the expected string; a non-string only passes if the ground truth lists
  an equal one. Unknown type names are treated like ``any``.
* ``null`` output passes exactly when ``None`` is among the acceptable values, whatever the
  declared type (live files list ``null`` for params defaulting to null). ``None`` and ``""``
  are ignored when deciding which kind the ground truth "really" has for the escape hatch.
* String normalisation applies at any depth (strings inside nested lists and inside dict values
  too); BFCL normalises nested strings only in some places. Bool and number are kept apart at
  every depth, where Python equality alone would say ``True == 1``.
* Element kinds of an array may also be those found in the acceptable lists (the escape hatch
  one level down), as several ground truths hold e.g. strings in an ``integer`` array.
* The escape hatch uses every non-empty acceptable value's kind, not only the first one's.
* An empty list of acceptable values for an array parameter is read as ``[[]]`` (the empty
  array); two live_simple entries need it, and taken literally they could never be passed.
* Malformed ground truth (missing for a call-checked category, or naming a function the entry
  does not define) raises ``ValueError``: that is a broken data set, not a wrong answer.

simple_java / simple_javascript (best effort, not targets): BFCL's model writes Java/JS
literals as strings which BFCL converts to Python values; in these data files the ground truth
is already plain JSON (``true``, ``50``, lists, dicts) with variable names as strings. So Java/JS
type names are mapped to the same JSON kinds (String/char -> string, int/long/short/byte ->
integer, double/float -> float, Array/ArrayList/List -> array, HashMap/Map -> dict,
Object/any -> any) and, for a non-string declared type, a string output holding a simple
literal is read as that literal first (``"true"``, ``"42L"``, ``"0.5f"``, a JSON array or
object); a quoted string literal (``"\\"abc\\""``) is unquoted. Not handled: ``new int[]{...}``,
``Arrays.asList(...)``, char literals, JS object literals with unquoted keys, and any other
constructor or expression syntax; those outputs are compared as plain strings and usually fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

CheckerKind = Literal["simple", "multiple", "parallel", "irrelevance", "relevance"]
Language = Literal["python", "java", "javascript"]

KNOWN_CATEGORIES: tuple[str, ...] = (
    "simple",  # the name of simple_python before BFCL v4
    "simple_python",
    "simple_java",
    "simple_javascript",
    "multiple",
    "parallel",
    "parallel_multiple",
    "irrelevance",
    "relevance",  # BFCL only has live_relevance; accepted for home-made sets
    "live_simple",
    "live_multiple",
    "live_parallel",
    "live_parallel_multiple",
    "live_irrelevance",
    "live_relevance",
)

# Longest first, so that "parallel_multiple" is tried before "multiple".
_CATEGORIES_LONGEST_FIRST = sorted(KNOWN_CATEGORIES, key=len, reverse=True)
# "<stem>_<n>" or "<stem>_<n>-<m>-<k>" (live ids carry the source conversation's indices).
_ENTRY_ID = re.compile(r"^(?P<stem>.+)_\d+(?:-\d+)*$")


def category_of(entry_id: str) -> str:
    """The category of a BFCL entry, read from its id.

    The id is ``<category>_<n>`` or, for home-made sets, ``<anything>_<category>_<n>``; ``<n>``
    may be dash-separated numbers as in live ids. The longest known category that ends the
    part before the number wins, so ``live_irrelevance_3-0-0`` is not "irrelevance".
    """
    match = _ENTRY_ID.match(entry_id)
    if match:
        stem = match["stem"]
        for category in _CATEGORIES_LONGEST_FIRST:
            if stem == category or stem.endswith("_" + category):
                return category
    raise ValueError(
        f"cannot tell the BFCL category of entry id {entry_id!r}: expected "
        f"'<category>_<n>' or '<prefix>_<category>_<n>' with category one of "
        f"{', '.join(KNOWN_CATEGORIES)}"
    )


def checker_for(category: str) -> CheckerKind:
    """Which check a category gets, by BFCL's substring routing.

    "irrelevance" is tested before "relevance" because it contains it, and "parallel" before
    "multiple" because parallel_multiple is checked order-free like parallel.
    """
    if category not in KNOWN_CATEGORIES:
        raise ValueError(
            f"unknown BFCL category {category!r}; known: {', '.join(KNOWN_CATEGORIES)}"
        )
    if "irrelevance" in category:
        return "irrelevance"
    if "relevance" in category:
        return "relevance"
    if "parallel" in category:
        return "parallel"
    if "multiple" in category:
        return "multiple"
    return "simple"


@dataclass(frozen=True)
class Verdict:
    """Whether an answer is correct and, if not, a short human-readable reason why."""

    correct: bool
    reason: str = ""


_CORRECT = Verdict(True, "")


def check_entry(
    category: str,
    calls: list[dict],
    functions: list[dict],
    ground_truth: list[dict] | None,
) -> Verdict:
    """Judge the model's calls for one entry.

    Args:
        category: the entry's BFCL category (see :func:`category_of`).
        calls: the model's output as ``[{"name": ..., "arguments": {...}}, ...]``; ``[]`` when
            it answered in text.
        functions: the entry's BFCL ``function`` list (the schemas the model was offered).
        ground_truth: the possible_answer entry's ``ground_truth`` list; ``None`` for
            irrelevance and relevance, which have no answers.

    Raises:
        ValueError: unknown category, or ground truth missing / malformed for a category that
            checks calls.
    """
    kind = checker_for(category)
    if kind == "irrelevance":
        return _check_irrelevance(calls)
    if kind == "relevance":
        return _check_relevance(calls)
    if ground_truth is None:
        raise ValueError(f"category {category!r} needs a ground truth, got None")
    expected = [_expected_call(item, functions) for item in ground_truth]
    shape_error = _output_shape_error(calls)
    if shape_error:
        return Verdict(False, f"wrong output format: {shape_error}")
    language = _language_of(category)
    if kind == "parallel":
        return _check_parallel(calls, expected, language)
    if len(expected) != 1:
        raise ValueError(f"a {kind} entry expects one call, its ground truth has {len(expected)}")
    if len(calls) != 1:
        return Verdict(False, f"expected 1 call, got {len(calls)}")
    reason = _check_call(calls[0], expected[0], language)
    return Verdict(False, reason) if reason else _CORRECT


# --- irrelevance / relevance -------------------------------------------------------------------


def _is_real_call(call: object) -> bool:
    """A call counts for (ir)relevance when it names a function; ``{}`` is not a call (BFCL)."""
    return isinstance(call, Mapping) and isinstance(call.get("name"), str) and bool(call["name"])


def _check_irrelevance(calls: Sequence[object]) -> Verdict:
    """None of the offered functions fits: any call is wrong, a text answer is right."""
    made = [call["name"] for call in calls if _is_real_call(call)]
    if made:
        return Verdict(False, f"called {', '.join(map(repr, made))} though no function fits")
    return _CORRECT


def _check_relevance(calls: Sequence[object]) -> Verdict:
    """A function fits: at least one call is needed; its arguments are not checked."""
    if any(_is_real_call(call) for call in calls):
        return _CORRECT
    return Verdict(False, "answered without a call though a function fits")


# --- ground truth and output shape -------------------------------------------------------------


@dataclass(frozen=True)
class _Expected:
    """One expected call: function name, acceptable values per parameter, and its schema."""

    name: str
    params: Mapping[str, list[Any]]
    doc: Mapping[str, Any]


def _expected_call(item: object, functions: Sequence[Mapping[str, Any]]) -> _Expected:
    """Unpack one ground-truth ``{name: {param: [acceptable...]}}`` and find its schema."""
    if not (isinstance(item, Mapping) and len(item) == 1):
        raise ValueError(f"ground-truth call must be a one-key dict, got {item!r}")
    ((name, params),) = item.items()
    if not isinstance(params, Mapping) or not all(isinstance(v, list) for v in params.values()):
        raise ValueError(f"ground truth for {name!r} must map each parameter to a list")
    for doc in functions:
        if doc.get("name") == name:
            return _Expected(name, _repair_empty_answers(params, doc), doc)
    raise ValueError(f"ground truth names {name!r}, which is not among the entry's functions")


def _repair_empty_answers(
    params: Mapping[str, list[Any]], doc: Mapping[str, Any]
) -> Mapping[str, list[Any]]:
    """Read an empty acceptable-value list of an array parameter as "the empty array".

    live_simple_106-63-0 and 112-68-0 give required array parameters ``[]`` (no acceptable
    value at all) where the question has nothing for them: the intended answer is clearly
    ``[[]]``. Taken literally, no output could ever pass (BFCL fails every model there).
    """
    properties = (doc.get("parameters") or {}).get("properties") or {}
    repaired = dict(params)
    for param, acceptable in params.items():
        schema = properties.get(param)
        is_array = isinstance(schema, Mapping) and "array" in (_declared_kinds(schema) or ())
        if not acceptable and is_array:
            repaired[param] = [[]]
    return repaired


def _output_shape_error(calls: object) -> str:
    """Why the output is not a list of ``{"name": str, "arguments": dict}``; "" if it is."""
    if not isinstance(calls, list):
        return f"calls must be a list, got {type(calls).__name__}"
    for index, call in enumerate(calls):
        if not isinstance(call, Mapping):
            return f"call {index + 1} is not an object"
        if not isinstance(call.get("name"), str):
            return f"call {index + 1} has no function name"
        if not isinstance(call.get("arguments"), Mapping):
            return f"call {index + 1} has no arguments object"
    return ""


def _language_of(category: str) -> Language:
    """Java and JavaScript entries get literal parsing; everything else is Python-flavoured."""
    if category == "simple_java":
        return "java"
    if category == "simple_javascript":
        return "javascript"
    return "python"


# --- parallel ----------------------------------------------------------------------------------


def _check_parallel(
    calls: Sequence[Mapping[str, Any]], expected: Sequence[_Expected], language: Language
) -> Verdict:
    """Same number of calls, matched greedily: each expected call takes the first free fit."""
    if len(calls) != len(expected):
        return Verdict(False, f"expected {len(expected)} calls, got {len(calls)}")
    free = list(range(len(calls)))
    for number, want in enumerate(expected, start=1):
        first_reason = ""
        for index in free:
            reason = _check_call(calls[index], want, language)
            if not reason:
                free.remove(index)
                break
            if not first_reason and _name_matches(calls[index]["name"], want.name):
                first_reason = reason
        else:
            detail = f": {first_reason}" if first_reason else ""
            return Verdict(False, f"no call matches expected call {number} {want.name!r}{detail}")
    return _CORRECT


# --- one call ----------------------------------------------------------------------------------


def _name_matches(output_name: str, expected_name: str) -> bool:
    """Exact name, or the name with "." written "_" as OpenAI-style tool APIs require."""
    return output_name in (expected_name, expected_name.replace(".", "_"))


def _is_omittable(acceptable: Sequence[Any]) -> bool:
    """``""`` among the acceptable values means the parameter may be left out."""
    return any(isinstance(value, str) and value == "" for value in acceptable)


def _check_call(call: Mapping[str, Any], want: _Expected, language: Language) -> str:
    """Why ``call`` does not pass as ``want``; "" when it does."""
    if not _name_matches(call["name"], want.name):
        return f"called {call['name']!r} instead of {want.name!r}"
    schema = want.doc.get("parameters") or {}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    arguments: Mapping[str, Any] = call["arguments"]
    for param in schema.get("required") or []:
        if param not in arguments:
            return f"missing required parameter {param!r}"
    for param, value in arguments.items():
        if param not in properties:
            return f"unexpected parameter {param!r} (not in the function's schema)"
        if param not in want.params:
            return f"unexpected parameter {param!r} (the expected call does not use it)"
        reason = _check_param(value, properties[param], want.params[param], language)
        if reason:
            return f"parameter {param!r}: {reason}"
    for param, acceptable in want.params.items():
        if param not in arguments and not _is_omittable(acceptable):
            return f"missing parameter {param!r}"
    return ""


# --- one parameter: type check -----------------------------------------------------------------

# Declared type name -> the JSON kinds it accepts. Names not listed (and "any") accept anything.
_TYPE_KINDS: dict[str, frozenset[str]] = {}
for _names, _kinds in (
    (("string", "String", "char", "Character"), {"string"}),
    (
        ("integer", "int", "Integer", "long", "Long", "short", "Short", "byte", "Byte", "BigInt"),
        {"integer"},
    ),
    (("float", "Float", "double", "Double", "number", "Number"), {"float", "integer"}),
    (("boolean", "Boolean"), {"boolean"}),
    (("array", "tuple", "Array", "ArrayList", "List", "LinkedList", "Set", "HashSet"), {"array"}),
    (("dict", "object", "HashMap", "Map", "TreeMap", "LinkedHashMap"), {"dict"}),
):
    for _name in _names:
        _TYPE_KINDS[_name] = frozenset(_kinds)


def _kind(value: object) -> str:
    """The JSON kind of a value, keeping booleans apart from integers."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "dict"
    return type(value).__name__


def _declared_kinds(schema: Mapping[str, Any]) -> frozenset[str] | None:
    """The kinds a schema's type accepts; ``None`` for ``any`` or an unknown type name."""
    type_name = schema.get("type")
    return _TYPE_KINDS.get(type_name) if isinstance(type_name, str) else None


def _answer_kinds(acceptable: Sequence[Any]) -> set[str]:
    """Kinds of the real acceptable values ("" = may be omitted, and null, do not count)."""
    return {_kind(v) for v in acceptable if v is not None and not (isinstance(v, str) and v == "")}


def _check_param(
    value: Any, schema: Mapping[str, Any], acceptable: list[Any], language: Language
) -> str:
    """Why ``value`` fails the type or value check for one parameter; "" when it passes."""
    if language != "python":
        value = _from_literal(value, schema)
    if value is None:
        return "" if any(v is None for v in acceptable) else "null is not an acceptable value"
    if isinstance(value, tuple):
        value = list(value)
    declared = _declared_kinds(schema)
    kind = _kind(value)
    if declared is not None and kind not in declared:
        if kind in _answer_kinds(acceptable):
            # The "variable" escape hatch: the answer is of another kind than declared.
            if any(_exactly_equal(value, v) for v in acceptable):
                return ""
            return f"{_show(value)} is not among the acceptable values {_show(acceptable)}"
        return f"expected {schema.get('type')}, got {kind} {_show(value)}"
    if kind == "array":
        reason = _check_items(value, schema, acceptable)
        if reason:
            return reason
    if any(_matches(value, v, answer_dicts=True) for v in acceptable):
        return ""
    return f"{_show(value)} is not among the acceptable values {_show(acceptable)}"


def _check_items(value: list[Any], schema: Mapping[str, Any], acceptable: list[Any]) -> str:
    """One-level element kind check against ``items``, with the escape hatch one level down."""
    items = schema.get("items")
    declared = _declared_kinds(items) if isinstance(items, Mapping) else None
    if declared is None:
        return ""
    allowed = set(declared)
    for answer in acceptable:
        if isinstance(answer, list):
            allowed |= _answer_kinds(answer)
    for index, element in enumerate(value):
        if _kind(element) not in allowed:
            return f"element {index} should be {items['type']}, got {_kind(element)}"
    return ""


# --- one parameter: value check ----------------------------------------------------------------

_NORMALISE_DROP = re.compile(r"[ ,./\-_*^]")


def normalise_string(text: str) -> str:
    """BFCL's string normalisation: drop spaces and ``, . / - _ * ^``, lower-case, ' -> "."""
    return _NORMALISE_DROP.sub("", text).lower().replace("'", '"')


def _is_answer_dict(value: Mapping[str, Any]) -> bool:
    """A ground-truth dict whose values are lists of acceptable values (not a literal dict)."""
    return all(isinstance(v, list) for v in value.values())


def _matches(output: Any, answer: Any, *, answer_dicts: bool) -> bool:
    """Whether an output value equals one acceptable value under BFCL's value rules.

    ``answer_dicts`` says whether a ground-truth dict here is a dict of acceptable-value lists
    (true for the parameter itself and the elements of a list of dicts) or a literal value
    (inside such a dict: dicts are checked one level deep only).
    """
    if isinstance(output, str) and isinstance(answer, str):
        return normalise_string(output) == normalise_string(answer)
    if isinstance(output, list | tuple) and isinstance(answer, list | tuple):
        return len(output) == len(answer) and all(
            _matches(o, a, answer_dicts=answer_dicts) for o, a in zip(output, answer, strict=True)
        )
    if isinstance(output, Mapping) and isinstance(answer, Mapping):
        if answer_dicts and _is_answer_dict(answer):
            return _matches_answer_dict(output, answer)
        return output.keys() == answer.keys() and all(
            _matches(output[key], answer[key], answer_dicts=False) for key in output
        )
    return _exactly_equal(output, answer)


def _matches_answer_dict(output: Mapping[str, Any], answer: Mapping[str, list[Any]]) -> bool:
    """Each output key is expected and has an acceptable value; missing keys must allow ""."""
    for key, value in output.items():
        if key not in answer:
            return False
        if not any(_matches(value, a, answer_dicts=False) for a in answer[key]):
            return False
    return all(key in output or _is_omittable(values) for key, values in answer.items())


def _exactly_equal(left: Any, right: Any) -> bool:
    """Python equality that never lets a boolean equal a number (``True == 1`` in Python)."""
    left_kind, right_kind = _kind(left), _kind(right)
    numeric = {"integer", "float"}
    if left_kind != right_kind and not (left_kind in numeric and right_kind in numeric):
        return False
    if left_kind == "array":
        return len(left) == len(right) and all(
            _exactly_equal(a, b) for a, b in zip(left, right, strict=True)
        )
    if left_kind == "dict":
        return left.keys() == right.keys() and all(_exactly_equal(left[k], right[k]) for k in left)
    return bool(left == right)


def _show(value: Any, limit: int = 80) -> str:
    """A short printable form of a value for failure reasons."""
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- Java / JavaScript literals (best effort) --------------------------------------------------

_INTEGER_LITERAL = re.compile(r"^[+-]?\d+[lL]?$")
_FLOAT_LITERAL = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?[fFdD]?$")


def _from_literal(value: Any, schema: Mapping[str, Any]) -> Any:
    """Read a Java/JS literal written as a string into the JSON value it stands for.

    Only for string outputs: a quoted string literal is unquoted for string types; for other
    declared types a boolean, number, or JSON array/object literal is parsed. Anything else
    (variable names, constructor calls) is returned unchanged.
    """
    if not isinstance(value, str):
        return value
    declared = _declared_kinds(schema)
    text = value.strip()
    if declared is None:
        return value
    if "string" in declared:
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
            return text[1:-1]
        return value
    if "boolean" in declared and text in ("true", "false"):
        return text == "true"
    if "integer" in declared and _INTEGER_LITERAL.match(text):
        return int(text.rstrip("lL"))
    if "float" in declared and _FLOAT_LITERAL.match(text):
        return float(text.rstrip("fFdD"))
    if declared & {"array", "dict"} and text.startswith(("[", "{")):
        try:
            parsed = json.loads(text)
        except ValueError:
            return value
        return parsed if _kind(parsed) in declared else value
    return value
