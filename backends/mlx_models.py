"""Model files for the MLX backend: the model setting turned into a checked mlx-lm folder.

The MLX backend reads Hugging Face layout (``config.json``, safetensors, tokenizer files), not
GGUF. The same ``model`` setting the llama.cpp backend uses is read this way:

* ``bundled``, or any local ``.gguf`` file: converted once (see :mod:`backends.mlx_convert`)
  into ``models/mlx/``, and reused while the source file is unchanged.
* ``hf:OWNER/REPO[@REVISION]``: an mlx-lm repository (an ``mlx-community`` model), its files
  downloaded one by one through :func:`backends.hub.download_model` (resumable, checked), so
  no hub listing call is needed and ``HF_ENDPOINT`` is honoured as for GGUF downloads.
  ``hf:OWNER/REPO/FILE.gguf`` downloads that GGUF and converts it.
* a local folder: used as it is, after a look at its files.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any, BinaryIO

from backends.errors import ModelDownloadError, ModelFileError
from backends.gguf_check import check_gguf_file
from backends.model_files import (
    BUNDLED_MODEL,
    HUB_SUBDIR,
    Progress,
    ensure_bundled_model,
    parse_hub_spec,
)

MLX_SUBDIR = "mlx"
MLX_SPEC_FORMS = (
    "'bundled', a .gguf file or an MLX model folder, 'hf:OWNER/REPO[@REVISION]' (an MLX "
    "repository) or 'hf:OWNER/REPO/FILE.gguf[@REVISION]'"
)
REQUIRED_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")
OPTIONAL_FILES = ("special_tokens_map.json", "generation_config.json", "chat_template.jinja")
WEIGHTS_INDEX = "model.safetensors.index.json"
SINGLE_WEIGHTS = "model.safetensors"


def resolve_mlx_model(
    spec: str, models_dir: Path, progress: Progress | None = None, *, bits: int | None = None
) -> Path:
    """Turn the model setting into an mlx-lm model folder, converting or downloading first.

    Args:
        spec: the model setting (see the module docstring).
        models_dir: the app's models directory.
        progress: byte progress of a join, download or conversion.
        bits: quantization of a converted GGUF (default: :func:`mlx_convert.default_bits`).

    Raises:
        ModelFileError: unknown spec, a file that cannot be made ready (``ModelDownloadError``
            for a failed download), or a GGUF the converter does not handle.
    """
    text = spec.strip()
    models_dir = Path(models_dir)
    if not text:
        raise ModelFileError(f"No model is set: use {MLX_SPEC_FORMS}.")
    if text == "bundled":
        gguf = ensure_bundled_model(models_dir, BUNDLED_MODEL, progress=progress)
        return converted_model(gguf, models_dir / MLX_SUBDIR, progress, bits=bits)
    if text.startswith("hf:"):
        location = text.removeprefix("hf:").split("@", 1)[0]
        if location.lower().endswith(".gguf"):
            from backends.hub import download_model

            repo_id, filename, revision = parse_hub_spec(text)
            gguf = download_model(
                repo_id, filename, models_dir / HUB_SUBDIR, revision=revision, progress=progress
            )
            return converted_model(gguf, models_dir / MLX_SUBDIR, progress, bits=bits)
        repo_id, revision = parse_repo_spec(text)
        return download_mlx_repo(repo_id, models_dir / HUB_SUBDIR, revision, progress)
    path = Path(text).expanduser()
    if path.is_dir():
        check_mlx_folder(path)
        return path
    if path.suffix.lower() == ".gguf" or path.is_file():
        check_gguf_file(path)
        return converted_model(path, models_dir / MLX_SUBDIR, progress, bits=bits)
    raise ModelFileError(f"The model {text!r} does not exist: use {MLX_SPEC_FORMS}.")


def converted_model(
    gguf: Path, dest_root: Path, progress: Progress | None = None, *, bits: int | None = None
) -> Path:
    """The MLX folder converted from ``gguf``, converting it now unless a current one exists."""
    from backends.mlx_convert import convert_gguf, converted_is_current, default_bits

    bits = default_bits() if bits is None else (bits or None)
    out = Path(dest_root) / f"{Path(gguf).stem}-{f'q{bits}' if bits else 'bf16'}"
    if not converted_is_current(out, gguf, "bfloat16", bits):
        convert_gguf(gguf, out, bits=bits, progress=progress)
    return out


def parse_repo_spec(spec: str) -> tuple[str, str | None]:
    """Split ``"hf:OWNER/REPO[@REVISION]"`` into (repo id, revision)."""
    body = spec.removeprefix("hf:")
    repo_id, at, revision = body.partition("@")
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts) or (at and not revision):
        raise ModelFileError(
            f"The model setting {spec!r} is not an MLX repository address: write "
            f"hf:OWNER/REPO, optionally followed by @REVISION."
        )
    return repo_id, revision or None


def download_mlx_repo(
    repo_id: str, dest_dir: Path, revision: str | None = None, progress: Progress | None = None
) -> Path:
    """Download an mlx-lm repository's files (once) and return the local folder.

    Fetches the config and tokenizer files, the optional ones the repository has, and the
    weights: the shards named by ``model.safetensors.index.json``, or ``model.safetensors``.

    Raises:
        ModelDownloadError: the hub, the repository or a required file is missing, or a file
            is corrupt; one sentence says which.
    """
    from backends.hub import download_model

    def fetch(filename: str, *, optional: bool = False) -> Path | None:
        try:
            return download_model(
                repo_id, filename, dest_dir, revision, progress=progress, check=check_model_file
            )
        except ModelDownloadError as exc:
            if optional and _is_missing_file(exc):
                return None
            raise

    folder = None
    for name in REQUIRED_FILES:
        folder = fetch(name).parent  # type: ignore[union-attr]
    for name in OPTIONAL_FILES:
        fetch(name, optional=True)
    index = fetch(WEIGHTS_INDEX, optional=True)
    if index is None:
        fetch(SINGLE_WEIGHTS)
    else:
        for shard in sorted(set(_read_json(index).get("weight_map", {}).values())):
            fetch(shard)
    assert folder is not None
    check_mlx_folder(folder)
    return folder


def _is_missing_file(exc: ModelDownloadError) -> bool:
    from huggingface_hub.errors import RemoteEntryNotFoundError

    return isinstance(exc.__cause__, RemoteEntryNotFoundError)


def check_mlx_folder(folder: Path) -> None:
    """Check that ``folder`` looks like an mlx-lm model (config, weights, tokenizer).

    Raises:
        ModelFileError: a file is missing or damaged; the message names it.
    """
    for name in ("config.json", "tokenizer_config.json"):
        check_model_file(folder / name)
    weights = sorted(folder.glob("*.safetensors"))
    if not weights:
        raise ModelFileError(f"{folder} has no .safetensors weights: not an MLX model folder")
    for path in weights:
        check_model_file(path)


def check_model_file(path: Path, *, label: str | None = None) -> None:
    """Check one file of an MLX model: safetensors complete, JSON parseable, others present.

    Raises:
        ModelFileError: missing, truncated or unreadable.
    """
    path = Path(path)
    what = label or f"The model file {path}"
    try:
        size = path.stat().st_size
        if path.name.endswith(".safetensors"):
            with path.open("rb") as handle:
                _check_safetensors(handle.read(8), handle, size, what)
        elif path.name.endswith(".json"):
            _read_json(path)
    except FileNotFoundError as exc:
        raise ModelFileError(f"{what} is missing.") from exc
    except OSError as exc:
        raise ModelFileError(f"{what} cannot be read ({exc.strerror or exc}).") from exc
    except ValueError as exc:
        raise ModelFileError(f"{what} is damaged ({exc}).") from exc


def _check_safetensors(head: bytes, handle: BinaryIO, size: int, what: str) -> None:
    """A safetensors file: an 8-byte header length, a JSON header, then every tensor's bytes."""
    if len(head) < 8:
        raise ModelFileError(f"{what} is truncated (no safetensors header).")
    (header_len,) = struct.unpack("<Q", head)
    if header_len > size - 8:
        raise ModelFileError(f"{what} is truncated (its header runs past the end).")
    header = json.loads(handle.read(header_len))
    end = max(
        (int(t["data_offsets"][1]) for k, t in header.items() if k != "__metadata__"), default=0
    )
    if 8 + header_len + end > size:
        raise ModelFileError(
            f"{what} is truncated: {size:,} bytes, its header describes {8 + header_len + end:,}."
        )


def _read_json(path: Path) -> dict[str, Any]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    return data
