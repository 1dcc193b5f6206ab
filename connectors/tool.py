"""What a tool is: a typed function the model may call, with its effect declared.

A tool's arguments are a pydantic model; the JSON Schema the model is constrained by is
generated from it (attribute docstrings become descriptions), never written by hand beside it.
A tool that changes data says so (:attr:`Effect.CHANGES`), which is what routes it through
approval, and returns with its result the call that undoes it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, ValidationError

from connectors.errors import InvalidArgumentsError, StoreError

if TYPE_CHECKING:
    from connectors.store.database import Store


class Effect(StrEnum):
    """Whether running a tool can change the user's data."""

    READS = "reads"
    CHANGES = "changes"


class Arguments(BaseModel):
    """Base of every tool's argument model: unknown fields are errors, docstrings describe."""

    model_config = ConfigDict(
        extra="forbid", use_attribute_docstrings=True, str_strip_whitespace=True
    )


@dataclass(frozen=True)
class Undo:
    """The call that reverts an action: a tool name and its arguments."""

    tool: str
    arguments: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "arguments": self.arguments}


@dataclass(frozen=True)
class ToolResult:
    """What a tool returns.

    Attributes:
        data: JSON-serialisable result, sent back to the model and shown to the user.
        undo: for a change, the call that reverts it (``None`` when nothing can be undone).
        summary: one line for the user ("Created event 'Dentist' on Fri 27 Nov 12:30").
    """

    data: dict[str, Any]
    undo: Undo | None = None
    summary: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"result": self.data}
        if self.summary:
            out["summary"] = self.summary
        if self.undo is not None:
            out["undo"] = self.undo.to_dict()
        return out


@dataclass(frozen=True)
class ToolContext:
    """What a tool may use besides its arguments, given by the app.

    Attributes:
        open_store: returns the private encrypted database, opened on first use (so tools that
            need none never touch the keyring); ``None`` when there is no store.
        granted_folders: the only folders the file tools may touch.
        timezone: the user's time zone, for dates like "tomorrow 12:30".
        now: the current time (a function, so tests can fix it).
        data_dir: the app's data directory (where connectors keep what undo needs).
    """

    open_store: Callable[[], Store] | None = None
    granted_folders: tuple[Path, ...] = ()
    timezone: tzinfo | None = None
    now: Callable[[], datetime] = field(default=lambda: datetime.now().astimezone())
    data_dir: Path | None = None

    def store(self) -> Store:
        """The private store.

        Raises:
            StoreError: this context has no store, or it cannot be opened.
        """
        if self.open_store is None:
            raise StoreError("no private store is available to this tool")
        return self.open_store()

    def current_time(self) -> datetime:
        """Now, in the user's time zone."""
        now = self.now()
        return now.astimezone(self.timezone) if self.timezone is not None else now.astimezone()


ToolFunction = Callable[[ToolContext, Any], ToolResult]


def dry_run_preview(function: ToolFunction) -> Callable[[ToolContext, Any], dict[str, Any]]:
    """A preview that runs ``function`` against the store in a transaction rolled back.

    For tools whose every effect goes through :meth:`Store.transaction` (notes, events), this
    shows exactly what approving would do. Not for tools that touch files.
    """

    def preview(context: ToolContext, args: Any) -> dict[str, Any]:
        store = context.store().dry_run()
        result = function(dataclasses.replace(context, open_store=lambda: store), args)
        return {**result.data, "summary": result.summary} if result.summary else result.data

    return preview


@dataclass(frozen=True)
class Tool:
    """A function the model may call.

    Attributes:
        name: unique, ``[a-z0-9_]`` (the OpenAI function-name rules).
        description: what it does, for the model and for ``callmemaybe tools``.
        arguments: the pydantic model of its arguments.
        effect: reads, or changes data (then it waits for approval).
        function: ``function(context, arguments) -> ToolResult``.
        offered: shown to the model; ``False`` for helpers only undo calls (restore a version).
        preview: for a change, ``preview(context, arguments) -> dict`` says what will happen
            without doing it (the resolved absolute times of an event, a note's diff, a
            file's source and destination), shown while the action waits for approval; a
            ``"summary"`` key, if present, is its one-line description.
        choices: ``choices(context) -> {argument: values}``, the values an argument can
            currently take (the titles of the user's notes), so decoding can keep a small model
            to them; an empty mapping (or ``None``) leaves the arguments free.
        said: ``said(context, request) -> {argument: values}``, the values the request itself
            gives an argument, read by the tool's own reader (the dates a request says, for
            the calendar): decoding keeps the model to them, so it copies what the user said
            instead of writing a value of its own. An empty list means the request gives
            none: the argument is left out, or, if it is required, the tool cannot be called
            yet and the user is asked. ``None`` leaves the arguments free.
        in_store: every effect goes through ``context.store().transaction()`` and nothing
            else (notes, events; not files): the action log then runs the change and its own
            record in one transaction (:meth:`connectors.store.database.Store.joined`), so a
            crash or a full disk keeps both or neither.
    """

    name: str
    description: str
    arguments: type[BaseModel]
    effect: Effect
    function: ToolFunction
    offered: bool = True
    preview: Callable[[ToolContext, Any], dict[str, Any]] | None = None
    choices: Callable[[ToolContext], Mapping[str, Sequence[str]]] | None = None
    in_store: bool = False
    said: Callable[[ToolContext, str], Mapping[str, Sequence[str | int]]] | None = None

    def parameters(self) -> dict[str, Any]:
        """The JSON Schema of the arguments as the model sees it.

        Without pydantic's titles and defaults: both are noise in a prompt, and shown
        defaults made the bundled 0.5B model write every optional argument with its default
        value (``"end": "", "duration_minutes": 0, ...``). Validation still applies them.
        """
        return _for_model(self.arguments.model_json_schema())

    def definition(self) -> dict[str, Any]:
        """The tool in the OpenAI function format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters(),
            },
        }

    def validate(self, raw: Mapping[str, Any] | str | None) -> BaseModel:
        """Check ``raw`` against the argument model, whatever produced it.

        Raises:
            InvalidArgumentsError: one ``(field, message)`` per bad field.
        """
        if raw is None:
            raw = {}
        if isinstance(raw, str):
            try:
                raw = json.loads(raw) if raw.strip() else {}
            except json.JSONDecodeError as exc:
                raise InvalidArgumentsError(self.name, [("", f"not valid JSON ({exc})")]) from exc
        if not isinstance(raw, Mapping):
            raise InvalidArgumentsError(self.name, [("", "expected a JSON object")])
        try:
            return self.arguments.model_validate(dict(raw))
        except ValidationError as exc:
            problems = [
                (".".join(str(p) for p in error["loc"]), _message(error)) for error in exc.errors()
            ]
            raise InvalidArgumentsError(self.name, problems) from None


def _message(error: Mapping[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "not a parameter of this tool"
    return str(error.get("msg", "invalid"))


def _for_model(schema: Any, in_properties: bool = False) -> Any:
    if isinstance(schema, dict):
        return {
            key: _for_model(value, key in ("properties", "$defs") and not in_properties)
            for key, value in schema.items()
            if in_properties
            or (not (key == "title" and isinstance(value, str)) and key != "default")
        }
    if isinstance(schema, list):
        return [_for_model(item) for item in schema]
    return schema


def tool(
    name: str,
    *,
    effect: Effect,
    arguments: type[BaseModel],
    offered: bool = True,
    description: str | None = None,
    preview: Callable[[ToolContext, Any], dict[str, Any]] | None = None,
    choices: Callable[[ToolContext], Mapping[str, Sequence[str]]] | None = None,
    in_store: bool = False,
    said: Callable[[ToolContext, str], Mapping[str, Sequence[str | int]]] | None = None,
) -> Callable[[ToolFunction], Tool]:
    """Make a :class:`Tool` of a function; its description is the docstring's first paragraph."""

    def wrap(function: ToolFunction) -> Tool:
        text = description or (function.__doc__ or "").strip().split("\n\n")[0]
        return Tool(
            name=name,
            description=" ".join(text.split()),
            arguments=arguments,
            effect=effect,
            function=function,
            offered=offered,
            preview=preview,
            choices=choices,
            in_store=in_store,
            said=said,
        )

    return wrap
