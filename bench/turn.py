"""Seconds for one complete turn of the assistant: a request to its proposed action or answer.

Runs the real assistant (bundled model unless ``--model``, 2 threads, the real connectors over
an encrypted store in a temporary ``CALLMEMAYBE_HOME``) on 10 everyday requests, after one
warm-up request per connector so every tool prompt's prefix is cached, as it is for a user
after the first use. A turn is timed from the request until the assistant proposes an action
(waiting for approval) or finishes its answer. Last line: ``p50_s=X p95_s=Y``.
Target: p50 <= 1.0 s on this project's 2-core machine.

Usage: python bench/turn.py [--model PATH] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WARM_UP = [
    "What is on my calendar today?",
    "Search my notes for plans",
    "List the files in my folder",
]
REQUESTS = [
    "Add a dentist appointment tomorrow at 12:30",
    "What is on my calendar tomorrow?",
    "Search my notes for wifi",
    "Create a note called Groceries with milk and eggs",
    "Append 'router in the hall' to my Wifi note",
    "Move report.txt into the archive folder",
    "What is the capital of France?",
    "Read the file report.txt",
    "Find free time tomorrow for a one hour meeting",
    "Rename my Inbox note to Later",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="cmm-bench-turn-"))
    os.environ["CALLMEMAYBE_HOME"] = str(home)

    from app.assistant import Assistant, AssistantOptions
    from app.events import ActionPending, TurnDone
    from app.runtime import open_backend
    from app.settings import Settings
    from connectors.registry import load_registry
    from connectors.store.database import open_store
    from connectors.tool import ToolContext

    zone = ZoneInfo("Europe/Paris")
    store = open_store(home / "store", key=secrets.token_bytes(32))
    granted = home / "granted"
    (granted / "archive").mkdir(parents=True)
    (granted / "report.txt").write_text("Q3 report: sales up 4%.\n")
    context = ToolContext(
        open_store=lambda: store,
        granted_folders=(granted,),
        timezone=zone,
        now=lambda: datetime.now(zone),
        data_dir=home,
    )
    registry = load_registry()
    for title, body in (("Wifi", "password: hunter2"), ("Inbox", "call the bank")):
        registry.run("notes_create", {"title": title, "body": body}, context, approved=True)
    registry.run(
        "calendar_create", {"title": "Standup", "start": "tomorrow 9:00"}, context, approved=True
    )

    settings = Settings(model=args.model, threads=args.threads)
    backend = open_backend(settings, lambda done, total: None)
    assistant = Assistant(backend, registry, context, AssistantOptions())

    def run(text: str) -> tuple[float, str]:
        started = time.perf_counter()
        outcome = "?"
        for event in assistant.turn(None, text):
            if isinstance(event, ActionPending):
                outcome = f"proposes {event.tool}"
                break  # the user now sees the action waiting for approval
            if isinstance(event, TurnDone):
                outcome = "answers: " + " ".join(event.text.split())[:60]
        return time.perf_counter() - started, outcome

    for text in WARM_UP:
        seconds, _ = run(text)
        print(f"warm-up {seconds:5.2f} s  {text}", flush=True)
    times = []
    for text in REQUESTS:
        seconds, outcome = run(text)
        times.append(seconds)
        print(f"{seconds:5.2f} s  {text!r} -> {outcome}", flush=True)
    backend.close()
    store.close()
    ordered = sorted(times)
    p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)]
    print(f"p50_s={statistics.median(times):.2f} p95_s={p95:.2f}")


if __name__ == "__main__":
    main()
