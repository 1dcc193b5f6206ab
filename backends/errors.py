"""Errors raised by the model runtime, in one place so callers can catch them by meaning.

Every message is written for the person using the app: it says what went wrong and, where
there is one, the way out.
"""

from __future__ import annotations


class BackendError(Exception):
    """Base class of every error the runtime raises on purpose."""


class RuntimeNotInstalledError(BackendError):
    """A runtime's optional dependency (an extra) is not installed."""


class ModelFileError(BackendError):
    """A model file is missing, truncated, corrupt or could not be written."""


class ModelDownloadError(ModelFileError):
    """A download from a model hub failed."""


class GrammarError(BackendError):
    """Tool schemas could not be turned into a decoding constraint."""


class GenerationCancelled(BackendError):
    """The caller cancelled a generation; nothing partial is returned."""


class GenerationIncomplete(BackendError):
    """Generation stopped (token budget or context full) before a tool call was complete."""

    def __init__(self, message: str, partial_text: str = "") -> None:
        super().__init__(message)
        self.partial_text = partial_text


class ContextOverflowError(BackendError):
    """The prompt does not fit in the model's context window."""
