"""The calendar tools: argument models (what the model sees) and the functions behind them.

Every date argument is text the model copied from the user or wrote as ISO; it is resolved
against the context's "now" and time zone (:mod:`connectors.calendar.dates`), and the resolved
absolute times are in every result and preview, so the user sees "Thu 26 Nov 2026 12:30–13:30
CET" before approving. Overlapping events are reported (``conflicts``), never refused.

Undo: a created event is deleted (``calendar_delete``); an update or cancellation puts back the
text saved just before (``calendar_restore``, which saves the text it replaces, so an undo can be
undone); an import is removed (``calendar_undo_import``); an exported file is deleted if it is
still what was written (``calendar_delete_export``).
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Literal

import icalendar
from pydantic import ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.atomic import write_bytes_atomic
from connectors.calendar import dates, ics, said_dates, said_places, said_repeats, service
from connectors.calendar.models import CalendarEvent, CalendarImport, CalendarVersion
from connectors.errors import ConnectorError, InvalidArgumentsError, NotFoundError
from connectors.granted import checked_opener, file_names, folder_guard, resolve_granted
from connectors.tool import Arguments, Effect, ToolContext, ToolResult, Undo, tool

Repeat = Literal["none", "daily", "weekdays", "weekly", "monthly", "yearly"]
_RULES: dict[str, dict[str, Any]] = {
    "daily": {"FREQ": "DAILY"},
    "weekdays": {"FREQ": "WEEKLY", "BYDAY": ["MO", "TU", "WE", "TH", "FR"]},
    "weekly": {"FREQ": "WEEKLY"},
    "monthly": {"FREQ": "MONTHLY"},
    "yearly": {"FREQ": "YEARLY"},
}
# How far ahead a series' occurrences are checked for conflicts, by frequency (about 20 each).
_CONFLICT_SPAN = {
    "DAILY": timedelta(days=30),
    "WEEKLY": timedelta(days=150),
    "MONTHLY": timedelta(days=620),
    "YEARLY": timedelta(days=7400),
}
_UID_DOMAIN = "callmemaybe"


# ---------------------------------------------------------------------------------------------
# Argument models
# ---------------------------------------------------------------------------------------------


class ListArgs(Arguments):
    start: str = Field("today", max_length=100)
    """The day to list, or from when, e.g. 'today', 'tomorrow', 'Friday' or '2026-12-01'."""
    end: str = Field("", max_length=100)
    """Until when (that day included), e.g. 'next Sunday'. Empty: the start's day only (the
    next 7 days when no start is given)."""
    limit: int = Field(50, ge=1, le=200)
    """How many events at most."""


class FreeTimeArgs(Arguments):
    duration_minutes: int = Field(60, ge=5, le=720)
    """Length of the free slot wanted, in minutes, e.g. 30."""
    start: str = Field("today", max_length=100)
    """Search from, e.g. 'tomorrow' or 'Monday 14:00'."""
    end: str = Field("", max_length=100)
    """Search until (that day included), e.g. 'Friday'. Empty: the end of the start day."""
    day_start_hour: int = Field(9, ge=0, le=23)
    """Earliest hour of a slot each day, e.g. 9."""
    day_end_hour: int = Field(18, ge=1, le=24)
    """Latest hour a slot may end each day, e.g. 18."""


class CreateArgs(Arguments):
    title: str = Field(min_length=1, max_length=300)
    """The event's title, e.g. 'Dentist'."""
    start: str = Field(min_length=1, max_length=100)
    """When it starts, e.g. 'tomorrow 12:30' or '2026-11-26T12:30'. A day alone: all day."""
    end: str = Field("", max_length=100)
    """When it ends, e.g. '13:30'. Empty: one hour after the start."""
    duration_minutes: int = Field(0, ge=0, le=20160)
    """Length in minutes, instead of end, e.g. 30."""
    all_day: bool = False
    """True for an all-day event, e.g. a birthday."""
    location: str = Field("", max_length=500)
    """Where, only if the user said where."""
    attendees: list[str] = Field(default_factory=list, max_length=50)
    """People invited, only those the user named."""
    notes: str = Field("", max_length=10000)
    """Details the user gave, if any."""
    repeat: Repeat = "none"
    """How it repeats, e.g. 'weekly'."""
    repeat_until: str = Field("", max_length=100)
    """Last day it repeats, e.g. '2027-06-30'. Empty: no end."""
    repeat_count: int = Field(0, ge=0, le=1000)
    """How many times in all, e.g. 10. 0: no limit."""
    reminder_minutes: int = Field(-1, ge=-1, le=40320)
    """Remind this many minutes before, only if the user asked. -1: no reminder."""
    timezone: str = Field("", max_length=64)
    """Only when the user names another time zone (an IANA name)."""

    @model_validator(mode="after")
    def _consistent(self) -> CreateArgs:
        if self.repeat == "none" and (self.repeat_until or self.repeat_count):
            raise ValueError("repeat_until and repeat_count need repeat, e.g. 'weekly'")
        if self.repeat_until and self.repeat_count:
            raise ValueError("give repeat_until or repeat_count, not both")
        if self.end and self.duration_minutes:
            raise ValueError("give end or duration_minutes, not both")
        return self


class EventArgs(Arguments):
    event: str = Field(min_length=1, max_length=300)
    """The event's id or title, e.g. '12' or 'Dentist'."""
    occurrence: str = Field("", max_length=100)
    """For a repeating event, which occurrence, e.g. '2026-12-07'. Empty: all of them."""


class UpdateArgs(EventArgs):
    # The event and one change at least: said in the schema too, so a client that narrows
    # the optional arguments (the assistant's argument scope) keeps the changes offered.
    model_config = ConfigDict(json_schema_extra={"minProperties": 2})

    title: str | None = Field(None, min_length=1, max_length=300)
    """New title, e.g. 'Dentist (moved)'."""
    start: str | None = Field(None, max_length=100)
    """New start, e.g. 'Friday 15:00'. A day alone keeps the time."""
    end: str | None = Field(None, max_length=100)
    """New end, e.g. '16:00'."""
    duration_minutes: int | None = Field(None, ge=1, le=20160)
    """New length in minutes, e.g. 45."""
    all_day: bool | None = None
    """True to make it all day; false to undo that."""
    location: str | None = Field(None, max_length=500)
    """New place; '' removes it."""
    notes: str | None = Field(None, max_length=10000)
    """New details; '' removes them."""
    attendees: list[str] | None = Field(None, max_length=50)
    """New list of people invited, e.g. ['ana@example.com']."""
    reminder_minutes: int | None = Field(None, ge=-1, le=40320)
    """Remind this many minutes before; -1 removes reminders."""

    @model_validator(mode="after")
    def _something(self) -> UpdateArgs:
        changes = self.model_fields_set - {"event", "occurrence"}
        if not changes:
            raise ValueError("nothing to change: give a new title, start, end, place or notes")
        if self.end is not None and self.duration_minutes is not None:
            raise ValueError("give end or duration_minutes, not both")
        return self


class PathArgs(Arguments):
    path: str = Field(min_length=1, max_length=1000)
    """The .ics file, in a shared folder, e.g. 'calendar.ics'."""


_SHA256 = r"^[0-9a-f]{64}$"


class DeleteArgs(Arguments):
    event_id: int = Field(ge=1)
    """The id of the event to delete for good."""
    expect: str | None = Field(default=None, pattern=_SHA256)
    """The event's fingerprint as its creation left it; refused if it changed since."""


class RestoreArgs(Arguments):
    event_id: int = Field(ge=1)
    """The event's id."""
    version_id: int = Field(ge=1)
    """The saved version to put back."""
    expect: str | None = Field(default=None, pattern=_SHA256)
    """The event's fingerprint as the undone action left it; refused if it changed since."""


class UndoImportArgs(Arguments):
    import_id: int = Field(ge=1)
    """The import to remove."""
    expect: str | None = Field(default=None, pattern=_SHA256)
    """The fingerprint of the import's events as it left them; refused if one changed since."""


def _fingerprint(*texts: str) -> str:
    """A hash of events' text: what an undo checks so it never destroys a later change."""
    digest = hashlib.sha256()
    for part in texts:
        digest.update(part.encode("utf-8", "surrogatepass") + b"\x00")
    return digest.hexdigest()


def _import_fingerprint(session: Session, import_id: int) -> str:
    """The fingerprint of every event an import added or replaced, as they are now."""
    replaced = select(CalendarVersion.event_id).where(CalendarVersion.import_id == import_id)
    rows = session.execute(
        select(CalendarEvent.id, CalendarEvent.ical)
        .where((CalendarEvent.import_id == import_id) | CalendarEvent.id.in_(replaced))
        .order_by(CalendarEvent.id)
    )
    return _fingerprint(*(f"{event_id}:{ical}" for event_id, ical in rows))


def _unchanged(expect: str | None, now: str, what: str) -> None:
    """Refuse an undo that would destroy a change made after its action.

    Raises:
        ConnectorError: ``now`` is not ``expect``; nothing was changed.
    """
    if expect is not None and now != expect:
        raise ConnectorError(
            f"{what} was changed after this action, so undoing it would destroy that later "
            "change; nothing was done. Undo the later change first, or edit it yourself"
        )


class DeleteExportArgs(Arguments):
    path: str = Field(min_length=1, max_length=4096)
    """The exported file."""
    sha256: str = Field(min_length=64, max_length=64)
    """Its content's digest when it was written."""


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


@dataclass
class Env:
    """The context's zone and now, read once per call."""

    zone: tzinfo
    now: datetime
    tool: str

    @classmethod
    def of(cls, context: ToolContext, tool_name: str) -> Env:
        zone = dates.zone_of(context.timezone)
        return cls(zone=zone, now=context.current_time().astimezone(zone), tool=tool_name)

    def resolve(
        self,
        text: str,
        field_name: str,
        *,
        zone: tzinfo | None = None,
        base: datetime | None = None,
        on_day: date | None = None,
    ) -> dates.Moment:
        return dates.resolve(
            text,
            field=field_name,
            tool=self.tool,
            zone=zone or self.zone,
            base=base or self.now,
            on_day=on_day,
        )

    def bad(self, field_name: str, message: str) -> InvalidArgumentsError:
        return InvalidArgumentsError(self.tool, [(field_name, message)])


def _stamp(component: icalendar.Component, now: datetime) -> None:
    utc = now.astimezone(UTC).replace(microsecond=0)
    for name in ("DTSTAMP", "LAST-MODIFIED"):
        component.pop(name, None)
        component.add(name, utc)


def _attendee(text: str) -> icalendar.vCalAddress:
    """'Ana <ana@example.com>', 'ana@example.com' or 'Ana' as an ATTENDEE value."""
    text = text.strip()
    name, email = text, ""
    if "<" in text and text.endswith(">"):
        name, email = text[: text.index("<")].strip(), text[text.index("<") + 1 : -1].strip()
    elif "@" in text and " " not in text:
        name, email = "", text
    # Thunderbird's convention for a person with no address.
    address = icalendar.vCalAddress(f"mailto:{email}" if email else "invalid:nomail")
    if name:
        address.params["CN"] = name
    address.params["ROLE"] = "REQ-PARTICIPANT"
    address.params["PARTSTAT"] = "NEEDS-ACTION"
    return address


def _attendee_text(value: Any) -> str:
    cn = value.params.get("CN", "") if hasattr(value, "params") else ""
    address = str(value)
    email = address[7:] if address.lower().startswith("mailto:") else ""
    if cn and email:
        return f"{cn} <{email}>"
    return cn or email or address


def _set_attendees(component: icalendar.Component, people: list[str]) -> None:
    component.pop("ATTENDEE", None)
    for person in people:
        if person.strip():
            component.add("ATTENDEE", _attendee(person))


def _set_text(component: icalendar.Component, name: str, value: str) -> None:
    component.pop(name, None)
    if value:
        component.add(name, value)


def _set_reminder(component: icalendar.Component, minutes: int, title: str) -> None:
    component.subcomponents = [c for c in component.subcomponents if c.name != "VALARM"]
    if minutes >= 0:
        alarm = icalendar.Alarm()
        alarm.add("ACTION", "DISPLAY")
        alarm.add("DESCRIPTION", title or "Reminder")
        alarm.add("TRIGGER", timedelta(minutes=-minutes))
        component.add_component(alarm)


def _reminders(component: icalendar.Component) -> list[int]:
    out = []
    for alarm in component.subcomponents:
        if alarm.name == "VALARM":
            trigger = alarm.get("TRIGGER")
            if trigger is not None and isinstance(trigger.dt, timedelta):
                out.append(int(-trigger.dt.total_seconds() // 60))
    return out


def _describe(component: icalendar.Event, zone: tzinfo) -> dict[str, Any]:
    """A component's times and fields as the user sees them (times in the user's zone)."""
    start, end = component.start, component.end
    all_day = not isinstance(start, datetime)
    if not all_day:
        start = service.placed(*service.index_value(start), zone)
        end = service.placed(*service.index_value(end), zone)
    out: dict[str, Any] = {
        "title": str(component.get("SUMMARY", "")),
        "start": dates.iso(start),
        "end": dates.iso(end),
        "when": dates.human(start, end, all_day=all_day),
    }
    if all_day:
        out["all_day"] = True
    elif isinstance(component.start, datetime) and component.start.tzinfo is not None:
        zone_name = getattr(component.start.tzinfo, "key", None)
        local_name = getattr(zone, "key", None)
        if zone_name and zone_name != local_name:
            out["event_time_zone"] = zone_name
            out["event_when"] = dates.human(component.start, component.end, all_day=False)
    for name, key in (("LOCATION", "location"), ("DESCRIPTION", "notes")):
        if component.get(name):
            out[key] = str(component.get(name))
    attendees = component.get("ATTENDEE")
    if attendees:
        listed = attendees if isinstance(attendees, list) else [attendees]
        out["attendees"] = [_attendee_text(a) for a in listed]
    if component.rrules:
        out["repeats"] = component.rrules[0].to_ical().decode()
    reminders = _reminders(component)
    if reminders:
        out["reminder_minutes"] = reminders[0] if len(reminders) == 1 else reminders
    return out


def _planned(
    calendar: icalendar.Calendar, event_id: int, env: Env, master: icalendar.Event | None
) -> list[service.Occurrence]:
    """The event's occurrences worth checking for conflicts (the next ~20 of a series)."""
    components = service.events_of(calendar)
    first = min(service.index_value(c.start)[0] for c in components)
    frequency = (
        str(service.rule_value(master.rrules[0], "FREQ")) if master and master.rrules else ""
    )
    span = _CONFLICT_SPAN.get(frequency, timedelta(days=2))
    latest = max(service.index_value(c.end)[0] for c in components)
    start = first - service.FLOAT_PAD - service.DAY
    stop = max(latest, env.now, first) + span + service.FLOAT_PAD
    expanded = service.expand(calendar, start, stop)
    found = [service.to_occurrence(event_id, o, env.zone) for o in expanded]
    return sorted(found, key=lambda o: o.start)


def _conflicts(
    session: Session, calendar: icalendar.Calendar, event_id: int, env: Env
) -> list[dict[str, Any]]:
    master = service.master_of(service.events_of(calendar))
    planned = _planned(calendar, event_id, env, master)
    return service.conflicts(session, planned, env.zone, env.now, exclude_event=event_id)


def _conflict_line(found: list[dict[str, Any]]) -> str:
    if not found:
        return ""
    first = found[0]
    more = f" and {len(found) - 1} more" if len(found) > 1 else ""
    return f" (overlaps {first['title']!r} {first['when']}{more})"


# ---------------------------------------------------------------------------------------------
# Creating
# ---------------------------------------------------------------------------------------------


@dataclass
class Draft:
    """A new event, built but not stored."""

    component: icalendar.Event
    described: dict[str, Any]
    calendar: icalendar.Calendar = field(init=False)
    text: str = field(init=False)

    def __post_init__(self) -> None:
        self.calendar = icalendar.Calendar()
        self.calendar.add_component(self.component)
        self.text = ics.text_of([self.component])


def _build(env: Env, args: CreateArgs) -> Draft:
    zone = dates.named_zone(args.timezone, env.tool) if args.timezone else env.zone
    begin = env.resolve(args.start, "start", zone=zone)
    all_day = args.all_day or (not begin.has_time and not args.end and not args.duration_minutes)
    event = icalendar.Event()
    event.add("UID", f"{uuid.uuid4()}@{_UID_DOMAIN}")
    event.add("SUMMARY", args.title)
    _stamp(event, env.now)
    event.add("CREATED", env.now.astimezone(UTC).replace(microsecond=0))
    if all_day:
        first = begin.day
        if args.end:
            last = env.resolve(args.end, "end", zone=zone, base=begin.value).day
            if last < first:
                raise env.bad("end", f"{args.end!r} is before the start ({dates.iso(first)})")
            after = last + timedelta(days=1)
        else:
            after = first + timedelta(days=max(1, args.duration_minutes // 1440))
        event.add("DTSTART", first)
        event.add("DTEND", after)
        event.add("TRANSP", "TRANSPARENT")  # an all-day event marks the day, it does not fill it
    else:
        start = begin.value
        if args.end:
            stop = env.resolve(args.end, "end", zone=zone, base=start, on_day=start.date()).value
            if stop <= start:
                raise env.bad(
                    "end",
                    f"{args.end!r} is not after the start ({dates.iso(start)}); "
                    "give a later end or duration_minutes",
                )
        else:
            stop = start + timedelta(minutes=args.duration_minutes or 60)
        event.add("DTSTART", start)
        event.add("DTEND", stop)
    if args.location:
        event.add("LOCATION", args.location)
    if args.notes:
        event.add("DESCRIPTION", args.notes)
    _set_attendees(event, args.attendees)
    if args.repeat != "none":
        rule = dict(_RULES[args.repeat])
        if args.repeat_count:
            rule["COUNT"] = args.repeat_count
        elif args.repeat_until:
            last_day = env.resolve(args.repeat_until, "repeat_until", zone=zone).day
            if last_day < begin.day:
                raise env.bad("repeat_until", f"{args.repeat_until!r} is before the start")
            if all_day:
                rule["UNTIL"] = last_day
            else:
                end_of_day = datetime.combine(last_day, time(23, 59, 59), tzinfo=zone)
                rule["UNTIL"] = end_of_day.astimezone(UTC)
        event.add("RRULE", rule)
    _set_reminder(event, args.reminder_minutes, args.title)
    return Draft(component=event, described=_describe(event, env.zone))


def _create_preview(context: ToolContext, args: CreateArgs) -> dict[str, Any]:
    env = Env.of(context, "calendar_create")
    draft = _build(env, args)
    with context.store().reading() as session:
        found = _conflicts(session, draft.calendar, 0, env)
    return {
        **draft.described,
        "conflicts": found,
        "summary": f"Create {args.title!r} {draft.described['when']}{_conflict_line(found)}",
    }


# ---------------------------------------------------------------------------------------------
# What decoding may write: the dates the request says, the events that exist
# ---------------------------------------------------------------------------------------------

MAX_CHOICES = 200  # above this many events, an event's name is left free while decoding


def _spans(context: ToolContext, text: str) -> list[tuple[str, str]]:
    env = Env.of(context, "calendar")
    return list(_cached_spans(text, env.zone, env.now.replace(second=0, microsecond=0)))


@functools.lru_cache(maxsize=64)
def _cached_spans(text: str, zone: tzinfo, now: datetime) -> tuple[tuple[str, str], ...]:
    """The request's dates, each with what it names (:func:`said_dates.kind_of`), read once
    per request and minute for all five calendar tools (a request of twenty words costs
    dateparser a few hundred readings)."""
    spans = said_dates.date_spans(text, zone, now)
    return tuple((span, said_dates.kind_of(span, zone, now)) for span in spans)


def _said(start: str, *ends: str) -> Callable[[ToolContext, str], dict[str, list[str]]]:
    """The request's dates for ``start``; for ``ends``, those after the first ("from Monday
    to Wednesday"), none when it says one date (a start, not an end)."""

    def said(context: ToolContext, text: str) -> dict[str, list[str]]:
        spans = [span for span, _ in _spans(context, text)]
        return {start: spans, **{end: spans[1:] for end in ends}}

    return said


def _joined(spans: list[tuple[str, str]]) -> tuple[str, str] | None:
    """The one day and the one clock time a request says apart ("at 9:15 ... from Monday"),
    which are one moment; ``None`` unless it says exactly one of each (a clock time right
    after a stretch with a day and a time ends that stretch: "von 19 bis 20:30")."""
    days = [text for text, kind in spans if kind == "day"]
    clocks = [
        text
        for index, (text, kind) in enumerate(spans)
        if kind == "clock" and not any(k == "moment" for _, k in spans[:index])
    ]
    return (days[0], clocks[0]) if len(days) == 1 and len(clocks) == 1 else None


def _when_starts(spans: list[tuple[str, str]], *, lengths: bool = True) -> list[str]:
    """The stretches that can start an event or a search, as the request puts its dates.

    Measured on the bundled model (dev split): offered "Donnerstag von 19" and "20:30", or
    "Monday from 14:00" and "15:30", it started the event at the later time, today. A clock
    time after a stretch with a day and a time is where that ends ("von 19 bis 20:30"), so it
    is offered as an end only. A day and a clock time said apart ("at 9:15 ... from Monday")
    are one start, offered joined ("Monday 9:15"): alone, either starts on the wrong day or
    at midnight. Without ``lengths``, a length of time is no start either: "free on Tuesday
    for an hour" looks from Tuesday, not from an hour from now (a reminder "in two hours"
    starts then). Nothing here reads words: the kinds come from the calendar's own reader.
    """
    joined = _joined(spans)
    starts: list[str] = []
    for index, (text, kind) in enumerate(spans):
        if kind == "clock" and any(k == "moment" for _, k in spans[:index]):
            continue  # the end of a stretch that has its start
        if kind == "length" and not lengths:
            continue
        if joined and text in joined:
            text = " ".join(joined)
        starts.append(text)
    return list(dict.fromkeys(starts))


def _said_when(
    start: str, *ends: str, lengths: bool = True
) -> Callable[[ToolContext, str], dict[str, list[str]]]:
    """The request's dates for a new event's or a search's ``start`` (:func:`_when_starts`)
    and its ``ends``: the dates after the first, but for a day and a time joined into the
    start. An event's ``end`` may be a length of time ("for an hour") or a clock time ("bis
    20:30"); another end (a repetition's last day) is neither: offered "20:30" as one, the
    bundled model repeated the event until then, which is before it starts. Without
    ``lengths`` (a search) a length of time is no end either: "free time tomorrow for a one
    hour meeting" searched tomorrow from midnight to one o'clock."""

    def said(context: ToolContext, text: str) -> dict[str, list[str]]:
        spans = _spans(context, text)
        joined = _joined(spans) or ()
        later = [
            (span, kind)
            for span, kind in spans[1:]
            if span not in joined and (lengths or kind != "length")
        ]
        return {
            start: _when_starts(spans, lengths=lengths),
            **{
                end: [
                    span for span, kind in later if end == "end" or kind not in ("length", "clock")
                ]
                for end in ends
            },
        }

    return said


def _event_titles(context: ToolContext) -> dict[str, list[str]]:
    """The titles an ``event`` argument can take now, so the model names an event that exists
    (it invented ids and titles: "Almoço com a Marta" for "Lunch with Marta")."""
    with context.store().reading() as session:
        rows = session.execute(
            select(CalendarEvent.title)
            .where(CalendarEvent.cancelled.is_(False))
            .order_by(CalendarEvent.first_start.desc())
            .limit(MAX_CHOICES + 1)
        ).scalars()
        titles = list(dict.fromkeys(t for t in rows if t))
    return {"event": titles} if 0 < len(titles) <= MAX_CHOICES else {}


_new_event_dates = _said_when("start", "end", "repeat_until")


def _said_event(context: ToolContext, text: str) -> dict[str, list[str]]:
    """A new event's dates, how often it repeats (none said: it does not repeat), and where
    it is when the request says a place (:mod:`connectors.calendar.said_places`; none said:
    the place is left to the argument scope, as before)."""
    found = {**_new_event_dates(context, text), "repeat": said_repeats.repeats(text)}
    where = said_places.places(text, [span for span, _ in _spans(context, text)])
    if where:
        found["location"] = where
    return found


@tool(
    "calendar_create",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=CreateArgs,
    preview=_create_preview,
    said=_said_event,
)
def create(context: ToolContext, args: CreateArgs) -> ToolResult:
    """Create a calendar event. Times may be ISO 8601 or what the user said, like 'tomorrow 3pm'."""
    env = Env.of(context, "calendar_create")
    draft = _build(env, args)
    with context.store().transaction() as session:
        row = service.store_text(
            session,
            None,
            uid=str(draft.component["UID"]),
            ical=draft.text,
            vtimezones="",
            now=env.now,
            calendar=draft.calendar,
        )
        found = _conflicts(session, draft.calendar, row.id, env)
        event_id = row.id
        made = _fingerprint(row.ical)
    data = {"id": event_id, **draft.described, "conflicts": found}
    return ToolResult(
        data=data,
        undo=Undo("calendar_delete", {"event_id": event_id, "expect": made}),
        summary=f"Created {args.title!r} {draft.described['when']}{_conflict_line(found)}",
    )


# ---------------------------------------------------------------------------------------------
# Changing one event: update and cancel
# ---------------------------------------------------------------------------------------------


@dataclass
class Edit:
    """An event's new text, computed from its stored text and the arguments, not yet stored."""

    row: CalendarEvent
    components: list[icalendar.Event]
    calendar: icalendar.Calendar
    before: dict[str, Any]
    after: dict[str, Any]
    occurrence: str = ""

    @property
    def text(self) -> str:
        return ics.text_of(self.components)


def _load(session: Session, env: Env, name: str) -> tuple[CalendarEvent, list[icalendar.Event]]:
    row = service.find_event(session, name)
    calendar = ics.calendar_of(row.vtimezones, row.ical)
    return row, service.events_of(calendar)


def _find_occurrence(
    env: Env, row: CalendarEvent, text: str
) -> tuple[service.Expanded, dates.Moment]:
    """The live occurrence of a series the user named by its day or its time."""
    moment = env.resolve(text, "occurrence")
    calendar = ics.calendar_of(row.vtimezones, row.ical)
    day_start = dates.at_midnight(moment.day, env.zone)
    found = service.expand(calendar, day_start - 2 * service.DAY, day_start + 3 * service.DAY)

    def local(value: date | datetime) -> datetime:
        return service.placed(*service.index_value(value), env.zone)

    if moment.has_time:
        matches = [o for o in found if moment.value in (local(o.original), local(o.start))]
    else:
        matches = [
            o for o in found if moment.day in (local(o.original).date(), local(o.start).date())
        ]
    if not matches:
        raise NotFoundError(
            f"{row.title!r} has no occurrence on {_moment_text(moment)}; "
            "list events to see when it happens"
        )
    if len(matches) > 1:
        listed = ", ".join(dates.iso(local(o.start)) for o in matches)
        raise NotFoundError(
            f"{row.title!r} happens more than once then ({listed}); give the time too"
        )
    return matches[0], moment


def _moment_text(moment: dates.Moment) -> str:
    return dates.iso(moment.value if moment.has_time else moment.day)


def _same_kind(value: date | datetime, like: date | datetime) -> date | datetime:
    """``value`` expressed like ``like`` (a date, a floating time or a time in like's zone)."""
    if not isinstance(like, datetime):
        return value.date() if isinstance(value, datetime) else value
    if not isinstance(value, datetime):
        value = datetime.combine(value, like.time(), tzinfo=like.tzinfo)
    if like.tzinfo is None:
        return value.replace(tzinfo=None)
    return value.astimezone(like.tzinfo) if value.tzinfo is not None else value


def _override_for(
    components: list[icalendar.Event], original: date | datetime
) -> icalendar.Event | None:
    key = service.recurrence_key(original)
    for component in components:
        rid = component.get("RECURRENCE-ID")
        if rid is not None and service.recurrence_key(rid.dt) == key:
            return component
    return None


def _retime(env: Env, component: icalendar.Event, args: UpdateArgs) -> None:
    """Apply new start/end/duration/all_day to one component (DTSTART, DTEND)."""
    old_start, old_end = component.start, component.end
    was_all_day = not isinstance(old_start, datetime)
    all_day = was_all_day if args.all_day is None else args.all_day
    zone = (
        old_start.tzinfo
        if isinstance(old_start, datetime) and old_start.tzinfo is not None
        else env.zone
    )
    floating = isinstance(old_start, datetime) and old_start.tzinfo is None
    old_day = _local(old_start, zone).date() if isinstance(old_start, datetime) else old_start
    if args.start is not None:
        moment = env.resolve(args.start, "start", zone=zone, on_day=old_day)
        if all_day and (args.all_day or not moment.has_time):
            new_start: date | datetime = moment.day
        elif moment.has_time:
            new_start, all_day = moment.value, False
        elif was_all_day:
            raise env.bad("start", f"{args.start!r} has no time of day; say when it starts")
        else:  # a day alone moves a timed event to that day, same time
            new_start = datetime.combine(moment.day, _local(old_start, zone).time(), tzinfo=zone)
    elif all_day and not was_all_day:
        new_start = _local(old_start, zone).date()
    elif not all_day and was_all_day:
        raise env.bad("start", "give the start time to turn an all-day event into a timed one")
    else:
        new_start = old_start
    if isinstance(new_start, datetime) and floating:
        new_start = new_start.replace(tzinfo=None)

    if args.end is not None:
        base = new_start if isinstance(new_start, datetime) else dates.at_midnight(new_start, zone)
        if base.tzinfo is None:
            base = base.replace(tzinfo=zone)
        moment = env.resolve(args.end, "end", zone=zone, base=base, on_day=base.date())
        if isinstance(new_start, datetime):
            new_end: date | datetime = moment.value
            if floating:
                new_end = moment.value.replace(tzinfo=None)
        else:
            new_end = moment.day + timedelta(days=1)
    elif args.duration_minutes is not None:
        length = timedelta(minutes=args.duration_minutes)
        if isinstance(new_start, datetime):
            new_end = new_start + length
        else:
            new_end = new_start + timedelta(days=max(1, args.duration_minutes // 1440))
    elif isinstance(new_start, datetime) == isinstance(old_start, datetime):
        new_end = new_start + (old_end - old_start)
    elif isinstance(new_start, datetime):
        new_end = new_start + timedelta(hours=1)
    else:
        new_end = new_start + timedelta(days=1)
    if new_end <= new_start:
        raise env.bad("end", f"the end ({dates.iso(new_end)}) is not after the start")
    had_duration = "DURATION" in component and "DTEND" not in component
    for name in ("DTSTART", "DTEND", "DURATION"):
        component.pop(name, None)
    component.add("DTSTART", new_start)
    if had_duration and isinstance(new_start, datetime):
        component.add("DURATION", new_end - new_start)
    else:
        component.add("DTEND", new_end)


def _local(value: datetime, zone: tzinfo) -> datetime:
    """``value`` in ``zone``; a floating time stays as it is."""
    return value.astimezone(zone) if value.tzinfo is not None else value


def _shift_series(components: list[icalendar.Event], delta: timedelta) -> None:
    """Move EXDATEs and overrides' RECURRENCE-IDs with a series whose start moved."""
    master = service.master_of(components)
    if master is None or not delta:
        return
    exdates = master.exdates
    if exdates:
        master.pop("EXDATE", None)
        for value in exdates:
            master.add("EXDATE", value + delta)
    for component in components:
        rid = component.get("RECURRENCE-ID")
        if rid is not None:
            params = dict(rid.params)
            component.pop("RECURRENCE-ID")
            component.add("RECURRENCE-ID", rid.dt + delta, parameters=params)


def _bump(component: icalendar.Component, now: datetime) -> None:
    sequence = int(component.get("SEQUENCE", 0))
    component.pop("SEQUENCE", None)
    component.add("SEQUENCE", sequence + 1)
    _stamp(component, now)


def _edit(session: Session, env: Env, args: UpdateArgs) -> Edit:
    row, components = _load(session, env, args.event)
    master = service.master_of(components)
    target: icalendar.Event | None
    label = ""
    if args.occurrence and row.recurring:
        found, _ = _find_occurrence(env, row, args.occurrence)
        target = _override_for(components, found.original)
        if target is None:
            if master is None:
                raise NotFoundError(f"{row.title!r} has no series to take the occurrence from")
            target = _new_override(master, found)
            components.append(target)
        label = dates.iso(service.placed(*service.index_value(found.start), env.zone))
    else:
        target = master if master is not None else components[0]
        if args.occurrence and len(components) > 1 and master is None:
            raise env.bad("occurrence", "this event has no series; leave occurrence empty")
    before = _describe(target, env.zone)
    series = master if target is master and master is not None and master.rrules else None
    if series is not None:  # the stored text is the series as it is before the change
        stored = ics.calendar_of(row.vtimezones, row.ical)
        before = _from_next(before, stored, row.id, env, series, every="")
    series_start = target.start if target is master else None
    if {"start", "end", "duration_minutes", "all_day"} & args.model_fields_set:
        _retime(env, target, args)
        if series_start is not None and target.rrules:
            if isinstance(series_start, datetime) != isinstance(target.start, datetime):
                raise env.bad(
                    "all_day",
                    "a repeating series cannot switch between all-day and timed; "
                    "cancel it and create it again",
                )
            _shift_series(components, target.start - series_start)
    if args.title is not None:
        _set_text(target, "SUMMARY", args.title)
    if args.location is not None:
        _set_text(target, "LOCATION", args.location)
    if args.notes is not None:
        _set_text(target, "DESCRIPTION", args.notes)
    if args.attendees is not None:
        _set_attendees(target, args.attendees)
    if args.reminder_minutes is not None:
        _set_reminder(target, args.reminder_minutes, str(target.get("SUMMARY", "")))
    _bump(target, env.now)
    text = ics.text_of(components)
    calendar = ics.calendar_of(row.vtimezones, text)
    after = _describe(target, env.zone)
    if series is not None:
        after = _from_next(after, calendar, row.id, env, series)
    return Edit(
        row=row,
        components=components,
        calendar=calendar,
        before=before,
        after=after,
        occurrence=label,
    )


def _from_next(
    described: dict[str, Any],
    calendar: icalendar.Calendar,
    event_id: int,
    env: Env,
    series: icalendar.Event,
    every: str = " and every time after",
) -> dict[str, Any]:
    """A repeating series as the user meets it: the times of its next occurrence (the first
    that has not ended), the series' own first start kept as ``series_start``.

    Why: a series is described by its first occurrence, often months back. "O clube do livro
    deste mês passa para as 20h" was shown as "Change 'Book club' to Thu 26 Feb 2026
    20:00-21:30" on 14 March: a change that looks like it is to a day already past, though it
    moves this month's book club and every later one.
    """
    upcoming = [o for o in _planned(calendar, event_id, env, series) if o.end > env.now]
    if not upcoming:
        return described
    first = upcoming[0]
    start: date | datetime = first.start.date() if first.all_day else first.start
    end: date | datetime = first.end.date() if first.all_day else first.end
    when = dates.human(start, end, all_day=first.all_day)
    return {
        **described,
        "start": dates.iso(start),
        "end": dates.iso(end),
        "when": f"{when}{every}",
        "series_start": described["start"],
    }


def _new_override(master: icalendar.Event, found: service.Expanded) -> icalendar.Event:
    """A RECURRENCE-ID override of one occurrence: a copy of the series without its rules."""
    override = icalendar.Event.from_ical(master.to_ical())  # deep: alarms are copied too
    for name in ("RRULE", "RDATE", "EXDATE", "EXRULE", "DTSTART", "DTEND", "DURATION"):
        override.pop(name, None)
    override.add("RECURRENCE-ID", _same_kind(found.original, master.start))
    override.add("DTSTART", found.start)
    override.add("DTEND", found.end)
    return override


def _cancel_edit(session: Session, env: Env, args: EventArgs) -> Edit:
    row, components = _load(session, env, args.event)
    master = service.master_of(components)
    label = ""
    if args.occurrence and row.recurring:
        found, _ = _find_occurrence(env, row, args.occurrence)
        label = dates.iso(service.placed(*service.index_value(found.start), env.zone))
        before = service.to_occurrence(row.id, found, env.zone).brief()
        override = _override_for(components, found.original)
        if master is None:
            if override is None:
                raise NotFoundError(f"{row.title!r} has no occurrence at {label}")
            _set_text(override, "STATUS", "CANCELLED")
            _bump(override, env.now)
        else:
            if override is not None:
                components.remove(override)
            master.add("EXDATE", _same_kind(found.original, master.start))
            _bump(master, env.now)
    else:
        targets = [master] if master is not None else components
        before = _describe(targets[0], env.zone)
        for component in targets:
            _set_text(component, "STATUS", "CANCELLED")
            _bump(component, env.now)
    text = ics.text_of(components)
    return Edit(
        row=row,
        components=components,
        calendar=ics.calendar_of(row.vtimezones, text),
        before=before,
        after={},
        occurrence=label,
    )


def _update_preview(context: ToolContext, args: UpdateArgs) -> dict[str, Any]:
    env = Env.of(context, "calendar_update")
    with context.store().reading() as session:
        edit = _edit(session, env, args)
        found = _conflicts(session, edit.calendar, edit.row.id, env)
        # Read inside: the end of a read expires the row (reading it after raised
        # DetachedInstanceError, so no update could be proposed).
        event_id, title = edit.row.id, edit.row.title
    which = f" (the occurrence of {edit.occurrence})" if edit.occurrence else ""
    return {
        "id": event_id,
        "before": edit.before,
        "after": edit.after,
        "conflicts": found,
        "summary": f"Change {title!r}{which} to {edit.after['when']}{_conflict_line(found)}",
    }


def _save_edit(session: Session, edit: Edit, env: Env) -> CalendarVersion:
    """Keep the event's current text as a version (for undo), then store the edited text."""
    version = service.save_version(session, edit.row, env.now)
    service.store_text(
        session,
        edit.row,
        uid=edit.row.uid,
        ical=edit.text,
        vtimezones=edit.row.vtimezones,
        now=env.now,
        calendar=edit.calendar,
    )
    return version


@tool(
    "calendar_update",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=UpdateArgs,
    preview=_update_preview,
    choices=_event_titles,
    said=_said("start", "end"),
)
def update(context: ToolContext, args: UpdateArgs) -> ToolResult:
    """Change an event's title, time, place, notes, attendees or reminder; one occurrence or all."""
    env = Env.of(context, "calendar_update")
    with context.store().transaction() as session:
        edit = _edit(session, env, args)
        version = _save_edit(session, edit, env)
        found = _conflicts(session, edit.calendar, edit.row.id, env)
        event_id, title, made = edit.row.id, edit.row.title, _fingerprint(edit.row.ical)
    data: dict[str, Any] = {"id": event_id, **edit.after, "before": edit.before}
    if edit.occurrence:
        data["occurrence"] = edit.occurrence
    data["conflicts"] = found
    which = f" (the occurrence of {edit.occurrence})" if edit.occurrence else ""
    return ToolResult(
        data=data,
        undo=Undo(
            "calendar_restore",
            {"event_id": event_id, "version_id": version.id, "expect": made},
        ),
        summary=f"Changed {title!r}{which}: {edit.after['when']}{_conflict_line(found)}",
    )


def _cancel_preview(context: ToolContext, args: EventArgs) -> dict[str, Any]:
    env = Env.of(context, "calendar_cancel")
    with context.store().reading() as session:
        edit = _cancel_edit(session, env, args)
        event_id, title, recurring = edit.row.id, edit.row.title, edit.row.recurring
    what = f"the occurrence of {edit.occurrence} of" if edit.occurrence else "all of"
    if not recurring:
        what = ""
    return {
        "id": event_id,
        "cancels": edit.before,
        "summary": f"Cancel {what} {title!r} ({edit.before['when']})".replace("  ", " "),
    }


@tool(
    "calendar_cancel",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=EventArgs,
    preview=_cancel_preview,
    choices=_event_titles,
    said=_said("occurrence"),
)
def cancel(context: ToolContext, args: EventArgs) -> ToolResult:
    """Cancel an event: one occurrence of a repeating event, or all of it."""
    env = Env.of(context, "calendar_cancel")
    with context.store().transaction() as session:
        edit = _cancel_edit(session, env, args)
        version = _save_edit(session, edit, env)
        event_id, title, recurring = edit.row.id, edit.row.title, edit.row.recurring
        made = _fingerprint(edit.row.ical)
    data: dict[str, Any] = {"id": event_id, "cancelled": edit.before}
    if edit.occurrence:
        data["occurrence"] = edit.occurrence
        summary = f"Cancelled {title!r} on {edit.before['when']} (the rest of the series stays)"
    elif recurring:
        summary = f"Cancelled every occurrence of {title!r}"
    else:
        summary = f"Cancelled {title!r} ({edit.before['when']})"
    return ToolResult(
        data=data,
        undo=Undo(
            "calendar_restore",
            {"event_id": event_id, "version_id": version.id, "expect": made},
        ),
        summary=summary,
    )


# ---------------------------------------------------------------------------------------------
# Reading: list and free time
# ---------------------------------------------------------------------------------------------


def _stretch(env: Env, moment: dates.Moment) -> tuple[datetime, datetime] | None:
    """The whole week, month or year a text named ("next week", "im April", "próximo mês"),
    from today on when it has begun; ``None`` for a day or a time."""
    day = moment.day
    if moment.period == "week":
        first = day - timedelta(days=day.weekday())
        after = first + timedelta(days=7)
    elif moment.period == "month":
        first = day.replace(day=1)
        after = (first + timedelta(days=32)).replace(day=1)
    elif moment.period == "year":
        first, after = date(day.year, 1, 1), date(day.year + 1, 1, 1)
    else:
        return None
    first = max(first, env.now.date())
    return dates.at_midnight(first, env.zone), dates.at_midnight(after, env.zone)


def _range(env: Env, start_text: str, end_text: str, default: Callable[[datetime], datetime]):
    begin = env.resolve(start_text, "start")
    start = begin.value
    stretch = _stretch(env, begin) if not end_text else None
    if stretch is not None:
        return stretch
    if end_text:
        finish = env.resolve(end_text, "end", base=max(start, env.now))
        end = (
            finish.value
            if finish.has_time
            else dates.at_midnight(finish.day + timedelta(days=1), env.zone)
        )
    else:
        end = default(start)
    if end <= start:
        raise env.bad("end", f"{end_text!r} ({dates.iso(end)}) is not after the start")
    return start, end


def _refresh(context: ToolContext, now: datetime) -> None:
    """Extend long series' windows when time has moved on (a write, but only of the index)."""
    store = context.store()
    with store.reading() as session:
        stale = service.needs_refresh(session, now)
    if stale:
        with store.transaction() as session:
            service.refresh_windows(session, now)


@tool(
    "calendar_list",
    effect=Effect.READS,
    arguments=ListArgs,
    said=_said_when("start", "end", lengths=False),
)
def list_events(context: ToolContext, args: ListArgs) -> ToolResult:
    """List calendar events between two dates, repeating events included."""
    env = Env.of(context, "calendar_list")

    def default_end(start: datetime) -> datetime:
        # "What is on tomorrow?" means that day; "What is on my calendar?" the week ahead.
        if "start" not in args.model_fields_set:
            return start + timedelta(days=7)
        return dates.at_midnight(start.date() + timedelta(days=1), env.zone)

    start, end = _range(env, args.start, args.end, default_end)
    _refresh(context, env.now)
    with context.store().reading() as session:
        page = service.occurrences_between(session, start, end, env.zone, limit=args.limit)
    data: dict[str, Any] = {
        "from": dates.iso(start),
        "to": dates.iso(end),
        "events": [o.brief() for o in page.items],
    }
    if page.total > len(page.items):
        data["more"] = page.total - len(page.items)
    summary = f"{page.total} event{'s' if page.total != 1 else ''} from {_span(start, end)}"
    return ToolResult(data=data, summary=summary)


def _span(start: datetime, end: datetime) -> str:
    midnight = time(0)
    if start.timetz().replace(tzinfo=None) == midnight and end.time() == midnight:
        return dates.human(start.date(), end.date(), all_day=True).replace(" (all day)", "")
    return dates.human(start, end, all_day=False)


_search_dates = _said_when("start", "end", lengths=False)


def _said_search(context: ToolContext, text: str) -> dict[str, list[Any]]:
    """A free-time search's dates, and the slot's length when the request says one ("un
    créneau de deux heures": 120, read by the calendar's own reader in the user's language;
    the bundled model wrote 60, the default, for every length said in words)."""
    env = Env.of(context, "calendar")
    now = env.now.replace(second=0, microsecond=0)
    lengths = [
        said_dates.minutes_of(span, env.zone, now)
        for span, kind in _spans(context, text)
        if kind == "length"
    ]
    found: dict[str, list[Any]] = dict(_search_dates(context, text))
    fitting = [m for m in lengths if m is not None and 5 <= m <= 720]
    if fitting:
        found["duration_minutes"] = list(dict.fromkeys(fitting))
    return found


@tool(
    "calendar_free_time",
    effect=Effect.READS,
    arguments=FreeTimeArgs,
    said=_said_search,
)
def free_time(context: ToolContext, args: FreeTimeArgs) -> ToolResult:
    """Find free slots of a given length in the calendar, within working hours."""
    env = Env.of(context, "calendar_free_time")
    if args.day_end_hour <= args.day_start_hour:
        raise env.bad("day_end_hour", "must be later than day_start_hour")

    def end_of_day(start: datetime) -> datetime:
        return dates.at_midnight(start.date() + timedelta(days=1), env.zone)

    start, end = _range(env, args.start, args.end, end_of_day)
    start = max(start, env.now.replace(second=0, microsecond=0))
    _refresh(context, env.now)
    with context.store().reading() as session:
        busy = service.occurrences_between(session, start, end, env.zone, busy_only=True).items
    slots = service.free_slots(
        busy,
        start,
        end,
        minutes=args.duration_minutes,
        day_start=args.day_start_hour,
        day_end=args.day_end_hour,
        zone=env.zone,
        limit=10,
    )
    data = {
        "duration_minutes": args.duration_minutes,
        "searched": _span(start, end) if end > start else "",
        "free": [
            {
                "start": dates.iso(a),
                "end": dates.iso(b),
                "when": dates.human(a, b, all_day=False),
            }
            for a, b in slots
        ],
    }
    plural = "s" if len(slots) != 1 else ""
    summary = f"{len(slots)} free period{plural} of at least {args.duration_minutes} minutes"
    return ToolResult(data=data, summary=summary)


# ---------------------------------------------------------------------------------------------
# Import and export
# ---------------------------------------------------------------------------------------------


def _read_ics(context: ToolContext, path_text: str) -> tuple[str, ics.ParsedFile]:
    path = resolve_granted(context, path_text, must_exist=True, kind="file")
    try:
        with open(path, "rb", opener=checked_opener(context)) as source:
            data = source.read(ics.MAX_ICS_BYTES + 1)
    except OSError as exc:
        raise ConnectorError(
            f"{path} cannot be read ({exc.strerror}); nothing was imported"
        ) from exc
    return str(path), ics.parse_file(data, path.name)


def _import_preview(context: ToolContext, args: PathArgs) -> dict[str, Any]:
    path, parsed = _read_ics(context, args.path)
    return {
        "path": path,
        "events": len(parsed.events),
        "summary": f"Import {len(parsed.events)} events from {path}",
    }


@tool(
    "calendar_import",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=PathArgs,
    preview=_import_preview,
)
def import_ics(context: ToolContext, args: PathArgs) -> ToolResult:
    """Import the events of an .ics file (from Google, Apple or Outlook) into the calendar."""
    env = Env.of(context, "calendar_import")
    path, parsed = _read_ics(context, args.path)
    added = replaced = 0
    with context.store().transaction() as session:
        record = CalendarImport(path=path, imported=env.now)
        session.add(record)
        session.flush()
        for event in parsed.events:
            row = session.scalar(select(CalendarEvent).where(CalendarEvent.uid == event.uid))
            if row is not None:
                service.save_version(session, row, env.now, import_id=record.id)
                replaced += 1
            else:
                added += 1
            try:
                service.store_text(
                    session,
                    row,
                    uid=event.uid,
                    ical=event.ical,
                    vtimezones=event.vtimezones,
                    now=env.now,
                    import_id=record.id,
                )
            except service.InvalidEventError as exc:
                raise ics.CorruptCalendarError(
                    f"{path} is damaged: {exc}; nothing was imported"
                ) from exc
            except ConnectorError:
                raise  # the store's own errors (a full disk) say what happened
            except Exception as exc:  # hostile text no check foresaw: still a sentence
                raise ics.CorruptCalendarError(
                    f"{path} is damaged: the event {event.title!r} cannot be read "
                    f"({type(exc).__name__}: {exc}); nothing was imported"
                ) from exc
        import_id = record.id
        session.flush()
        made = _import_fingerprint(session, import_id)
    titles = [e.title for e in parsed.events[:10]]
    data = {"path": path, "added": added, "replaced": replaced, "titles": titles}
    return ToolResult(
        data=data,
        undo=Undo("calendar_undo_import", {"import_id": import_id, "expect": made}),
        summary=f"Imported {added + replaced} events from {path}"
        + (f" ({replaced} replaced older copies)" if replaced else ""),
    )


def _export_target(context: ToolContext, path_text: str) -> Any:
    path = resolve_granted(context, path_text, must_exist=False, kind="file")
    if path.exists():
        raise ConnectorError(
            f"{path} already exists; nothing was written. Choose another file name"
        )
    return path


def _export_preview(context: ToolContext, args: PathArgs) -> dict[str, Any]:
    path = _export_target(context, args.path)
    with context.store().reading() as session:
        count = session.scalar(select(func.count(CalendarEvent.id))) or 0
    return {"path": str(path), "events": count, "summary": f"Export {count} events to {path}"}


def _export_name(context: ToolContext, text: str) -> dict[str, list[str]]:
    """The file names the request gives: what the export may be called (no invented name)."""
    return {"path": file_names(text)}


@tool(
    "calendar_export",
    effect=Effect.CHANGES,
    arguments=PathArgs,
    preview=_export_preview,
    said=_export_name,
)
def export_ics(context: ToolContext, args: PathArgs) -> ToolResult:
    """Write the whole calendar to an .ics file that other calendar apps can import."""
    path = _export_target(context, args.path)
    with context.store().reading() as session:
        rows = [
            (r.vtimezones, r.ical)
            for r in session.execute(
                select(CalendarEvent.vtimezones, CalendarEvent.ical).order_by(CalendarEvent.id)
            )
        ]
    data = ics.export_text(rows)
    write_bytes_atomic(path, data, guard=folder_guard(context))
    digest = hashlib.sha256(data).hexdigest()
    return ToolResult(
        data={"path": str(path), "events": len(rows), "bytes": len(data)},
        undo=Undo("calendar_delete_export", {"path": str(path), "sha256": digest}),
        summary=f"Exported {len(rows)} events to {path}",
    )


# ---------------------------------------------------------------------------------------------
# Hidden tools that undo calls use
# ---------------------------------------------------------------------------------------------


@tool("calendar_delete", effect=Effect.CHANGES, in_store=True, arguments=DeleteArgs, offered=False)
def delete_event(context: ToolContext, args: DeleteArgs) -> ToolResult:
    """Delete an event for good (undoes its creation)."""
    with context.store().transaction() as session:
        row = session.get(CalendarEvent, args.event_id)
        if row is None:
            raise NotFoundError(f"there is no event #{args.event_id}; nothing was deleted")
        _unchanged(args.expect, _fingerprint(row.ical), f"the event {row.title!r}")
        title = row.title
        service.delete_events(session, [row.id])
    return ToolResult(
        data={"id": args.event_id, "deleted": True}, summary=f"Deleted event {title!r}"
    )


@tool(
    "calendar_restore", effect=Effect.CHANGES, in_store=True, arguments=RestoreArgs, offered=False
)
def restore(context: ToolContext, args: RestoreArgs) -> ToolResult:
    """Put back an event's saved version (undoes an update or a cancellation)."""
    env = Env.of(context, "calendar_restore")
    with context.store().transaction() as session:
        row = session.get(CalendarEvent, args.event_id)
        version = session.get(CalendarVersion, args.version_id)
        if row is None or version is None or version.event_id != row.id:
            raise NotFoundError(
                f"event #{args.event_id} has no saved version #{args.version_id}; "
                "nothing was changed"
            )
        _unchanged(args.expect, _fingerprint(row.ical), f"the event {row.title!r}")
        current = service.save_version(session, row, env.now)
        service.store_text(
            session,
            row,
            uid=row.uid,
            ical=version.ical,
            vtimezones=version.vtimezones,
            now=env.now,
        )
        title, made = row.title, _fingerprint(row.ical)
    return ToolResult(
        data={"id": args.event_id, "restored": True},
        undo=Undo(
            "calendar_restore",
            {"event_id": args.event_id, "version_id": current.id, "expect": made},
        ),
        summary=f"Restored event {title!r} as it was",
    )


@tool(
    "calendar_undo_import",
    effect=Effect.CHANGES,
    in_store=True,
    arguments=UndoImportArgs,
    offered=False,
)
def undo_import(context: ToolContext, args: UndoImportArgs) -> ToolResult:
    """Remove the events an import added and put back those it replaced."""
    env = Env.of(context, "calendar_undo_import")
    with context.store().transaction() as session:
        record = session.get(CalendarImport, args.import_id)
        if record is None:
            raise NotFoundError(f"there is no import #{args.import_id}; nothing was changed")
        now_print = _import_fingerprint(session, args.import_id)
        _unchanged(args.expect, now_print, f"an event of import #{args.import_id}")
        added = list(
            session.scalars(
                select(CalendarEvent.id).where(CalendarEvent.import_id == args.import_id)
            )
        )
        versions = session.scalars(
            select(CalendarVersion)
            .where(CalendarVersion.import_id == args.import_id)
            .order_by(CalendarVersion.id)
        ).all()
        restored = 0
        for version in versions:
            row = session.get(CalendarEvent, version.event_id)
            if row is None or row.id in added:
                continue
            service.store_text(
                session,
                row,
                uid=row.uid,
                ical=version.ical,
                vtimezones=version.vtimezones,
                now=env.now,
            )
            restored += 1
        service.delete_events(session, added)
        session.delete(record)
    return ToolResult(
        data={"removed": len(added), "restored": restored},
        summary=f"Removed {len(added)} imported events"
        + (f" and put back {restored} older copies" if restored else ""),
    )


@tool("calendar_delete_export", effect=Effect.CHANGES, arguments=DeleteExportArgs, offered=False)
def delete_export(context: ToolContext, args: DeleteExportArgs) -> ToolResult:
    """Delete an exported .ics file, if it is still exactly what was exported."""
    path = resolve_granted(context, args.path, must_exist=True, kind="file")
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ConnectorError(f"{path} cannot be read ({exc.strerror}); it was not deleted") from exc
    if digest != args.sha256:
        raise ConnectorError(f"{path} was changed after the export; it was not deleted")
    try:
        path.unlink()
    except OSError as exc:
        raise ConnectorError(f"{path} could not be deleted ({exc.strerror})") from exc
    return ToolResult(data={"path": str(path), "deleted": True}, summary=f"Deleted {path}")


TOOLS = (
    list_events,
    free_time,
    create,
    update,
    cancel,
    import_ics,
    export_ics,
    delete_event,
    restore,
    undo_import,
    delete_export,
)
