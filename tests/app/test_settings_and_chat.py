"""Settings on disk, the data directory override, and the terminal chat of `callmemaybe`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from app.paths import data_dir
from app.settings import Settings, load_settings, save_settings


def test_data_directory_follows_callmemaybe_home(_isolated_home: Path) -> None:
    """Every test (and any user who sets it) gets its own data directory."""
    assert data_dir() == _isolated_home
    assert _isolated_home.is_dir()


def test_settings_round_trip_and_defaults(_isolated_home: Path) -> None:
    assert load_settings() == Settings()  # no file yet: defaults
    save_settings(Settings(threads=1, model="/models/x.gguf"))
    assert load_settings().threads == 1
    assert json.loads((_isolated_home / "settings.json").read_text())["model"] == "/models/x.gguf"
    assert not list(_isolated_home.glob("*.tmp"))  # the atomic write left nothing behind


def test_settings_reject_out_of_range_values() -> None:
    with pytest.raises(ValueError):
        Settings(context_tokens=100)


def test_chat_answers_until_an_empty_line(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_long_gguf: Path,
    memory_keyring: object,
) -> None:
    """`callmemaybe chat` runs turns of the assistant and quits on an empty line; the
    conversation is kept in the store."""
    lines = iter(["hello there", ""])
    monkeypatch.setattr("builtins.input", lambda prompt="": next(lines))
    code = main(["chat", "--model", str(tiny_long_gguf), "--max-tokens", "8"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.count("assistant> ") == 1
    assert "Type a message" in err
    assert main(["history"]) == 0
    assert "conversation #1: hello there" in capsys.readouterr().out


def test_chat_quits_on_end_of_input(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_gguf_path: Path,
    memory_keyring: object,
) -> None:
    def eof(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("builtins.input", eof)
    assert main(["chat", "--model", str(tiny_gguf_path)]) == 0
