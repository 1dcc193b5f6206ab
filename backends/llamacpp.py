"""The llama.cpp runtime (llama-cpp-python), with its own constrained decode loop.

llama-cpp-python's sampler chain is bypassed on purpose: the shared decode loop
(:mod:`backends.speculation`) asks the grammar only when the model's top token is refused (see
:mod:`backends.decoding`), decodes the tokens the grammar forces in one batch, and checks
copy-speculation drafts in that same batch (this module fills the batch with a logits row per
draft token and drops a refused draft from the KV cache). Measured on the bundled model that
is faster per token than unconstrained decoding, where a ``logits_processor`` costs 1.1x and
llama.cpp's own JSON-schema GBNF 1.65-1.8x (and the GBNF converter does not enforce integer
ranges).

The KV cache is reused across requests: the longest common token prefix with what is already
evaluated stays, and the system-and-tools prefix is persisted per (model, prefix) through
:class:`~backends.prefix_cache.PrefixCache`, so a restarted app skips its 5-6 s prompt read.
"""

from __future__ import annotations

import contextlib
import ctypes
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backends.base import CancelToken, GenerateOptions, Message
from backends.chat_template import ChatTemplate
from backends.cpu_threads import idle_threads
from backends.errors import (
    BackendError,
    ModelFileError,
    RuntimeNotInstalledError,
)
from backends.generation import GenerationEvent
from backends.ggml_backends import ensure_cpu_backend
from backends.gguf_check import check_gguf_file
from backends.local import LocalBackend
from backends.schema import ToolSpec

if TYPE_CHECKING:
    import llama_cpp


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeNotInstalledError(
            "llama.cpp is not installed: pip install 'call-me-maybe[llama]' "
            "(it compiles llama.cpp, about 7 minutes on 2 cores the first time)"
        ) from exc
    ensure_cpu_backend(llama_cpp)  # a portable build loads its CPU variant here
    return llama_cpp


_CPUINFO = Path("/proc/cpuinfo")


def cpu_has_amx(cpuinfo: Path = _CPUINFO) -> bool:
    """Whether the processor reports Intel AMX tiles (Sapphire Rapids and later), read from
    Linux's ``/proc/cpuinfo``; ``False`` where that cannot be read (macOS, Windows)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(
        "amx_tile" in line.split(":", 1)[1].split()
        for line in text.splitlines()
        if line.startswith("flags") and ":" in line
    )


@contextlib.contextmanager
def _without_extra_buffers(llama_cpp: Any) -> Iterator[None]:
    """Load models with llama.cpp's extra weight buffers (AMX, repacking) switched off.

    Why: on a processor with AMX, llama.cpp repacks the weights into its AMX buffer, and its
    AMX matrix product crashes the process (a general-protection fault on ``ldtilecfg``, seen
    here with the bundled Q4_K_M model on a Sapphire Rapids VM; upstream llama.cpp issue 20824:
    the tile config on the stack is optimised away and worker threads lack the tile
    permission). ``Llama()`` has no argument for ``use_extra_bufts``, and it builds the model's
    parameters from ``llama_model_default_params`` at load, so that function is wrapped for
    the length of the load.
    """
    low = llama_cpp.llama_cpp
    default = low.llama_model_default_params

    def params() -> Any:
        value = default()
        value.use_extra_bufts = False
        return value

    low.llama_model_default_params = params
    try:
        yield
    finally:
        low.llama_model_default_params = default


def loading_guard(
    llama_cpp: Any, extra_buffers: bool | None = None
) -> contextlib.AbstractContextManager[None]:
    """What to load a model within: as it is, or with the extra buffers off where AMX is
    present (``extra_buffers=None``) or where they are refused (``False``).

    Public because every process that loads a model with llama.cpp on such a processor needs
    it, ``llama_cpp.server`` started as a test's OpenAI-compatible server included: it crashed
    on its first decode there (CI, a Sapphire Rapids machine).
    """
    extra = extra_buffers if extra_buffers is not None else not cpu_has_amx()
    return contextlib.nullcontext() if extra else _without_extra_buffers(llama_cpp)


@dataclass(frozen=True)
class LlamaSettings:
    """Runtime settings of the llama.cpp backend.

    Attributes:
        n_ctx: context window in tokens (prompt plus answer).
        n_threads: decoding threads; ``None`` picks the cores idle when the model loads
            (:func:`~backends.cpu_threads.idle_threads`): with other load on a 2-core machine
            1 can beat 2.
        n_batch: prompt tokens evaluated per batch.
        extra_buffers: llama.cpp's AMX and repacked weight buffers; ``None`` uses them except
            on a processor with AMX, where llama.cpp's AMX code crashes.
        cache_dir: where prompt-prefix KV states persist across restarts (``None``: memory only).
    """

    n_ctx: int = 4096
    n_threads: int | None = None
    n_batch: int = 256
    extra_buffers: bool | None = None
    cache_dir: Path | None = None


class LlamaCppBackend(LocalBackend):
    """A GGUF model run by llama.cpp.

    Not safe for concurrent generations: one generation at a time holds the model (others wait).
    """

    name = "llama.cpp"

    def __init__(self, settings: LlamaSettings | None = None) -> None:
        self.settings = settings or LlamaSettings()
        super().__init__(self.settings.n_ctx, self.settings.cache_dir)
        self._llm: llama_cpp.Llama | None = None
        self._threads = self.settings.n_threads or 1
        self._model_path: Path | None = None

    # -- loading -------------------------------------------------------------------------------

    def load(self, model_path: Path) -> None:
        """Load a GGUF file.

        Raises:
            ModelFileError: missing, truncated or not a model llama.cpp can read.
            RuntimeNotInstalledError: the ``llama`` extra is not installed.
        """
        model_path = Path(model_path)
        trained = check_gguf_file(model_path).context_length
        llama_cpp = _import_llama_cpp()
        threads = self.settings.n_threads or idle_threads()
        # A context longer than the model was trained for only produces garbage past that point.
        self.n_ctx = min(self.settings.n_ctx, trained or self.settings.n_ctx)
        try:
            with loading_guard(llama_cpp, self.settings.extra_buffers):
                llm = llama_cpp.Llama(
                    model_path=str(model_path),
                    n_ctx=self.n_ctx,
                    n_batch=self.settings.n_batch,
                    n_ubatch=self.settings.n_batch,
                    n_threads=threads,
                    n_threads_batch=threads,
                    logits_all=False,
                    verbose=False,
                )
        except (ValueError, RuntimeError) as exc:
            raise ModelFileError(f"llama.cpp could not load {model_path}: {exc}") from exc
        self.close()
        self._llm = llm
        self._model_path = model_path
        self._threads = threads
        stat = model_path.stat()
        self._model_id = "|".join(
            str(part)
            for part in (
                model_path.resolve(),
                stat.st_size,
                stat.st_mtime_ns,
                self.n_ctx,
                llama_cpp.__version__,
            )
        )
        meta = llm.metadata
        self._arch = meta.get("general.architecture", "")
        vocab = llama_cpp.llama_model_get_vocab(llm.model)
        n_vocab = llm.n_vocab()
        self._eog = frozenset(t for t in range(n_vocab) if llama_cpp.llama_vocab_is_eog(vocab, t))
        self._pieces = {}
        template = meta.get("tokenizer.chat_template")
        if not template:
            raise ModelFileError(f"{model_path.name} has no chat template in its metadata")
        self._template = ChatTemplate(
            template,
            bos_token=self._piece(llm.token_bos()).decode("utf-8", "replace"),
            eos_token=self._piece(llm.token_eos()).decode("utf-8", "replace"),
        )
        from llguidance.llamacpp import lltokenizer_from_vocab

        with warnings.catch_warnings():
            # llguidance 1.9 calls llama_token_get_attr, deprecated in llama-cpp-python 0.3.36
            warnings.simplefilter("ignore", DeprecationWarning)
            # No "slices": they speed up full-mask computation but cost about 55 MB for Qwen's
            # 152k tokens, and the decode loop computes a full mask only when the grammar
            # refuses the model's top token.
            self._lltokenizer = lltokenizer_from_vocab(
                vocab, n_vocab=n_vocab, eos_token=sorted(self._eog), slices=[]
            )
        self._restore_latest()

    def close(self) -> None:
        """Free the model."""
        if self._llm is not None:
            self._llm.close()
            self._llm = None

    @property
    def llm(self) -> llama_cpp.Llama:
        """The loaded llama-cpp-python model."""
        if self._llm is None:
            raise BackendError("no model is loaded")
        return self._llm

    @property
    def n_threads(self) -> int:
        """Decoding threads in use."""
        return self._threads

    # -- text ----------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def _piece(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            llama_cpp = _import_llama_cpp()
            buf = ctypes.create_string_buffer(256)
            vocab = llama_cpp.llama_model_get_vocab(self.llm.model)
            n = llama_cpp.llama_token_to_piece(vocab, token, buf, len(buf), 0, True)
            piece = bytes(buf[: max(n, 0)])
            self._pieces[token] = piece
        return piece

    def _cached_tokens(self) -> Sequence[int]:
        llm = self.llm
        return llm.input_ids[: llm.n_tokens].tolist()

    def _evaluate(self, keep: int, tokens: Sequence[int]) -> None:
        self.llm.n_tokens = keep
        self.llm.eval(tokens)

    def _save(self, key: str, prefix: list[int]) -> None:
        llama_cpp = _import_llama_cpp()
        ctx = self.llm.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        if written and self._prefix_cache is not None:
            self._prefix_cache.save(key, len(prefix), memoryview(buf)[:written], tokens=prefix)

    def _restore(self, key: str, prefix: list[int]) -> bool:
        llama_cpp = _import_llama_cpp()
        assert self._prefix_cache is not None
        payload = self._prefix_cache.load(key, len(prefix))
        if payload is None:
            return False
        llm = self.llm
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm.ctx), True)
        llm.n_tokens = 0
        buf = (ctypes.c_uint8 * len(payload)).from_buffer(payload)
        if llama_cpp.llama_state_seq_set_data(llm.ctx, buf, len(payload), 0) == 0:
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(llm.ctx), True)
            return False
        llm.input_ids[: len(prefix)] = prefix
        llm.n_tokens = len(prefix)
        return True

    # -- generation ----------------------------------------------------------------------------

    def _decode(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None,
        tokens: list[int],
        matcher: Any,
        options: GenerateOptions,
        cancel: CancelToken | None,
    ) -> Iterator[GenerationEvent]:
        try:
            yield from self._run(messages, tools, tokens, matcher, options, cancel)
        except RuntimeError as exc:  # llama_decode failed (out of memory, corrupt state)
            raise BackendError(f"llama.cpp failed while generating: {exc}") from exc

    def _n_cached(self) -> int:
        return self.llm.n_tokens

    def _truncate(self, keep: int) -> None:
        llm = self.llm
        if keep < llm.n_tokens:
            llama_cpp = _import_llama_cpp()
            llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(llm.ctx), -1, keep, -1)
            llm.n_tokens = keep

    def _forward(self, tokens: Sequence[int], first_row: int) -> list[np.ndarray]:
        """Evaluate ``tokens`` in batches of ``n_batch``, with logits for ``tokens[first_row:]``.

        ``Llama.eval`` keeps only the last position's logits; copy speculation needs one row per
        draft token from the same pass, so the batch is filled here (the context's own
        ``llama_batch``: pinned llama-cpp-python 0.3.36 internals, as ``Llama.eval`` uses it).
        """
        llama_cpp = _import_llama_cpp()
        llm = self.llm
        n_vocab = llm.n_vocab()
        rows: list[np.ndarray] = []
        for start in range(0, len(tokens), llm.n_batch):
            chunk = list(tokens[start : start + llm.n_batch])
            n_past = llm.n_tokens
            llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(llm.ctx), -1, n_past, -1)
            llm._batch.set_batch(batch=chunk, n_past=n_past, logits_all=False)
            low = max(0, first_row - start)
            for i in range(low, len(chunk)):
                llm._batch.batch.logits[i] = True
            llm._ctx.decode(llm._batch)
            llm.input_ids[n_past : n_past + len(chunk)] = chunk
            llm.n_tokens += len(chunk)
            if low < len(chunk):
                out = np.ctypeslib.as_array(
                    llama_cpp.llama_get_logits(llm.ctx), shape=(len(chunk) - low, n_vocab)
                )
                last = start + len(chunk) >= len(tokens)
                rows.extend(out if last else out.copy())  # the next batch reuses the buffer
        return rows
