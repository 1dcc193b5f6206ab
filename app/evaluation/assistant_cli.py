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
from typing import TYPE_CHECKING, Any

from app.evaluation.assistant_cases import SPLITS, CasesError, load_cases
from app.policy import pipeline
from app.policy.pipeline import add_without_option

if TYPE_CHECKING:
    from connectors.registry import Registry


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
    parser.add_argument(
        "--registry-tools",
        type=int,
        metavar="N",
        help="register other services' tools beside the product's, N in all (150 for issue 28): "
        "the mcp-server-time server's and BFCL functions, as bench/retrieval.py; never run, a "
        "call to one is a wrong call",
    )
    parser.add_argument(
        "--bfcl",
        type=Path,
        default=Path("../shared/bfcl"),
        help="the BFCL v4 folder the extra tools come from (default: ../shared/bfcl)",
    )
    parser.add_argument(
        "--no-time-server", action="store_true", help="with --registry-tools: BFCL tools only"
    )
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
    registry = _registry(args)
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

        results = assistant_runner.run(
            backend, cases, fixtures, on_result=advance, options=options, registry=registry
        )
    if args.report:
        meta = {
            "cases": str(args.cases),
            "split": args.split,
            "limit": args.limit,
            "model": settings.model,
            "threads": settings.threads,
            "without": sorted(pipeline.disabled()),
            "registry_tools": len(registry.tools()) if registry is not None else None,
        }
        try:
            assistant_runner.write_report(args.report, results, meta)
        except OSError as exc:
            raise CasesError(str(exc)) from exc
    for line in assistant_runner.report_lines(results):
        print(line)
    return 0


def _registry(args: argparse.Namespace) -> Registry | None:
    """With ``--registry-tools``, the product's tools and stand-ins of other services' (see
    :mod:`app.evaluation.extra_tools`); else ``None``, the product's alone. What it is made of
    goes to stderr, so the headline stays the last line of stdout.

    Raises:
        CasesError: the BFCL files cannot be read.
    """
    if args.registry_tools is None:
        return None
    from app.evaluation.extra_tools import registry_tools, with_stand_ins
    from app.mcp.startup import log_path
    from connectors.registry import load_registry

    log = None if args.no_time_server else log_path()
    try:
        specs, made_of = registry_tools(args.bfcl, size=args.registry_tools, time_server_log=log)
    except OSError as exc:
        raise CasesError(f"--registry-tools needs the BFCL files: {exc}") from exc
    print(made_of, file=sys.stderr)
    return with_stand_ins(load_registry(), specs)
