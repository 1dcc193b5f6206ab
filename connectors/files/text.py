"""Read the start of a file as text, guessing its encoding, or say it is not text.

Files on a desktop are not all UTF-8: a letter saved years ago is Windows-1252, a file from
Windows Notepad may be UTF-16. charset-normalizer guesses the encoding from the bytes; only
what will be shown is read (a few bytes per character), so a huge log costs no more than a
short note.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from charset_normalizer import from_bytes

from connectors.errors import ConnectorError

_MAX_BYTES_PER_CHAR = 4  # UTF-8 and UTF-32 use at most four bytes per character
_WIDE = ("utf_16", "utf_32")  # their text legitimately holds NUL bytes
# C0 controls that text files do not contain (tab, newlines, form feed and escape are fine).
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


class NotTextError(ConnectorError):
    """The file is binary (an image, an archive, a program), not text."""


@dataclass(frozen=True)
class TextRead:
    """The text read, the encoding it was decoded from, and whether more follows."""

    text: str
    encoding: str
    truncated: bool


def read_text(
    path: Path, max_chars: int, opener: Callable[[str, int], int] | None = None
) -> TextRead:
    """The first ``max_chars`` characters of ``path``, decoded.

    ``opener`` (as for :func:`open`) lets the file tools check what was really opened.

    Raises:
        NotTextError: the bytes look binary.
        ConnectorError: the file cannot be read.
    """
    limit = max_chars * _MAX_BYTES_PER_CHAR + _MAX_BYTES_PER_CHAR
    try:
        with open(path, "rb", opener=opener) as source:
            raw = source.read(limit + 1)
    except OSError as exc:
        raise ConnectorError(f"could not read {path} ({exc.strerror or exc})") from exc
    more = len(raw) > limit
    raw = raw[:limit]
    if not raw:
        return TextRead(text="", encoding="utf_8", truncated=False)

    encoding = _guess(raw, cut=more)
    if encoding is None or (b"\0" in raw and not encoding.startswith(_WIDE)):
        raise NotTextError(
            f"{path} looks like a binary file (not text), so it cannot be read as text; "
            "open it with a suitable app instead"
        )
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    text = decoder.decode(raw, final=not more)
    truncated = more or len(text) > max_chars
    return TextRead(text=text[:max_chars], encoding=encoding, truncated=truncated)


def _guess(raw: bytes, *, cut: bool) -> str | None:
    """The encoding of ``raw``, ``utf_8_sig`` for UTF-8 with a byte-order mark.

    Bytes that decode as UTF-8 are UTF-8: another encoding's non-ASCII text almost never forms
    valid UTF-8 by chance, while charset-normalizer, asked about a short or repetitive UTF-8
    text, can name an exotic encoding. Control characters send it to the full guess, which
    weighs them. When the read stopped early (``cut``) the last character may be split; an
    incremental decoder tolerates that, and dropping up to three trailing bytes lets the full
    guess do the same.
    """
    try:
        text = codecs.getincrementaldecoder("utf_8")().decode(raw, final=not cut)
    except UnicodeDecodeError:
        pass
    else:
        if not _CONTROL.search(text):
            return "utf_8_sig" if raw.startswith(codecs.BOM_UTF8) else "utf_8"
    for drop in range(4 if cut else 1):
        match = from_bytes(raw[: len(raw) - drop]).best()
        if match is not None:
            if match.encoding == "utf_8" and match.bom:
                return "utf_8_sig"
            return match.encoding
    return None
