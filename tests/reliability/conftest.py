"""Fixtures of the reliability suite: a store that several processes can open.

The OS keyring of a test process cannot be shared with the processes it starts, so here the
store's key comes from a passphrase (``CALLMEMAYBE_PASSPHRASE``) with the keyring forced to
"none": exactly what a headless user without Secret Service gets, and what every process
started by these tests inherits through :func:`child_env`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PASSPHRASE = "reliability suite passphrase"
REPO = Path(__file__).resolve().parents[2]


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of a process that opens the same store as the test."""
    env = dict(os.environ)
    env.update(
        CALLMEMAYBE_HOME=str(home),
        CALLMEMAYBE_PASSPHRASE=PASSPHRASE,
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        QT_QPA_PLATFORM="offscreen",
        XDG_DATA_HOME=str(home / "xdg"),
    )
    env.update(extra)
    return env


@pytest.fixture
def passphrase_store(_isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's ``CALLMEMAYBE_HOME``, its store keyed by :data:`PASSPHRASE` (no keyring)."""
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("CALLMEMAYBE_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("XDG_DATA_HOME", str(_isolated_home / "xdg"))
    try:
        yield _isolated_home
    finally:
        keyring.set_keyring(previous)
