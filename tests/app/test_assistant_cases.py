"""The product evaluation's cases (tests/assistant_cases/) are sound: enough of them, in every
language and category, every offered tool exercised, and each case's reference calls, run
through the real tools, meet its own expectation (a case the right answer fails is a bug in the
case, and would make the score meaningless)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.evaluation import assistant_runner
from app.evaluation.assistant_cases import CATEGORIES, LANGUAGES, Case, load_cases, smoke_subset
from connectors.registry import load_registry
from tests.scripted_backend import ScriptedBackend

CASES = Path(__file__).resolve().parents[1] / "assistant_cases"
ALL, FIXTURES = load_cases(CASES)


def test_there_are_enough_cases_in_every_language_and_category() -> None:
    assert len(ALL) >= 240
    per_language = Counter(c.lang for c in ALL)
    assert per_language["en"] >= 60
    assert all(per_language[lang] >= 30 for lang in LANGUAGES if lang != "en"), per_language
    for lang in LANGUAGES:
        covered = {c.category for c in ALL if c.lang == lang}
        assert covered == set(CATEGORIES), (lang, set(CATEGORIES) - covered)


def test_both_splits_hold_every_language() -> None:
    for split in ("dev", "test"):
        assert {c.lang for c in ALL if c.split == split} == set(LANGUAGES)


def _tools_of(case: Case) -> set[str]:
    named = {t for e in [*case.expect.actions, *case.expect.reads] for t in e.tools}
    for step in case.gold:
        if not isinstance(step, str):
            named |= {call.name for call in step}
    return named


def test_every_offered_tool_is_exercised() -> None:
    offered = {t.name for t in load_registry().tools()}
    used = set().union(*(_tools_of(c) for c in ALL))
    assert offered - used == set()


def test_the_smoke_subset_spreads_over_languages() -> None:
    smoke = smoke_subset(ALL)
    assert len(smoke) == 20
    assert {c.lang for c in smoke} == set(LANGUAGES)
    assert all(c.split == "dev" for c in smoke)


@pytest.fixture(scope="module")
def runner() -> Iterator[assistant_runner.CaseRunner]:
    made = assistant_runner.CaseRunner(ScriptedBackend([]), FIXTURES)
    yield made
    made.close()


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_the_reference_calls_meet_the_expectation(
    case: Case, runner: assistant_runner.CaseRunner
) -> None:
    assert case.gold, "every case carries its reference calls"
    passed, why = assistant_runner.replay_gold(runner, case)
    assert passed, why
