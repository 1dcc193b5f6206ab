"""``callmemaybe eval`` end to end: reading BFCL files, scoring, the report and the last line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.cli import main
from backends.model_files import ensure_bundled_model

BFCL = Path(__file__).resolve().parents[3] / "shared" / "bfcl"
LAST_LINE = re.compile(r"^accuracy=(\d\.\d{3}) valid=(\d\.\d{3}) n=(\d+) p50_s=(\d+\.\d{2})$")

QUESTIONS = [
    {
        "id": "mine_simple_1",
        "question": [[{"role": "user", "content": "Set the volume to 20"}]],
        "function": [
            {
                "name": "set_volume",
                "description": "Set the speaker volume",
                "parameters": {
                    "type": "dict",
                    "properties": {"level": {"type": "integer"}},
                    "required": ["level"],
                },
            }
        ],
    },
    {
        "id": "mine_irrelevance_1",
        "question": [[{"role": "user", "content": "Who wrote Hamlet?"}]],
        "function": [
            {
                "name": "set_volume",
                "description": "Set the speaker volume",
                "parameters": {"type": "dict", "properties": {}, "required": []},
            }
        ],
    },
]
ANSWERS = [{"id": "mine_simple_1", "ground_truth": [{"set_volume": {"level": [20]}}]}]


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_prints_categories_and_the_summary_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_gguf_path: Path
) -> None:
    """Any file in BFCL's format works; answers are found beside it; the report has each entry."""
    questions = _write_jsonl(tmp_path / "mine.json", QUESTIONS)
    _write_jsonl(tmp_path / "possible_answer" / "mine.json", ANSWERS)
    report = tmp_path / "report.json"
    code = main(
        [
            "eval",
            str(questions),
            "--model",
            str(tiny_gguf_path),
            "--max-tokens",
            "64",
            "--report",
            str(report),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("simple: ") and lines[1].startswith("irrelevance: ")
    match = LAST_LINE.match(lines[-1])
    assert match and match.group(3) == "2"
    entries = json.loads(report.read_text())["entries"]
    assert [e["id"] for e in entries] == ["mine_simple_1", "mine_irrelevance_1"]
    assert all({"prompt", "raw", "calls", "correct", "reason"} <= set(e) for e in entries)
    assert "<|im_start|>" in entries[0]["prompt"]


def test_missing_answers_are_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_gguf_path: Path
) -> None:
    questions = _write_jsonl(tmp_path / "mine.json", QUESTIONS)
    code = main(["eval", str(questions), "--model", str(tiny_gguf_path)])
    assert code == 2
    assert "no ground truth for mine_simple_1" in capsys.readouterr().err


def test_malformed_question_file_names_the_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_gguf_path: Path
) -> None:
    questions = tmp_path / "bad.json"
    questions.write_text('{"id": "x_irrelevance_1", "question": [], "function": []}\nnot json\n')
    code = main(["eval", str(questions), "--model", str(tiny_gguf_path)])
    assert code == 2
    assert "line 2" in capsys.readouterr().err


@pytest.mark.bundled_model
@pytest.mark.parametrize("category", ["simple_python", "irrelevance"])
def test_smoke_bundled_model_on_bfcl(
    capsys: pytest.CaptureFixture[str], tmp_path_factory: pytest.TempPathFactory, category: str
) -> None:
    """CI's smoke run: 10 real BFCL entries with the bundled model finish and print the summary."""
    questions = BFCL / f"BFCL_v4_{category}.json"
    if not questions.exists():
        pytest.skip(f"{questions} is absent")
    model = ensure_bundled_model(tmp_path_factory.getbasetemp() / "bundled")
    code = main(["eval", str(questions), "--limit", "10", "--model", str(model)])
    out, err = capsys.readouterr()
    assert code == 0, err
    match = LAST_LINE.match(out.strip().splitlines()[-1])
    assert match and match.group(3) == "10"
    assert match.group(2) == "1.000"  # every emitted call is valid under the grammar


def test_from_skips_the_entries_rules_were_written_on_and_the_report_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_gguf_path: Path
) -> None:
    """``--from N`` scores only the held-out entries (BFCL's first 100 wrote the rules), and
    ``--without`` switches passes off for the run; the report keeps both."""
    questions = _write_jsonl(tmp_path / "mine.json", QUESTIONS)
    _write_jsonl(tmp_path / "possible_answer" / "mine.json", ANSWERS)
    report = tmp_path / "report.json"
    args = ["eval", str(questions), "--model", str(tiny_gguf_path), "--max-tokens", "32"]
    code = main([*args, "--from", "1", "--without", "topic_gate", "--report", str(report)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert LAST_LINE.match(out.strip().splitlines()[-1]).group(3) == "1"  # type: ignore[union-attr]
    saved = json.loads(report.read_text())
    assert [e["id"] for e in saved["entries"]] == ["mine_irrelevance_1"]
    assert saved["settings"]["from"] == 1 and saved["settings"]["without"] == ["topic_gate"]
