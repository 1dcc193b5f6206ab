"""The llama.cpp runtime (llama-cpp-python), with its own constrained decode loop.

llama-cpp-python's sampler chain is bypassed on purpose: the loop here asks the grammar only
when the model's top token is refused (see :mod:`backends.decoding`) and decodes the tokens the
grammar forces in one batch. Measured on the bundled model that is faster per token than
unconstrained decoding, where a ``logits_processor`` costs 1.1x and llama.cpp's own JSON-schema
GBNF 1.65-1.8x (and the GBNF converter does not enforce integer ranges).

The KV cache is reused across requests: the longest common token prefix with what is already
evaluated stays, and the system-and-tools prefix is persisted per (model, prefix) through
:class:`~backends.prefix_cache.PrefixCache`, so a restarted app skips its 5-6 s prompt read.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from backends.base import Backend, CancelToken, GenerateOptions, Message
from backends.call_format import CallFormat, call_format_for, starts_call
from backends.chat_template import ChatTemplate
from backends.decoding import CallShapeNudge, TokenChooser
from backends.errors import (
    BackendError,
    ContextOverflowError,
    GenerationCancelled,
    GenerationIncomplete,
    ModelFileError,
    RuntimeNotInstalledError,
)
from backends.generation import CallDelta, GenerationEvent, TextDelta, Timings
from backends.gguf_check import check_gguf_file
from backends.grammar import build_tool_grammar, text_only_grammar
from backends.output import assemble, byte_to_char_offsets
from backends.prefix_cache import PrefixCache, prefix_key
from backends.schema import ToolSpec

if TYPE_CHECKING:
    import llama_cpp
    import llguidance


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeNotInstalledError(
            "llama.cpp is not installed: pip install 'call-me-maybe[llama]' "
            "(it compiles llama.cpp, about 7 minutes on 2 cores the first time)"
        ) from exc
    return llama_cpp


def default_threads() -> int:
    """Threads for decoding: the physical cores, at most 4 (more rarely helps a 0.5B model)."""
    return max(1, min(4, os.cpu_count() or 1))


@dataclass(frozen=True)
class LlamaSettings:
    """Runtime settings of the llama.cpp backend.

    Attributes:
        n_ctx: context window in tokens (prompt plus answer).
        n_threads: decoding threads; with other load on a 2-core machine 1 can beat 2.
        n_batch: prompt tokens evaluated per batch.
        cache_dir: where prompt-prefix KV states persist across restarts (``None``: memory only).
    """

    n_ctx: int = 4096
    n_threads: int | None = None
    n_batch: int = 256
    cache_dir: Path | None = None


class LlamaCppBackend(Backend):
    """A GGUF model run by llama.cpp.

    Not safe for concurrent generations: one generation at a time holds the model (others wait).
    """

    name = "llama.cpp"
    supports_grammar = True
    supports_prefix_cache = True

    def __init__(self, settings: LlamaSettings | None = None) -> None:
        self.settings = settings or LlamaSettings()
        self.n_ctx = self.settings.n_ctx
        self._llm: llama_cpp.Llama | None = None
        self._lock = threading.Lock()
        self._model_path: Path | None = None
        self._model_id = ""
        self._template: ChatTemplate | None = None
        self._lltokenizer: llguidance.LLTokenizer | None = None
        self._eog: frozenset[int] = frozenset()
        self._pieces: dict[int, bytes] = {}
        self._prefix_tokens: dict[tuple[str, str], list[int]] = {}
        self._prefix_cache = (
            PrefixCache(self.settings.cache_dir) if self.settings.cache_dir else None
        )
        self._arch = ""

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
        threads = self.settings.n_threads or default_threads()
        # A context longer than the model was trained for only produces garbage past that point.
        self.n_ctx = min(self.settings.n_ctx, trained or self.settings.n_ctx)
        try:
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
    def architecture(self) -> str:
        return self._arch

    @property
    def call_format(self) -> CallFormat:
        return call_format_for(self._arch)

    @property
    def n_threads(self) -> int:
        """Decoding threads in use."""
        return self.settings.n_threads or default_threads()

    # -- text ----------------------------------------------------------------------------------

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return b"".join(self._piece(t) for t in tokens).decode("utf-8", "replace")

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

    def render(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        add_generation_prompt: bool = True,
    ) -> str:
        if self._template is None:
            raise BackendError("no model is loaded")
        return self._template.render(
            messages,
            tools=[t.to_openai() for t in tools] if tools else None,
            add_generation_prompt=add_generation_prompt,
        )

    # -- prefix cache --------------------------------------------------------------------------

    def prefix_tokens(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None
    ) -> list[int]:
        """The tokens every prompt with this first system message and these tools starts with.

        Found by rendering different continuations after the same system block (two user
        messages, and a second system message) and keeping their common tokens: whatever the
        template puts before the next message, tools included. Only the first system message
        counts: templates put the tools in its block, and a later one (the assistant's
        "Now: ..." line, which changes every minute) must not be part of the cached prefix.
        """
        system = _leading_system(messages)[:1]
        key = (repr(system), repr([t.to_openai() for t in tools or ()]))
        cached = self._prefix_tokens.get(key)
        if cached is None:
            endings: list[list[Message]] = [
                [{"role": "user", "content": "A"}],
                [{"role": "user", "content": "Z"}],
                [{"role": "system", "content": "A"}, {"role": "user", "content": "A"}],
            ]
            probes = [self.tokenize(self.render([*system, *end], tools)) for end in endings]
            shared = min(_common_prefix(probes[0], probe) for probe in probes[1:])
            cached = probes[0][:shared]
            self._prefix_tokens[key] = cached
        return cached

    def warm_prefix(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None = None
    ) -> float:
        """Make the system-and-tools prefix ready (from memory, disk, or computed and saved).

        Front ends call this at start-up, so the first request after a restart only reads the
        user's words. Returns the seconds it took.
        """
        started = time.perf_counter()
        with self._lock:
            self._ensure_prefix(self.prefix_tokens(messages, tools))
        return time.perf_counter() - started

    def _ensure_prefix(self, prefix: list[int]) -> int:
        """Have ``prefix`` evaluated in the KV cache, restoring it from disk when possible.

        Returns:
            How many tokens had to be computed (0 when memory or disk had them).
        """
        llm = self.llm
        have = _common_prefix(llm.input_ids[: llm.n_tokens].tolist(), prefix)
        if not prefix or have >= len(prefix):
            return 0
        key = prefix_key(self._model_id, prefix)
        if self._prefix_cache is not None and self._restore(key, prefix):
            return 0
        llm.n_tokens = have
        llm.eval(prefix[have:])
        if self._prefix_cache is not None:
            self._save(key, prefix)
        return len(prefix) - have

    def _save(self, key: str, prefix: list[int]) -> None:
        llama_cpp = _import_llama_cpp()
        ctx = self.llm.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        if written and self._prefix_cache is not None:
            self._prefix_cache.save(key, len(prefix), memoryview(buf)[:written])

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

    def _matcher(self, tools: Sequence[ToolSpec], options: GenerateOptions) -> Any:
        import llguidance

        if options.allow_calls:
            fmt = self.call_format
            if options.more_calls is not None and fmt.allow_list:
                fmt = dataclasses.replace(fmt, list_only=True)  # so the planner can add calls
            grammar = build_tool_grammar(tools, fmt, allow_text=options.allow_text)
        else:
            grammar = text_only_grammar()
        matcher = llguidance.LLMatcher(self._lltokenizer, grammar, log_level=0)
        if matcher.is_error():
            raise BackendError(f"the tool grammar failed to start: {matcher.get_error()}")
        return matcher

    def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[GenerationEvent]:
        options = options or GenerateOptions()
        constrained = options.constrained and tools is not None
        grammar_tools = options.constrain_to if options.constrain_to is not None else tools
        matcher = self._matcher(grammar_tools or (), options) if constrained else None
        prompt = self.render(messages, tools)
        tokens = self.tokenize(prompt)
        if len(tokens) >= self.n_ctx:
            raise ContextOverflowError(
                f"the prompt has {len(tokens)} tokens but the context holds "
                f"{self.n_ctx}: shorten the conversation or raise the context size"
            )
        with self._lock:
            try:
                yield from self._decode(messages, tools, tokens, matcher, options, cancel)
            except RuntimeError as exc:  # llama_decode failed (out of memory, corrupt state)
                raise BackendError(f"llama.cpp failed while generating: {exc}") from exc

    def _decode(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None,
        tokens: list[int],
        matcher: Any,
        options: GenerateOptions,
        cancel: CancelToken | None,
    ) -> Iterator[GenerationEvent]:
        llm = self.llm
        llama_cpp = _import_llama_cpp()
        started = time.perf_counter()
        fmt = self.call_format
        nudge = None
        if matcher is not None and (fmt.call_bias or fmt.argument_bias or options.more_calls):
            nudge = CallShapeNudge(
                self._piece,
                more_calls=fmt.call_bias,
                fewer_arguments=fmt.argument_bias,
                plan=options.more_calls,
            )
        chooser = TokenChooser(matcher, self._eog, options.temperature, options.seed, nudge=nudge)
        cached = self._prepare_prompt(messages, tools, tokens)
        prompt_s = time.perf_counter() - started

        out = bytearray()
        emitted = 0  # bytes of `out` already yielded
        overrides: list[tuple[int, bytes]] = []
        produced = forced = 0
        first_token_s = 0.0
        is_call: bool | None = None
        finish: str = "stop"
        budget = min(options.max_tokens, self.n_ctx - llm.n_tokens - 1)
        while True:
            if cancel is not None and cancel.cancelled:
                raise GenerationCancelled("generation was cancelled")
            if produced >= budget:
                finish = "length"
                break
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(llm.ctx, -1), shape=(llm.n_vocab(),)
            )
            step = chooser.step(logits)
            if not first_token_s:
                first_token_s = time.perf_counter() - started
            if step.overridden:
                overrides.append((len(out), self._piece(step.wanted)))
            for index, token in enumerate(step.tokens):
                if index == 1:
                    forced_at = len(out)  # where the grammar took over from the model
                if token not in self._eog:
                    out += self._piece(token)
            produced += len(step.tokens)
            forced += step.forced
            text = _complete_utf8(out, emitted)
            if text:
                if is_call is None:
                    is_call = matcher is not None and starts_call(text, self.call_format)
                emitted += len(text.encode("utf-8"))
                yield CallDelta(text) if is_call else TextDelta(text)
            if not step.stop and llm.n_tokens + len(step.tokens) >= self.n_ctx:
                finish = "length"  # the context is full: no room to evaluate these tokens
                break
            if step.forced and _ends_value(self._piece(step.tokens[1])):
                # The grammar ended a value on its own (an enum, a bound): look at what the
                # model wanted there, or "120" clipped to 12 would pass without a flag.
                wanted = self._eval_checking_first(step.tokens, stop=step.stop)
                if wanted != step.tokens[1] and wanted not in self._eog:
                    overrides.append((forced_at, self._piece(wanted)))
            elif not step.stop:
                llm.eval(step.tokens)
            if step.stop:
                break

        raw = out.decode("utf-8", "replace")
        cut_in_call = is_call or (is_call is None and starts_call(raw, self.call_format))
        if (
            finish == "length"
            and matcher is not None
            and not matcher.is_accepting()
            and cut_in_call
        ):
            raise GenerationIncomplete(
                f"the model used its whole budget of {options.max_tokens} tokens before "
                "finishing the tool call; nothing was run",
                partial_text=raw,
            )
        if out[emitted:]:
            tail = bytes(out[emitted:]).decode("utf-8", "replace")
            yield CallDelta(tail) if is_call else TextDelta(tail)
        yield assemble(
            raw,
            tools or (),
            self.call_format,
            overrides=byte_to_char_offsets(bytes(out), overrides),
            finish_reason="length" if finish == "length" else "stop",
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            completion_tokens=produced,
            forced_tokens=forced,
            timings=Timings(
                prompt_s=prompt_s,
                first_token_s=first_token_s,
                total_s=time.perf_counter() - started,
            ),
        )

    def _eval_checking_first(self, tokens: list[int], *, stop: bool) -> int:
        """Evaluate a chosen token and the tokens forced after it; return the model's own pick
        for the first forced position.

        Both logits rows come from one batch (the forced tokens cost no extra pass). When the
        generation stops here, only the chosen token is evaluated, just to read that pick.
        """
        llama_cpp = _import_llama_cpp()
        llm = self.llm
        batch = tokens[:1] if stop or len(tokens) > llm.n_batch else tokens
        n_past = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, n_past, -1)  # pinned llama-cpp-python 0.3.36 internals
        llm._batch.set_batch(batch=batch, n_past=n_past, logits_all=False)
        llm._batch.batch.logits[0] = True
        llm._ctx.decode(llm._batch)
        llm.input_ids[n_past : n_past + len(batch)] = batch
        llm.n_tokens += len(batch)
        first = np.ctypeslib.as_array(
            llama_cpp.llama_get_logits_ith(llm.ctx, 0), shape=(llm.n_vocab(),)
        )
        wanted = int(np.argmax(first))
        if len(batch) < len(tokens) and not stop:
            llm.eval(tokens[len(batch) :])  # a forced run longer than one batch
        return wanted

    def _prepare_prompt(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None, tokens: list[int]
    ) -> int:
        """Evaluate ``tokens``, reusing what the KV cache or the disk cache holds.

        Returns:
            How many prompt tokens were not computed by this request.
        """
        llm = self.llm
        prefix = self.prefix_tokens(messages, tools)
        computed = 0
        if prefix and tokens[: len(prefix)] == prefix:
            computed = self._ensure_prefix(prefix)
        reused = _common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        reused = min(reused, len(tokens) - 1)  # the last prompt token is evaluated for its logits
        llm.n_tokens = reused
        llm.eval(tokens[reused:])
        return len(tokens) - computed - (len(tokens) - reused)


def _ends_value(piece: bytes) -> bool:
    """Whether a forced piece closes a JSON value (so the model may have wanted more)."""
    return piece[:1] in (b'"', b",", b"}", b"]")


def _leading_system(messages: Sequence[Message]) -> list[Message]:
    out = []
    for message in messages:
        if message.get("role") != "system":
            break
        out.append(message)
    return out


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    for i in range(n):
        if a[i] != b[i]:
            return i
    return n


def _complete_utf8(buffer: bytearray, start: int) -> str:
    """The longest run of complete UTF-8 characters in ``buffer[start:]``."""
    chunk = bytes(buffer[start:])
    for cut in range(len(chunk), max(len(chunk) - 4, -1), -1):
        try:
            return chunk[:cut].decode("utf-8")
        except UnicodeDecodeError:
            continue
    return chunk.decode("utf-8", "replace")
