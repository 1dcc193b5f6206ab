"""Tool selection A/B on BFCL: each entry answered with all its functions and with the K best.

The eval command scores one setting per run (``callmemaybe eval FILE --select K``); this runs
both on the same entries in one process, so the comparison is entry by entry. Entries with
more functions than K only (selection changes nothing on the others). Bundled model unless
``--model``, constrained, ``CALLMEMAYBE_HOME`` a temporary folder.

Last line: ``all=A/N select_K=B/N``.

Usage: python bench/select_tools.py BFCL_FILE.json [--first 5] [--last 19] [--k 2] [--model PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--first", type=int, default=0)
    parser.add_argument("--last", type=int, default=20)
    parser.add_argument("--k", type=int, default=2)
    parser.add_argument("--model", default="bundled")
    args = parser.parse_args()
    os.environ["CALLMEMAYBE_HOME"] = tempfile.mkdtemp(prefix="cmm-bench-select-")

    from app.evaluation.runner import default_answers_path, load_entries, run_entry
    from app.runtime import open_backend
    from app.settings import Settings
    from backends.base import GenerateOptions

    entries = load_entries(args.questions, default_answers_path(args.questions), args.last)
    entries = [e for e in entries[args.first :] if len(e.functions) > args.k]
    backend = open_backend(Settings(model=args.model), None)
    score = {0: 0, args.k: 0}
    for entry in entries:
        for select in (0, args.k):
            started = time.perf_counter()
            result = run_entry(backend, entry, GenerateOptions(), select=select)
            score[select] += result.correct
            print(
                f"{entry.id} functions={len(entry.functions)} select={select or 'all'} "
                f"correct={result.correct} {time.perf_counter() - started:.0f}s "
                f"{result.reason[:90]}",
                flush=True,
            )
    backend.close()
    n = len(entries)
    print(f"all={score[0]}/{n} select_{args.k}={score[args.k]}/{n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
