"""What can go wrong when a tool runs, each as a sentence a user (or the model) can act on.

Every error a connector raises is a :class:`ConnectorError`; its message is shown as is, so it
names the thing at fault and what to do. Nothing here is a traceback for a user.
"""

from __future__ import annotations

from collections.abc import Sequence


class ConnectorError(Exception):
    """A tool could not do what was asked; nothing was changed."""


class UnknownToolError(ConnectorError):
    """No tool has this name."""


class InvalidArgumentsError(ConnectorError):
    """The arguments do not fit the tool's schema.

    Attributes:
        problems: ``(field, message)`` pairs, one per bad field (``""`` for the whole object).
    """

    def __init__(self, tool: str, problems: Sequence[tuple[str, str]]) -> None:
        self.tool = tool
        self.problems = list(problems)
        listed = "; ".join(f"{field or 'arguments'}: {message}" for field, message in problems)
        super().__init__(f"invalid arguments for {tool}: {listed}")


class ApprovalRequiredError(ConnectorError):
    """A tool that changes data was run without approval."""


class NotFoundError(ConnectorError):
    """The note, event or file named does not exist."""


class PathRefusedError(ConnectorError):
    """A path is outside the folders the user granted, or is not a regular file or folder."""


class StoreError(ConnectorError):
    """The private store cannot be opened or written."""


class WrongKeyError(StoreError):
    """The database exists but this key does not open it."""


class KeyringUnavailableError(StoreError):
    """No secure OS keyring holds the database key, and no passphrase was given."""


class DiskFullError(StoreError):
    """The disk filled up while writing; the write was rolled back."""
