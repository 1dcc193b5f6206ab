"""Dates as the model writes them ("tomorrow 12:30", "next Friday", ISO) made absolute, and back.

Resolution is deterministic: relative words are read against the context's "now" and time zone,
never the machine's clock, and an ambiguous weekday means the next one (``PREFER_DATES_FROM``
future). ISO text is read by the standard library first (exact and fast); only other text goes
to dateparser. Whether the text named a time of day matters ("Friday" is a day, "Friday 3pm" a
moment), so dateparser is asked to say so (``RETURN_TIME_AS_PERIOD``).

Results carry an ISO string with its offset and a human string ("Thu 26 Nov 2026 12:30–13:30
CET") so the user can check the resolved times before approving anything.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.errors import InvalidArgumentsError

# Languages dateparser may try, English first. Trying all of its 200 locales would make an
# unreadable text cost seconds; these cover what users of the app write.
LANGUAGES = ["en", "fr", "de", "es", "it", "nl", "pt"]
_TIME_ONLY = re.compile(
    r"^(at\s+)?(\d{1,2}([:h.]\d{2})?\s*(am|pm|h)?|noon|midday|midnight)$", re.IGNORECASE
)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Moment:
    """A resolved date text.

    Attributes:
        value: aware, in the zone it was resolved in (midnight when no time was said).
        has_time: the text named a time of day ("3pm", "in 2 hours", an ISO time).
        period: how long a stretch the text named: "next week" is a week, "April" a month,
            "Friday" a day, "Friday 3pm" a time. A listing of "next week" covers the week.
    """

    value: datetime
    has_time: bool
    period: str = "day"  # what the text named: "time", "day", "week", "month" or "year"

    @property
    def day(self) -> date:
        return self.value.date()


def zone_of(zone: tzinfo | None) -> tzinfo:
    """The zone to resolve in: the user's, else UTC (never the machine's, which tests vary)."""
    return zone if zone is not None else UTC


def named_zone(name: str, tool: str, field: str = "timezone") -> ZoneInfo:
    """An IANA zone by name ("Europe/Paris").

    Raises:
        InvalidArgumentsError: no such zone; the message gives an example.
    """
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidArgumentsError(
            tool, [(field, f"{name!r} is not a time zone name; write one like 'Europe/Paris'")]
        ) from None


def is_time_only(text: str) -> bool:
    """Whether ``text`` names only a time of day ("13:30", "3pm", "noon", "às 20h", "um 8"),
    no day."""
    cleaned = " ".join(text.split())
    if _TIME_ONLY.match(cleaned):
        return True
    matches = clock_times(cleaned)
    if len(matches) != 1:
        return False
    rest = cleaned[: matches[0].start()] + cleaned[matches[0].end() :]
    return not rest.strip(" ,")


def resolve(
    text: str,
    *,
    field: str,
    tool: str,
    zone: tzinfo,
    base: datetime,
    on_day: date | None = None,
) -> Moment:
    """Read ``text`` as a date or a moment, relative to ``base``, in ``zone``.

    Args:
        text: "2026-11-26T12:30", "tomorrow 12:30", "next Friday", "in 2 hours".
        field: the argument's name, for the error message.
        tool: the tool's name, for the error message.
        zone: where a time without an offset is (the user's zone).
        base: what "now" is for relative words (aware).
        on_day: the day a time alone ("13:30") is on (the event's day when moving it);
            otherwise a time alone is its next occurrence after ``base``.

    Raises:
        InvalidArgumentsError: the text is not a date; the message names the field and text.
    """
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidArgumentsError(tool, [(field, "is empty; give a date like 'tomorrow 12:30'")])
    cleaned = known_phrases(singular_days(cleaned))
    iso = _iso(cleaned, zone)
    if iso is not None:
        return iso
    found = _with_clock_time(cleaned, zone, base)
    if found is None:
        found = _parse(cleaned, zone, base)
    if found is None:
        found = _relative_day_with_date(cleaned, zone, base, field, tool)
    if found is None:
        numbered = in_digits(cleaned)
        if numbered != cleaned:
            found = _parse(numbered, zone, base)
            # Only a length of time from now ("daqui a 2 horas"): "de 2" read as the 2nd.
            if found is not None and found == _parse(numbered, zone, base + timedelta(minutes=1)):
                found = None
    if found is None:
        raise InvalidArgumentsError(
            tool,
            [
                (
                    field,
                    f"could not read {text!r} as a date or time; write it like "
                    "'2026-11-26 12:30', 'tomorrow 12:30' or 'next Friday'",
                )
            ],
        )
    value, period = found
    value = value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)
    if on_day is not None and period == "time" and is_time_only(cleaned):
        value = datetime.combine(on_day, value.time(), tzinfo=zone)
    if period == "time":
        return Moment(_normalise(value, zone), has_time=True, period="time")
    stretch = period if period in ("week", "month", "year") else "day"
    return Moment(at_midnight(value.date(), zone), has_time=False, period=stretch)


# dateparser's Spanish and Portuguese read "en 2 horas" and "dentro de 2 horas" but not "en dos
# horas" or "daqui a duas horas" (Portugal's "in two hours"): its locales lack those number
# words and that phrase. text2num writes the numbers in digits; the phrase is put as the one
# the locale has.
_NUMBER_LANGUAGES = ("es", "pt", "fr", "de", "en")
_LOCALE_GAPS = (
    (re.compile(r"\bdaqui a\b", re.IGNORECASE), "dentro de"),
    # "la semana que viene", "o mês que vem": next week, month, year (es, pt).
    (re.compile(r"\b(?:la |a )?semana que (?:viene|vem)\b", re.IGNORECASE), "próxima semana"),
    (re.compile(r"\b(?:el |o )?m[eê]s que (?:viene|vem)\b", re.IGNORECASE), "próximo mes"),
    (re.compile(r"\b(?:el |o )?a[ñn]o que (?:viene|vem)\b", re.IGNORECASE), "próximo año"),
)


def known_phrases(text: str) -> str:
    """``text`` with the relative phrases dateparser's locales lack put as ones they have."""
    for pattern, known in _LOCALE_GAPS:
        text = pattern.sub(known, text)
    return text


@functools.lru_cache(maxsize=4096)
def _as_number(word: str) -> str:
    """``word`` in digits when it is a cardinal number in one of the five languages ("duas",
    "dos", "zwei"), else as it is ("first" is "1st", a date of its own)."""
    from text_to_num import alpha2digit

    for language in _NUMBER_LANGUAGES:
        digits = alpha2digit(word, language, threshold=0)
        if digits.isdigit():
            return digits
    return word


def in_digits(text: str) -> str:
    """``text`` with numbers written as words in digits, in any of the five languages, and
    the relative phrases dateparser lacks in the ones it has (for when it cannot read it)."""
    return known_phrases(_WORD.sub(lambda word: _as_number(word[0]), text))


@functools.cache
def day_names() -> tuple[str, ...]:
    """Weekday names in :data:`LANGUAGES` (Babel's locale data), longest first; a compound
    name's first part too ("quarta" of "quarta-feira", as people write it)."""
    from babel.dates import get_day_names

    names: set[str] = set()
    for language in LANGUAGES:
        for name in get_day_names("wide", locale=language).values():
            names.add(name.lower())
            head = name.lower().split("-")[0]
            if len(head) >= 5:
                names.add(head)
    return tuple(sorted(names, key=len, reverse=True))


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?")


def plural_day(word: str) -> str | None:
    """``word`` cut to the weekday name it writes in a plural or adverbial form ("mardis",
    "quartas", "Tuesdays", "dienstags", "sábados": what a repeating event is said with), or
    ``None`` (a name as it is, "jueves", or no weekday)."""
    lower = word.lower()
    for name in day_names():
        if lower.startswith(name) and 0 < len(lower) - len(name) <= 2 and lower[-1] == "s":
            return word[: len(name)]
    return None


def singular_days(text: str) -> str:
    """``text`` with weekday names in their plural or adverbial forms (:func:`plural_day`)
    written as the name, which dateparser reads; it reads none of those forms, in any of its
    languages."""

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        return plural_day(word) or word

    return _WORD.sub(one, text)


def _parse(text: str, zone: tzinfo, base: datetime) -> tuple[datetime, str] | None:
    """dateparser's reading of ``text`` (relative to ``base``) and its period ("time" when a
    time of day was said), or ``None``."""
    import dateparser.date

    local_base = base.astimezone(zone)
    settings = {
        "RELATIVE_BASE": local_base.replace(tzinfo=None),
        "TIMEZONE": _zone_name(zone, local_base),
        "RETURN_AS_TIMEZONE_AWARE": True,
        "PREFER_DATES_FROM": "future",
        "RETURN_TIME_AS_PERIOD": True,
    }
    parser = dateparser.date.DateDataParser(languages=LANGUAGES, settings=settings)
    found = parser.get_date_data(text)
    if found.date_obj is None:
        return None
    return found.date_obj, str(found.period)


# A clock time with its minutes or its unit ("15 Uhr", "11h", "18h30", "9:15"), maybe after "um",
# "at", "à", "às", "a las", "alle" ("2 heures", "2 horas" are durations as often as times), or
# after a word that opens or closes a stretch of time in the five languages ("von 19 bis 20:30",
# "de 18 a 19:30", "from 9 to 11", "ab 19 Uhr", "até às 18"): dateparser read "von 19" as
# nothing, "de 18" as the 18th and "from 9" as September.
# dateparser reads "morgen um 15 Uhr" as a day (the time is lost: an all-day event) and "sexta
# às 11h" as the 11th; so a clock time is taken out and read here, and the rest is the day.
_CLOCK = re.compile(
    r"(?:\b(?P<at>um|at|à|às|as|a las|a la|alle|om|vers|gegen"
    r"|von|ab|bis|from|to|until|till|de|des|dès|desde|das|hasta|até|a partir de|a partir das"
    r"|à partir de|jusqu'à)\s+)?"
    r"\b(?P<hour>[01]?\d|2[0-3])"
    r"(?:(?::|h|\.)(?P<minute>[0-5]\d)|\s*(?P<unit>uhr|h)\b(?:\s*(?P<after>[0-5]\d)\b)?"
    r"|(?P<bare>(?=\s*$|\s*[,;!?]|\s+(?!am\b|pm\b|a\.m|p\.m|[:.\d]))))",
    re.IGNORECASE,
)


def clock_times(text: str) -> list[re.Match[str]]:
    """The clock times in ``text``: an hour with its minutes or unit, or a bare hour after
    a word that introduces a time ("at 11", "um 8", "a las 7"; dateparser read "Tuesday at
    11" as November)."""
    return [m for m in _CLOCK.finditer(text) if m["bare"] is None or m["at"] is not None]


def _with_clock_time(text: str, zone: tzinfo, base: datetime) -> tuple[datetime, str] | None:
    """``text`` with one clock time (see ``_CLOCK``) read as that time on the day the rest of
    the text names (today's next such time when the rest is empty), or ``None`` to leave the
    text to dateparser (no such time, or a rest that is not a day)."""
    matches = clock_times(text)
    if len(matches) != 1:
        return None
    match = matches[0]
    hour = int(match["hour"])
    minute = int(match["minute"] or match["after"] or 0)
    rest = " ".join((text[: match.start()] + " " + text[match.end() :]).split()).strip(" ,")
    if not rest:
        # A time alone ("18h", "um 20"): its next occurrence; the caller may move it to the
        # event's day. dateparser read "18h" as eighteen hours from now.
        local = base.astimezone(zone).replace(tzinfo=None)
        moment = datetime.combine(local.date(), time(hour, minute))
        return (moment if moment > local else moment + timedelta(days=1)), "time"
    day = _parse(rest, zone, base)
    if day is None:
        return None
    if day[1] == "part_of_day" and day[0].hour >= 12 and hour < 12:
        hour += 12  # "tonight at 8", "ce soir à 8h": the evening's eight
    return datetime.combine(day[0].date(), time(hour, minute)), "time"


_RELATIVE_DAY = re.compile(
    r"^(today|tonight|tomorrow|(?:next|this|coming)\s+\w+)[\s,]+(.+)$", re.IGNORECASE
)


def _relative_day_with_date(
    text: str, zone: tzinfo, base: datetime, field: str, tool: str
) -> tuple[datetime, str] | None:
    """A relative day followed by a written date, as in "tomorrow 03 December 2026".

    The bundled model writes this, copying today's date from its clock line after the word
    the user said. The day word is what the user said, so it wins when the written date is
    the same day or today (the copied clock); a time in the rest is kept. Any other date
    contradicts it and is an error that names both, for the model or the user to pick one.
    """
    match = _RELATIVE_DAY.match(text)
    if match is None:
        return None
    said = _parse(match.group(1), zone, base)
    rest = _iso(match.group(2), zone)
    written = (rest.value, "time" if rest.has_time else "day") if rest else None
    written = written or _parse(match.group(2), zone, base)
    if said is None or written is None:
        return None
    day = said[0].date()
    written_day = written[0].date()
    if written_day not in (day, base.astimezone(zone).date()):
        raise InvalidArgumentsError(
            tool,
            [
                (
                    field,
                    f"{match.group(1)!r} is {_day_text(day)} but {match.group(2)!r} is "
                    f"{_day_text(written_day)}; give one day",
                )
            ],
        )
    if written[1] == "time":
        return datetime.combine(day, written[0].time()), "time"
    return said


def _iso(text: str, zone: tzinfo) -> Moment | None:
    candidate = text.replace(" ", "T", 1) if len(text) > 10 else text
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        if len(candidate) == 10:
            return Moment(at_midnight(date.fromisoformat(candidate), zone), has_time=False)
        # (a date alone: the default period, a day)
        value = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    if value.tzinfo is None:
        return Moment(_normalise(value.replace(tzinfo=zone), zone), has_time=True, period="time")
    return Moment(value.astimezone(zone), has_time=True, period="time")


def _normalise(value: datetime, zone: tzinfo) -> datetime:
    """Wall time in ``zone`` (a time skipped by a DST change moves forward, as clocks do)."""
    return value.replace(tzinfo=None).replace(tzinfo=zone).astimezone(UTC).astimezone(zone)


def _zone_name(zone: tzinfo, moment: datetime) -> str:
    key = getattr(zone, "key", None)
    if key:
        return str(key)
    offset = moment.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def at_midnight(day: date, zone: tzinfo) -> datetime:
    """The start of ``day`` in ``zone``."""
    return datetime.combine(day, time(0), tzinfo=zone)


def iso(value: datetime | date) -> str:
    """ISO text with offset to the minute ("2026-11-26T12:30+01:00"); a date stays a date."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="minutes")
    return value.isoformat()


def _day_text(value: date) -> str:
    return f"{_DAYS[value.weekday()]} {value.day} {_MONTHS[value.month - 1]} {value.year}"


def human(start: datetime | date, end: datetime | date, *, all_day: bool) -> str:
    """'Thu 26 Nov 2026 12:30–13:30 CET', or 'Thu 26 Nov 2026 (all day)'.

    ``end`` is exclusive for an all-day event (the day after the last day), as in iCalendar.
    """
    if all_day:
        first = start.date() if isinstance(start, datetime) else start
        last = (end.date() if isinstance(end, datetime) else end) - timedelta(days=1)
        if last <= first:
            return f"{_day_text(first)} (all day)"
        return f"{_day_text(first)} – {_day_text(last)} (all day)"
    assert isinstance(start, datetime) and isinstance(end, datetime)
    zone_name = start.tzname() or ""
    suffix = f" {zone_name}" if zone_name else ""
    if start.date() == end.date():
        return f"{_day_text(start.date())} {start:%H:%M}–{end:%H:%M}{suffix}"
    end_zone = end.tzname() or ""
    end_suffix = f" {end_zone}" if end_zone and end_zone != zone_name else ""
    return (
        f"{_day_text(start.date())} {start:%H:%M}{suffix} – "
        f"{_day_text(end.date())} {end:%H:%M}{end_suffix or suffix}"
    )
