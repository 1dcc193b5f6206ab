"""Decode benchmark on the bundled model: speed, latency, restart and memory in one run.

Measures, with the assistant's own tools (bench/assistant_tools.json) and requests:

* ms per token, grammar-constrained with copy speculation and plain unconstrained (one token
  per pass, no drafts), on the same prompts (KV prefix warm, so only decoding is timed); forced
  and accepted draft tokens count as produced tokens, since producing several per pass over the
  weights is the point of fast-forwarding and speculation.
* the share of output tokens taken from drafts, tokens per pass over the weights, and whether
  each answer is the same as constrained decoding without drafts from the same cache state
  (``same=N/M``).
* warm end-to-end latency of a tool call (request in, parsed call out) over the requests.
* time to first token in a fresh process (a restart), with the system-and-tools prefix restored
  from the on-disk cache the first process wrote, restore included.
* resident memory (peak RSS of this process).
* what one forward pass costs over 1, 2, 4 and 8 tokens (llama.cpp): how much a checked draft
  can save on this machine.

Runs in a temporary data directory (``CALLMEMAYBE_HOME``), so the bundled model is joined there
first (and, with ``--backend mlx``, converted to an MLX folder there: quantized to 8 bits on
Apple Silicon, bf16 elsewhere). The last line is exactly::

    ratio=R p50_s=X p95_s=Y restored_ttft_s=Z rss_mb=M accepted=A tok_per_pass=T same=N/M
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SYSTEM = (
    "You are Call-Me-Maybe, a private assistant on the user's computer. "
    "Today is Wednesday, 25 November 2026, 10:00 (Europe/Berlin). "
    "Use a tool when the request needs one; otherwise answer briefly."
)

REQUESTS = [
    "Add a meeting with Anna tomorrow at 3pm about the budget",
    "What's on my calendar between December 1 and December 5?",
    "Find me a free 45 minute slot on Friday",
    "Cancel the dentist appointment on December 3",
    "Make a note called Groceries with milk, eggs and bread",
    "Search my notes for the wifi password",
    "Add 'call the plumber' to my todo note",
    "Move report.pdf into the Archive folder",
    "Find all the PDF files in Documents",
    "Remind me to water the plants at 6pm, high priority",
    "Schedule lunch with Bob and Carol next Monday at noon at Luigi's",
    "Create an all-day event for Mom's birthday on December 12",
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _messages(request: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": request}]


def _open(model: Path, threads: int, kind: str):
    from app.paths import cache_dir

    if kind == "mlx":
        from backends.mlxlm import MlxBackend, MlxSettings

        backend = MlxBackend(MlxSettings(n_ctx=4096, cache_dir=cache_dir() / "prefix"))
    else:
        from backends.llamacpp import LlamaCppBackend, LlamaSettings

        backend = LlamaCppBackend(
            LlamaSettings(n_ctx=4096, n_threads=threads or None, cache_dir=cache_dir() / "prefix")
        )
    backend.load(model)
    return backend


def _tools():
    from backends.schema import parse_tools

    return parse_tools(json.loads((ROOT / "bench" / "assistant_tools.json").read_text()))


def raw_speed(backend) -> tuple[float, float]:
    """This machine's raw runtime speed: prompt tokens/s and single-token decode tokens/s.

    Printed beside the results so numbers from machines of different speed can be compared.
    """
    if backend.name == "mlx":
        return raw_speed_mlx(backend)
    llm = backend.llm
    tokens = backend.tokenize("The quick brown fox jumps over the lazy dog. " * 40)[:400]
    llm.n_tokens = 0
    started = time.perf_counter()
    llm.eval(tokens)
    prompt_tps = len(tokens) / (time.perf_counter() - started)
    started = time.perf_counter()
    for token in tokens[:32]:
        llm.eval([token])
    decode_tps = 32 / (time.perf_counter() - started)
    llm.n_tokens = 0
    return prompt_tps, decode_tps


def raw_speed_mlx(backend) -> tuple[float, float]:
    """:func:`raw_speed` for MLX: the model's forward passes straight on a fresh cache."""
    import mlx.core as mx
    from mlx_lm.models.cache import make_prompt_cache

    tokens = backend.tokenize("The quick brown fox jumps over the lazy dog. " * 40)[:400]
    cache = make_prompt_cache(backend.model)
    started = time.perf_counter()
    mx.eval(backend.model(mx.array(tokens)[None], cache=cache))
    prompt_tps = len(tokens) / (time.perf_counter() - started)
    started = time.perf_counter()
    for token in tokens[:32]:
        mx.eval(backend.model(mx.array([[token]]), cache=cache))
    return prompt_tps, 32 / (time.perf_counter() - started)


def forward_costs(backend, sizes: tuple[int, ...] = (1, 2, 4, 8)) -> dict[int, float]:
    """Milliseconds of one forward pass over ``k`` tokens after the cached prefix, logits for
    every row (as a draft is checked), median of five.

    Speculation pays only as far as a pass over several tokens costs less than that many
    passes: on a memory-bound machine a pass over 8 costs about what a pass over 1 does, on a
    compute-bound one (this project's 2-core x86-64 machine) it grows with every token.
    """
    if backend.name != "llama.cpp":
        return {}
    keep = backend._n_cached()
    token = backend.tokenize(" the")[0]
    costs: dict[int, float] = {}
    for size in sizes:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            backend._forward([token] * size, 0)
            times.append(1000 * (time.perf_counter() - started))
            backend._truncate(keep)
        costs[size] = statistics.median(times)
    return costs


def from_prefix(backend, messages: list[dict[str, str]], tools) -> None:
    """Drop whatever the cache holds past the system-and-tools prefix.

    Why: llama.cpp's numbers depend on how tokens are batched, so the same prompt evaluated
    from a different cache state (the whole prompt cached by the run before, its last token
    evaluated alone) can tip a near tie: "Cancel the dentist appointment on December 3" began
    with a ```json fence and wrote "2026-12-31" from a full cache, a bare object and
    "2026-12-03" from the prefix. Comparing with and without drafts from the same state
    measures what the drafts change, and nothing else.
    """
    keep = len(backend.prefix_tokens(messages, tools))
    if backend._can_truncate() and backend._n_cached() > keep:
        backend._truncate(keep)


def child_ttft(model: Path, threads: int, kind: str) -> None:
    """Run in a fresh process: load, then time one request to its first token."""
    from backends.generation import Completion

    backend = _open(model, threads, kind)
    tools = _tools()
    started = time.perf_counter()
    first = None
    completion = None
    for event in backend.stream(_messages("Remind me to call Anna at 5pm"), tools):
        if first is None:
            first = time.perf_counter() - started
        if isinstance(event, Completion):
            completion = event
    assert completion is not None
    print(
        json.dumps(
            {
                "ttft_s": completion.timings.first_token_s,
                "first_event_s": first,
                "cached_tokens": completion.cached_tokens,
                "prompt_tokens": completion.prompt_tokens,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads", type=int, default=2, help="0 picks the cores idle when the model loads"
    )
    parser.add_argument("--model", type=Path, help="a GGUF to use instead of the bundled model")
    parser.add_argument("--backend", choices=["llama.cpp", "mlx"], default="llama.cpp")
    parser.add_argument("--limit", type=int, help="only the first N requests (a quick look)")
    parser.add_argument("--child-ttft", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ttft:
        child_ttft(args.child_ttft, args.threads, args.backend)
        return

    with tempfile.TemporaryDirectory(prefix="cmm-bench-") as home:
        os.environ["CALLMEMAYBE_HOME"] = home
        from app.paths import models_dir
        from backends.base import GenerateOptions
        from backends.model_files import ensure_bundled_model

        t0 = time.perf_counter()
        model = args.model or ensure_bundled_model(models_dir())
        if args.backend == "mlx":
            from backends.mlx_models import resolve_mlx_model

            model = resolve_mlx_model(str(model), models_dir())
        print(f"model ready in {time.perf_counter() - t0:.1f} s: {model.name}")
        t0 = time.perf_counter()
        backend = _open(model, args.threads, args.backend)
        threads = getattr(backend, "n_threads", args.threads)
        print(f"loaded in {time.perf_counter() - t0:.2f} s, threads={threads}")
        prompt_tps, decode_tps = raw_speed(backend)
        speed = f"prompt {prompt_tps:.0f} tok/s, decode {decode_tps:.1f} tok/s"
        print(f"raw {args.backend} speed here: {speed}")
        tools = _tools()
        cold = backend.warm_prefix(_messages(REQUESTS[0]), tools)
        prefix_len = len(backend.prefix_tokens(_messages(REQUESTS[0]), tools))
        print(f"cold prefix: {prefix_len} tokens in {cold:.2f} s (saved to the disk cache)")
        costs = forward_costs(backend)
        if costs:
            shown = ", ".join(f"{k} tok {ms:.0f} ms" for k, ms in costs.items())
            extra = (costs[max(costs)] - costs[1]) / (max(costs) - 1) / costs[1]
            print(f"forward pass after the prefix: {shown} (each more token {extra:.0%} of one)")

        latencies: list[float] = []
        con_time = con_tokens = 0.0
        unc_time = unc_tokens = 0.0
        plain_time = 0.0
        accepted = drafted = passes = same = 0
        for request in REQUESTS[: args.limit]:
            from_prefix(backend, _messages(request), tools)
            started = time.perf_counter()
            c = backend.generate(_messages(request), tools)
            latency = time.perf_counter() - started
            latencies.append(latency)
            con_time += c.timings.total_s - c.timings.prompt_s
            con_tokens += c.completion_tokens
            accepted += c.accepted_tokens
            drafted += c.drafted_tokens
            passes += c.passes
            from_prefix(backend, _messages(request), tools)
            p = backend.generate(_messages(request), tools, options=GenerateOptions(draft_tokens=0))
            plain_time += p.timings.total_s - p.timings.prompt_s
            same += p.raw == c.raw
            from_prefix(backend, _messages(request), tools)
            u = backend.generate(
                _messages(request),
                tools,
                options=GenerateOptions(constrained=False, draft_tokens=0),
            )
            unc_time += u.timings.total_s - u.timings.prompt_s
            unc_tokens += u.completion_tokens
            shown = json.dumps(c.to_json(), ensure_ascii=False)
            tokens = (
                f"{c.completion_tokens:3d} tok ({c.forced_tokens} forced, "
                f"{c.accepted_tokens}/{c.drafted_tokens} drafted, {c.passes} passes)"
            )
            print(f"{latency:5.2f} s  {tokens}  {shown}")
            if p.raw != c.raw:
                print(f"        without drafts: {p.raw}")
        con_ms = 1000 * con_time / max(con_tokens, 1)
        unc_ms = 1000 * unc_time / max(unc_tokens, 1)
        ratio = con_ms / unc_ms
        print(
            f"constrained {con_ms:.1f} ms/token over {int(con_tokens)} tokens "
            f"({1000 * plain_time / max(con_tokens, 1):.1f} without drafts), "
            f"unconstrained {unc_ms:.1f} ms/token over {int(unc_tokens)} tokens"
        )
        share = accepted / max(con_tokens, 1)
        per_pass = con_tokens / max(passes, 1)
        print(
            f"drafts: {accepted} of {drafted} drafted tokens taken, {share:.0%} of the output; "
            f"{per_pass:.2f} tokens per pass over the weights"
        )
        backend.close()
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        child = subprocess.run(
            [
                sys.executable,
                __file__,
                *("--threads", str(args.threads), "--backend", args.backend),
                *("--child-ttft", str(model)),
            ],
            capture_output=True,
            text=True,
            check=True,
            env=os.environ.copy(),
        )
        restart = json.loads(child.stdout.strip().splitlines()[-1])
        print(
            f"after a restart: {restart['cached_tokens']} of {restart['prompt_tokens']} prompt "
            f"tokens restored from disk; first token after {restart['ttft_s']:.3f} s"
        )
        p50 = statistics.median(latencies)
        p95 = _percentile(latencies, 0.95)
        print(
            f"ratio={ratio:.2f} p50_s={p50:.2f} p95_s={p95:.2f} "
            f"restored_ttft_s={restart['ttft_s']:.2f} rss_mb={rss_mb:.0f} "
            f"accepted={share:.2f} tok_per_pass={per_pass:.2f} "
            f"same={same}/{len(latencies)}"
        )


if __name__ == "__main__":
    main()
