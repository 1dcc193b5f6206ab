"""Tool definitions: parsing the OpenAI function format and normalising its JSON Schemas.

Tools arrive in several dialects: OpenAI's ``{"type": "function", "function": {...}}``, a bare
``{"name", "description", "parameters"}`` object, and BFCL's files, whose schemas use Python and
Java type names (``dict``, ``float``, ``tuple``, ``any``, ``String``, ``HashMap``...). Everything
downstream (the prompt the model sees, the grammar, validation) works on one strict form:
standard JSON Schema type names, ``additionalProperties: false`` on every object that lists its
properties, and ``required`` limited to properties that exist.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backends.errors import GrammarError

# Type names seen in BFCL and other OpenAI-style tool files, folded to JSON Schema's.
_TYPE_ALIASES: dict[str, str | None] = {
    "string": "string",
    "str": "string",
    "char": "string",
    "character": "string",
    "text": "string",
    "integer": "integer",
    "int": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "number": "number",
    "float": "number",
    "double": "number",
    "decimal": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "tuple": "array",
    "arraylist": "array",
    "set": "array",
    "object": "object",
    "dict": "object",
    "hashmap": "object",
    "map": "object",
    "null": "null",
    "any": None,
}

_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,127}$")

# Keys that carry meaning for validation; anything else (BFCL's "optional", vendor x-keys) is
# dropped from the schema the grammar sees, so a stray keyword cannot make it uncompilable.
_KEEP_KEYS = {
    "type",
    "description",
    "enum",
    "const",
    "properties",
    "required",
    "items",
    "prefixItems",
    "additionalProperties",
    "minProperties",
    "maxProperties",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "anyOf",
    "oneOf",
    "allOf",
    "default",
    "title",
    "$defs",
    "definitions",
    "$ref",
    "examples",
}


@dataclass(frozen=True)
class ToolSpec:
    """One tool as the model and the grammar see it.

    Attributes:
        name: the function name the model must write.
        description: what the tool does, shown to the model.
        parameters: the normalised JSON Schema of the arguments object.
    """

    name: str
    description: str
    parameters: dict[str, Any] = field(default_factory=dict)

    def to_openai(self) -> dict[str, Any]:
        """The tool in OpenAI's function format, which chat templates expect."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


def normalize_schema(schema: Any, *, where: str = "parameters") -> dict[str, Any]:
    """Return a strict JSON Schema equivalent to ``schema``.

    Args:
        schema: a JSON Schema, possibly with BFCL type names.
        where: a path used in error messages.

    Raises:
        GrammarError: the schema is not an object or uses an unknown type name.
    """
    if schema is True or schema is None:
        return {}
    if not isinstance(schema, Mapping):
        raise GrammarError(f"{where}: a schema must be a JSON object, got {schema!r}")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _KEEP_KEYS:
            out[key] = copy.deepcopy(value)

    if "type" in out:
        out.update(_normalize_type(out.pop("type"), where))

    if "properties" in out:
        props = out["properties"] or {}
        if not isinstance(props, Mapping):
            raise GrammarError(f"{where}.properties must be an object")
        out["properties"] = {
            str(name): normalize_schema(sub, where=f"{where}.{name}") for name, sub in props.items()
        }
        out.setdefault("type", "object")
    if out.get("type") == "object" or "properties" in out:
        props = out.setdefault("properties", {})
        required = out.get("required")
        if required is not None:
            out["required"] = [r for r in dict.fromkeys(required) if r in props]
            if not out["required"]:
                del out["required"]
        if props and "additionalProperties" not in out:
            out["additionalProperties"] = False
        elif isinstance(out.get("additionalProperties"), Mapping):
            out["additionalProperties"] = normalize_schema(
                out["additionalProperties"], where=f"{where}.*"
            )
    if "items" in out:
        items = out["items"]
        if isinstance(items, list):  # draft-4 tuple form
            out["prefixItems"] = [
                normalize_schema(s, where=f"{where}[{i}]") for i, s in enumerate(items)
            ]
            del out["items"]
        else:
            out["items"] = normalize_schema(items, where=f"{where}[]")
    if "prefixItems" in out and isinstance(out["prefixItems"], list):
        out["prefixItems"] = [
            normalize_schema(s, where=f"{where}[{i}]") for i, s in enumerate(out["prefixItems"])
        ]
    for key in ("anyOf", "oneOf", "allOf"):
        if key in out:
            out[key] = [normalize_schema(s, where=f"{where}.{key}") for s in out[key]]
    for key in ("$defs", "definitions"):
        if key in out:
            out[key] = {k: normalize_schema(s, where=f"{where}.{k}") for k, s in out[key].items()}
    if "enum" in out:
        if out.get("type") == "array":
            # BFCL puts the items' enum on the array itself; it means "each item is one of".
            items = out.setdefault("items", {"type": "string"})
            items.setdefault("enum", _coerce_enum(out.pop("enum"), items.get("type"), where))
        else:
            out["enum"] = _coerce_enum(out["enum"], out.get("type"), where)
    if out.get("default", 0) is None:
        del out["default"]  # BFCL writes "default": null for optional values; it is no hint
    return out


def _normalize_type(value: Any, where: str) -> dict[str, Any]:
    """Fold a type name (or a list of them) into JSON Schema's; ``any`` drops the constraint."""
    names = value if isinstance(value, list) else [value]
    folded: list[str] = []
    for name in names:
        if not isinstance(name, str):
            raise GrammarError(f"{where}: type must be a string, got {name!r}")
        key = name.strip().lower()
        if not key:
            return {}  # BFCL writes "type": "" for "anything"
        if key not in _TYPE_ALIASES:
            raise GrammarError(f"{where}: unknown type {name!r}")
        mapped = _TYPE_ALIASES[key]
        if mapped is None:
            return {}
        if mapped not in folded:
            folded.append(mapped)
    if not folded:
        return {}
    return {"type": folded[0] if len(folded) == 1 else folded}


def _coerce_enum(values: Any, type_: Any, where: str) -> list[Any]:
    """Make enum members agree with the declared type (BFCL lists numbers as strings at times)."""
    if not isinstance(values, list) or not values:
        raise GrammarError(f"{where}: enum must be a non-empty list")
    if type_ == "string":
        return [v if isinstance(v, str) else json.dumps(v) for v in values]
    if type_ in ("integer", "number") and all(isinstance(v, str) for v in values):
        try:  # BFCL lists integer choices as strings ("1" ... "9")
            numbers = [json.loads(v) for v in values]
        except json.JSONDecodeError:
            return values
        if all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
            return numbers
    return values


def parse_tools(tools: Iterable[Any]) -> list[ToolSpec]:
    """Read tool definitions in any supported dialect into normalised :class:`ToolSpec` objects.

    Raises:
        GrammarError: a tool has no usable name, names repeat, or a schema cannot be read.
    """
    specs: list[ToolSpec] = []
    seen: set[str] = set()
    for index, raw in enumerate(tools):
        if not isinstance(raw, Mapping):
            raise GrammarError(f"tool #{index + 1} is not a JSON object")
        fn = raw.get("function") if raw.get("type") == "function" else raw
        if not isinstance(fn, Mapping):
            raise GrammarError(f"tool #{index + 1} has no 'function' object")
        name = fn.get("name")
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise GrammarError(f"tool #{index + 1} has an invalid name: {name!r}")
        if name in seen:
            raise GrammarError(f"two tools are named {name!r}")
        seen.add(name)
        params = fn.get("parameters")
        if params is None:
            params = {"type": "object", "properties": {}}
        schema = normalize_schema(params, where=f"{name}.parameters")
        if schema.get("type") not in (None, "object"):
            raise GrammarError(f"{name}: parameters must be an object schema")
        schema.setdefault("type", "object")
        schema.setdefault("properties", {})
        schema.setdefault("additionalProperties", False)
        specs.append(
            ToolSpec(name=name, description=str(fn.get("description") or ""), parameters=schema)
        )
    return specs
