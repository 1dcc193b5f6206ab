"""Whether what the assistant did for a case is what a person would approve.

Not BFCL's argument match: a pending action is judged by the values its preview resolved (the
event's start and end in the user's zone, the note it found, the path it will write), a read by
the result the tool returned, a question by the answer being one, and "no tool" by nothing having
been called. Matchers (``contains``, ``any``, ...) let a case accept every wording a person would.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

from app.evaluation.assistant_cases import Case, ExpectedCall

_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MATCHERS = {
    "any",
    "contains",
    "contains_any",
    "contains_all",
    "not_contains",
    "absent",
    "endswith",
}
GRANTED = "$GRANTED"


@dataclass
class Outcome:
    """What the last turn of a case did, as the user would see it.

    Attributes:
        calls: every call the model made (name, arguments), refused ones included.
        pending: the actions left waiting for approval (tool, arguments, preview).
        ran: the read-only calls that ran (name, arguments, result).
        changed: the data-changing calls that ran at once (a policy allowed them).
        errors: the calls refused or failed (name, message).
        text: the answer shown.
    """

    calls: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    ran: list[dict[str, Any]] = field(default_factory=list)
    changed: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""


@dataclass(frozen=True)
class Context:
    """What expected values are read against: the fixture's zone and granted folder."""

    zone: tzinfo
    granted: str


def _normal(text: str, context: Context) -> str:
    return " ".join(text.replace(GRANTED, context.granted).split()).casefold()


def _instant(text: str, zone: tzinfo) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _flat(value: Any) -> list[str]:
    """Every string in a value (a list's items, a dict's values), for substring matchers."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [s for v in value.values() for s in _flat(v)]
    if isinstance(value, (list, tuple)):
        return [s for v in value for s in _flat(v)]
    if value is None:
        return []
    return [json.dumps(value)]


def _contains(actual: Any, needle: str, context: Context) -> bool:
    wanted = _normal(str(needle), context)
    return any(wanted in _normal(s, context) for s in _flat(actual))


def _matcher(expected: Mapping[str, Any], actual: Any, context: Context) -> bool:
    (name, wanted), *rest = expected.items()
    if rest:
        return all(_matcher({k: v}, actual, context) for k, v in expected.items())
    if name == "any":
        return any(matches(option, actual, context) for option in wanted)
    if name == "contains":
        return _contains(actual, wanted, context)
    if name == "contains_any":
        return any(_contains(actual, w, context) for w in wanted)
    if name == "contains_all":
        return all(_contains(actual, w, context) for w in wanted)
    if name == "not_contains":
        return not _contains(actual, wanted, context)
    if name == "absent":
        return (actual in (None, "", [], {})) == bool(wanted)
    if name == "endswith":
        return isinstance(actual, str) and _normal(actual, context).endswith(
            _normal(wanted, context)
        )
    raise ValueError(f"unknown matcher {name!r}")


def matches(expected: Any, actual: Any, context: Context) -> bool:
    """Whether ``actual`` is a value ``expected`` accepts (see the cases' README)."""
    if isinstance(expected, Mapping) and expected and set(expected) <= _MATCHERS:
        return _matcher(expected, actual, context)
    if isinstance(expected, str):
        if not isinstance(actual, str):
            return False
        if _LOCAL_TIME.match(expected):
            want, got = _instant(expected, context.zone), _instant(actual, context.zone)
            return want is not None and got is not None and want == got
        if _DAY.match(expected):
            got = _instant(actual, context.zone)
            if got is None:
                return actual.strip()[:10] == expected
            return got.astimezone(context.zone).date().isoformat() == expected
        return _normal(expected, context) == _normal(actual, context)
    if isinstance(expected, bool) or expected is None:
        return actual is expected or actual == expected
    if isinstance(expected, (int, float)):
        return (
            not isinstance(actual, bool)
            and isinstance(actual, (int, float))
            and (actual == expected)
        )
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return False
        left = list(actual)
        for item in expected:  # order-free: attendees, tags
            found = next((i for i, a in enumerate(left) if matches(item, a, context)), None)
            if found is None:
                return False
            left.pop(found)
        return True
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            matches(v, actual.get(k), context) for k, v in expected.items()
        )
    return bool(expected == actual)


def _lookup(record: Mapping[str, Any], path: str, sources: Sequence[str]) -> Any:
    """``path`` (dotted) in the first of ``sources`` that has it."""
    for source in sources:
        node: Any = record.get(source)
        for part in path.split("."):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                node = None
                break
        if node is not None:
            return node
    return None


def _call_matches(
    expected: ExpectedCall, record: Mapping[str, Any], sources: Sequence[str], context: Context
) -> str:
    """Why ``record`` is not the expected call ("" when it is)."""
    tool = record.get("tool") or record.get("name")
    if tool not in expected.tools:
        return f"{tool} instead of {expected.label}"
    for path, wanted in expected.values.items():
        got = _lookup(record, path, sources)
        if not matches(wanted, got, context):
            return f"{tool}.{path} is {json.dumps(got, ensure_ascii=False, default=str)}"
    return ""


def _all_match(
    expected: Sequence[ExpectedCall],
    records: Sequence[Mapping[str, Any]],
    sources: Sequence[str],
    context: Context,
) -> str:
    """Why no one-to-one pairing of ``expected`` with ``records`` works ("" when one does)."""
    if len(records) != len(expected):
        got = ", ".join(str(r.get("tool") or r.get("name")) for r in records) or "none"
        want = ", ".join(e.label for e in expected)
        return f"{len(records)} pending ({got}) where {len(expected)} ({want}) were asked for"
    best = ""
    for order in itertools.permutations(records):
        reasons = [
            _call_matches(e, r, sources, context) for e, r in zip(expected, order, strict=True)
        ]
        if not any(reasons):
            return ""
        best = best or next(r for r in reasons if r)
    return best


def _read_done(expected: ExpectedCall, ran: Sequence[Mapping[str, Any]], context: Context) -> str:
    if not any(r.get("name") in expected.tools for r in ran):
        names = ", ".join(str(r.get("name")) for r in ran) or "nothing"
        return f"{expected.label} did not run ({names} ran)"
    reasons = [_call_matches(expected, r, ("result", "arguments"), context) for r in ran]
    return "" if "" in reasons else next(r for r in reasons if r and "instead of" not in r)


def _is_question(text: str) -> bool:
    return "?" in text or "¿" in text


def _text_ok(expected: Any, text: str, context: Context) -> bool:
    if expected is None:
        return True
    if isinstance(expected, str):
        return _contains(text, expected, context)
    return matches(expected, text, context)


def verdict(case: Case, outcome: Outcome, context: Context) -> tuple[bool, str]:
    """Whether ``outcome`` is what ``case`` expects, and why (a short sentence)."""
    expect = outcome_checks.get(case.expect.kind)
    if expect is None:  # pragma: no cover - the case model allows only these kinds
        raise ValueError(f"unknown kind {case.expect.kind!r}")
    why = expect(case, outcome, context)
    if not why and not _text_ok(case.expect.answer, outcome.text, context):
        why = f"the answer does not say what was expected: {outcome.text[:120]!r}"
    return (not why, why or "as expected")


def _check_action(case: Case, outcome: Outcome, context: Context) -> str:
    if outcome.changed:
        return f"{outcome.changed[0]['name']} ran without approval"
    if not outcome.pending:
        said = " ".join(outcome.text.split())[:100]
        return f"nothing pending; answered {said!r}"
    return _all_match(case.expect.actions, outcome.pending, ("preview", "arguments"), context)


def _acted(outcome: Outcome) -> str:
    """The first data-changing tool the turn proposed or ran ("" when none)."""
    acted = (outcome.pending or outcome.changed or [{}])[0]
    return str(acted.get("tool") or acted.get("name") or "")


def _reads_missing(case: Case, outcome: Outcome, context: Context) -> str:
    """Why one of the case's expected reads did not happen as expected ("" when all did)."""
    return next(
        (why for e in case.expect.reads if (why := _read_done(e, outcome.ran, context))), ""
    )


def _check_read(case: Case, outcome: Outcome, context: Context) -> str:
    if _acted(outcome):
        return f"{_acted(outcome)} was proposed; only a read was asked for"
    return _reads_missing(case, outcome, context)


def _check_ask(case: Case, outcome: Outcome, context: Context) -> str:
    if _acted(outcome):
        return f"{_acted(outcome)} was proposed instead of a question"
    if not _is_question(outcome.text):
        return f"no question asked: {' '.join(outcome.text.split())[:100]!r}"
    return ""


def _check_answer(case: Case, outcome: Outcome, context: Context) -> str:
    if _acted(outcome):
        return f"{_acted(outcome)} was proposed; no tool fits"
    why = _reads_missing(case, outcome, context)
    if why:
        return why
    if not case.expect.reads and outcome.calls:
        return f"called {outcome.calls[0]['name']}; no tool fits"
    if not outcome.text.strip():
        return "no answer"
    return ""


outcome_checks: dict[str, Callable[[Case, Outcome, Context], str]] = {
    "action": _check_action,
    "read": _check_read,
    "ask": _check_ask,
    "answer": _check_answer,
}
