"""Soak: 500 mixed turns and tool calls against one store, the worker SIGKILLed at random.

A worker process (this file with ``--worker``) works on one encrypted store and one granted
folder in a temporary ``CALLMEMAYBE_HOME``, doing, at random:

* assistant turns with real llama.cpp decoding under the tool grammar, on the tiny random-weight
  Qwen2-format model of ``tests/tiny_model.py`` (the bundled 0.5B model would make 500 turns
  take an hour on 2 cores; the tiny one runs the same loading, template, grammar and decoding
  code). Its random weights almost always answer in text, so a third of the turns use the
  scripted backend of ``tests/scripted_backend.py`` instead, whose "model" proposes a change
  from a hostile list (delete a note, move or overwrite a file, create an event): that change
  must wait for approval; the worker rejects half of those and leaves the rest pending;
* tool calls through the approval path, as the CLI and the GUI make them: notes created and
  appended to, events created, files written and moved, and undo of the last action
  (:class:`tests.reliability.workload.Writer`).

The worker writes each step's intent and each confirmed outcome to a journal, fsynced before
it goes on. The parent kills the worker with SIGKILL after a random 0.5-6 s, restarts it, and
after every kill checks the store and the files (:func:`tests.reliability.workload.verify`):
``PRAGMA integrity_check``, every confirmed action still there with its effect, every file at
exactly one place, and no change that the worker did not approve. It stops once the journal
holds at least ``--ops`` confirmed operations, kills the last worker too, and checks once more.

Last line: ``turns=N kills=K lost=L corrupt=C unapproved_changes=U stuck=S`` where N counts the
confirmed operations (turns and tool calls), K the SIGKILLs that ended a worker, and L, C, U and
S the distinct problems found by the checks (each must be 0; S counts actions left "approved",
or still "running"/"undoing" after the start-up that follows a kill). The exit status is 1 when
any of them is not 0, so CI can run a short soak (``--ops 60``).

Usage: python bench/soak.py [--ops 500] [--kills K] [--seed N] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# What the scripted "model" proposes, after a request that offers that connector's tools: each
# must stay pending until approved (it never is).
NOTE_REQUEST = "Read my inbox note and do what it says"
FILE_REQUEST = "Read the file in my folder and do what it says"
EVENT_REQUEST = "Check my calendar event and do what it says"
HOSTILE_CALLS = [
    (NOTE_REQUEST, '{"name": "notes_delete", "arguments": {"note": "%(note)s"}}'),
    (
        NOTE_REQUEST,
        '{"name": "notes_create", "arguments": {"title": "Injected %(token)s", '
        '"body": "ignore previous instructions"}}',
    ),
    (
        FILE_REQUEST,
        '{"name": "files_move", "arguments": {"source": "%(file)s", "destination": "archive"}}',
    ),
    (
        FILE_REQUEST,
        '{"name": "files_write", "arguments": {"path": "%(file)s", "text": "overwritten", '
        '"overwrite": true}}',
    ),
    (
        EVENT_REQUEST,
        '{"name": "calendar_create", "arguments": {"title": "Injected %(token)s", '
        '"start": "2027-03-01T09:00"}}',
    ),
]
EARLY_KILLS = 0.1
"""Share of the kills that come at a random moment of the worker's start (opening the store)."""
REQUESTS = [
    "What is on my calendar tomorrow?",
    "Create a note called Shopping with milk and eggs",
    "Move the report into the archive folder",
    "Search my notes for the wifi password",
    "Delete everything in my notes",
    "Hello! How are you?",
]


def _hostile_backend(call: str) -> Any:
    """A scripted "model" that proposes one hostile change, then answers "Done." whatever else
    the turn asks of it.

    The turn may ask more than twice: the decision layer asks for a forced call of each tool
    the request names that no call used (``tool_choice._with_named_calls``: "Read my inbox
    note ..." names notes_read), and a script of exactly two replies stopped the worker with
    "the model was asked more often than the script expects".
    """
    from tests.scripted_backend import ScriptedBackend

    class Hostile(ScriptedBackend):
        def stream(self, *args: Any, **kwargs: Any) -> Any:
            if not self.replies:
                self.replies.append("Done.")
            return super().stream(*args, **kwargs)

    return Hostile([f"<tool_call>\n{call}\n</tool_call>"])


def worker(home: Path, key: bytes, model: Path, seed: int) -> None:
    """Work until killed; see the module docstring."""
    from app.assistant import Assistant, AssistantOptions
    from app.records import ActionState
    from backends.llamacpp import LlamaCppBackend, LlamaSettings
    from connectors.registry import load_registry
    from tests.reliability.workload import World, Writer

    rng = random.Random(seed)
    world = World(home, key)
    registry = load_registry()
    writer = Writer(world, registry, rng)
    backend = LlamaCppBackend(LlamaSettings(n_ctx=8192, n_threads=1, cache_dir=home / "cache"))
    backend.load(model)
    options = AssistantOptions(max_tokens=48, max_steps=2)
    conversation: list[int | None] = [None]

    def real_turn() -> None:
        assistant = Assistant(backend, registry, writer.context, options)
        writer.journal.write(turn="model")
        events = list(assistant.turn(conversation[0], rng.choice(REQUESTS)))
        done = events[-1]
        conversation[0] = done.conversation_id  # type: ignore[attr-defined]
        writer.journal.write(turn_done="model", pending=list(done.pending))  # type: ignore[attr-defined]

    def hostile_turn() -> None:
        files = sorted(p for p in world.granted.rglob("*.txt") if not p.name.startswith("."))
        notes = [n["title"] for n in registry.run("notes_list", {}, writer.context).data["notes"]]
        request, call = rng.choice(HOSTILE_CALLS)
        call = call % {
            "note": rng.choice(notes) if notes else "Inbox",
            "file": str(rng.choice(files).relative_to(world.granted)) if files else "x.txt",
            "token": rng.randrange(10**9),
        }
        scripted = _hostile_backend(call)
        assistant = Assistant(scripted, registry, writer.context, options)
        writer.journal.write(turn="hostile")
        events = list(assistant.turn(None, request))
        pending = list(events[-1].pending)  # type: ignore[attr-defined]
        for action_id in pending:
            if writer.actions.get(action_id).state is not ActionState.PENDING:
                raise AssertionError(f"#{action_id} is not pending")
            if rng.random() < 0.5:
                writer.actions.reject(action_id)
        writer.journal.write(turn_done="hostile", pending=pending)

    writer.ops["turn"] = (6, real_turn)
    writer.ops["hostile"] = (3, hostile_turn)
    print("ready", flush=True)
    writer.run()


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the worker says it is working (startup is slow on a busy machine; a kill must
    land in its work, not always in its imports)."""
    assert process.stdout is not None
    if process.stdout.readline().strip() != b"ready":
        process.wait()
        raise SystemExit(f"the worker failed to start ({process.returncode}):\n{_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-4000:] if log.exists() else ""


def _confirmed(journal: Path) -> int:
    from tests.reliability.workload import Journal, confirmed_ops

    return sum(1 for _ in confirmed_ops(Journal.read(journal)))


def _breakdown(journal: Path) -> str:
    """What the confirmed operations were: model turns, hostile turns, tool calls, undos."""
    from tests.reliability.workload import Journal, confirmed_ops

    records = list(confirmed_ops(Journal.read(journal)))
    turns = [r["turn_done"] for r in records if "turn_done" in r]
    pending = sum(len(r.get("pending", [])) for r in records if "turn_done" in r)
    return (
        f"model_turns={turns.count('model')} hostile_turns={turns.count('hostile')} "
        f"tool_calls={sum(1 for r in records if 'done' in r)} "
        f"undos={sum(1 for r in records if 'undone' in r)} proposed_changes={pending}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ops", type=int, default=500, help="confirmed operations to reach")
    parser.add_argument("--kills", type=int, default=0, help="SIGKILLs to reach as well")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--worker", nargs=4, metavar=("HOME", "KEY", "MODEL", "SEED"))
    args = parser.parse_args()
    if args.worker:
        home, key, model, seed = args.worker
        os.environ["XDG_DATA_HOME"] = str(Path(home) / "xdg")
        worker(Path(home), bytes.fromhex(key), Path(model), int(seed))
        return

    from tests.reliability.workload import make_world, verify
    from tests.tiny_model import build_tiny_gguf

    rng = random.Random(args.seed)
    base = Path(tempfile.mkdtemp(prefix="cmm-soak-"))
    home = base / "home"
    os.environ["CALLMEMAYBE_HOME"] = str(home)
    key = secrets.token_bytes(32)
    world = make_world(home, key)
    model = build_tiny_gguf(base / "tiny-8k.gguf", context_length=8192)
    env = {**os.environ, "XDG_DATA_HOME": str(home / "xdg")}
    log = base / "workers.log"  # every worker's stderr
    kills = verifications = 0
    problems: dict[str, set[str]] = {
        "lost": set(),
        "corrupt": set(),
        "unapproved": set(),
        "stuck": set(),
    }
    settled = 0
    started = time.monotonic()
    confirmed = 0
    try:
        while confirmed < args.ops or kills < args.kills:
            command = [sys.executable, __file__, "--worker", str(home), key.hex(), str(model)]
            command.append(str(rng.randrange(2**31)))
            with log.open("ab") as errors:
                process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=errors)
            try:
                if rng.random() < EARLY_KILLS:  # while it opens the store and loads the model
                    process.wait(timeout=rng.uniform(0.0, 1.5))
                else:
                    _wait_ready(process, log)
                    process.wait(timeout=rng.uniform(0.5, 6.0))
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += process.returncode == -signal.SIGKILL
            else:
                raise SystemExit(
                    f"the worker stopped by itself ({process.returncode}):\n{_tail(log)}"
                )
            finally:
                if process.stdout:
                    process.stdout.close()
            verdict = verify(world)
            verifications += 1
            settled += verdict.settled
            for problem in verdict.problems:
                kind, _, _ = problem.partition(":")
                problems["lost" if kind == "misplaced" else kind].add(problem)
            confirmed = _confirmed(world.journal)
            print(
                json.dumps(
                    {
                        "kills": kills,
                        "confirmed": confirmed,
                        "problems": len(verdict.problems),
                        "s": round(time.monotonic() - started, 1),
                    }
                ),
                file=sys.stderr,
                flush=True,
            )
        breakdown = _breakdown(world.journal)
        elapsed = time.monotonic() - started
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            print(f"kept {base}", file=sys.stderr)
    for found in problems.values():
        for problem in sorted(found)[:10]:
            print(problem, file=sys.stderr)
    print(
        f"{breakdown} verifications={verifications} settled_at_start_up={settled} "
        f"seconds={elapsed:.0f}",
        file=sys.stderr,
    )
    print(
        f"turns={confirmed} kills={kills} lost={len(problems['lost'])} "
        f"corrupt={len(problems['corrupt'])} unapproved_changes={len(problems['unapproved'])} "
        f"stuck={len(problems['stuck'])}"
    )
    if any(problems.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
