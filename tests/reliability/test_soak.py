"""A short soak in every CI run, so that ``bench/soak.py`` cannot break unnoticed again.

The soak's worker once stopped at its first hostile turn (its scripted model was asked more
often than its script expected), and nothing ran it, so the reliability figure could no longer
be reproduced. This runs the real script, separate processes and SIGKILLs included, for 60
confirmed operations and at least 3 kills, and reads its last line.
"""

from __future__ import annotations

import re
import subprocess
import sys

from tests.reliability.conftest import REPO

LAST_LINE = re.compile(
    r"^turns=(\d+) kills=(\d+) lost=(\d+) corrupt=(\d+) unapproved_changes=(\d+) stuck=(\d+)$"
)


def test_a_short_soak_loses_nothing() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "soak.py"), "--ops", "60", "--kills", "3"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        cwd=REPO,
    )
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0 and lines, done.stderr[-4000:]
    found = LAST_LINE.match(lines[-1])
    assert found, lines[-1]
    turns, kills, lost, corrupt, unapproved, stuck = map(int, found.groups())
    print(f"\nshort soak: {lines[-1]}")
    assert turns >= 60 and kills >= 3
    assert (lost, corrupt, unapproved, stuck) == (0, 0, 0, 0), done.stderr[-4000:]
