"""A tool whose argument schema arrives as JSON, and whose function is a call elsewhere.

Our own tools derive their JSON Schema from a pydantic model. A tool offered by another
program (a Model Context Protocol server) comes with a JSON Schema and nothing else, so this
kind of :class:`~connectors.tool.Tool` keeps that schema, shows it to the model as it came
(less the titles and defaults our own tools also leave out), and validates arguments against
it with ``jsonschema``. Everything else (the registry, approvals, the audit log) treats it
exactly like a built-in tool.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import SchemaError
from jsonschema.validators import validator_for
from pydantic import RootModel

from connectors.errors import InvalidArgumentsError
from connectors.tool import Tool, _for_model


class JsonArguments(RootModel[dict[str, Any]]):
    """Arguments already checked against a JSON Schema, kept as the object they are.

    ``model_dump()`` gives the object back, which is what the action queue stores.
    """


@dataclass(frozen=True)
class SchemaTool(Tool):
    """A :class:`Tool` described by a JSON Schema instead of a pydantic model.

    Attributes:
        schema: the JSON Schema of the arguments (an object schema); give
            ``arguments=JsonArguments``, which is what :meth:`validate` returns.
    """

    schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})

    def __post_init__(self) -> None:
        checker = validator_for(self.schema)
        try:
            checker.check_schema(self.schema)
        except SchemaError as exc:
            raise ValueError(
                f"{self.name}: its argument schema is not valid ({exc.message})"
            ) from None
        if self.schema.get("type", "object") != "object":
            raise ValueError(f"{self.name}: its argument schema must describe an object")

    def parameters(self) -> dict[str, Any]:
        """The schema as the model sees it: titles, defaults and ``$schema`` left out."""
        shown = {k: v for k, v in self.schema.items() if k != "$schema"}
        shown.setdefault("type", "object")
        shown.setdefault("properties", {})
        return _for_model(shown)

    def validate(self, raw: Mapping[str, Any] | str | None) -> JsonArguments:
        """Check ``raw`` against the schema.

        Raises:
            InvalidArgumentsError: one ``(field, message)`` per problem found.
        """
        value = _object_of(self.name, raw)
        checker = validator_for(self.schema)(self.schema)
        problems = [
            (".".join(str(p) for p in error.absolute_path), error.message)
            for error in sorted(checker.iter_errors(value), key=lambda e: list(e.absolute_path))
        ]
        if problems:
            raise InvalidArgumentsError(self.name, problems)
        return JsonArguments(value)


def _object_of(name: str, raw: Mapping[str, Any] | str | None) -> dict[str, Any]:
    """The arguments as a dict, whether they came as JSON text, a mapping or nothing."""
    if raw is None:
        return {}
    if isinstance(raw, str):
        try:
            raw = json.loads(raw) if raw.strip() else {}
        except json.JSONDecodeError as exc:
            raise InvalidArgumentsError(name, [("", f"not valid JSON ({exc})")]) from exc
    if not isinstance(raw, Mapping):
        raise InvalidArgumentsError(name, [("", "expected a JSON object")])
    return dict(raw)
