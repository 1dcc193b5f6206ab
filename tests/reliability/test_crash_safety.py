"""Crash safety: a writer killed with SIGKILL at random moments loses nothing it said was done.

Each trial forks a writer (:class:`tests.reliability.workload.Writer`: notes created and
appended to, events created, files written and moved, undos, all through approvals), lets it
run for a random 5 to 200 milliseconds, kills it with SIGKILL, and checks the
store and the files (:func:`tests.reliability.workload.verify`). Forking from a process that has
already imported everything keeps a trial at a few tens of milliseconds, so hundreds of kills
fit in the suite's budget; the soak (``bench/soak.py``) does the same with separate processes.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import time
from pathlib import Path

import pytest

from connectors.registry import load_registry
from tests.reliability.workload import Journal, Verdict, Writer, make_world, verify

TRIALS = int(os.environ.get("CMM_CRASH_TRIALS", "220"))

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")


def _fork_writer(run: object) -> int:
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        try:
            run()  # type: ignore[operator]
        finally:
            os._exit(0)
    return pid


def test_random_sigkills_lose_nothing_confirmed(tmp_path: Path) -> None:
    world = make_world(tmp_path / "world", secrets.token_bytes(32))
    registry = load_registry()
    rng = random.Random(20261125)
    kills = in_flight = settled = 0
    verdict = Verdict()
    trial = 0
    # On a busy machine a writer may get little done in 200 ms: more trials, with longer lives,
    # until it has (the kills that land mid-action are what the test is about).
    while trial < TRIALS or (verdict.confirmed < TRIALS // 10 and trial < 3 * TRIALS):
        seed = rng.randrange(2**32)
        pid = _fork_writer(lambda s=seed: Writer(world, registry, random.Random(s)).run())
        time.sleep(rng.uniform(0.005, 0.2) if trial < TRIALS else rng.uniform(0.2, 1.0))
        trial += 1
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        kills += os.WIFSIGNALED(status)
        records = Journal.read(world.journal)
        if records and ("approving" in records[-1] or "undoing" in records[-1]):
            in_flight += 1
        verdict = verify(world)
        settled += verdict.settled
        assert verdict.ok, f"trial {trial}: " + "\n".join(verdict.problems[:10])
    print(
        f"\ncrash safety: trials={trial} kills={kills} killed_mid_action={in_flight} "
        f"settled_at_start_up={settled} confirmed={verdict.confirmed} lost={verdict.lost} "
        f"corrupt={verdict.corrupt} misplaced={verdict.misplaced} "
        f"unapproved={verdict.unapproved} stuck={verdict.stuck}"
    )
    assert kills == trial >= TRIALS
    assert verdict.confirmed >= TRIALS // 10  # the writer got real work done between the kills
    assert in_flight > TRIALS // 10  # and many kills landed in the middle of an action


def test_a_kill_in_the_middle_of_a_move_leaves_the_file_at_one_place(tmp_path: Path) -> None:
    """The one step of a move that could leave a file at two places, hit on purpose: the
    writer is killed the moment the move touches the file system a second time (after the
    new name exists, before the old one is gone, if a move were a link then an unlink)."""
    world = make_world(tmp_path / "world", secrets.token_bytes(32))
    registry = load_registry()
    source = world.granted / "inbox" / "seed-0.txt"

    def move_and_die_midway() -> None:
        writer = Writer(world, registry, random.Random(0))
        real_unlink, real_link = os.unlink, os.link

        def unlink(path: object, *args: object, **kwargs: object) -> None:
            if str(path) == str(source):
                os.kill(os.getpid(), signal.SIGKILL)
            real_unlink(path, *args, **kwargs)  # type: ignore[arg-type]

        def link(src: object, dst: object, *args: object, **kwargs: object) -> None:
            real_link(src, dst, *args, **kwargs)  # type: ignore[arg-type]
            if str(src) == str(source):
                os.kill(os.getpid(), signal.SIGKILL)

        os.unlink, os.link = unlink, link  # type: ignore[assignment]
        writer.approve(
            "files_move",
            {"source": "inbox/seed-0.txt", "destination": "work"},
            token="seed-0",
            at=str(world.granted / "work" / "seed-0.txt"),
            was=str(source),
        )

    pid = _fork_writer(move_and_die_midway)
    os.waitpid(pid, 0)
    places = [p for p in world.granted.rglob("seed-0.txt")]
    assert len(places) == 1, f"the file is at {places}"
    assert verify(world).ok
