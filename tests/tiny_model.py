"""A tiny random-weight GGUF with Qwen2.5's architecture and tokenizer format.

The real bundled model is 490 MB and takes seconds to load, so tests would either skip the
llama.cpp code paths or be slow. This module writes, in well under a second, a model of a
few hundred kilobytes that llama.cpp loads exactly the way it loads Qwen2.5: architecture
``qwen2``, a byte-level BPE tokenizer (``gpt2`` model, ``qwen2`` pre-tokenizer) with real merges,
Qwen's special tokens with Qwen's token types, and a ChatML chat template with tool support.
The weights are random but seeded, so the file, its logits and greedy decoding are the same on
every run, and scaled so that the next-token distribution is peaked and depends on the context.

What it mirrors from the real Qwen2.5 GGUF, because application code depends on it:

* ``<|endoftext|>``, ``<|im_start|>`` and ``<|im_end|>`` are CONTROL tokens (only parsed from
  text with ``special=True``, dropped from detokenized text unless asked for);
  ``<tool_call>`` and ``</tool_call>`` are USER_DEFINED tokens, as in Qwen's file: they are
  always matched as single tokens and always detokenize to their text.
* eos is ``<|im_end|>``; bos and padding are ``<|endoftext|>``; ``add_bos_token`` is false.
* the vocabulary ends in a few ``[PAD...]`` UNUSED tokens, so ``n_vocab`` is larger than the
  number of meaningful tokens, as it is for Qwen (151,936 rows, 151,665 real tokens).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path

import gguf
import numpy as np

__all__ = [
    "TINY_CHAT_TEMPLATE",
    "TINY_MERGES",
    "TINY_SPECIAL_TOKEN_IDS",
    "TINY_TOKENS",
    "TINY_VOCAB_SIZE",
    "build_tiny_gguf",
    "bytes_to_unicode",
]

# A ChatML template with the same layout as Qwen2.5's: a system turn that gains a "# Tools"
# section when tools are given, assistant tool calls as one JSON object per <tool_call> block,
# and consecutive tool results grouped into one user turn as <tool_response> blocks. Like Qwen's,
# it passes call arguments through tojson, so they must be a mapping (a JSON string would be
# encoded a second time): tests of prompt building then catch what the real model would see.
TINY_CHAT_TEMPLATE = """\
{%- set default_system = 'You are a tiny test assistant.' %}
{%- if messages and messages[0]['role'] == 'system' %}
    {%- set system_text = messages[0]['content'] %}
{%- else %}
    {%- set system_text = default_system %}
{%- endif %}
{{- '<|im_start|>system\\n' + system_text }}
{%- if tools %}
    {{- '\\n\\n# Tools\\n\\nYou can call functions to help with the request.\\n\\n' }}
    {{- 'The available function signatures are inside <tools></tools>:\\n<tools>' }}
    {%- for tool in tools %}
        {{- '\\n' + (tool | tojson) }}
    {%- endfor %}
    {{- '\\n</tools>\\n\\nTo call a function, write a JSON object with its name and arguments ' }}
    {{- 'inside <tool_call></tool_call> tags:\\n<tool_call>\\n' }}
    {{- '{"name": <function-name>, "arguments": <args-json-object>}\\n</tool_call>' }}
{%- endif %}
{{- '<|im_end|>\\n' }}
{%- for message in messages %}
    {%- if message['role'] == 'system' and loop.first %}
    {%- elif message['role'] == 'tool' %}
        {%- if loop.first or messages[loop.index0 - 1]['role'] != 'tool' %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' + message['content'] + '\\n</tool_response>' }}
        {%- if loop.last or messages[loop.index0 + 1]['role'] != 'tool' %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- elif message['role'] == 'assistant' and message['tool_calls'] %}
        {{- '<|im_start|>assistant' }}
        {%- if message['content'] %}
            {{- '\\n' + message['content'] }}
        {%- endif %}
        {%- for call in message['tool_calls'] %}
            {%- if call['function'] is defined %}
                {%- set call = call['function'] %}
            {%- endif %}
            {{- '\\n<tool_call>\\n{"name": "' + call['name'] + '", "arguments": ' }}
            {{- (call['arguments'] | tojson) + '}\\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\\n' }}
    {%- else %}
        {{- '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') }}
        {{- '<|im_end|>\\n' }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
{%- endif %}
"""

_CONTROL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
_USER_DEFINED_TOKENS = ("<tool_call>", "</tool_call>")
_VOCAB_MULTIPLE = 64  # pad n_vocab with UNUSED tokens, as Qwen's converted GGUF does

# Pieces that become single tokens. Each entry is one pre-tokenizer chunk (Qwen's pre-tokenizer
# splits a leading space onto a word, and runs of punctuation into one chunk), so what JSON tool
# calls and chat prompts are made of is tokenized into multi-byte tokens, as with a real model.
_MERGE_TARGETS: tuple[str, ...] = (
    "  ",
    "    ",
    "\n\n",
    " t",
    " a",
    " s",
    " c",
    " w",
    " i",
    " o",
    " n",
    " f",
    " the",
    " is",
    " to",
    " of",
    " and",
    " in",
    " you",
    " for",
    " what",
    " weather",
    " call",
    " true",
    " false",
    " null",
    "in",
    "er",
    "on",
    "re",
    "at",
    "the",
    "ing",
    "name",
    "arguments",
    "type",
    "function",
    "description",
    "parameters",
    "properties",
    "required",
    "string",
    "number",
    "integer",
    "object",
    "true",
    "false",
    "null",
    "city",
    "get",
    "_weather",
    "tool",
    "_call",
    "user",
    "assistant",
    "system",
    "Tools",
    '{"',
    '":',
    '",',
    '"}',
    '"}}',
    "}}",
    "},",
    '},"',
    ' "',
    ' {"',
    ' ["',
    '"]',
    '"],',
    '":"',
    ">\n",
    ".\n",
    ":\n",
)


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from every byte to a printable character.

    Byte-level BPE vocabularies (GPT-2, Qwen) store tokens as text in which each byte is
    replaced by one visible character: printable Latin-1 bytes stand for themselves, the other
    68 bytes (controls, space, soft hyphen...) are shifted to U+0100 and up in byte order.
    """
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping


_BYTE_CHARS = bytes_to_unicode()


def _to_token_text(text: str) -> str:
    """A UTF-8 string as it appears in a byte-level vocabulary (``" a"`` becomes ``"Ġa"``)."""
    return "".join(_BYTE_CHARS[b] for b in text.encode("utf-8"))


def _bpe(word: str, ranks: dict[tuple[str, str], int]) -> list[str]:
    """Split one pre-tokenized chunk with byte-level BPE: merge the lowest-ranked pair first."""
    parts = list(word)
    while len(parts) > 1:
        pairs = [(ranks.get((a, b)), i) for i, (a, b) in enumerate(pairwise(parts))]
        known = [(rank, i) for rank, i in pairs if rank is not None]
        if not known:
            break
        _, i = min(known)
        parts[i : i + 2] = [parts[i] + parts[i + 1]]
    return parts


def _build_merges(targets: Sequence[str]) -> list[tuple[str, str]]:
    """Derive a merge list under which every target chunk is one token.

    Each target is first split with the merges found so far, then its pieces are joined left to
    right with new merges. New merges rank after all earlier ones, so they never change how an
    earlier target is split (BPE only reaches them once no earlier merge applies).
    """
    merges: list[tuple[str, str]] = []
    ranks: dict[tuple[str, str], int] = {}
    for target in targets:
        parts = _bpe(_to_token_text(target), ranks)
        while len(parts) > 1:
            pair = (parts[0], parts[1])
            if pair not in ranks:
                ranks[pair] = len(merges)
                merges.append(pair)
            parts[0:2] = [parts[0] + parts[1]]
    for target in targets:  # the derivation above guarantees this; fail loudly if edited wrongly
        word = _to_token_text(target)
        if _bpe(word, ranks) != [word]:
            raise AssertionError(f"merge target {target!r} is not a single token")
    return merges


def _build_vocab() -> tuple[list[str], list[int], list[str], dict[str, int]]:
    """The token list, token types, merges and special-token ids (fixed, independent of seed)."""
    tokens = list(_BYTE_CHARS.values())  # byte tokens first, in GPT-2 order, as in Qwen's vocab
    types = [gguf.TokenType.NORMAL] * len(tokens)
    merges = _build_merges(_MERGE_TARGETS)
    seen = set(tokens)
    for left, right in merges:
        if left + right not in seen:
            seen.add(left + right)
            tokens.append(left + right)
            types.append(gguf.TokenType.NORMAL)
    special: dict[str, int] = {}
    for text in _CONTROL_TOKENS + _USER_DEFINED_TOKENS:
        special[text] = len(tokens)
        tokens.append(text)
        types.append(
            gguf.TokenType.CONTROL if text in _CONTROL_TOKENS else gguf.TokenType.USER_DEFINED
        )
    while len(tokens) % _VOCAB_MULTIPLE:
        tokens.append(f"[PAD{len(tokens)}]")
        types.append(gguf.TokenType.UNUSED)
    return tokens, [int(t) for t in types], [f"{a} {b}" for a, b in merges], special


TINY_TOKENS, _TOKEN_TYPES, TINY_MERGES, TINY_SPECIAL_TOKEN_IDS = _build_vocab()
TINY_VOCAB_SIZE = len(TINY_TOKENS)
_UNUSED_ROWS = np.array(_TOKEN_TYPES) == int(gguf.TokenType.UNUSED)


def _weights(
    rng: np.random.Generator, n_vocab: int, n_embd: int, n_layer: int, n_ff: int, n_kv_dim: int
) -> dict[str, np.ndarray]:
    """Seeded random tensors in llama.cpp's qwen2 layout (numpy shape is ``(out, in)``).

    Projections get a gain above the variance-preserving ``1/sqrt(fan_in)`` so attention and the
    feed-forward blocks move the residual stream noticeably (the next token depends on more
    than the last token), and the output head is scaled so the logits after the final RMS norm
    have a standard deviation of about 4: peaked enough for greedy decoding to be meaningful,
    far from overflowing. The rows of the UNUSED padding tokens in the output head are zero,
    like the untrained padding rows of a real model, so they are never the likely choice.
    """

    def normal(shape: tuple[int, ...], std: float) -> np.ndarray:
        return (rng.standard_normal(shape) * std).astype(np.float32)

    def norm_weight() -> np.ndarray:
        return (1.0 + rng.standard_normal(n_embd) * 0.1).astype(np.float32)

    proj = 1.5 / np.sqrt(n_embd)
    tensors = {"token_embd.weight": normal((n_vocab, n_embd), 1.0)}
    for i in range(n_layer):
        blk = f"blk.{i}"
        tensors |= {
            f"{blk}.attn_norm.weight": norm_weight(),
            f"{blk}.attn_q.weight": normal((n_embd, n_embd), proj),
            f"{blk}.attn_q.bias": normal((n_embd,), 0.1),
            f"{blk}.attn_k.weight": normal((n_kv_dim, n_embd), proj),
            f"{blk}.attn_k.bias": normal((n_kv_dim,), 0.1),
            f"{blk}.attn_v.weight": normal((n_kv_dim, n_embd), proj),
            f"{blk}.attn_v.bias": normal((n_kv_dim,), 0.1),
            f"{blk}.attn_output.weight": normal((n_embd, n_embd), proj),
            f"{blk}.ffn_norm.weight": norm_weight(),
            f"{blk}.ffn_gate.weight": normal((n_ff, n_embd), proj),
            f"{blk}.ffn_up.weight": normal((n_ff, n_embd), proj),
            f"{blk}.ffn_down.weight": normal((n_embd, n_ff), 1.5 / np.sqrt(n_ff)),
        }
    tensors["output_norm.weight"] = norm_weight()
    output = normal((n_vocab, n_embd), 4.0 / np.sqrt(n_embd))
    output[_UNUSED_ROWS] = 0.0  # never trained, never picked
    tensors["output.weight"] = output
    return tensors


def build_tiny_gguf(
    path: Path,
    *,
    seed: int = 0,
    n_layer: int = 2,
    n_embd: int = 64,
    chat_template: str | None = None,
    context_length: int = 2048,
) -> Path:
    """Write a tiny Qwen2-architecture GGUF with random weights and Qwen's tokenizer format.

    The same arguments always produce a byte-identical file. The tokenizer does not depend on
    the arguments: see ``TINY_TOKENS``, ``TINY_SPECIAL_TOKEN_IDS`` and ``TINY_VOCAB_SIZE``.

    Args:
        path: file to write (its parent directory must exist); overwritten if present.
        seed: seed of the random weights.
        n_layer: number of transformer blocks.
        n_embd: hidden size; a multiple of 16 (4 query heads and 2 key/value heads of
            ``n_embd // 4`` dimensions each, grouped-query attention as in Qwen2.5).
        chat_template: text stored as ``tokenizer.chat_template``; ``None`` stores
            ``TINY_CHAT_TEMPLATE``, an empty string leaves the key out (a model without one).
        context_length: the trained context length stored in the metadata (``n_ctx_train``).

    Returns:
        ``path``, for chaining.
    """
    if n_embd % 16:
        raise ValueError(f"n_embd must be a multiple of 16, got {n_embd}")
    n_head, n_head_kv = 4, 2
    head_dim = n_embd // n_head
    n_ff = 2 * n_embd
    tensors = _weights(
        np.random.default_rng(seed), TINY_VOCAB_SIZE, n_embd, n_layer, n_ff, n_head_kv * head_dim
    )

    writer = gguf.GGUFWriter(path, "qwen2")
    writer.add_name("Call-Me-Maybe tiny test model")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(context_length)
    writer.add_embedding_length(n_embd)
    writer.add_block_count(n_layer)
    writer.add_feed_forward_length(n_ff)
    writer.add_head_count(n_head)
    writer.add_head_count_kv(n_head_kv)
    writer.add_rope_freq_base(1_000_000.0)
    writer.add_layer_norm_rms_eps(1e-6)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(TINY_TOKENS)
    writer.add_token_types(_TOKEN_TYPES)
    writer.add_token_merges(TINY_MERGES)
    writer.add_bos_token_id(TINY_SPECIAL_TOKEN_IDS["<|endoftext|>"])
    writer.add_eos_token_id(TINY_SPECIAL_TOKEN_IDS["<|im_end|>"])
    writer.add_pad_token_id(TINY_SPECIAL_TOKEN_IDS["<|endoftext|>"])
    writer.add_add_bos_token(False)
    template = TINY_CHAT_TEMPLATE if chat_template is None else chat_template
    if template:
        writer.add_chat_template(template)

    for name, tensor in tensors.items():
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


if __name__ == "__main__":  # handy for poking at the model by hand
    import sys

    out = build_tiny_gguf(Path(sys.argv[1] if len(sys.argv) > 1 else "tiny.gguf"))
    print(json.dumps({"path": str(out), "n_vocab": TINY_VOCAB_SIZE, **TINY_SPECIAL_TOKEN_IDS}))
