"""README.md opens with the two commands that work on a fresh machine; CI runs the second.

If someone edits one and not the other, CI would silently test something other than what the
README promises; this test makes that a failure.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"```sh\n(.+?)\n```", text)


def test_readme_opens_with_install_and_test_commands() -> None:
    """The first two code blocks are install-and-start and install-and-test."""
    run, test = _readme_commands()[:2]
    assert "callmemaybe" in run and "[llama,model" in run
    assert "pytest" in test and "dev" in test


def test_ci_runs_exactly_the_readme_test_command() -> None:
    """.ci/run contains the README's test command verbatim."""
    test = _readme_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test in ci.splitlines()
