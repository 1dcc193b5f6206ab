"""The two front ends as separate processes, for the concurrency tests.

``python -m tests.reliability.front_ends ROLE WORK ...`` where ROLE is ``gui`` (the desktop
app's own core calls: :class:`app.ui.bridge.AssistantBridge` over :func:`app.ui.app.open_core`,
no window) or ``cli`` (:func:`app.cli.main`, as typed in a terminal; each call opens and closes
the store like a new ``callmemaybe`` process), and WORK is:

* ``approve ID...``: approve each action;
* ``append NOTE PREFIX COUNT``: add ``PREFIX-i`` to the note, COUNT times (the GUI approves an
  action proposed for it, as after a turn; the CLI runs ``tool notes_append --yes``).

Both roles wait for the file named by ``$GO_FILE`` to appear, so they start at the same moment
after their imports, and print one JSON line per step: what the user was shown. With
``$STEP_DIR`` and ``$STEP_PEERS`` (``gui,cli``) set, the appends go in lockstep: each side
starts its step ``i`` only once the other has finished its step ``i - 1``, so the two sides'
writes always overlap (step ``i`` runs on both at once) instead of only when the scheduler
happens to interleave them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _wait_for_go() -> None:
    go = Path(os.environ["GO_FILE"])
    deadline = time.monotonic() + 60
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.002)


def _step(prefix: str, i: int) -> None:
    """Wait for the other side to reach step ``i`` too (lockstep; see the module docstring)."""
    folder, peers = os.environ.get("STEP_DIR"), os.environ.get("STEP_PEERS")
    if not folder or not peers:
        return
    peer = next(p for p in peers.split(",") if p != prefix)
    Path(folder, f"{prefix}-{i}").touch()
    deadline = time.monotonic() + 60
    while not Path(folder, f"{peer}-{i}").exists() and time.monotonic() < deadline:
        time.sleep(0.001)


def _report(**fields: Any) -> None:
    print(json.dumps(fields, ensure_ascii=False), flush=True)


def _gui(work: str, args: list[str]) -> None:
    from app.settings import load_settings
    from app.ui.app import open_core
    from app.ui.bridge import AssistantBridge
    from connectors.errors import ConnectorError

    bridge = AssistantBridge(open_core(load_settings()))
    bridge.pending_count()  # opens the store before the start, as a window shown does
    _wait_for_go()
    if work == "approve":
        for text in args:
            try:
                action = bridge.approve(int(text))
            except ConnectorError as exc:
                _report(id=int(text), shown=str(exc), ran=False)
            else:
                _report(id=action.id, shown=action.state.value, ran=action.state.value == "done")
    else:
        note, prefix, count = args
        for i in range(int(count)):
            _step(prefix, i)
            try:
                proposed = bridge.actions.propose(
                    "notes_append", {"note": note, "text": f"{prefix}-{i}"}
                )
                action = bridge.approve(proposed.id)
                _report(step=i, shown=action.state.value, error=action.error)
            except ConnectorError as exc:
                _report(step=i, shown=str(exc), error=str(exc))
    bridge.core.close()


def _cli(work: str, args: list[str]) -> None:
    from app.cli import main

    def run(argv: list[str]) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(argv)
        return code, out.getvalue(), err.getvalue()

    run(["pending"])  # imports and a first open, before the start
    _wait_for_go()
    if work == "approve":
        for text in args:
            code, out, err = run(["approve", text])
            _report(id=int(text), shown=(out + err).strip(), ran=code == 0 and "Done" in out)
    else:
        note, prefix, count = args
        for i in range(int(count)):
            _step(prefix, i)
            payload = json.dumps({"note": note, "text": f"{prefix}-{i}"})
            code, out, err = run(["tool", "notes_append", payload, "--yes"])
            _report(step=i, shown=err.strip() or "done", error=err.strip() or None, code=code)


if __name__ == "__main__":
    role, work, *rest = sys.argv[1:]
    (_gui if role == "gui" else _cli)(work, rest)
