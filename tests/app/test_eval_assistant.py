"""The product evaluation itself: the fixed clock, the case files, the verdicts, the command.

The model's words are scripted (tests/scripted_backend.py); the store, the tools, the turn loop
and the checker are the real ones, so a right action must pass and each way of being wrong a
user would notice (a wrong day, an extra action, no question where one was needed) must fail.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import cli
from app.clock import ClockError, clock
from app.evaluation import assistant_runner
from app.evaluation.assistant_cases import CasesError, load_cases, split_of
from app.evaluation.assistant_check import Context, Outcome, verdict
from app.settings import Settings
from app.toolbox import open_toolbox
from tests.scripted_backend import ScriptedBackend

FIXTURE = """\
now: "2026-03-14T10:05"
timezone: Europe/Lisbon
notes:
  - {title: Todo, body: "- buy stamps", tags: [home]}
events:
  - {title: Dentist, start: "2026-03-17T15:00", duration_minutes: 45}
files:
  reports/q1.txt: "Q1 sales up 4%"
"""

CASES = """\
cases:
  - id: en-calendar_create-lunch
    lang: en
    category: calendar_create
    request: "Lunch with Ana tomorrow at 12:30 for an hour"
    expect:
      kind: action
      actions:
        - tool: calendar_create
          values: {start: "2026-03-15T12:30", end: "2026-03-15T13:30", title: {contains: lunch}}
  - id: en-ask-missing-time
    lang: en
    category: ask
    request: "Put a meeting in my calendar"
    expect: {kind: ask}
  - id: en-calendar_read-next-week
    lang: en
    category: calendar_read
    request: "What do I have next week?"
    expect:
      kind: read
      reads:
        - tool: calendar_list
          values: {from: "2026-03-16", to: "2026-03-23"}
"""

LUNCH = (
    '{"name": "calendar_create", "arguments": '
    '{"title": "Lunch with Ana", "start": "%s", "duration_minutes": 60}}'
)


@pytest.fixture
def case_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir()
    (folder / "fixture.yaml").write_text(FIXTURE, encoding="utf-8")
    (folder / "everyday.yaml").write_text(CASES, encoding="utf-8")
    return folder


def _run(case_dir: Path, case_id: str, replies: list[str]) -> assistant_runner.CaseResult:
    cases, fixtures = load_cases(case_dir)
    (case,) = [c for c in cases if c.id == case_id]
    backend = ScriptedBackend(replies)
    (result,) = assistant_runner.run(backend, [case], fixtures, warm=False)
    return result


# -- the fixed clock -------------------------------------------------------------------------


def test_fixed_clock_sets_now_for_the_tools(
    monkeypatch: pytest.MonkeyPatch, memory_keyring: object
) -> None:
    monkeypatch.setenv("CALLMEMAYBE_NOW", "2026-03-14T10:05")
    toolbox = open_toolbox(Settings(timezone="Europe/Lisbon"))
    try:
        now = toolbox.context.current_time()
        assert now == datetime(2026, 3, 14, 10, 5, tzinfo=ZoneInfo("Europe/Lisbon"))
        result = toolbox.registry.run(
            "calendar_create",
            {"title": "Lunch", "start": "tomorrow 12:30"},
            toolbox.context,
            approved=True,
        )
        assert result.data["start"].startswith("2026-03-15T12:30")
    finally:
        toolbox.close()


def test_unset_clock_is_the_real_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLMEMAYBE_NOW", raising=False)
    zone = ZoneInfo("UTC")
    before = datetime.now(zone)
    assert before <= clock(zone)() <= datetime.now(zone)


def test_bad_clock_value_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("CALLMEMAYBE_NOW", "next tuesday")
    with pytest.raises(ClockError, match="CALLMEMAYBE_NOW"):
        clock(ZoneInfo("UTC"))
    assert cli.main(["tool", "calendar_list", "{}"]) == cli.EXIT_ERROR
    assert "is not an ISO date and time" in capsys.readouterr().err


# -- the case files --------------------------------------------------------------------------


def test_split_is_stable_and_cuts_each_category(case_dir: Path) -> None:
    assert split_of("en-calendar_create-lunch") == split_of("en-calendar_create-lunch")
    ids = [f"en-files-case{i}" for i in range(40)]
    splits = {split_of(i) for i in ids}
    assert splits == {"dev", "test"}
    everything, _ = load_cases(case_dir)
    dev, _ = load_cases(case_dir, split="dev")
    test, _ = load_cases(case_dir, split="test")
    assert sorted(c.id for c in dev + test) == sorted(c.id for c in everything)


def test_an_invalid_case_names_its_file_and_id(case_dir: Path) -> None:
    (case_dir / "broken.yaml").write_text(
        textwrap.dedent(
            """\
            cases:
              - id: fr-calendar_create-typo
                lang: fr
                category: calendar_create
                request: "Déjeuner demain"
                expect: {kind: action}
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(CasesError, match=r"broken\.yaml, fr-calendar_create-typo: .*actions"):
        load_cases(case_dir)


def test_a_repeated_id_is_refused(case_dir: Path) -> None:
    (case_dir / "again.yaml").write_text(CASES, encoding="utf-8")
    with pytest.raises(CasesError, match="is used in"):
        load_cases(case_dir)


# -- verdicts through the real assistant -------------------------------------------------------


def test_a_right_action_passes(case_dir: Path) -> None:
    result = _run(case_dir, "en-calendar_create-lunch", [LUNCH % "tomorrow 12:30"])
    assert result.passed, result.why
    assert result.model_passes >= 1
    (pending,) = result.outcome["pending"]
    assert pending["preview"]["start"].startswith("2026-03-15T12:30")


def test_a_wrong_date_fails(case_dir: Path) -> None:
    result = _run(case_dir, "en-calendar_create-lunch", [LUNCH % "today 12:30"])
    assert not result.passed
    assert "calendar_create.start" in result.why


def test_an_extra_action_nobody_asked_for_fails(case_dir: Path) -> None:
    extra = (
        "[" + LUNCH % "tomorrow 12:30" + ', {"name": "calendar_create", "arguments": '
        '{"title": "Lunch", "start": "tomorrow 13:00"}}]'
    )
    result = _run(case_dir, "en-calendar_create-lunch", [extra])
    assert not result.passed
    assert "2 pending" in result.why


def test_an_invented_value_instead_of_a_question_fails(case_dir: Path) -> None:
    invented = (
        '{"name": "calendar_create", "arguments": {"title": "Meeting", "start": "today 15:00"}}'
    )
    result = _run(case_dir, "en-ask-missing-time", [invented])
    assert not result.passed
    assert "instead of a question" in result.why


def test_a_statement_where_a_question_was_needed_fails(case_dir: Path) -> None:
    result = _run(case_dir, "en-ask-missing-time", ["I have added a meeting."])
    assert not result.passed
    assert "no question" in result.why


def test_a_question_for_the_missing_value_passes(case_dir: Path) -> None:
    result = _run(case_dir, "en-ask-missing-time", ["When should the meeting be, and how long?"])
    assert result.passed, result.why


def test_next_week_means_the_next_calendar_week(case_dir: Path) -> None:
    cases, _ = load_cases(case_dir)
    (case,) = [c for c in cases if c.id == "en-calendar_read-next-week"]
    context = Context(zone=ZoneInfo("Europe/Lisbon"), granted="/g")

    def listed(start: str, end: str) -> Outcome:
        result = {"from": start, "to": end, "events": []}
        return Outcome(
            calls=[{"name": "calendar_list", "arguments": {}}],
            ran=[{"name": "calendar_list", "arguments": {}, "result": result}],
            text="Nothing planned.",
        )

    this_week = verdict(case, listed("2026-03-14T00:00+00:00", "2026-03-21T00:00+00:00"), context)
    assert this_week == (False, 'calendar_list.from is "2026-03-14T00:00+00:00"')
    next_week = verdict(case, listed("2026-03-16T00:00+00:00", "2026-03-23T00:00+00:00"), context)
    assert next_week == (True, "as expected")


def test_pending_actions_are_rejected_when_a_case_ends(case_dir: Path) -> None:
    result = _run(case_dir, "en-calendar_create-lunch", [LUNCH % "tomorrow 12:30"])
    assert result.passed, result.why
    assert result.rejected == 1


# -- the command -----------------------------------------------------------------------------


def test_command_prints_lines_per_category_and_language_and_the_headline(
    case_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    replies = [
        LUNCH % "tomorrow 12:30",
        "What time, and for how long?",
        "You have the dentist on Tuesday.",  # an answer made up without looking
    ]
    monkeypatch.setattr(cli, "open_backend", lambda settings, progress: ScriptedBackend(replies))
    monkeypatch.setattr(assistant_runner, "WARM_UP", ())
    report = tmp_path / "report.json"
    code = cli.main(["eval-assistant", str(case_dir), "--report", str(report)])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert "category=ask accuracy=1.000 n=1" in out
    assert "category=calendar_read accuracy=0.000 n=1" in out
    assert "lang=en accuracy=0.667 n=3" in out
    last = out[-1].split()
    assert last[:2] == ["accuracy=0.667", "n=3"]
    assert last[2].startswith("p50_s=") and last[3].startswith("p95_s=")
    document = json.loads(report.read_text(encoding="utf-8"))
    assert {c["id"] for c in document["cases"]} == {
        "en-calendar_create-lunch",
        "en-ask-missing-time",
        "en-calendar_read-next-week",
    }
    assert all(c["turns"][0]["events"] and c["why"] for c in document["cases"])
    unread = next(c for c in document["cases"] if c["id"] == "en-calendar_read-next-week")
    assert unread["why"] == "calendar_list did not run (nothing ran)"


def test_command_refuses_an_empty_split(case_dir: Path, capsys) -> None:
    assert cli.main(["eval-assistant", str(case_dir / "missing")]) == cli.EXIT_ERROR
    assert "neither a case file nor a folder" in capsys.readouterr().err
