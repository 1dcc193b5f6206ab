"""Where a request says an event happens, in the calendar reader's languages.

The bundled 0.5B model left the place out of "Lunch with Ana tomorrow at 12:30 for an hour at
Cafe Luz" and "Elternabend am Donnerstag von 19 bis 20:30 Uhr in der Schule": the grammar did
not offer ``location`` (the argument scoping reads English words). Offered a place as any
stretch of the request, it wrote one for every event ("Kaffee", "Wäsche", "Mum", "Todas" as
places: dev split, 2026-12-07). So a place is read the way a date is: a stretch of words right
after a word that says where ("at", "in der", "chez", "en el", "no"), that is not a date the
calendar reads ("in two hours", "no sábado", "à 10h") nor the calendar itself ("in my
calendar", "en mi agenda"); the grammar offers those stretches alone, and none when the
request says no place, so the model cannot invent one.

The words that say where are the short lists below, one line per language (neither dateparser
nor Babel has them); a place is at most :data:`LONGEST` words and stops at punctuation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from connectors.calendar.dates import day_names
from connectors.calendar.said_repeats import EVERY

WHERE: dict[str, tuple[str, ...]] = {
    "en": ("at", "in"),
    "de": ("in", "im", "bei", "beim"),
    "fr": ("à", "au", "chez", "dans"),
    "es": ("en",),
    "pt": ("em", "no", "na", "nos", "nas"),
}
"""The words after which a request names a place."""

CALENDAR_WORDS = ("calend", "kalend", "agenda", "schedule", "planning", "diary")
"""The starts of the words for the calendar itself: "in my calendar" names no place."""

LONGEST = 5  # words of a place at most ("Rua Augusta 10", "the café on the corner")

_WHERE = frozenset(word for words in WHERE.values() for word in words)
_TOKEN = re.compile(r"[^\s,.;:!?()\"«»“”]+|[,.;:!?()\"«»“”]")
_STOP = frozenset(',.;:!?()"«»“”')
_EVERY = frozenset(word for words in EVERY.values() for word in words)  # "in every year"


def places(text: str, dates: Iterable[str]) -> list[str]:
    """The stretches of ``text`` that may name where the event is: every run of words that
    starts right after a word of :data:`WHERE`, up to :data:`LONGEST` words, stopping at
    punctuation, a weekday, or a word inside one of ``dates`` (the stretches the calendar
    reads as dates). A run that names the calendar is no place."""
    covered = _covered(text, dates)
    days = frozenset(day_names())
    tokens = [(m.group(0), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    found: list[str] = []
    for i, (word, _, _) in enumerate(tokens):
        if word.casefold() not in _WHERE:
            continue
        run: list[tuple[int, int]] = []
        for token, start, end in tokens[i + 1 : i + 1 + LONGEST]:
            if token in _STOP or any(covered[start:end]) or token.casefold() in days:
                break  # a weekday the dates left out ("chez Paul le dimanche 22 à 20h")
            run.append((start, end))
        if not run or text[run[0][0] : run[0][1]].casefold() in _EVERY:
            continue
        stretch = text[run[0][0] : run[-1][1]].casefold()
        if any(start in stretch for start in CALENDAR_WORDS):
            continue
        found += [
            text[run[0][0] : run[last][1]]
            for last in range(len(run))
            if _named(text, run[: last + 1])
        ]
    return list(dict.fromkeys(found))


def _named(text: str, run: list[tuple[int, int]]) -> bool:
    """Whether a run of words reads as a place's name: it holds a capitalised word or a
    number ("Cafe Luz", "der Schule", "room 2"), and does not end on a short lowercase word
    ("Berlin am", "room 2 with"). Lowercase runs ("à partir de", "ligar à avó") were places
    of the model's making more often than "at the gym" was one of the user's."""
    words = [text[start:end] for start, end in run]
    last = words[-1]
    if last.islower() and len(last) <= 3:
        return False
    return any(word[:1].isupper() or word[:1].isdigit() for word in words)


def _covered(text: str, values: Iterable[str]) -> list[bool]:
    """For each character of ``text``, whether it lies in an occurrence of one of ``values``."""
    marks = [False] * len(text)
    for value in values:
        value = value.strip()
        if not value:
            continue
        for match in re.finditer(re.escape(value), text, re.IGNORECASE):
            marks[match.start() : match.end()] = [True] * (match.end() - match.start())
    return marks
