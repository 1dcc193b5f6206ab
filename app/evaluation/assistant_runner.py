"""Running the real assistant on the product's own cases, as a user would meet it.

Each case starts from a fresh copy of a seeded data directory: an encrypted store holding the
fixture's notes and events (created with the real tools, so they are exactly what a user's
would be), files in a granted folder, and the fixture's fixed clock (``$CALLMEMAYBE_NOW``). The
same :class:`~app.assistant.Assistant` the window and ``ask`` drive answers the case's
messages; what it did in the last turn is judged by :mod:`app.evaluation.assistant_check`.
Every pending action is rejected when the case ends (its copy is then thrown away).

One backend serves every case (warm, in one process), and every request the model sees is
timed, so the figures say what a user waits.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.assistant import Assistant, AssistantOptions
from app.clock import FIXED_NOW_VARIABLE, clock
from app.evaluation.assistant_cases import Case, Fixture
from app.evaluation.assistant_check import Context, Outcome, verdict
from app.events import (
    ActionPending,
    CallProposed,
    Event,
    ToolErrorEvent,
    ToolResultEvent,
    TurnDone,
    event_to_json,
)
from app.result_answer import answer_from_results
from backends.base import Backend
from backends.errors import BackendError
from connectors.errors import ConnectorError
from connectors.registry import Registry, load_registry
from connectors.store.database import Store, open_store
from connectors.tool import Effect, ToolContext

GRANTED_FOLDER = "granted"
DATA_FOLDER = "data"  # the app's data directory: beside the granted folder, never inside it
WARM_UP = ("What is on my calendar today?", "List my notes", "What files do I have?", "Hello!")


@dataclass
class TurnRecord:
    """One request of a case: what the user said, how long it took, what happened."""

    request: str
    seconds: float
    model_passes: int
    events: list[dict[str, Any]]


@dataclass
class CaseResult:
    """A row of the ``--report`` file."""

    id: str
    lang: str
    category: str
    split: str
    passed: bool
    why: str
    seconds: float
    model_passes: int
    turns: list[TurnRecord] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    rejected: int = 0


@dataclass
class Seeded:
    """A data directory holding a fixture, copied afresh for every case."""

    folder: Path
    key: bytes
    fixture: Fixture

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.fixture.timezone)


@contextlib.contextmanager
def fixed_clock(moment: datetime) -> Iterator[None]:
    """``$CALLMEMAYBE_NOW`` set to ``moment`` (local) for the block, as a user would set it."""
    before = os.environ.get(FIXED_NOW_VARIABLE)
    os.environ[FIXED_NOW_VARIABLE] = moment.isoformat(timespec="minutes")
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(FIXED_NOW_VARIABLE, None)
        else:
            os.environ[FIXED_NOW_VARIABLE] = before


def _context(folder: Path, store: Store, zone: ZoneInfo) -> ToolContext:
    return ToolContext(
        open_store=lambda: store,
        granted_folders=(folder / GRANTED_FOLDER,),
        timezone=zone,
        now=clock(zone),
        data_dir=folder / DATA_FOLDER,
    )


def _seed_call(
    registry: Registry, tool: str, arguments: dict[str, Any], context: ToolContext
) -> None:
    try:
        registry.run(tool, arguments, context, approved=True)
    except ConnectorError as exc:
        raise ConnectorError(f"the fixture's {tool} {arguments!r}: {exc}") from exc


def seed(fixture: Fixture, folder: Path, registry: Registry) -> Seeded:
    """Write ``fixture`` into ``folder`` with the real tools.

    Raises:
        ConnectorError: a note, event or file of the fixture is refused by its tool (the
            message says which).
    """
    key = secrets.token_bytes(32)
    zone = ZoneInfo(fixture.timezone)
    granted = folder / GRANTED_FOLDER
    granted.mkdir(parents=True, exist_ok=True)
    for relative, text in fixture.files.items():
        path = granted / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    store = open_store(folder / DATA_FOLDER / "store", key=key)
    try:
        with fixed_clock(fixture.now):
            context = _context(folder, store, zone)
            for note in fixture.notes:
                fields = {k: v for k, v in note.items() if k != "trashed"}
                _seed_call(registry, "notes_create", fields, context)
                if note.get("trashed"):  # a note the user already deleted (in the trash)
                    _seed_call(registry, "notes_delete", {"note": note["title"]}, context)
            for event in fixture.events:
                _seed_call(registry, "calendar_create", event, context)
    finally:
        store.close()
    return Seeded(folder, key, fixture)


@contextlib.contextmanager
def metered(backend: Backend) -> Iterator[list[float]]:
    """Count the model passes (one per ``stream``) and their seconds while the block runs."""
    passes: list[float] = []
    original = backend.stream

    def stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
        started = time.perf_counter()
        try:
            yield from original(*args, **kwargs)
        finally:
            passes.append(time.perf_counter() - started)

    backend.stream = stream  # type: ignore[method-assign]
    try:
        yield passes
    finally:
        del backend.stream


def _add(outcome: Outcome, event: Event, registry: Registry) -> None:
    if isinstance(event, CallProposed):
        outcome.calls.append({"name": event.name, "arguments": event.arguments})
    elif isinstance(event, ActionPending):
        outcome.pending.append(
            {"tool": event.tool, "arguments": event.arguments, "preview": event.preview}
        )
    elif isinstance(event, ToolResultEvent):
        record = {"name": event.name, "arguments": event.arguments, "result": event.result}
        try:
            changes = registry.get(event.name).effect is Effect.CHANGES
        except ConnectorError:
            changes = False
        (outcome.changed if changes else outcome.ran).append(record)
    elif isinstance(event, ToolErrorEvent):
        outcome.errors.append({"name": event.name, "message": event.message})
    elif isinstance(event, TurnDone):
        outcome.text = event.text


class CaseRunner:
    """Runs cases on one backend, each from a fresh copy of its seeded fixture."""

    def __init__(
        self,
        backend: Backend,
        fixtures: dict[str, Fixture],
        *,
        registry: Registry | None = None,
        options: AssistantOptions | None = None,
        workdir: Path | None = None,
    ) -> None:
        self.backend = backend
        self.registry = registry or load_registry()
        self.options = options or AssistantOptions()
        self._temp = tempfile.TemporaryDirectory(prefix="cmm-eval-assistant-", dir=workdir)
        self._root = Path(self._temp.name)
        self._fixtures = fixtures
        self._seeded: dict[str, Seeded] = {}

    def close(self) -> None:
        """Remove every copy and seeded fixture."""
        self._temp.cleanup()

    def _seeded_for(self, name: str) -> Seeded:
        if name not in self._seeded:
            folder = self._root / f"fixture-{len(self._seeded)}"
            self._seeded[name] = seed(self._fixtures[name], folder, self.registry)
        return self._seeded[name]

    @contextlib.contextmanager
    def _fresh(self, fixture_name: str) -> Iterator[tuple[Assistant, Seeded, Path]]:
        seeded = self._seeded_for(fixture_name)
        folder = self._root / f"case-{secrets.token_hex(4)}"
        shutil.copytree(seeded.folder, folder)
        store = open_store(folder / DATA_FOLDER / "store", key=seeded.key)
        try:
            with fixed_clock(seeded.fixture.now):
                context = _context(folder, store, seeded.zone)
                yield Assistant(self.backend, self.registry, context, self.options), seeded, folder
        finally:
            store.close()
            shutil.rmtree(folder, ignore_errors=True)

    def warm_up(self, fixture_name: str, requests: Sequence[str] | None = None) -> float:
        """Answer a few everyday requests once, untimed, so the prompt prefixes of each group of
        tools are computed before the cases are (a user's app is warm after its first minute)."""
        started = time.perf_counter()
        with self._fresh(fixture_name) as (assistant, _seeded, _folder):
            for text in WARM_UP if requests is None else requests:
                with contextlib.suppress(BackendError, ConnectorError):
                    for _event in assistant.turn(None, text):
                        pass
        return time.perf_counter() - started

    def run(self, case: Case) -> CaseResult:
        """Answer ``case`` and judge the last turn; pending actions are rejected at the end."""
        turns: list[TurnRecord] = []
        outcome = Outcome()
        error = ""
        with self._fresh(case.fixture_name) as (assistant, seeded, folder):
            conversation: int | None = None
            messages = case.messages
            for index, text in enumerate(messages):
                outcome = Outcome()
                events: list[dict[str, Any]] = []
                started = time.perf_counter()
                with metered(self.backend) as passes:
                    try:
                        for event in assistant.turn(conversation, text):
                            _add(outcome, event, self.registry)
                            events.append(event_to_json(event))
                            if isinstance(event, TurnDone):
                                conversation = event.conversation_id
                    except (BackendError, ConnectorError) as exc:
                        error = f"{type(exc).__name__}: {exc}"
                turns.append(TurnRecord(text, time.perf_counter() - started, len(passes), events))
                if error:
                    break
                if case.reject_between and index < len(messages) - 1:
                    for action in assistant.actions.pending():
                        assistant.actions.reject(action.id)
            left = assistant.actions.pending()
            for action in left:
                assistant.actions.reject(action.id)
            rejected = len(left)
            context = Context(zone=seeded.zone, granted=str(folder / GRANTED_FOLDER))
            passed, why = (False, error) if error else verdict(case, outcome, context)
        return CaseResult(
            id=case.id,
            lang=case.lang,
            category=case.category,
            split=case.split,
            passed=passed,
            why=why,
            seconds=sum(t.seconds for t in turns),
            model_passes=sum(t.model_passes for t in turns),
            turns=turns,
            outcome=asdict(outcome),
            error=error,
            rejected=rejected,
        )


def run(
    backend: Backend,
    cases: Sequence[Case],
    fixtures: dict[str, Fixture],
    *,
    on_result: Callable[[CaseResult], None] | None = None,
    warm: bool = True,
    options: AssistantOptions | None = None,
    registry: Registry | None = None,
) -> list[CaseResult]:
    """Every case in order, on one backend (warmed up first unless ``warm`` is false), with
    ``registry``'s tools (default: the product's)."""
    runner = CaseRunner(backend, fixtures, options=options, registry=registry)
    results: list[CaseResult] = []
    try:
        if warm and cases:
            runner.warm_up(cases[0].fixture_name)
        for case in cases:
            result = runner.run(case)
            results.append(result)
            if on_result is not None:
                on_result(result)
    finally:
        runner.close()
    return results


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] if ordered else 0.0


def _line(label: str, results: Sequence[CaseResult]) -> str:
    right = sum(r.passed for r in results)
    return f"{label} accuracy={right / len(results):.3f} n={len(results)}"


def report_lines(results: Sequence[CaseResult]) -> list[str]:
    """One line per category and per language, then the passes, then the headline.

    The last line is exactly ``accuracy=A n=N p50_s=S p95_s=S`` (seconds per request).
    """
    if not results:
        return ["accuracy=0.000 n=0 p50_s=0.00 p95_s=0.00"]
    lines = []
    for key in ("category", "lang"):
        for value in sorted({getattr(r, key) for r in results}):
            group = [r for r in results if getattr(r, key) == value]
            lines.append(_line(f"{key}={value}", group))
    requests = [t.seconds for r in results for t in r.turns]
    passes = [t.model_passes for r in results for t in r.turns]
    lines.append(
        f"model_passes_per_request={statistics.mean(passes):.2f} max={max(passes)} "
        f"errors={sum(bool(r.error) for r in results)}"
    )
    right = sum(r.passed for r in results)
    lines.append(
        f"accuracy={right / len(results):.3f} n={len(results)} "
        f"p50_s={statistics.median(requests):.2f} p95_s={_quantile(requests, 0.95):.2f}"
    )
    return lines


def write_report(path: Path, results: Sequence[CaseResult], meta: dict[str, Any]) -> None:
    """Every case's turns, events, model passes and verdict, as one JSON document."""
    document = {
        "meta": meta,
        "summary": report_lines(results),
        "cases": [asdict(r) for r in results],
    }
    try:
        path.write_text(
            json.dumps(document, ensure_ascii=False, indent=1, default=str), encoding="utf-8"
        )
    except OSError as exc:
        raise OSError(f"cannot write the report {path}: {exc.strerror}") from exc


def replay_gold(runner: CaseRunner, case: Case) -> tuple[bool, str]:
    """Judge the case's reference calls as if the model had made them, with the real tools:
    a data-changing call is proposed (so its preview resolves, as it would for the user), a
    read runs. This checks the cases themselves: an expectation the right calls cannot meet is
    a wrong case, not a weak model. A text step ends a turn, so only the last turn's calls make
    the outcome."""
    with runner._fresh(case.fixture_name) as (assistant, seeded, folder):
        outcome = Outcome()
        answered: list[tuple[str, dict[str, Any]]] = []  # reads of the last turn
        for index, step in enumerate(case.gold):
            if isinstance(step, str):
                if index < len(case.gold) - 1:
                    outcome, answered = Outcome(), []
                else:
                    outcome.text = step
                continue
            for call in step:
                outcome.calls.append({"name": call.name, "arguments": call.arguments})
                try:
                    item = runner.registry.get(call.name)
                    if item.effect is Effect.CHANGES:
                        action = assistant.actions.propose(call.name, dict(call.arguments))
                        outcome.pending.append(
                            {
                                "tool": call.name,
                                "arguments": call.arguments,
                                "preview": action.preview,
                            }
                        )
                    else:
                        done = runner.registry.run(call.name, call.arguments, assistant.context)
                        outcome.ran.append(
                            {"name": call.name, "arguments": call.arguments, "result": done.data}
                        )
                        answered.append((done.summary, done.data))
                except ConnectorError as exc:
                    return False, f"the gold call {call.name} fails: {exc}"
        if outcome.pending and not outcome.text:
            outcome.text = "This needs your approval."
        elif answered and not outcome.text:  # the assistant shows the results as the answer
            outcome.text = answer_from_results(answered)
        return verdict(
            case, outcome, Context(zone=seeded.zone, granted=str(folder / GRANTED_FOLDER))
        )
