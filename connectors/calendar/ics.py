"""iCalendar text in and out: reading a whole .ics file strictly, writing one back.

Reading is strict on purpose: icalendar is lenient (a truncated file parses as nothing, a bad
DTSTART is kept as a "broken property"), which for an import would mean silently losing events.
Every problem found is reported with the event it is in, and the caller imports nothing.

An event is kept as text: its VEVENT blocks (series and RECURRENCE-ID overrides share a UID) and
the VTIMEZONE blocks they refer to. Writing a calendar back is then joining texts, with no need to
parse ten thousand events; zones named by IANA name get a VTIMEZONE generated on export, since
other apps (Outlook) expect one for every TZID.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

import icalendar

from connectors.errors import ConnectorError

PRODID = "-//Call-Me-Maybe//Calendar 1.0//EN"
HEADER = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:{PRODID}\r\nCALSCALE:GREGORIAN\r\n"
FOOTER = "END:VCALENDAR\r\n"
MAX_ICS_BYTES = 50 * 1024 * 1024

_TZID_PARAM = re.compile(r';TZID=(?:"([^"]*)"|([^:;]*))[:;]')


class CorruptCalendarError(ConnectorError):
    """An .ics file cannot be read completely; nothing was imported."""


@dataclass
class EventText:
    """One UID's VEVENTs as text, with the VTIMEZONE blocks they need."""

    uid: str
    ical: str
    vtimezones: str = ""
    title: str = ""


@dataclass
class ParsedFile:
    """What an .ics file holds, grouped by UID in file order."""

    events: list[EventText] = field(default_factory=list)


def calendar_of(vtimezones: str, ical: str) -> icalendar.Calendar:
    """Parse stored text (VTIMEZONEs and VEVENTs) back into a calendar."""
    return icalendar.Calendar.from_ical(HEADER + vtimezones + ical + FOOTER)


def text_of(components: list[icalendar.Component]) -> str:
    """The iCalendar text of ``components``, one after the other."""
    return "".join(component.to_ical().decode("utf-8") for component in components)


def tzids_in(text: str) -> list[str]:
    """The TZID parameters used in ``text``, in first-use order."""
    seen: dict[str, None] = {}
    for match in _TZID_PARAM.finditer(text.replace("\r\n ", "").replace("\r\n\t", "")):
        seen.setdefault(match.group(1) if match.group(1) is not None else match.group(2))
    return list(seen)


def parse_file(data: bytes, name: str) -> ParsedFile:
    """Every event of an .ics file, or an error naming the first problem.

    Raises:
        CorruptCalendarError: not iCalendar, truncated, an unreadable property, an event with
            no start. The message names the file and the event.
    """
    if len(data) > MAX_ICS_BYTES:
        raise CorruptCalendarError(
            f"{name} is {len(data) // (1024 * 1024)} MB; calendars over "
            f"{MAX_ICS_BYTES // (1024 * 1024)} MB are not imported. Nothing was imported"
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CorruptCalendarError(
            f"{name} is not an iCalendar file (it is not UTF-8 text); nothing was imported"
        ) from None
    stripped = text.strip()
    if not stripped.upper().startswith("BEGIN:VCALENDAR"):
        raise CorruptCalendarError(
            f"{name} is not an iCalendar file (it does not start with BEGIN:VCALENDAR); "
            "nothing was imported"
        )
    if not stripped.upper().endswith("END:VCALENDAR"):
        raise CorruptCalendarError(
            f"{name} is cut short (it does not end with END:VCALENDAR): it may be an "
            "incomplete download. Nothing was imported"
        )
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise CorruptCalendarError(
            f"{name} is damaged: it is not valid iCalendar ({exc}); nothing was imported"
        ) from exc
    if not calendars:
        raise CorruptCalendarError(f"{name} holds no calendar; nothing was imported")

    try:
        return _events_of(calendars, name)
    except CorruptCalendarError:
        raise
    except Exception as exc:  # hostile text: whatever icalendar raises, the user gets a sentence
        raise CorruptCalendarError(
            f"{name} is damaged and cannot be read ({type(exc).__name__}: {exc}); "
            "nothing was imported"
        ) from exc


def _events_of(calendars: list[icalendar.Calendar], name: str) -> ParsedFile:
    zones: dict[str, str] = {}
    groups: dict[str, list[icalendar.Event]] = {}
    for calendar in calendars:
        for component in calendar.walk():
            if component.errors:
                prop, problem = component.errors[0]
                raise CorruptCalendarError(
                    f"{name} is damaged: {_where(component)} has an unreadable {prop} "
                    f"({problem}); nothing was imported"
                )
        for component in calendar.subcomponents:
            if component.name == "VTIMEZONE":
                zones.setdefault(str(component.get("TZID", "")), component.to_ical().decode())
            elif component.name == "VEVENT":
                _check_event(component, name)
                uid = str(component.get("UID", "")).strip()
                if not uid:
                    raise CorruptCalendarError(
                        f"{name}: {_where(component)} has no UID; nothing was imported"
                    )
                groups.setdefault(uid, []).append(component)

    parsed = ParsedFile()
    for uid, components in groups.items():
        ordered = sorted(components, key=lambda c: "RECURRENCE-ID" in c)  # series first
        ical = text_of(ordered)
        used = "".join(zones[tzid] for tzid in tzids_in(ical) if tzid in zones)
        title = next((str(c.get("SUMMARY", "")) for c in ordered), "")
        parsed.events.append(EventText(uid=uid, ical=ical, vtimezones=used, title=title))
    return parsed


def _where(component: icalendar.Component) -> str:
    summary = component.get("SUMMARY")
    uid = component.get("UID")
    if summary:
        return f"the {component.name} {str(summary)!r}"
    if uid:
        return f"the {component.name} with UID {str(uid)!r}"
    return f"a {component.name}"


def _check_event(event: icalendar.Event, name: str) -> None:
    try:
        start = event.start
        end = event.end  # DTSTART + DURATION: a huge one overflows
    except (
        icalendar.IncompleteComponent,
        icalendar.InvalidCalendar,
        ValueError,
        TypeError,
        OverflowError,
    ) as exc:
        raise CorruptCalendarError(
            f"{name} is damaged: {_where(event)} cannot be read ({exc}); nothing was imported"
        ) from exc
    if type(start) is not type(end):
        raise CorruptCalendarError(
            f"{name} is damaged: {_where(event)} starts on a day and ends at a time (or the "
            "reverse); nothing was imported"
        )
    if isinstance(start, datetime) and (start.tzinfo is None) != (end.tzinfo is None):
        raise CorruptCalendarError(
            f"{name} is damaged: {_where(event)} has a time zone on one of its start and end "
            "but not on the other; nothing was imported"
        )
    if end < start:
        raise CorruptCalendarError(
            f"{name} is damaged: {_where(event)} ends before it starts; nothing was imported"
        )


def export_text(rows: list[tuple[str, str]]) -> bytes:
    """A whole calendar from stored ``(vtimezones, ical)`` pairs.

    VTIMEZONE blocks are written once per TZID; a TZID with no block (an IANA name) gets one
    generated by icalendar.
    """
    zones: dict[str, str] = {}
    used: dict[str, None] = {}
    for vtimezones, ical in rows:
        if vtimezones:
            for block in _blocks(vtimezones, "VTIMEZONE"):
                tzid = _first_value(block, "TZID")
                zones.setdefault(tzid, block)
        for tzid in tzids_in(ical):
            used.setdefault(tzid)
    for tzid in used:
        if tzid not in zones:
            try:
                zones[tzid] = icalendar.Timezone.from_tzid(tzid).to_ical().decode()
            except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
                continue  # an unknown zone without a block: other apps read it as floating
    body = "".join(zones[tzid] for tzid in used if tzid in zones)
    body += "".join(block for tzid, block in zones.items() if tzid not in used)
    body += "".join(ical for _, ical in rows)
    return (HEADER + body + FOOTER).encode("utf-8")


def _blocks(text: str, name: str) -> list[str]:
    begin, end = f"BEGIN:{name}\r\n", f"END:{name}\r\n"
    out: list[str] = []
    position = 0
    while (start := text.find(begin, position)) >= 0:
        stop = text.index(end, start) + len(end)
        out.append(text[start:stop])
        position = stop
    return out


def _first_value(block: str, prop: str) -> str:
    for line in block.split("\r\n"):
        if line.upper().startswith(f"{prop}:"):
            return line[len(prop) + 1 :]
    return ""
