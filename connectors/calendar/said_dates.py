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

Three more readings keep a stretch to one date (dev split, 2026-12-07): two clock times with a
word between them are a start and an end, offered apart ("von 19" and "20:30", not "jueves de
18 a 19:30" read as a Wednesday); a length of time beside a date is cut from it ("15
minutes" and "Monday", not "15 minutes, from Monday" read as the 15th), told by how each part
reads (a length moves with now, a date does not); and two stretches that share a word give it
to the first ("Donnerstag von 19", then "20:30", not "19 bis 20:30" read as the 19th).
"""

from __future__ import annotations

import functools
import re
from datetime import datetime, timedelta, tzinfo

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


def _is_range(text: str) -> bool:
    """Whether ``text`` names two clock times with a word between them or before the second
    ("von 19 bis 20:30", "de 18 a 19:30", "das 9 às 11"): a start and an end, which are
    offered apart, not as one date (dateparser read "jueves de 18 a 19:30" as a Wednesday)."""
    found = dates.clock_times(text)
    if len(found) < 2:
        return False
    between = text[found[0].end() : found[1].start()]
    return found[1]["at"] is not None or any(c.isalpha() for c in between)


@functools.lru_cache(maxsize=4096)
def _reading(text: str, zone: tzinfo, base: datetime) -> tuple[object, str] | None:
    """The calendar's reading of ``text``, once: trimming, the length-of-time cuts and the
    kinds read the same stretches again and again, and each dateparser reading costs."""
    if _is_range(text):
        return None
    try:
        moment = dates.resolve(text, field="start", tool="calendar", zone=zone, base=base)
    except InvalidArgumentsError:
        return None
    return moment.value, moment.period


def _too_slight(text: str, zone: tzinfo, base: datetime) -> bool:
    """One number alone, or only words of three letters or fewer (see the module's note),
    but for a phrase the reader knows by a longer one ("o mês que vem", "próximo mês") and a
    short word that reads as today ("hoy": a listing without it shows the next seven days)."""
    numbered = dates.in_digits(text).split()  # "duas" is a number alone too
    if len(numbered) == 1 and re.fullmatch(r"\d+(st|nd|rd|th|\.)?", numbered[0], re.IGNORECASE):
        return True
    words = dates.known_phrases(text).split()
    if not all(len(w) <= 3 and not any(c.isdigit() for c in w) for w in words):
        return False
    reading = _reading(text, zone, base)
    today = base.replace(hour=0, minute=0, second=0, microsecond=0)
    return not (len(words) == 1 and reading is not None and reading == (today, "day"))


def _trimmed(
    text: str, span: tuple[int, int], words: list[tuple[int, int]], zone: tzinfo, base: datetime
) -> tuple[int, int]:
    """The span (word indices) without edge words that leave its reading unchanged, read at
    now and at the start of today: at 10:05, "9" alone is tomorrow's 9:00 as "amanhã das 9"
    is, but at 00:00 they differ, so "amanhã" stays."""
    i, j = span
    early = base.replace(hour=0, minute=0)

    def reading(a: int, b: int) -> tuple[object, object]:
        part = text[words[a][0] : words[b - 1][1]]
        return _reading(part, zone, base), _reading(part, zone, early)

    whole = reading(i, j)
    changed = True
    while changed and j - i > 1:
        changed = False
        for a, b in ((i + 1, j), (i, j - 1)):
            if reading(a, b) == whole:
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
    return i, j


# How far "now" is moved to tell a length of time ("15 minutes" reads as now + 15 minutes, so
# it moves with now) from a date ("Monday", "tomorrow at 12:30" stay where they are).
_NUDGE = timedelta(minutes=1)


def _moves(text: str, zone: tzinfo, base: datetime) -> bool:
    """Whether ``text`` reads as a moment counted from now: a length of time."""
    first = _reading(text, zone, base)
    return first is not None and first != _reading(text, zone, base + _NUDGE)


def minutes_of(text: str, zone: tzinfo, base: datetime) -> int | None:
    """How many minutes a length of time lasts ("deux heures": 120), or ``None`` when
    ``text`` is no length of time (it does not move with now)."""
    if not _moves(text, zone, base):
        return None
    reading = _reading(text, zone, base)
    if reading is None or not isinstance(reading[0], datetime):
        return None
    return round((reading[0] - base).total_seconds() / 60)


def kind_of(text: str, zone: tzinfo, base: datetime) -> str:
    """What a date stretch of the request names: "length" (a length of time, "an hour", read
    as counted from now), "clock" (a time of day alone, "20:30", "um 11"), "moment" (a day
    and its time), or the stretch it covers: "day", "week", "month", "year"."""
    if _moves(text, zone, base):
        return "length"
    if dates.is_time_only(text):
        return "clock"
    reading = _reading(text, zone, base)
    period = reading[1] if reading is not None else "day"
    return "moment" if period == "time" else period


def _offset_cut(
    text: str, span: tuple[int, int], words: list[tuple[int, int]], zone: tzinfo, base: datetime
) -> int | None:
    """Where ``span`` joins a length of time to a date, each readable alone ("15 minutes,
    from Monday", "30 minutes next week", "deux heures jeudi"): dateparser read such a
    stretch as one date, the 15th or the 2nd of the month, or next week's same minute, so the
    model could only copy a wrong date. Told apart by how each part reads, not by its words:
    a length of time moves with now, a date does not. ``None`` when it joins no such parts."""
    i, j = span
    whole = text[words[i][0] : words[j - 1][1]]
    read = _reading(whole, zone, base)
    if read is None:
        return None
    whole_moves = _moves(whole, zone, base)
    for k in range(i + 1, j):
        # Each part without its edge words: "10h et" reads as ten hours from now, "10h" not.
        a, b = _trimmed(text, (i, k), words, zone, base)
        left = text[words[a][0] : words[b - 1][1]]
        a, b = _trimmed(text, (k, j), words, zone, base)
        right = text[words[a][0] : words[b - 1][1]]
        left_read, right_read = _reading(left, zone, base), _reading(right, zone, base)
        if left_read is None or right_read is None:
            continue
        left_moves = _moves(left, zone, base)
        if left_moves == _moves(right, zone, base):
            continue
        fixed = right_read if left_moves else left_read
        # Kept whole when it reads as the date part does ("sexta às 11h e": Friday at 11,
        # though "às 11h e" alone reads as eleven hours from now).
        if whole_moves or fixed[0].date() != read[0].date():  # type: ignore[attr-defined]
            return k
    return None


def _readable(
    text: str, words: list[tuple[int, int]], zone: tzinfo, base: datetime
) -> list[tuple[int, int]]:
    """The longest readable stretch from each word (word index ranges ``[i, j)``), none across
    a place where a length of time meets a date (see :func:`_offset_cut`)."""
    cuts: set[int] = set()
    while True:
        readable = []
        for i in range(len(words)):
            for j in range(min(len(words), i + MAX_WORDS), i, -1):
                if any(i < k < j for k in cuts):
                    continue
                if _reading(text[words[i][0] : words[j - 1][1]], zone, base) is not None:
                    readable.append((i, j))
                    break  # the longest from this word; shorter ones are inside it
        found = {_offset_cut(text, span, words, zone, base) for span in readable}
        found.discard(None)
        if found <= cuts:
            return readable
        cuts |= {k for k in found if k is not None}


def date_spans(text: str, zone: tzinfo, base: datetime) -> list[str]:
    """The stretches of ``text`` the calendar reads as a date or time, longest first where
    they overlap, in the order they appear."""
    words = _words(text)
    if not words or len(words) > MAX_REQUEST_WORDS:
        return []
    readable = _readable(text, words, zone, base)
    kept: list[tuple[int, int]] = []  # trimmed, apart, in the order they were said
    for i, j in readable:
        if any(a <= i and j <= b and (a, b) != (i, j) for a, b in readable):
            continue
        if kept and i < kept[-1][1]:
            # It shares words with the stretch before ("19" of "Donnerstag von 19" and of
            # "19 bis 20:30", which read as the 19th at 20:30): only what follows is its own.
            i = kept[-1][1]
            j = next(
                (
                    end
                    for end in range(j, i, -1)
                    if _reading(text[words[i][0] : words[end - 1][1]], zone, base) is not None
                ),
                i,
            )
            if j == i:
                continue
        a, b = _trimmed(text, (i, j), words, zone, base)
        if _too_slight(text[words[a][0] : words[b - 1][1]], zone, base):
            a, b = i, j
        kept.append((a, b))
    spans = [text[words[i][0] : words[j - 1][1]] for i, j in kept]
    spans = list(dict.fromkeys(s for s in spans if not _too_slight(s, zone, base)))
    # A stretch that trimming left inside another ("19h" of "19h, a começar", beside
    # "quartas às 19h") says nothing the other does not.
    return [s for s in spans if not any(s != other and s in other for other in spans)]
