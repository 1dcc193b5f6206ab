"""Asking for the store's passphrase in the terminal, when there is no keyring to hold a key.

``CALLMEMAYBE_PASSPHRASE`` stays the way for scripts; a person at a terminal is asked instead
(without echo), and twice for a new store, because a mistyped passphrase that nobody noticed
would lock them out of everything the store will hold. The window asks with its own dialog and
passes the same kind of function to :func:`app.toolbox.open_toolbox`.
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable

from connectors.errors import KeyringUnavailableError
from connectors.store.keys import PASSPHRASE_ENV, PassphraseNeed

Ask = Callable[[PassphraseNeed], str | None]
"""``ask(need) -> passphrase`` (``None``: the user gave none): ``need`` is ``"create"`` for a
new store (confirm it) or ``"open"``."""

TRIES = 3


class PassphraseMismatchError(KeyringUnavailableError):
    """The two entries of a new passphrase differ (or it was empty) every time."""


def interactive() -> bool:
    """Whether a person can answer in this terminal (stdin and stderr are a terminal)."""
    try:
        return sys.stdin is not None and sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError, OSError):
        return False


def terminal_ask(need: PassphraseNeed, read: Callable[[str], str] = getpass.getpass) -> str | None:
    """Ask for the passphrase in the terminal; a new one is typed twice.

    Raises:
        PassphraseMismatchError: a new passphrase was empty or its two entries differed,
            :data:`TRIES` times (nothing was created).
    """
    if need == "open":
        return read("Passphrase of your Call-Me-Maybe store: ") or None
    print(
        "There is no keyring on this system to keep the key of your private store, so it "
        "will be protected by a passphrase. Choose one you will remember: it cannot be "
        f"recovered. (Scripts can set {PASSPHRASE_ENV}.)",
        file=sys.stderr,
    )
    for _ in range(TRIES):
        first = read("New passphrase: ")
        if not first:
            print("The passphrase cannot be empty.", file=sys.stderr)
            continue
        if read("The same passphrase again: ") == first:
            return first
        print("The two passphrases differ; try again.", file=sys.stderr)
    raise PassphraseMismatchError(
        "no passphrase was set (the two entries differed or were empty); nothing was created"
    )


def default_ask() -> Ask | None:
    """The terminal prompt when a person is there and no passphrase is set for scripts."""
    if os.environ.get(PASSPHRASE_ENV) or not interactive():
        return None
    return terminal_ask
