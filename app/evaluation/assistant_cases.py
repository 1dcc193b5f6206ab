"""The product evaluation's cases and the data they start from, read from YAML.

A case is one request (or a short conversation) a person would type into the assistant, in one
of five languages, with the outcome they would approve: the pending action(s) and the values
they resolve to, a read-only result, a clarifying question, or a plain answer. The format is
written down in ``tests/assistant_cases/README.md``; this module reads it strictly (a typo in a
case is an error that names the file and the case, never a case silently scored as passing).

Each case falls in the ``dev`` or ``test`` split by a hash of its id, so the split is stable when
cases are added and every category is cut in two.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

LANGUAGES = ("en", "pt", "es", "de", "fr")
CATEGORIES = (
    "calendar_create",
    "calendar_change",
    "calendar_read",
    "notes_write",
    "notes_read",
    "files",
    "two_actions",
    "follow_up",
    "ask",
    "no_tool",
    "injection",
)
SPLITS = ("dev", "test", "all")
FIXTURE_FILE = "fixture.yaml"


class CasesError(Exception):
    """A case file cannot be read or holds an invalid case; the message says where."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Fixture(_Strict):
    """What the store holds before a case runs (created with the real tools)."""

    now: datetime
    timezone: str = "UTC"
    notes: list[dict[str, Any]] = Field(default_factory=list)
    events: list[dict[str, Any]] = Field(default_factory=list)
    files: dict[str, str] = Field(default_factory=dict)

    @field_validator("now")
    @classmethod
    def _local(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("write `now` as a local time without an offset (the zone applies)")
        return value


class ExpectedCall(_Strict):
    """A call the outcome must contain: its tool (or the tools a person would accept, e.g. a
    search or a read that both show the note) and the values it resolved to."""

    tool: str | list[str]
    values: dict[str, Any] = Field(default_factory=dict)

    @property
    def tools(self) -> tuple[str, ...]:
        """The acceptable tools."""
        return (self.tool,) if isinstance(self.tool, str) else tuple(self.tool)

    @property
    def label(self) -> str:
        """The tool, or the acceptable tools joined with "or"."""
        return " or ".join(self.tools)


class Expectation(_Strict):
    """The outcome a person would accept (see the README for each kind)."""

    kind: Literal["action", "read", "ask", "answer"]
    actions: list[ExpectedCall] = Field(default_factory=list)
    reads: list[ExpectedCall] = Field(default_factory=list)
    answer: Any = None

    @model_validator(mode="after")
    def _consistent(self) -> Expectation:
        if self.kind == "action" and not self.actions:
            raise ValueError("kind 'action' lists the expected `actions`")
        if self.kind != "action" and self.actions:
            raise ValueError(f"kind {self.kind!r} cannot expect pending `actions`")
        if self.kind == "read" and not self.reads:
            raise ValueError("kind 'read' lists the expected `reads`")
        return self


class GoldCall(_Strict):
    """One call of the reference answer (used by the tests' scripted model)."""

    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Case(_Strict):
    """One request and the outcome a person would approve."""

    id: str = Field(pattern=r"^[a-z]{2}-[a-z0-9_]+-[a-z0-9_-]+$")
    lang: Literal["en", "pt", "es", "de", "fr"]
    category: str
    request: str | None = None
    turns: list[str] = Field(default_factory=list)
    reject_between: bool = False
    expect: Expectation
    gold: list[str | list[GoldCall]] = Field(default_factory=list)
    source: str = ""  # the file it came from (set by the loader)
    fixture_name: str = ""  # which fixture seeds it (set by the loader)

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"unknown category {value!r}; one of: {', '.join(CATEGORIES)}")
        return value

    @model_validator(mode="after")
    def _one_request(self) -> Case:
        if bool(self.request) == bool(self.turns):
            raise ValueError("give either `request` or `turns`, not both or neither")
        return self

    @property
    def messages(self) -> list[str]:
        """The user's messages, in order (one for a single request)."""
        return [self.request] if self.request else list(self.turns)

    @property
    def split(self) -> str:
        """``dev`` or ``test``: the parity of the first byte of the id's SHA-256."""
        return split_of(self.id)


def split_of(case_id: str) -> str:
    """The split a case id falls in; stable across runs, machines and added cases."""
    return "dev" if hashlib.sha256(case_id.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CasesError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CasesError(f"{path} is not valid YAML: {exc}") from exc


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'case'}: {e['msg']}" for e in exc.errors()
    )


def read_fixture(path: Path) -> Fixture:
    """The fixture in ``path``.

    Raises:
        CasesError: unreadable or invalid (the message names the file and field).
    """
    data = _read_yaml(path)
    try:
        return Fixture.model_validate(data)
    except ValidationError as exc:
        raise CasesError(f"{path}: {_problems(exc)}") from exc


def _case_files(source: Path) -> list[Path]:
    if source.is_dir():
        return sorted(
            p
            for p in source.glob("*.y*ml")
            if p.name != FIXTURE_FILE and p.suffix in {".yaml", ".yml"}
        )
    if source.is_file():
        return [source]
    raise CasesError(f"{source} is neither a case file nor a folder of them")


def load_cases(
    source: Path, *, split: str = "all", limit: int | None = None
) -> tuple[list[Case], dict[str, Fixture]]:
    """The cases of a file or folder, in file order, and the fixtures they name.

    Args:
        source: a case file, or a folder of them (``fixture.yaml`` beside them is the default
            fixture).
        split: ``dev``, ``test`` or ``all``.
        limit: at most this many cases (after the split is applied).

    Raises:
        CasesError: a file or case is invalid, an id repeats, or a case has no fixture.
    """
    if split not in SPLITS:
        raise CasesError(f"unknown split {split!r}; one of: {', '.join(SPLITS)}")
    folder = source if source.is_dir() else source.parent
    default = folder / FIXTURE_FILE
    fixtures: dict[str, Fixture] = {}
    if default.is_file():
        fixtures[str(default)] = read_fixture(default)
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for path in _case_files(source):
        data = _read_yaml(path)
        if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
            raise CasesError(f"{path} must be a mapping with a `cases:` list")
        fixture_name = str(default)
        if data.get("fixture") is not None:
            fixture_name = f"{path}#fixture"
            try:
                fixtures[fixture_name] = Fixture.model_validate(data["fixture"])
            except ValidationError as exc:
                raise CasesError(f"{path}, fixture: {_problems(exc)}") from exc
        if fixture_name not in fixtures:
            raise CasesError(f"{path} has no `fixture:` and there is no {default}")
        for number, raw in enumerate(data["cases"], start=1):
            label = raw.get("id", f"case {number}") if isinstance(raw, dict) else f"case {number}"
            if not isinstance(raw, dict):
                raise CasesError(f"{path}, {label}: a case is a mapping")
            try:
                case = Case.model_validate(
                    {**raw, "source": path.name, "fixture_name": fixture_name}
                )
            except ValidationError as exc:
                raise CasesError(f"{path}, {label}: {_problems(exc)}") from exc
            if case.id in seen:
                raise CasesError(f"{path}: the id {case.id!r} is used in {seen[case.id]} too")
            seen[case.id] = path
            cases.append(case)
    chosen = [c for c in cases if split == "all" or c.split == split]
    if limit is not None:
        chosen = chosen[: max(0, limit)]
    return chosen, fixtures


def count_by(cases: Iterable[Case], key: str) -> dict[str, int]:
    """How many cases each value of ``key`` (``lang``, ``category``, ``split``) has."""
    counts: dict[str, int] = {}
    for case in cases:
        value = case.split if key == "split" else getattr(case, key)
        counts[value] = counts.get(value, 0) + 1
    return counts


def gold_steps(case: Case) -> Sequence[str | list[GoldCall]]:
    """The reference answer's model steps (text or a list of calls)."""
    return case.gold


def smoke_subset(cases: Sequence[Case], size: int = 20) -> list[Case]:
    """``size`` cases of the ``dev`` split spread over every category and language, in file
    order: a quick check that the whole evaluation runs on the real model (CI), never a score
    (the test split stays unread). Round ``r`` takes category ``i`` in language ``i + r``, so
    the languages rotate over the categories."""
    pools: dict[tuple[str, str], list[Case]] = {}
    for case in cases:
        if case.split == "dev":
            pools.setdefault((case.category, case.lang), []).append(case)
    chosen: list[Case] = []
    for round_ in range(max((len(p) for p in pools.values()), default=0) * len(LANGUAGES)):
        for index, category in enumerate(CATEGORIES):
            pool = pools.get((category, LANGUAGES[(index + round_) % len(LANGUAGES)]))
            if pool:
                chosen.append(pool.pop(0))
                if len(chosen) == size:
                    return chosen
    return chosen
