"""The ``callmemaybe`` command as a script or a user drives it, on the tiny generated model."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from app.cli import main
from app.settings import Settings, save_settings

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "set_volume",
            "description": "Set the speaker volume in percent",
            "parameters": {
                "type": "object",
                "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 50}},
                "required": ["level"],
            },
        },
    }
]


@pytest.fixture
def tools_file(tmp_path: Path) -> Path:
    path = tmp_path / "tools.json"
    path.write_text(json.dumps(TOOLS), encoding="utf-8")
    return path


def _call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_call_prints_text_or_valid_tool_calls_as_json(
    capsys: pytest.CaptureFixture[str], tools_file: Path, tiny_gguf_path: Path
) -> None:
    """The answer is one JSON object: text, or calls whose arguments match the schema."""
    code, out, err = _call(
        capsys,
        "call",
        "--tools",
        str(tools_file),
        "--model",
        str(tiny_gguf_path),
        "--threads",
        "1",
        "--max-tokens",
        "64",
        "--system",
        "You set volumes.",
        "Set the volume to 120",
    )
    assert code == 0, err
    answer = json.loads(out)
    assert set(answer) in ({"text"}, {"tool_calls"})
    for call in answer.get("tool_calls", []):
        assert call["name"] == "set_volume"
        jsonschema.validate(call["arguments"], TOOLS[0]["function"]["parameters"])
        assert isinstance(call["conflicts"], list)


def test_call_accepts_bfcl_function_lists(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_gguf_path: Path
) -> None:
    """A BFCL entry's ``function`` list (type "dict", "float") works as a tools file."""
    bfcl = {
        "function": [
            {
                "name": "calc.area",
                "description": "Area of a triangle",
                "parameters": {
                    "type": "dict",
                    "properties": {"base": {"type": "float"}, "height": {"type": "float"}},
                    "required": ["base", "height"],
                },
            }
        ]
    }
    path = tmp_path / "bfcl.json"
    path.write_text(json.dumps(bfcl), encoding="utf-8")
    code, out, err = _call(
        capsys,
        "call",
        "--tools",
        str(path),
        "--model",
        str(tiny_gguf_path),
        "--max-tokens",
        "64",
        "hi",
    )
    assert code == 0, err
    assert json.loads(out)


def test_unconstrained_flag_runs_without_grammar(
    capsys: pytest.CaptureFixture[str], tools_file: Path, tiny_gguf_path: Path
) -> None:
    """--unconstrained still prints one JSON answer (whatever the model wrote)."""
    code, out, err = _call(
        capsys,
        "call",
        "--unconstrained",
        "--tools",
        str(tools_file),
        "--model",
        str(tiny_gguf_path),
        "--max-tokens",
        "16",
        "hi",
    )
    assert code == 0, err
    assert set(json.loads(out)) <= {"text", "tool_calls"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"tools": 3}', "list of tools"),
        ('[{"name": "bad name!"}]', "invalid name"),
        ("[]", "no tools"),
    ],
)
def test_bad_tools_file_is_one_clear_sentence(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_gguf_path: Path,
    content: str,
    message: str,
) -> None:
    """A malformed tools file exits 2 with a message saying what is wrong, no traceback."""
    path = tmp_path / "tools.json"
    path.write_text(content, encoding="utf-8")
    code, out, err = _call(
        capsys, "call", "--tools", str(path), "--model", str(tiny_gguf_path), "x"
    )
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_missing_tools_file_is_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_gguf_path: Path
) -> None:
    code, _, err = _call(
        capsys, "call", "--tools", str(tmp_path / "nope.json"), "--model", str(tiny_gguf_path), "x"
    )
    assert code == 2 and "cannot read the tools file" in err


def test_missing_model_is_reported(
    capsys: pytest.CaptureFixture[str], tools_file: Path, tmp_path: Path
) -> None:
    """Pointing at a model that is not there names the path."""
    missing = tmp_path / "missing.gguf"
    code, _, err = _call(capsys, "call", "--tools", str(tools_file), "--model", str(missing), "x")
    assert code == 2 and "missing.gguf" in err


def test_invalid_settings_file_is_reported(
    capsys: pytest.CaptureFixture[str], tools_file: Path, _isolated_home: Path
) -> None:
    """A hand-edited settings.json with a bad value says which field, instead of crashing."""
    _isolated_home.mkdir(parents=True, exist_ok=True)
    (_isolated_home / "settings.json").write_text('{"threads": 0}', encoding="utf-8")
    code, _, err = _call(capsys, "call", "--tools", str(tools_file), "x")
    assert code == 2 and "threads" in err


def test_settings_file_picks_the_model(
    capsys: pytest.CaptureFixture[str], tools_file: Path, tiny_gguf_path: Path
) -> None:
    """The model configured in settings.json is used when --model is not given."""
    save_settings(Settings(model=str(tiny_gguf_path), threads=1, max_tokens=32))
    code, out, err = _call(capsys, "model")
    assert code == 0, err
    assert out.strip() == str(tiny_gguf_path)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("callmemaybe ")
