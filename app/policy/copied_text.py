"""Text the user gave, copied: a title or a place may only be a stretch of the request.

Asked for "am 3. hab ich um 11 nen Friseurtermin", the bundled 0.5B model titled the event
"Zahnarzttermin" (an exemplar's word); "Videocall mit dem Team in Berlin am Montag" became
"Videocall with Team in Berlin on Montag at 14 Uhr Berliner Zeit", and "Rename the Porto trip
note to Porto weekend" became "Weekend Trip to Porto". A tool marks the arguments whose value
is the user's own words (``Tool.copied``: an event's title and place, a note's title); the
grammar then offers only stretches of the request for them, so the model chooses which words
and cannot write others. Nothing here reads one language: a stretch is a run of whitespace-
separated words.

Stretches that share a word with the request's dates (the calendar's own reading, ``said``)
are not offered: a title is not its time ("Trag für Dienstag um 9 Uhr" for "Anruf beim
Vermieter"). A long request (pasted text) is left free, as the date reader leaves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

COPY_WORDS = 8  # the longest stretch offered: a title or a place is a few words
MAX_REQUEST_WORDS = 60  # past this the request is mostly pasted text: the argument stays free
_EDGE = "\"'“”‘’«»()[]{}¿?¡!,;:."


def _words(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each whitespace-separated word, edge punctuation off."""
    found = []
    for match in re.finditer(r"\S+", text):
        start, end = match.start(), match.end()
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE:
            end -= 1
        if start < end:
            found.append((start, end))
    return found


def _covered(text: str, avoid: Sequence[str]) -> list[tuple[int, int]]:
    """Where the stretches ``avoid`` stand in ``text`` (character ranges, every occurrence)."""
    found = []
    folded = text.casefold()
    for stretch in avoid:
        needle = stretch.casefold()
        start = folded.find(needle) if needle else -1
        while start >= 0:
            found.append((start, start + len(needle)))
            start = folded.find(needle, start + 1)
    return found


def stretches(parts: Sequence[str], avoid: Iterable[str] = ()) -> list[str] | None:
    """The stretches of ``parts`` (the request, and the message it answers) of up to
    :data:`COPY_WORDS` words with no word inside one of ``avoid`` (the request's dates), each
    also with its first letter capitalised; ``None`` when a part is too long to read so."""
    avoided = list(avoid)
    found: list[str] = []
    for text in parts:
        words = _words(text)
        if len(words) > MAX_REQUEST_WORDS:
            return None
        covered = _covered(text, avoided)
        kept = [not any(a < y and x < b for x, y in covered) for a, b in words]
        for i in range(len(words)):
            for j in range(i, min(len(words), i + COPY_WORDS)):
                if not kept[j]:
                    break
                span = text[words[i][0] : words[j][1]]
                found.append(span)
                found.append(span[:1].upper() + span[1:])
    unique = list(dict.fromkeys(found))
    return unique or None
