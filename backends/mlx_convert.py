"""Turning a Qwen2 GGUF (the bundled model) into an mlx-lm model folder, offline and without torch.

The bundled model ships as a GGUF for llama.cpp; on a Mac the MLX backend needs Hugging Face
layout instead: ``config.json``, ``model.safetensors`` and a tokenizer. Downloading the
mlx-community copy would need a network the app promises not to need, so the GGUF is converted
on the machine: every tensor is dequantized with the ``gguf`` package and renamed to the Hugging
Face Qwen2 names, the tokenizer is rebuilt from the GGUF metadata (the same vocabulary, merges,
special tokens and chat template llama.cpp uses), and on Apple Silicon the result is quantized
with mlx-lm. Measured on the bundled 0.5B model (2-core x86-64): about 30 s and 4 GB peak
memory, 1.26 GB in bf16.

The folder is written under a temporary name and renamed when complete, so an interrupted
conversion never leaves a folder that looks usable.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backends.errors import ModelFileError, RuntimeNotInstalledError

CONVERTER_VERSION = 1
"""Bumped whenever the output changes, so folders converted by an older version are redone."""

# Qwen2's pre-tokenizer (llama.cpp's "qwen2" pre, the Split in Qwen2.5's tokenizer.json).
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_BYTE_LEVEL = {"add_prefix_space": False, "trim_offsets": False, "use_regex": False}

# GGUF tensor names (llama.cpp's qwen2 layout) -> Hugging Face Qwen2 names.
_GLOBAL_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
_BLOCK_NAMES = {
    "attn_norm.weight": "input_layernorm.weight",
    "attn_q.weight": "self_attn.q_proj.weight",
    "attn_q.bias": "self_attn.q_proj.bias",
    "attn_k.weight": "self_attn.k_proj.weight",
    "attn_k.bias": "self_attn.k_proj.bias",
    "attn_v.weight": "self_attn.v_proj.weight",
    "attn_v.bias": "self_attn.v_proj.bias",
    "attn_output.weight": "self_attn.o_proj.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "ffn_gate.weight": "mlp.gate_proj.weight",
    "ffn_up.weight": "mlp.up_proj.weight",
    "ffn_down.weight": "mlp.down_proj.weight",
}
_CONTROL, _USER_DEFINED, _UNUSED = 3, 4, 5  # gguf.TokenType values

Progress = Callable[[int, int], None]


def is_apple_silicon() -> bool:
    """Whether this is a Mac with an Apple chip, where MLX runs on the GPU."""
    return sys.platform == "darwin" and platform.machine() == "arm64"


def default_bits() -> int | None:
    """Quantization for a converted model: 8 bits on Apple Silicon, none elsewhere.

    The GGUF is already 4-5 bit; quantizing its dequantized weights to 4 bits again would round
    them twice, 8 bits keeps them almost exactly and still halves the bf16 size. On Linux the
    model stays in bf16, the form shown to answer sensibly here.
    """
    return 8 if is_apple_silicon() else None


def _import_mlx() -> Any:
    try:
        import mlx.core as mx
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeNotInstalledError(
            "MLX is not installed: pip install 'call-me-maybe[mlx]'"
        ) from exc
    if not hasattr(mx, "array"):  # pragma: no cover - Linux without the [cpu] extra
        raise RuntimeNotInstalledError(
            "this MLX install is the empty Linux stub: pip install 'mlx[cpu]'"
        )
    return mx


def convert_gguf(
    gguf_path: Path,
    out_dir: Path,
    *,
    dtype: str = "bfloat16",
    bits: int | None = None,
    group_size: int = 64,
    progress: Progress | None = None,
) -> Path:
    """Write an mlx-lm model folder for a Qwen2 GGUF file.

    Args:
        gguf_path: the GGUF model (any llama.cpp quantization the ``gguf`` package dequantizes).
        out_dir: the folder to create; replaced if it exists.
        dtype: the MLX dtype of the weights (``"bfloat16"``, ``"float16"``, ``"float32"``).
        bits: quantize with mlx-lm to this many bits (4 or 8), or keep ``dtype`` when ``None``.
        group_size: mlx-lm quantization group size.
        progress: called as ``progress(bytes_done, bytes_total)`` over the GGUF's tensor data.

    Returns:
        ``out_dir``.

    Raises:
        ModelFileError: not a GGUF this converter knows (only the Qwen2 family is mapped).
        RuntimeNotInstalledError: MLX is missing.
    """
    from gguf import GGUFReader

    mx = _import_mlx()
    gguf_path, out_dir = Path(gguf_path), Path(out_dir)
    try:
        reader = GGUFReader(gguf_path)
    except (OSError, ValueError) as exc:
        raise ModelFileError(f"cannot read {gguf_path} as a GGUF file: {exc}") from exc
    meta = _Metadata(reader)
    if meta.get("general.architecture") != "qwen2":
        raise ModelFileError(
            f"{gguf_path.name} is a {meta.get('general.architecture')!r} model; "
            "only Qwen2 GGUF files can be converted to MLX"
        )
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        weights = _weights(reader, getattr(mx, dtype), progress)
        config = _config(meta, weights, dtype)
        mx.save_safetensors(str(work / "model.safetensors"), weights, metadata={"format": "mlx"})
        del weights
        _write_json(work / "config.json", config)
        _write_tokenizer(work, meta)
        _write_json(work / "conversion.json", _provenance(gguf_path, dtype, bits))
        if bits:
            _quantize(work, bits, group_size)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        os.replace(work, out_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return out_dir


def converted_is_current(out_dir: Path, gguf_path: Path, dtype: str, bits: int | None) -> bool:
    """Whether ``out_dir`` holds a finished conversion of this very file with these settings."""
    try:
        done = json.loads((Path(out_dir) / "conversion.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return done == _provenance(Path(gguf_path), dtype, bits)


def _provenance(gguf_path: Path, dtype: str, bits: int | None) -> dict[str, Any]:
    stat = gguf_path.stat()
    return {
        "converter": CONVERTER_VERSION,
        "source": gguf_path.name,
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "dtype": dtype,
        "bits": bits,
    }


class _Metadata:
    """Scalar and list values of a GGUF's key-value section."""

    def __init__(self, reader: Any) -> None:
        self._fields = reader.fields

    def get(self, key: str, default: Any = None) -> Any:
        field = self._fields.get(key)
        return default if field is None else field.contents()

    def require(self, key: str) -> Any:
        value = self.get(key)
        if value is None:
            raise ModelFileError(f"the GGUF metadata has no {key!r}")
        return value


def _weights(reader: Any, dtype: Any, progress: Progress | None) -> dict[str, Any]:
    """Every tensor dequantized, renamed, and cast to ``dtype`` one at a time (bounded memory)."""
    import mlx.core as mx
    import numpy as np
    from gguf.quants import dequantize

    out: dict[str, Any] = {}
    total = sum(int(tensor.n_bytes) for tensor in reader.tensors)
    done = 0
    for tensor in reader.tensors:
        name = _hf_name(tensor.name)
        values = dequantize(tensor.data, tensor.tensor_type)
        # F32/F16 tensors come back in their stored shape; restore the numpy (rows, cols) order.
        shape = tuple(int(n) for n in reversed(tensor.shape))
        out[name] = mx.array(np.ascontiguousarray(values).reshape(shape)).astype(dtype)
        mx.eval(out[name])
        done += int(tensor.n_bytes)
        if progress is not None:
            progress(done, total)
    return out


def _hf_name(gguf_name: str) -> str:
    if gguf_name in _GLOBAL_NAMES:
        return _GLOBAL_NAMES[gguf_name]
    block, _, rest = gguf_name.removeprefix("blk.").partition(".")
    if gguf_name.startswith("blk.") and block.isdigit() and rest in _BLOCK_NAMES:
        return f"model.layers.{block}.{_BLOCK_NAMES[rest]}"
    raise ModelFileError(f"the GGUF has a tensor this converter does not know: {gguf_name!r}")


def _config(meta: _Metadata, weights: dict[str, Any], dtype: str) -> dict[str, Any]:
    """The Hugging Face ``config.json`` of a Qwen2 model, from the GGUF hyperparameters."""
    vocab_rows = int(weights["model.embed_tokens.weight"].shape[0])
    eos = meta.get("tokenizer.ggml.eos_token_id")
    bos = meta.get("tokenizer.ggml.bos_token_id")
    return {
        "architectures": ["Qwen2ForCausalLM"],
        "model_type": "qwen2",
        "hidden_size": int(meta.require("qwen2.embedding_length")),
        "intermediate_size": int(meta.require("qwen2.feed_forward_length")),
        "num_hidden_layers": int(meta.require("qwen2.block_count")),
        "num_attention_heads": int(meta.require("qwen2.attention.head_count")),
        "num_key_value_heads": int(meta.require("qwen2.attention.head_count_kv")),
        "rms_norm_eps": float(meta.require("qwen2.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(meta.get("qwen2.rope.freq_base", 1_000_000.0)),
        "max_position_embeddings": int(meta.require("qwen2.context_length")),
        "vocab_size": vocab_rows,
        "tie_word_embeddings": "lm_head.weight" not in weights,
        "bos_token_id": None if bos is None else int(bos),
        "eos_token_id": None if eos is None else int(eos),
        "torch_dtype": dtype,
    }


def _write_tokenizer(folder: Path, meta: _Metadata) -> None:
    """``tokenizer.json`` and ``tokenizer_config.json`` equivalent to the GGUF's tokenizer.

    Byte-level BPE with Qwen2's pre-tokenizer split; CONTROL and USER_DEFINED tokens become
    added tokens (always matched whole, as llama.cpp does); UNUSED padding rows stay out of the
    tokenizer, as in Qwen's own tokenizer files.
    """
    if meta.get("tokenizer.ggml.model") != "gpt2" or meta.get("tokenizer.ggml.pre") != "qwen2":
        raise ModelFileError("only the Qwen2 byte-level BPE tokenizer can be converted to MLX")
    tokens: list[str] = list(meta.require("tokenizer.ggml.tokens"))
    types: list[int] = [int(t) for t in meta.get("tokenizer.ggml.token_type", [1] * len(tokens))]
    merges = [m.split(" ", 1) for m in meta.require("tokenizer.ggml.merges")]
    vocab: dict[str, int] = {}
    added: list[dict[str, Any]] = []
    for token_id, (text, kind) in enumerate(zip(tokens, types, strict=True)):
        if kind in (_CONTROL, _USER_DEFINED):
            added.append(
                {
                    "id": token_id,
                    "content": text,
                    "single_word": False,
                    "lstrip": False,
                    "rstrip": False,
                    "normalized": False,
                    "special": kind == _CONTROL,
                }
            )
        elif kind != _UNUSED:
            vocab[text] = token_id
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "NFC"},
        "pre_tokenizer": {
            "type": "Sequence",
            "pretokenizers": [
                {
                    "type": "Split",
                    "pattern": {"Regex": QWEN2_SPLIT},
                    "behavior": "Isolated",
                    "invert": False,
                },
                {"type": "ByteLevel", **_BYTE_LEVEL},
            ],
        },
        "post_processor": {"type": "ByteLevel", **_BYTE_LEVEL},
        "decoder": {"type": "ByteLevel", **_BYTE_LEVEL},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": "",
            "end_of_word_suffix": "",
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": vocab,
            "merges": merges,
        },
    }
    _write_json(folder / "tokenizer.json", tokenizer)

    def text_of(key: str) -> str | None:
        token_id = meta.get(key)
        return None if token_id is None else tokens[int(token_id)]

    config: dict[str, Any] = {
        "tokenizer_class": "Qwen2Tokenizer",
        "add_bos_token": bool(meta.get("tokenizer.ggml.add_bos_token", False)),
        "add_prefix_space": False,
        "bos_token": text_of("tokenizer.ggml.bos_token_id"),
        "eos_token": text_of("tokenizer.ggml.eos_token_id"),
        "pad_token": text_of("tokenizer.ggml.padding_token_id"),
        "unk_token": None,
        "clean_up_tokenization_spaces": False,
        "errors": "replace",
        "split_special_tokens": False,
        "model_max_length": int(meta.get("qwen2.context_length", 32768)),
        "added_tokens_decoder": {
            str(a["id"]): {k: v for k, v in a.items() if k != "id"} for a in added
        },
    }
    template = meta.get("tokenizer.chat_template")
    if template:
        config["chat_template"] = template
    _write_json(folder / "tokenizer_config.json", config)


def _quantize(folder: Path, bits: int, group_size: int) -> None:
    """Quantize the weights in ``folder`` in place with mlx-lm (config gains its record)."""
    from mlx_lm.utils import load_model, quantize_model, save_config, save_model

    model, config = load_model(folder, lazy=True)
    model, config = quantize_model(model, config, group_size, bits)
    (folder / "model.safetensors").unlink()
    save_model(folder, model, donate_model=True)
    save_config(config, config_path=folder / "config.json")


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
