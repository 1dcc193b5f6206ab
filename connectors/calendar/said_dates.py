"""The dates a request says, as the user wrote them: what the model may copy into a date field.

Measured on the bundled 0.5B model (dev split, 2026-12-06): asked to write a date, it wrote an
absolute one of its own ("2026-12-14 12:30" for "tomorrow at 12:30": the month of an example
in a tool's description, the day of the clock line), so 30 of 47 calendar requests put the
event on a wrong day. When the grammar instead offers only the stretches of the request that
the calendar's own reader (:func:`connectors.calendar.dates.resolve`, dateparser in the
user's language) reads as a date or time, the model copies what the user said and the tool
resolves it against the user's clock. Nothing here reads words of one language: whatever the
reader reads, in any language it knows, is offered.

Only maximal stretches are kept ("tomorrow at 12:30", not "tomorrow" and "12:30" apart), in
the order the user said them, then trimmed of edge words that do not change what they read
as ("at 9:15 on" is "9:15"). dateparser, reading five languages at once, also reads short
function words as dates ("mit" and "die" as German weekday abbreviations, "a", "un", "ein" as
the number one); so a stretch whose every word is three letters or fewer, or that is one
number alone ("Rua Augusta 10"), is not offered. That is a rule of length, not of words:
it drops "hoy" alone (today, which a listing defaults to anyway) and a bare "May".
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo

from connectors.calendar import dates
from connectors.errors import InvalidArgumentsError

MAX_WORDS = 7
# A request longer than this is mostly pasted text: its dates are not the request's.
MAX_REQUEST_WORDS = 60
_EDGE = "\"'“”‘’«»()[]{}¿?¡!,;:."


def _words(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each word of ``text``, edge punctuation left out."""
    found = []
    for match in re.finditer(r"\S+", text):
        start, end = match.start(), match.end()
        while start < end and text[start] in _EDGE:
            start += 1
        while end > start and text[end - 1] in _EDGE and not text[start:end].endswith("a.m."):
            end -= 1
        if start < end:
            found.append((start, end))
    return found


def _reading(text: str, zone: tzinfo, base: datetime) -> tuple[object, str] | None:
    try:
        moment = dates.resolve(text, field="start", tool="calendar", zone=zone, base=base)
    except InvalidArgumentsError:
        return None
    return moment.value, moment.period


def _too_slight(text: str) -> bool:
    """One number alone, or only words of three letters or fewer (see the module's note)."""
    words = text.split()
    if len(words) == 1 and re.fullmatch(r"\d+(st|nd|rd|th|\.)?", words[0], re.IGNORECASE):
        return True
    return all(len(w) <= 3 and not any(c.isdigit() for c in w) for w in words)


def _trimmed(
    text: str, span: tuple[int, int], words: list[tuple[int, int]], zone: tzinfo, base: datetime
) -> str:
    """The span without edge words that leave its reading unchanged."""
    i, j = span
    reading = _reading(text[words[i][0] : words[j - 1][1]], zone, base)
    changed = True
    while changed and j - i > 1:
        changed = False
        for a, b in ((i + 1, j), (i, j - 1)):
            if _reading(text[words[a][0] : words[b - 1][1]], zone, base) == reading:
                i, j, changed = a, b, True
                break
    while j - i > 1:  # a short edge word that read as a date of its own ("18h à", "à" = 1)
        for a, b in ((i + 1, j), (i, j - 1)):
            edge = text[words[i if a > i else j - 1][0] : words[i if a > i else j - 1][1]]
            inner = text[words[a][0] : words[b - 1][1]]
            short = len(edge) <= 3 and not any(c.isdigit() for c in edge)
            if short and _reading(inner, zone, base) is not None:
                i, j = a, b
                break
        else:
            break
    return text[words[i][0] : words[j - 1][1]]


def date_spans(text: str, zone: tzinfo, base: datetime) -> list[str]:
    """The stretches of ``text`` the calendar reads as a date or time, longest first where
    they overlap, in the order they appear."""
    words = _words(text)
    if not words or len(words) > MAX_REQUEST_WORDS:
        return []
    readable: list[tuple[int, int]] = []  # word index ranges [i, j)
    for i in range(len(words)):
        for j in range(min(len(words), i + MAX_WORDS), i, -1):
            if _reading(text[words[i][0] : words[j - 1][1]], zone, base) is not None:
                readable.append((i, j))
                break  # the longest from this word; shorter ones are inside it
    kept = [
        (i, j)
        for i, j in readable
        if not any(a <= i and j <= b and (a, b) != (i, j) for a, b in readable)
    ]
    spans = []
    for i, j in kept:
        whole = text[words[i][0] : words[j - 1][1]]
        trimmed = _trimmed(text, (i, j), words, zone, base)
        spans.append(whole if _too_slight(trimmed) else trimmed)
    spans = list(dict.fromkeys(s for s in spans if not _too_slight(s)))
    # A stretch that trimming left inside another ("19h" of "19h, a começar", beside
    # "quartas às 19h") says nothing the other does not.
    return [s for s in spans if not any(s != other and s in other for other in spans)]
