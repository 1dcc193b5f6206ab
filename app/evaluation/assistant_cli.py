"""``callmemaybe eval-assistant CASES``: the product evaluation from the command line.

Kept beside the runner rather than in :mod:`app.cli`, which only registers it: the command
loads the cases, opens the configured model once, runs every case with a progress bar and
prints one line per category and language, then the headline
``accuracy=A n=N p50_s=S p95_s=S``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from app.evaluation.assistant_cases import SPLITS, CasesError, load_cases
from app.policy import pipeline
from app.policy.pipeline import add_without_option


def add_parser(sub: Any, add_model_options: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register ``eval-assistant`` on the ``callmemaybe`` sub-command parser."""
    parser = sub.add_parser(
        "eval-assistant",
        help="run the assistant on the product's own cases (seeded store, fixed clock)",
    )
    parser.add_argument("cases", type=Path, help="a case file or a folder of them (YAML)")
    parser.add_argument(
        "--split", choices=SPLITS, default="all", help="dev (to improve on), test or all"
    )
    parser.add_argument("--limit", type=int, help="only the first N cases of the split")
    parser.add_argument("--report", type=Path, help="write every case's events and verdict (JSON)")
    add_without_option(parser)
    add_model_options(parser)


def command(
    args: argparse.Namespace,
    stack: contextlib.ExitStack,
    settings: Any,
    open_backend: Callable[..., Any],
    progress: Any,
) -> int:
    """Run the cases on the configured model; print the report lines."""
    from tqdm import tqdm

    from app.assistant import AssistantOptions
    from app.evaluation import assistant_runner

    cases, fixtures = load_cases(args.cases, split=args.split, limit=args.limit)
    if not cases:
        raise CasesError(f"no cases in {args.cases} for the split {args.split!r}")
    backend = stack.enter_context(closing(open_backend(settings, progress)))
    options = AssistantOptions(max_tokens=settings.max_tokens, policies=settings.tool_policies)
    passed = 0
    label = f"{args.cases.stem} ({args.split})"
    with tqdm(total=len(cases), desc=label, file=sys.stderr, unit="case") as bar:

        def advance(result: assistant_runner.CaseResult) -> None:
            nonlocal passed
            passed += result.passed
            bar.set_postfix_str(f"{passed}/{bar.n + 1} right")
            bar.update()

        results = assistant_runner.run(backend, cases, fixtures, on_result=advance, options=options)
    if args.report:
        meta = {
            "cases": str(args.cases),
            "split": args.split,
            "limit": args.limit,
            "model": settings.model,
            "threads": settings.threads,
            "without": sorted(pipeline.disabled()),
        }
        try:
            assistant_runner.write_report(args.report, results, meta)
        except OSError as exc:
            raise CasesError(str(exc)) from exc
    for line in assistant_runner.report_lines(results):
        print(line)
    return 0
