"""Tool retrieval (app/policy/retrieval.py): recall@k of the right tools, and its time.

Two measures:

* BFCL live_multiple, every entry: each request ranked against its own entry's functions (2-37
  of them); the right tools are the ground truth's function names.
* A registry of about 150 tools: the product's 24, the ``mcp-server-time`` server's (started
  for real over stdio; ``--no-time-server`` leaves them out) and BFCL functions (from
  BFCL_v4_multiple and live_simple, a seeded sample) to make up the rest (built by
  ``app.evaluation.extra_tools``, as ``eval-assistant --registry-tools`` builds it); the
  requests are the product evaluation's (tests/assistant_cases), the right tools those of each
  case's gold calls.
  The BFCL requests whose functions are in the registry are measured on it too
  (``registry_bfcl_requests``), so the product's tools are not favoured unnoticed.
  A conversation case is ranked at its last message, with the tools of the earlier calls as
  ``keep``. ``dev`` and ``test`` are reported apart: tune
  on ``dev`` only.

recall@k is the share of the right tools that are among the k picked, averaged over requests;
``all@k`` is the share of requests with every right tool picked. Time is one warm ``retrieve``
call (the index of a tool list is built once and cached; its build is reported apart). The
``before`` lines rank by the word overlap of ``app.tool_selection`` (English stems), what
``--select`` used until now.

``--embeddings GGUF`` also measures the model's own embeddings (a llama.cpp context with mean
pooling) on the registry, alone and fused with BM25: the experiment behind leaving them out.

Runs with ``CALLMEMAYBE_HOME`` in a temporary folder. The last line is exactly::

    recall_at_5_live_multiple=R1 recall_at_5_registry=R2 p95_ms=T

(``R2`` on the ``test`` split, ``T`` over the registry's requests of both splits.)

Usage: python bench/retrieval.py [--bfcl ../shared/bfcl] [--k 5] [--embeddings GGUF]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@dataclass
class Query:
    """One request to rank and the tools it needs."""

    id: str
    request: str
    gold: frozenset[str]
    keep: frozenset[str] = frozenset()
    split: str = ""
    lang: str = ""
    tools: list = field(default_factory=list)  # its own tool list (BFCL entries)


@dataclass
class Score:
    recall: float
    all_found: float
    n: int
    times_ms: list[float]
    misses: list[str]


def live_multiple(bfcl: Path) -> list[Query]:
    """Every live_multiple entry, with its own functions and its ground truth's names."""
    from app.evaluation.runner import default_answers_path, load_entries
    from backends.schema import parse_tools

    questions = bfcl / "BFCL_v4_live_multiple.json"
    queries = []
    for entry in load_entries(questions, default_answers_path(questions)):
        users = [m["content"] for m in entry.messages if m.get("role") == "user"]
        gold = frozenset(name for call in entry.ground_truth or [] for name in call)
        queries.append(
            Query(
                entry.id,
                "\n".join(users),
                gold,
                tools=parse_tools(entry.functions),
            )
        )
    return queries


def registry_tools(bfcl: Path, with_time: bool) -> tuple[list, list[str]]:
    """The ~150-tool registry (:mod:`app.evaluation.extra_tools`, which eval-assistant's
    ``--registry-tools`` registers too) and a line saying what it is made of."""
    from app.evaluation.extra_tools import REGISTRY_SIZE
    from app.evaluation.extra_tools import registry_tools as build

    log = Path(os.environ["CALLMEMAYBE_HOME"]) / "mcp.log" if with_time else None
    tools, made_of = build(bfcl, size=REGISTRY_SIZE, time_server_log=log)
    return tools, [made_of]


def bfcl_registry_queries(bfcl: Path, tools: Sequence) -> list[Query]:
    """BFCL requests (multiple and live_simple) whose right functions are all in the registry:
    so the registry's other tools are measured too, not only the product's."""
    from app.evaluation.extra_tools import BFCL_FILES
    from app.evaluation.runner import default_answers_path, load_entries

    offered = {t.name for t in tools}
    queries = []
    for name in BFCL_FILES:
        questions = bfcl / name
        for entry in load_entries(questions, default_answers_path(questions)):
            gold = frozenset(n for call in entry.ground_truth or [] for n in call)
            if gold and gold <= offered:
                users = [m["content"] for m in entry.messages if m.get("role") == "user"]
                queries.append(Query(entry.id, "\n".join(users), gold))
    return queries


def product_queries() -> list[Query]:
    """The product cases that make calls, at their last call step."""
    from app.evaluation.assistant_cases import load_cases

    cases, _ = load_cases(ROOT / "tests" / "assistant_cases")
    queries = []
    for case in cases:
        steps = [[c.name for c in s] for s in case.gold if not isinstance(s, str)]
        if not steps:
            continue  # an answer or a question: no tool to find
        messages = case.messages
        if len(messages) == 1:
            gold, keep = frozenset(n for s in steps for n in s), frozenset()
        else:
            gold, keep = frozenset(steps[-1]), frozenset(n for s in steps[:-1] for n in s)
        queries.append(Query(case.id, messages[-1], gold, keep, case.split, case.lang))
    return queries


Ranker = Callable[[Query, Sequence], list[int]]


def word_overlap_ranker(query: Query, tools: Sequence) -> list[int]:
    """The selection this replaces (``--select``): shared English stems, ties in order."""
    from app.tool_selection import relevance

    found = [relevance(query.request, tool) for tool in tools]
    return sorted(range(len(tools)), key=lambda i: (-found[i], i))


def bm25_ranker(query: Query, tools: Sequence) -> list[int]:
    from app.policy.retrieval import rank

    return rank(query.request, tools)


def score(
    queries: Sequence[Query], tools: Sequence | None, k: int, ranker: Ranker | None = None
) -> Score:
    """recall@k and all@k of ``queries`` (on ``tools``, or each query's own), timed."""
    from app.policy.retrieval import retrieve

    recall, complete, times, misses = 0.0, 0, [], []
    for query in queries:
        offered = tools if tools is not None else query.tools
        if ranker is None:
            started = time.perf_counter()
            picked = retrieve(query.request, offered, k, keep=query.keep)
            times.append((time.perf_counter() - started) * 1000)
            names = {t.name for t in picked}
        else:
            order = ranker(query, offered)
            names = set(query.keep)
            for i in order:
                if len(names) >= k:
                    break
                names.add(offered[i].name)
        found = len(query.gold & names)
        recall += found / len(query.gold)
        complete += found == len(query.gold)
        if found < len(query.gold):
            misses.append(f"{query.id}: wanted {sorted(query.gold - names)} got {sorted(names)}")
    n = len(queries)
    return Score(recall / n, complete / n, n, times, misses)


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def line(label: str, result: Score, k: int) -> str:
    timing = (
        f" p50_ms={statistics.median(result.times_ms):.2f} p95_ms={p95(result.times_ms):.2f}"
        if result.times_ms
        else ""
    )
    found = f"recall@{k}={result.recall:.3f} all@{k}={result.all_found:.3f}"
    return f"{label} n={result.n} {found}{timing}"


def embedding_ranker(model: Path, tools: Sequence) -> tuple[Ranker, Ranker]:
    """Rankers by cosine similarity of mean-pooled embeddings from ``model``, alone and fused
    with BM25 by reciprocal rank fusion (the experiment; not used by the product)."""
    import llama_cpp
    import numpy as np

    from app.policy.retrieval import EXAMPLES, rank, tool_text

    rrf_k = 60  # reciprocal rank fusion's usual constant

    llm = llama_cpp.Llama(
        str(model),
        embedding=True,
        pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
        n_ctx=2048,
        n_threads=2,
        verbose=False,
    )

    def embed(text: str) -> np.ndarray:
        vector = np.asarray(llm.embed(text), dtype=np.float32)
        return vector / (np.linalg.norm(vector) or 1.0)

    started = time.perf_counter()
    matrix = np.stack([embed("\n".join([tool_text(t), *EXAMPLES.get(t.name, ())])) for t in tools])
    print(f"embeddings: {len(tools)} tools in {time.perf_counter() - started:.1f}s", flush=True)
    query_ms: list[float] = []

    def similar(query: Query, offered: Sequence) -> np.ndarray:
        started = time.perf_counter()
        vector = embed(query.request)
        query_ms.append((time.perf_counter() - started) * 1000)
        return matrix @ vector

    def alone(query: Query, offered: Sequence) -> list[int]:
        return [int(i) for i in np.argsort(-similar(query, offered), kind="stable")]

    def fused(query: Query, offered: Sequence) -> list[int]:
        total = np.zeros(len(offered))
        for position, i in enumerate(rank(query.request, offered)):
            total[i] += 1 / (rrf_k + position + 1)
        for position, i in enumerate(alone(query, offered)):
            total[i] += 1 / (rrf_k + position + 1)
        return [int(i) for i in np.argsort(-total, kind="stable")]

    alone.query_ms = query_ms  # type: ignore[attr-defined]
    return alone, fused


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bfcl", type=Path, default=ROOT.parent / "shared" / "bfcl")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--no-time-server", action="store_true")
    parser.add_argument("--embeddings", type=Path, metavar="GGUF")
    parser.add_argument("--misses", action="store_true", help="print the dev requests missed")
    args = parser.parse_args()
    os.environ["CALLMEMAYBE_HOME"] = tempfile.mkdtemp(prefix="cmm-bench-retrieval-")

    from app.policy.retrieval import index_for

    live = live_multiple(args.bfcl)
    build = time.perf_counter()
    for query in live:
        index_for(query.tools)
    build_ms = (time.perf_counter() - build) * 1000 / len(live)
    live_score = score(live, None, args.k)
    print(line("live_multiple", live_score, args.k) + f" index_build_ms_per_entry={build_ms:.2f}")
    over = [q for q in live if len(q.tools) > args.k]
    print(line(f"live_multiple_over_{args.k}_tools", score(over, None, args.k), args.k))
    before = score(over, None, args.k, word_overlap_ranker)
    print("  " + line("before (app.tool_selection word overlap)", before, args.k))

    tools, made_of = registry_tools(args.bfcl, not args.no_time_server)
    print(*made_of, sep="\n")
    build = time.perf_counter()
    index_for(tools)
    print(f"registry index build_ms={(time.perf_counter() - build) * 1000:.1f}")
    queries = product_queries()
    results = {}
    for split in ("dev", "test"):
        chosen = [q for q in queries if q.split == split]
        results[split] = score(chosen, tools, args.k)
        print(line(f"registry_{split}", results[split], args.k))
        for lang in ("en", "de", "es", "fr", "pt"):
            print(
                "  "
                + line(lang, score([q for q in chosen if q.lang == lang], tools, args.k), args.k)
            )
        curve = [f"@{k}={score(chosen, tools, k).recall:.3f}" for k in (1, 3, 10, 20, 30)]
        print(f"  recall {' '.join(curve)}")
        before = score(chosen, tools, args.k, word_overlap_ranker)
        print("  " + line("before (app.tool_selection word overlap)", before, args.k))
    others = bfcl_registry_queries(args.bfcl, tools)
    print(line("registry_bfcl_requests", score(others, tools, args.k), args.k))
    if args.misses:
        print(*results["dev"].misses, sep="\n")
    if args.embeddings:
        dev = [q for q in queries if q.split == "dev"]
        alone, fused = embedding_ranker(args.embeddings, tools)
        print(line("registry_dev_embeddings_alone", score(dev, tools, args.k, alone), args.k))
        print(f"embedding of one request: p50_ms={statistics.median(alone.query_ms):.0f}")  # type: ignore[attr-defined]
        print(line("registry_dev_bm25+embeddings", score(dev, tools, args.k, fused), args.k))
    times = results["dev"].times_ms + results["test"].times_ms
    print(
        f"recall_at_{args.k}_live_multiple={live_score.recall:.3f} "
        f"recall_at_{args.k}_registry={results['test'].recall:.3f} p95_ms={p95(times):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
