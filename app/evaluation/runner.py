"""Running a BFCL-format question file through the model and scoring it.

The yardstick for the product's headline claim: entries are read as BFCL publishes them (JSON
lines: ``question`` turns, a ``function`` list with BFCL type names, sometimes a system
message), answered by the same backend and grammar the assistant uses, and scored with
:mod:`app.evaluation.checker`, which follows BFCL's AST rules.
"""

from __future__ import annotations

import dataclasses
import json
import statistics
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.argument_scope import scoped_tools
from app.evaluation.checker import category_of, check_entry
from app.tool_choice import respond
from app.tool_selection import select_tools
from backends.base import Backend, GenerateOptions
from backends.errors import BackendError
from backends.schema import parse_tools


class EvalInputError(Exception):
    """A question or answer file cannot be read; the message names the file and line."""


@dataclass(frozen=True)
class Entry:
    """One BFCL question."""

    id: str
    category: str
    messages: list[dict[str, Any]]
    functions: list[dict[str, Any]]
    ground_truth: list[dict[str, Any]] | None


@dataclass
class Result:
    """What happened to one entry (a row of the ``--report`` file)."""

    id: str
    category: str
    correct: bool
    reason: str
    seconds: float
    prompt: str = ""
    raw: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)
    valid_calls: int = 0
    error: str = ""


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise EvalInputError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalInputError(f"{path}, line {number}: not valid JSON ({exc})") from exc


def default_answers_path(questions: Path) -> Path:
    """Where BFCL keeps the answers of a question file: ``possible_answer/<same name>``."""
    return questions.parent / "possible_answer" / questions.name


def load_entries(
    questions: Path, answers: Path | None = None, limit: int | None = None, *, start: int = 0
) -> list[Entry]:
    """Read up to ``limit`` entries with their ground truth, after skipping ``start``.

    Raises:
        EvalInputError: unreadable files, malformed lines, or an entry whose category needs
            answers that the answers file does not have.
    """
    truth: dict[str, list[dict[str, Any]]] = {}
    if answers is not None and answers.exists():
        for _, row in _read_jsonl(answers):
            truth[row["id"]] = row["ground_truth"]
    entries = []
    for index, (number, row) in enumerate(_read_jsonl(questions)):
        if limit is not None and len(entries) >= limit:
            break
        if index < start:
            continue
        try:
            entry_id = row["id"]
            category = category_of(entry_id)
            turns = row["question"]
            functions = row.get("function") or []
        except (KeyError, TypeError, ValueError) as exc:
            raise EvalInputError(f"{questions}, line {number}: {exc}") from exc
        messages = [m for turn in turns for m in turn]
        needs_truth = not category.endswith("relevance")
        if needs_truth and entry_id not in truth:
            where = answers or default_answers_path(questions)
            raise EvalInputError(f"no ground truth for {entry_id} in {where}; pass --answers")
        entries.append(Entry(entry_id, category, messages, functions, truth.get(entry_id)))
    return entries


def run_entry(
    backend: Backend,
    entry: Entry,
    options: GenerateOptions,
    select: int = 0,
    scope: bool = True,
) -> Result:
    """Answer one entry and score it (offering only the ``select`` most relevant tools).

    With ``scope``, as in the assistant, the grammar offers a tool's optional arguments only
    when the request mentions them (:func:`app.argument_scope.scoped_tools`).
    """
    started = time.perf_counter()
    try:
        tools = parse_tools(entry.functions) if entry.functions else None
        request = next(
            (m["content"] for m in reversed(entry.messages) if m.get("role") == "user"), ""
        )
        if tools and select and len(tools) > select:
            tools = select_tools(str(request), tools, select)
        if tools and scope and options.constrained:
            options = dataclasses.replace(options, constrain_to=scoped_tools(str(request), tools))
        prompt = backend.render(entry.messages, tools)
        completion = respond(backend, entry.messages, tools, options=options)
    except BackendError as exc:
        seconds = time.perf_counter() - started
        verdict = check_entry(entry.category, [], entry.functions, entry.ground_truth)
        return Result(entry.id, entry.category, verdict.correct, str(exc), seconds, error=str(exc))
    seconds = time.perf_counter() - started
    calls = [{"name": c.name, "arguments": c.arguments} for c in completion.tool_calls]
    verdict = check_entry(entry.category, calls, entry.functions, entry.ground_truth)
    return Result(
        id=entry.id,
        category=entry.category,
        correct=verdict.correct,
        reason=verdict.reason,
        seconds=seconds,
        prompt=prompt,
        raw=completion.raw,
        calls=[c.to_json() for c in completion.tool_calls],
        valid_calls=sum(c.valid for c in completion.tool_calls),
    )


@dataclass(frozen=True)
class Summary:
    """Scores of a set of results."""

    n: int
    correct: int
    calls: int
    valid_calls: int
    p50_s: float

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def valid(self) -> float:
        """Share of emitted calls valid against their schema (1.0 when none were emitted)."""
        return self.valid_calls / self.calls if self.calls else 1.0


def summarize(results: Sequence[Result]) -> Summary:
    """Aggregate results."""
    return Summary(
        n=len(results),
        correct=sum(r.correct for r in results),
        calls=sum(len(r.calls) for r in results),
        valid_calls=sum(r.valid_calls for r in results),
        p50_s=statistics.median(r.seconds for r in results) if results else 0.0,
    )


def run(
    backend: Backend,
    entries: Iterable[Entry],
    options: GenerateOptions,
    on_result: Callable[[Result], None] | None = None,
    select: int = 0,
    scope: bool = True,
) -> list[Result]:
    """Answer and score every entry, calling ``on_result`` after each (progress display)."""
    results = []
    for entry in entries:
        result = run_entry(backend, entry, options, select, scope)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def report_lines(results: Sequence[Result]) -> list[str]:
    """One line per category, then the final line ``accuracy=A valid=V n=N p50_s=S``."""
    lines = []
    for category in dict.fromkeys(r.category for r in results):
        s = summarize([r for r in results if r.category == category])
        lines.append(
            f"{category}: {s.correct}/{s.n} correct ({100 * s.accuracy:.1f}%), "
            f"{s.valid_calls}/{s.calls} calls valid, p50 {s.p50_s:.2f} s"
        )
    total = summarize(results)
    lines.append(
        f"accuracy={total.accuracy:.3f} valid={total.valid:.3f} n={total.n} p50_s={total.p50_s:.2f}"
    )
    return lines


def write_report(path: Path, results: Sequence[Result], settings: dict[str, Any]) -> None:
    """Every entry's prompt, raw output, parsed calls and verdict, plus the summary, as JSON."""
    total = summarize(results)
    document = {
        "settings": settings,
        "summary": {
            "accuracy": total.accuracy,
            "valid": total.valid,
            "n": total.n,
            "p50_s": total.p50_s,
        },
        "entries": [asdict(r) for r in results],
    }
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
