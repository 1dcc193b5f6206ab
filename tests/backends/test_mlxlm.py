"""What only the MLX backend does: converting GGUF files, matching llama.cpp, hub folders.

Real MLX on the CPU (``mlx[cpu]`` on Linux), on the tiny GGUF converted by the same code that
converts the bundled model. The shared behaviour of every backend is in
``test_backend_contract.py``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import gguf
import numpy as np
import pytest

from backends.base import GenerateOptions
from backends.errors import ModelDownloadError, ModelFileError
from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.schema import parse_tools
from tests.backends.test_backend_contract import WEATHER, _messages
from tests.hub_server import HubServer, serve_hub
from tests.tiny_model import TINY_SPECIAL_TOKEN_IDS, TINY_VOCAB_SIZE

llama_cpp = pytest.importorskip("llama_cpp")
mlx_lm = pytest.importorskip("mlx_lm")
mx = pytest.importorskip("mlx.core")

from backends.mlx_convert import convert_gguf, converted_is_current  # noqa: E402
from backends.mlx_models import check_model_file, resolve_mlx_model  # noqa: E402
from backends.mlxlm import MlxBackend, MlxSettings  # noqa: E402

VOLUME = {
    "name": "set_volume",
    "parameters": {
        "type": "object",
        "properties": {"level": {"type": "integer", "minimum": 0, "maximum": 50}},
        "required": ["level"],
    },
}


@pytest.fixture(scope="module")
def pair(tiny_gguf_path: Path, tiny_mlx_path: Path) -> Iterator[tuple[MlxBackend, LlamaCppBackend]]:
    """The tiny model loaded by both runtimes."""
    mlx_backend = MlxBackend(MlxSettings(n_ctx=2048))
    mlx_backend.load(tiny_mlx_path)
    llama = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1))
    llama.load(tiny_gguf_path)
    yield mlx_backend, llama
    mlx_backend.close()
    llama.close()


# -- the conversion ---------------------------------------------------------------------------


def test_converted_folder_has_the_hugging_face_qwen2_layout(tiny_mlx_path: Path) -> None:
    """config.json carries the GGUF's hyperparameters; the tokenizer keeps Qwen's specials."""
    config = json.loads((tiny_mlx_path / "config.json").read_text())
    assert config["model_type"] == "qwen2"
    assert (config["hidden_size"], config["num_hidden_layers"]) == (64, 2)
    assert (config["num_attention_heads"], config["num_key_value_heads"]) == (4, 2)
    assert config["vocab_size"] == TINY_VOCAB_SIZE
    assert config["tie_word_embeddings"] is False  # the tiny GGUF has its own output matrix
    assert config["eos_token_id"] == TINY_SPECIAL_TOKEN_IDS["<|im_end|>"]
    tokenizer = json.loads((tiny_mlx_path / "tokenizer.json").read_text())
    added = {t["content"]: (t["id"], t["special"]) for t in tokenizer["added_tokens"]}
    assert added["<|im_end|>"] == (TINY_SPECIAL_TOKEN_IDS["<|im_end|>"], True)
    assert added["<tool_call>"] == (TINY_SPECIAL_TOKEN_IDS["<tool_call>"], False)
    tokenizer_config = json.loads((tiny_mlx_path / "tokenizer_config.json").read_text())
    assert "<tool_call>" in tokenizer_config["chat_template"]
    check_model_file(tiny_mlx_path / "model.safetensors")


def test_converted_model_tokenizes_and_computes_like_llama_cpp(
    pair: tuple[MlxBackend, LlamaCppBackend],
) -> None:
    """Same token ids for the same text (specials included) and the same logits, within
    float rounding: the tensors were dequantized, renamed and laid out right."""
    mlx_backend, llama = pair
    tools = parse_tools([WEATHER])
    prompt = mlx_backend.render(_messages('Grüße 👋 {"city": 12}'), tools) + "<tool_call>"
    ids = mlx_backend.tokenize(prompt)
    assert ids == llama.tokenize(prompt)
    ours = np.array(mlx_backend.model(mx.array(ids)[None])[0, -1].astype(mx.float32))
    llama.llm.reset()
    llama.llm.eval(ids)
    pointer = llama_cpp.llama_get_logits_ith(llama.llm.ctx, -1)
    theirs = np.ctypeslib.as_array(pointer, shape=(llama.llm.n_vocab(),))
    assert np.abs(ours - theirs).max() < 0.05 * theirs.std()
    assert int(np.argmax(ours)) == int(np.argmax(theirs))


def test_greedy_answers_are_the_same_as_llama_cpp(
    pair: tuple[MlxBackend, LlamaCppBackend],
) -> None:
    """Greedy decoding under the grammar gives llama.cpp's answer token for token, with the
    same forced tokens and the same conflict flags: both runtimes share the decode logic."""
    mlx_backend, llama = pair
    requests = [
        (parse_tools([WEATHER]), GenerateOptions(allow_text=False, max_tokens=400)),
        (parse_tools([VOLUME, WEATHER]), GenerateOptions(max_tokens=200)),
        (None, GenerateOptions(max_tokens=40)),
    ]
    flagged = 0
    for tools, options in requests:
        ours = mlx_backend.generate(_messages("Set it to 120"), tools, options=options)
        theirs = llama.generate(_messages("Set it to 120"), tools, options=options)
        assert ours.raw == theirs.raw
        assert ours.forced_tokens == theirs.forced_tokens
        assert [c.conflicts for c in ours.tool_calls] == [c.conflicts for c in theirs.tool_calls]
        flagged += sum(len(c.conflicts) for c in ours.tool_calls)
    assert flagged  # random weights fight the grammar: the flags were compared, not empty


def test_a_changed_source_is_converted_again(tiny_gguf_path: Path, tmp_path: Path) -> None:
    """The folder records what it was made from; another file (or settings) is not 'current'."""
    out = convert_gguf(tiny_gguf_path, tmp_path / "m", dtype="float32")
    assert converted_is_current(out, tiny_gguf_path, "float32", None)
    assert not converted_is_current(out, tiny_gguf_path, "bfloat16", None)
    assert not converted_is_current(out, tiny_gguf_path, "float32", 8)
    assert not converted_is_current(tmp_path / "absent", tiny_gguf_path, "float32", None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary folder left


def test_quantized_conversion_still_obeys_the_grammar(tiny_gguf_path: Path, tmp_path: Path) -> None:
    """The mlx-lm quantization used on Apple Silicon produces a model MLX loads and decodes."""
    out = convert_gguf(tiny_gguf_path, tmp_path / "q8", bits=8)
    assert json.loads((out / "config.json").read_text())["quantization"]["bits"] == 8
    backend = MlxBackend()
    backend.load(out)
    tools = parse_tools([VOLUME])
    completion = backend.generate(
        _messages(), tools, options=GenerateOptions(allow_text=False, max_tokens=100)
    )
    (call, *_) = completion.tool_calls
    assert call.valid and 0 <= call.arguments["level"] <= 50


def test_only_qwen2_files_are_converted(tmp_path: Path) -> None:
    """Another architecture is refused with a sentence, before anything is written."""
    path = tmp_path / "llama.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_tensor("token_embd.weight", np.zeros((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(ModelFileError, match="only Qwen2"):
        convert_gguf(path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# -- loading and model files ------------------------------------------------------------------


def test_a_folder_that_is_not_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not an MLX model folder"):
        MlxBackend().load(tmp_path)


def test_truncated_weights_are_caught(tiny_mlx_path: Path, tmp_path: Path) -> None:
    """An interrupted copy of the weights is named before MLX reads it."""
    data = (tiny_mlx_path / "model.safetensors").read_bytes()
    cut = tmp_path / "model.safetensors"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        check_model_file(cut)


def test_a_gguf_setting_is_converted_once_into_the_models_folder(
    tiny_gguf_path: Path, tmp_path: Path
) -> None:
    """With the MLX backend a .gguf model setting is converted on first use, then reused."""
    models = tmp_path / "models"
    folder = resolve_mlx_model(str(tiny_gguf_path), models)
    assert folder.parent == models / "mlx"
    stamp = (folder / "model.safetensors").stat().st_mtime_ns
    assert resolve_mlx_model(str(tiny_gguf_path), models) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == stamp


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[HubServer]:
    with serve_hub(monkeypatch) as server:
        yield server


def test_an_mlx_repository_is_downloaded_from_the_hub_and_runs(
    hub: HubServer, tiny_mlx_path: Path, tmp_path: Path
) -> None:
    """``hf:OWNER/REPO`` fetches an mlx-community style repository file by file (through
    ``HF_ENDPOINT``, here a local stand-in), and the folder loads and decodes."""
    repo = "mlx-community/tiny-qwen2-mlx"
    for path in tiny_mlx_path.iterdir():
        hub.add_file(repo, path.name, path.read_bytes(), lfs=path.suffix == ".safetensors")
    folder = resolve_mlx_model(f"hf:{repo}", tmp_path / "models")
    assert folder == tmp_path / "models" / "hub" / "mlx-community" / "tiny-qwen2-mlx" / "main"
    assert (folder / "model.safetensors").read_bytes() == (
        tiny_mlx_path / "model.safetensors"
    ).read_bytes()
    backend = MlxBackend()
    backend.load(folder)
    completion = backend.generate(
        _messages(), parse_tools([VOLUME]), options=GenerateOptions(allow_text=False)
    )
    assert completion.tool_calls[0].valid
    gets = len(hub.gets())
    assert resolve_mlx_model(f"hf:{repo}", tmp_path / "models") == folder
    assert len(hub.gets()) == gets  # already there: nothing asked of the hub


def test_a_repository_without_weights_is_a_download_error(
    hub: HubServer, tiny_mlx_path: Path, tmp_path: Path
) -> None:
    repo = "someone/no-weights"
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        hub.add_file(repo, name, (tiny_mlx_path / name).read_bytes(), lfs=False)
    with pytest.raises(ModelDownloadError, match="no such file"):
        resolve_mlx_model(f"hf:{repo}", tmp_path / "models")


# -- the app ----------------------------------------------------------------------------------


def test_backend_setting_and_auto_choice(
    tiny_gguf_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """'mlx' opens MLX on the converted model; 'auto' means MLX on Apple Silicon only."""
    import app.runtime as runtime
    from app.settings import Settings

    opened = runtime.open_backend(Settings(backend="mlx", model=str(tiny_gguf_path)))
    try:
        assert isinstance(opened, MlxBackend)
        assert opened.generate(_messages(), options=GenerateOptions(max_tokens=3)).raw
    finally:
        opened.close()
    assert runtime.backend_name(Settings()) == "llama.cpp"  # this Linux machine
    monkeypatch.setattr(runtime, "is_apple_silicon", lambda: True)
    assert runtime.backend_name(Settings()) == "mlx"
    assert runtime.backend_name(Settings(backend="llama.cpp")) == "llama.cpp"


def test_cli_converts_and_calls_with_the_mlx_backend(
    capsys: pytest.CaptureFixture[str], tiny_gguf_path: Path, tmp_path: Path
) -> None:
    """``model convert-mlx`` prints the folder; ``call --backend mlx`` answers from it."""
    from app.cli import main

    out = tmp_path / "converted"
    assert main(["model", "convert-mlx", str(tiny_gguf_path), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    tools = tmp_path / "tools.json"
    tools.write_text(json.dumps([VOLUME]), encoding="utf-8")
    argv = ["call", "--backend", "mlx", "--model", str(out), "--tools", str(tools)]
    assert main([*argv, "--max-tokens", "64", "Set the volume to 20"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) <= {"text", "tool_calls"}


@pytest.mark.bundled_model
@pytest.mark.skipif(
    os.environ.get("CALLMEMAYBE_TEST_MLX_BUNDLED") != "1",
    reason="converts the 0.5B model (30 s, 4 GB); set CALLMEMAYBE_TEST_MLX_BUNDLED=1",
)
def test_the_bundled_model_converted_to_mlx_calls_the_tool(
    bundled_model_path: Path, tmp_path: Path
) -> None:
    """The real model, converted offline, makes the call it makes on llama.cpp
    (``test_bundled_model.py``: same request, same tools)."""
    from tests.backends.test_bundled_model import SYSTEM, VOLUME, WEATHER

    folder = convert_gguf(bundled_model_path, tmp_path / "bundled-mlx")
    backend = MlxBackend(MlxSettings(n_ctx=4096))
    backend.load(folder)
    answer = backend.generate(
        [SYSTEM, {"role": "user", "content": "What's the weather in Paris, in celsius?"}],
        parse_tools([WEATHER, VOLUME]),
    )
    (call,) = answer.tool_calls
    assert call.name == "get_weather"
    assert call.arguments == {"city": "Paris", "unit": "celsius"}
    assert call.conflicts == ()
