"""Calendar storage: writing an event's text, expanding it into occurrences, range queries.

Every write goes through :func:`store_text`, which parses the event, expands its recurrences
with recurring-ical-events and replaces its rows in ``calendar_occurrences``; nothing else
writes that table, so it cannot drift from the text. Reads (a week's events, conflicts, free
time) are index range scans on that table; only a series whose stored window does not cover the
range asked for is parsed and expanded on the fly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
from sqlalchemy import bindparam, delete, func, insert, select, text
from sqlalchemy.orm import Session

from connectors.calendar import dates, limits
from connectors.calendar.ics import calendar_of
from connectors.calendar.models import CalendarEvent, CalendarOccurrence, CalendarVersion
from connectors.errors import ConnectorError, NotFoundError

FLOAT_PAD = timedelta(hours=14)  # the largest UTC offset: where a floating time can really be
DAY = timedelta(days=1)
# An endless series is expanded from its start (at most WINDOW_PAST back) to WINDOW_FUTURE
# after the write: a daily one created today is about 400 rows, a few milliseconds to write, and
# a week anywhere in the past three years or the next year is then answered from the index.
# Reads re-expand series whose window ends within half of WINDOW_FUTURE, as time moves on.
WINDOW_PAST = timedelta(days=3 * 366)
WINDOW_FUTURE = timedelta(days=400)
MAX_COUNT = 1000  # a COUNT above this is expanded over a window, like an endless series
CONFLICT_CHECKS = 20  # occurrences of a new series checked for conflicts
MAX_CONFLICTS = 10
_FAR_PAST = datetime(1900, 1, 1, tzinfo=UTC)
_FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)


class InvalidEventError(ConnectorError):
    """An event's text cannot be expanded (a bad recurrence rule); nothing was saved."""


@dataclass(frozen=True)
class Occurrence:
    """One occurrence as shown to the user: times aware, in the user's zone.

    ``start``/``end`` are midnights for an all-day occurrence (``end`` exclusive).
    """

    event_id: int
    start: datetime
    end: datetime
    all_day: bool
    busy: bool
    recurrence_id: str
    title: str
    location: str

    def brief(self) -> dict[str, Any]:
        """What the model and the user see of it (empty values left out: tokens cost)."""
        start: date | datetime = self.start.date() if self.all_day else self.start
        end: date | datetime = self.end.date() if self.all_day else self.end
        out: dict[str, Any] = {
            "id": self.event_id,
            "title": self.title,
            "start": dates.iso(start),
            "end": dates.iso(end),
            "when": dates.human(start, end, all_day=self.all_day),
        }
        if self.all_day:
            out["all_day"] = True
        if self.location:
            out["location"] = self.location
        if self.recurrence_id:
            out["occurrence"] = dates.iso(start)
        return out


# ---------------------------------------------------------------------------------------------
# Values in and out of the index
# ---------------------------------------------------------------------------------------------


def index_value(value: date | datetime) -> tuple[datetime, bool]:
    """``(aware UTC, floating)``: a floating time or a date keeps its wall time, as UTC."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC), True
        return value.astimezone(UTC), False
    return datetime(value.year, value.month, value.day, tzinfo=UTC), True


def placed(value: datetime, floating: bool, zone: tzinfo) -> datetime:
    """An index value as an aware time in ``zone`` (a floating one is wall time there)."""
    if floating:
        return value.replace(tzinfo=None).replace(tzinfo=zone)
    return value.astimezone(zone)


def recurrence_key(value: date | datetime) -> str:
    """How an occurrence's original start is written in the index (UTC, or wall time)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.strftime("%Y%m%dT%H%M%S")
        return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return value.strftime("%Y%m%d")


def title_key(title: str) -> str:
    return " ".join(title.casefold().split())


def is_cancelled(component: icalendar.Component) -> bool:
    return str(component.get("STATUS", "")).upper() == "CANCELLED"


def master_of(events: Sequence[icalendar.Event]) -> icalendar.Event | None:
    return next((e for e in events if "RECURRENCE-ID" not in e), None)


def events_of(calendar: icalendar.Calendar) -> list[icalendar.Event]:
    return [c for c in calendar.subcomponents if c.name == "VEVENT"]


# ---------------------------------------------------------------------------------------------
# Expansion
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expanded:
    """An occurrence straight out of recurring-ical-events (times as in the event)."""

    start: date | datetime
    end: date | datetime
    original: date | datetime
    """The start the recurrence rule gave it (its RECURRENCE-ID when it was moved)."""
    busy: bool
    recurrence_id: str
    title: str
    location: str


def expand(
    calendar: icalendar.Calendar, span_start: datetime, span_stop: datetime
) -> list[Expanded]:
    """The live occurrences of the calendar's events overlapping the span.

    Plain occurrences take their text from the series; only overrides are turned into
    components (that copy is what makes expansion slow, and an override is rare).

    Raises:
        InvalidEventError: the recurrence cannot be computed.
    """
    events = events_of(calendar)
    master = master_of(events)
    if master is not None and is_cancelled(master):
        return []
    recurring = master is None or len(events) > 1 or bool(master.rrules or master.rdates)
    title = str(events[0].get("SUMMARY", "")) if events else ""
    found: list[Any] = []
    try:
        with limits.time_limit():
            query = recurring_ical_events.of(calendar)
            for series in query.series:
                for occurrence in series.between(span_start, span_stop):
                    found.append(occurrence)
                    if len(found) > limits.MAX_OCCURRENCES:
                        raise InvalidEventError(
                            f"the event {title!r} repeats more than "
                            f"{limits.MAX_OCCURRENCES:,} times between {span_start:%Y-%m-%d} "
                            f"and {span_stop:%Y-%m-%d}; an event may have at most "
                            f"{limits.MAX_OCCURRENCES:,} occurrences there"
                        )
    except limits.ExpansionTimeout:
        raise InvalidEventError(
            f"the event {title!r} has a recurrence that takes too long to work out (over "
            f"{limits.EXPANSION_SECONDS:g} seconds): it repeats too often or never matches"
        ) from None
    except InvalidEventError:
        raise
    except Exception as exc:  # hostile text: whatever the libraries raise, the user gets a sentence
        raise InvalidEventError(
            f"the event {title!r} has a recurrence that cannot be computed ({exc})"
        ) from exc
    out: list[Expanded] = []
    for occurrence in found:
        override = bool(occurrence.recurrence_ids)
        source = occurrence.as_component(False) if override else master
        if source is None or is_cancelled(source):
            continue
        moved = source.get("RECURRENCE-ID") if override else None
        original = moved.dt if moved is not None else occurrence.start
        rid = recurrence_key(original)
        out.append(
            Expanded(
                start=occurrence.start,
                end=occurrence.end,
                original=original,
                busy=_busy(source, occurrence.start),
                recurrence_id=rid if recurring else "",
                title=str(source.get("SUMMARY", "")),
                location=str(source.get("LOCATION", "")),
            )
        )
    return out


def _busy(component: icalendar.Component, start: date | datetime) -> bool:
    if not isinstance(start, datetime):
        return False  # an all-day event (a birthday, a holiday) does not block the day's time
    return str(component.get("TRANSP", "OPAQUE")).upper() != "TRANSPARENT"


def rule_value(rule: Any, key: str) -> Any:
    """One part of an RRULE (parsed rules hold lists, rules built in code may not)."""
    value = rule.get(key)
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _windowed(master: icalendar.Event | None, now: datetime) -> bool:
    """Whether the series is too long to expand whole (endless, or very long)."""
    if master is None:
        return False
    for rule in master.rrules:
        count = rule_value(rule, "COUNT")
        until = rule_value(rule, "UNTIL")
        if not count and not until:
            return True
        if count and int(count) > MAX_COUNT:
            return True
        if until:
            limit, _ = index_value(until)
            if limit > now + WINDOW_FUTURE:
                return True
    return False


@dataclass
class Indexed:
    """What :func:`index_rows` derived from an event's text."""

    title: str
    recurring: bool
    cancelled: bool
    first_start: datetime
    last_end: datetime | None
    indexed_from: datetime | None
    indexed_until: datetime | None
    occurrences: list[Expanded]


def index_rows(calendar: icalendar.Calendar, now: datetime) -> Indexed:
    """Expand an event's text into the values of its index rows.

    Raises:
        InvalidEventError: no VEVENT, or a recurrence that cannot be computed.
    """
    events = events_of(calendar)
    if not events:
        raise InvalidEventError("the event has no VEVENT")
    master = master_of(events)
    starts = [index_value(e.start) for e in events]
    first_start = min(value - FLOAT_PAD if floating else value for value, floating in starts)
    windowed = _windowed(master, now)
    if windowed:
        span_start = max(first_start, now - WINDOW_PAST)
        span_stop = now + WINDOW_FUTURE
    else:
        span_start, span_stop = _FAR_PAST, _FAR_FUTURE
    occurrences = expand(calendar, span_start, span_stop)
    last_end: datetime | None = None
    if not windowed:
        ends = [index_value(o.end) for o in occurrences]
        last_end = max((v + FLOAT_PAD if f else v for v, f in ends), default=first_start)
    cancelled = is_cancelled(master) if master is not None else all(is_cancelled(e) for e in events)
    source = master if master is not None else events[0]
    return Indexed(
        title=str(source.get("SUMMARY", "")),
        recurring=master is None or len(events) > 1 or bool(master.rrules or master.rdates),
        cancelled=cancelled,
        first_start=first_start,
        last_end=last_end,
        # A day inside what was expanded: floating times sit up to 14 hours either side.
        # (Nothing before the series' own start is missing: no need to expand there.)
        indexed_from=(span_start + DAY if span_start > first_start else _FAR_PAST)
        if windowed
        else None,
        indexed_until=span_stop - DAY if windowed else None,
        occurrences=occurrences,
    )


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------


def store_text(
    session: Session,
    row: CalendarEvent | None,
    *,
    uid: str,
    ical: str,
    vtimezones: str,
    now: datetime,
    import_id: int | None = None,
    calendar: icalendar.Calendar | None = None,
) -> CalendarEvent:
    """Create or replace an event from its text and rebuild its occurrence rows.

    Args:
        calendar: the text already parsed, when the caller has it (parsing costs more than
            anything else in a write).

    Raises:
        InvalidEventError: the text cannot be expanded; the caller's transaction rolls back.
    """
    parsed = calendar if calendar is not None else calendar_of(vtimezones, ical)
    indexed = index_rows(parsed, now)
    if row is None:
        row = CalendarEvent(uid=uid, created=now, import_id=import_id)
        session.add(row)
    row.title = indexed.title[:500]
    row.title_key = title_key(indexed.title)[:500]
    row.ical = ical
    row.vtimezones = vtimezones
    row.recurring = indexed.recurring
    row.cancelled = indexed.cancelled
    row.first_start = indexed.first_start
    row.last_end = indexed.last_end
    row.indexed_from = indexed.indexed_from
    row.indexed_until = indexed.indexed_until
    row.updated = now
    session.flush()
    session.execute(delete(CalendarOccurrence).where(CalendarOccurrence.event_id == row.id))
    rows = [_occurrence_row(row.id, o) for o in indexed.occurrences]
    if rows:
        session.execute(insert(CalendarOccurrence), rows)
    return row


def _occurrence_row(event_id: int, occurrence: Expanded) -> dict[str, Any]:
    start, floating = index_value(occurrence.start)
    end, _ = index_value(occurrence.end)
    return {
        "event_id": event_id,
        "start": start,
        "end": end,
        "long": end - start > DAY,
        "floating": floating,
        "all_day": not isinstance(occurrence.start, datetime),
        "busy": occurrence.busy,
        "recurrence_id": occurrence.recurrence_id,
        "title": occurrence.title[:500],
        "location": occurrence.location,
    }


def save_version(
    session: Session, row: CalendarEvent, now: datetime, import_id: int | None = None
) -> CalendarVersion:
    """Keep the event's current text, so the change about to be made can be undone."""
    version = CalendarVersion(
        event_id=row.id, saved=now, ical=row.ical, vtimezones=row.vtimezones, import_id=import_id
    )
    session.add(version)
    session.flush()
    return version


def refresh_windows(session: Session, now: datetime) -> int:
    """Re-expand long series whose window ends within half a window of ``now``.

    Called before reads, so an app running for years keeps answering from the index. Returns
    how many series were re-expanded.
    """
    stale = session.scalars(
        select(CalendarEvent).where(
            CalendarEvent.indexed_until < now + WINDOW_FUTURE / 2,
            CalendarEvent.cancelled.is_(False),
        )
    ).all()
    for row in stale:
        store_text(session, row, uid=row.uid, ical=row.ical, vtimezones=row.vtimezones, now=now)
    return len(stale)


def needs_refresh(session: Session, now: datetime) -> bool:
    found = session.scalar(
        select(CalendarEvent.id)
        .where(
            CalendarEvent.indexed_until < now + WINDOW_FUTURE / 2,
            CalendarEvent.cancelled.is_(False),
        )
        .limit(1)
    )
    return found is not None


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

# Written as SQL once: building SQLAlchemy expressions and running its per-row type
# processing cost more than the query itself. A range is read in two steps: the candidates'
# times come from the covering index alone (no table page is decrypted for them), and only the
# occurrences that will be shown are then read whole. Short occurrences (a day at most) are
# found by a narrow range on the index; the few long ones by its long part. Times are compared
# as the text SQLAlchemy stores them in (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), which sorts like
# the times. ``min_busy`` 1 keeps busy occurrences only; ``exclude`` 0 excludes nothing.
_CANDIDATE_COLUMNS = 'id, start, "end", floating, event_id'
_CANDIDATES = text(
    f"SELECT {_CANDIDATE_COLUMNS} FROM calendar_occurrences"
    ' WHERE long = 0 AND start >= :short_low AND start < :high AND "end" > :low'
    " AND busy >= :min_busy AND event_id != :exclude"
    f" UNION ALL SELECT {_CANDIDATE_COLUMNS} FROM calendar_occurrences"
    ' WHERE long = 1 AND start < :high AND "end" > :low'
    " AND busy >= :min_busy AND event_id != :exclude"
)
_DETAILS = text(
    'SELECT id, event_id, start, "end", floating, all_day, busy, recurrence_id, title, location'
    " FROM calendar_occurrences WHERE id IN :ids"
).bindparams(bindparam("ids", expanding=True))
# INDEXED BY: left to itself the planner picks the first_start index and reads half the table;
# the windowed series are a handful, found through their own index (``> ''`` skips NULLs).
_WINDOWED = text(
    "SELECT id, vtimezones, ical FROM calendar_events"
    " INDEXED BY ix_calendar_events_indexed_until"
    " WHERE indexed_until > '' AND (indexed_from > :start OR indexed_until < :end)"
    " AND first_start < :high AND (last_end IS NULL OR last_end > :low)"
    " AND cancelled = 0 AND id != :exclude"
)
_STORED = "%Y-%m-%d %H:%M:%S.%f"


def _stored(value: datetime) -> str:
    """A time as the store's text (UTC), for comparing with stored values in SQL."""
    return value.astimezone(UTC).strftime(_STORED)


def _from_stored(value: str, floating: int, zone: tzinfo) -> datetime:
    moment = datetime.fromisoformat(value)
    if floating:
        return moment.replace(tzinfo=zone)
    return moment.replace(tzinfo=UTC).astimezone(zone)


@dataclass(frozen=True)
class Page:
    """Occurrences in a range: the first ``limit`` of them, and how many there are in all."""

    items: list[Occurrence]
    total: int


def occurrences_between(
    session: Session,
    start: datetime,
    end: datetime,
    zone: tzinfo,
    *,
    busy_only: bool = False,
    exclude_event: int | None = None,
    limit: int | None = None,
    windowed: dict[int, icalendar.Calendar] | None = None,
) -> Page:
    """Live occurrences overlapping ``[start, end)``, sorted by start, in ``zone``.

    Args:
        limit: read and build only the first ``limit`` occurrences (``total`` counts them all).
        windowed: the series to expand here, if the caller already looked them up for a range
            containing this one (see :func:`windowed_series`).
    """
    exclude = exclude_event or 0
    live = windowed if windowed is not None else windowed_series(session, start, end, exclude)
    low, high = start - FLOAT_PAD, end + FLOAT_PAD
    params = {
        "low": _stored(low),
        "short_low": _stored(low - DAY),
        "high": _stored(high),
        "min_busy": 1 if busy_only else 0,
        "exclude": exclude,
    }
    # Exact bounds: UTC text for zoned times, the user's wall time for floating ones.
    first, last = _stored(start), _stored(end)
    wall_first, wall_last = _wall(start, zone), _wall(end, zone)
    keyed: list[tuple[str, str, int, Any]] = []
    for row_id, begins, ends, floating, event_id in session.execute(_CANDIDATES, params).all():
        if event_id in live:
            continue
        if floating:
            if begins < wall_last and ends > wall_first:
                keyed.append((_utc_text(begins, zone), _utc_text(ends, zone), event_id, row_id))
        elif begins < last and ends > first:
            keyed.append((begins, ends, event_id, row_id))
    for event_id, calendar in live.items():
        for expanded in expand(calendar, low, high):
            occurrence = to_occurrence(event_id, expanded, zone)
            if busy_only and not occurrence.busy:
                continue
            if occurrence.start < end and occurrence.end > start:
                begins, ends = _stored(occurrence.start), _stored(occurrence.end)
                keyed.append((begins, ends, event_id, occurrence))
    keyed.sort(key=lambda k: k[:3])
    chosen = keyed if limit is None else keyed[:limit]
    wanted = [k[3] for k in chosen if not isinstance(k[3], Occurrence)]
    details = {}
    if wanted:
        details = {row[0]: row for row in session.execute(_DETAILS, {"ids": wanted}).all()}
    items = [
        item if isinstance(item, Occurrence) else _occurrence(details[item], zone)
        for *_, item in chosen
    ]
    return Page(items=items, total=len(keyed))


def _occurrence(row: Any, zone: tzinfo) -> Occurrence:
    return Occurrence(
        event_id=row[1],
        start=_from_stored(row[2], row[4], zone),
        end=_from_stored(row[3], row[4], zone),
        all_day=bool(row[5]),
        busy=bool(row[6]),
        recurrence_id=row[7],
        title=row[8],
        location=row[9],
    )


def _wall(value: datetime, zone: tzinfo) -> str:
    """``value`` as wall time in ``zone``, written like a stored floating time."""
    return value.astimezone(zone).strftime(_STORED)


def _utc_text(floating_text: str, zone: tzinfo) -> str:
    return _stored(_from_stored(floating_text, 1, zone))


def windowed_series(
    session: Session, start: datetime, end: datetime, exclude: int = 0
) -> dict[int, icalendar.Calendar]:
    """Long series whose indexed window does not cover the range: parsed, to expand here."""
    params = {
        "start": _stored(start),
        "end": _stored(end),
        "high": _stored(end + FLOAT_PAD),
        "low": _stored(start - FLOAT_PAD),
        "exclude": exclude,
    }
    return {row[0]: calendar_of(row[1], row[2]) for row in session.execute(_WINDOWED, params).all()}


def to_occurrence(event_id: int, expanded: Expanded, zone: tzinfo) -> Occurrence:
    start, floating = index_value(expanded.start)
    end, _ = index_value(expanded.end)
    return Occurrence(
        event_id=event_id,
        start=placed(start, floating, zone),
        end=placed(end, floating, zone),
        all_day=not isinstance(expanded.start, datetime),
        busy=expanded.busy,
        recurrence_id=expanded.recurrence_id,
        title=expanded.title,
        location=expanded.location,
    )


def conflicts(
    session: Session,
    planned: Iterable[Occurrence],
    zone: tzinfo,
    now: datetime,
    *,
    exclude_event: int | None = None,
) -> list[dict[str, Any]]:
    """Other events that overlap the planned occurrences (busy ones only), for the result.

    A series is checked on its next :data:`CONFLICT_CHECKS` occurrences: enough to warn,
    without a year of daily meetings costing a query each.
    """
    busy = [o for o in planned if o.busy]
    mine = ([o for o in busy if o.end > now] or busy)[:CONFLICT_CHECKS]
    if not mine:
        return []
    exclude = exclude_event or 0
    live = windowed_series(session, min(o.start for o in mine), max(o.end for o in mine), exclude)
    out: dict[tuple[int, datetime], dict[str, Any]] = {}
    for planned_one in mine:
        page = occurrences_between(
            session,
            planned_one.start,
            planned_one.end,
            zone,
            busy_only=True,
            exclude_event=exclude_event,
            windowed=live,
        )
        for other in page.items:
            key = (other.event_id, other.start)
            if key not in out:
                item = other.brief()
                item["overlaps"] = dates.human(planned_one.start, planned_one.end, all_day=False)
                out[key] = item
            if len(out) >= MAX_CONFLICTS:
                return list(out.values())
    return list(out.values())


def free_slots(
    busy: Sequence[Occurrence],
    start: datetime,
    end: datetime,
    *,
    minutes: int,
    day_start: int,
    day_end: int,
    zone: tzinfo,
    limit: int,
) -> list[tuple[datetime, datetime]]:
    """Gaps of at least ``minutes`` between busy occurrences, within working hours each day."""
    need = timedelta(minutes=minutes)
    slots: list[tuple[datetime, datetime]] = []
    day = start.astimezone(zone).date()
    while dates.at_midnight(day, zone) < end and len(slots) < limit:
        open_at = max(start, _at_hour(day, day_start, zone))
        close_at = min(end, _at_hour(day, day_end, zone))
        cursor = open_at
        for item in busy:
            if item.end <= cursor or item.start >= close_at:
                continue
            if item.start - cursor >= need:
                slots.append((cursor, item.start))
            cursor = max(cursor, item.end)
        if close_at - cursor >= need:
            slots.append((cursor, close_at))
        day += DAY
    return slots[:limit]


def _at_hour(day: date, hour: int, zone: tzinfo) -> datetime:
    if hour >= 24:
        return dates.at_midnight(day + DAY, zone)
    return dates.at_midnight(day, zone).replace(hour=hour)


# ---------------------------------------------------------------------------------------------
# Finding an event by what the user calls it
# ---------------------------------------------------------------------------------------------


def find_event(session: Session, name: str, *, include_cancelled: bool = False) -> CalendarEvent:
    """The event with this id (``"12"``, ``"#12"``) or this title, case-insensitive.

    Raises:
        NotFoundError: no such event, or several share the title (the message lists their ids).
    """
    text = name.strip().lstrip("#")
    if text.isdigit():
        row = session.get(CalendarEvent, int(text))
        if row is None:
            raise NotFoundError(f"there is no event #{text}; list events to see their ids")
        return row
    key = title_key(name)
    query = select(CalendarEvent).where(CalendarEvent.title_key == key)
    if not include_cancelled:
        query = query.where(CalendarEvent.cancelled.is_(False))
    rows = session.scalars(query.order_by(CalendarEvent.first_start).limit(6)).all()
    if not rows:
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = select(CalendarEvent).where(
            func.lower(CalendarEvent.title).like(pattern, escape="\\")
        )
        if not include_cancelled:
            query = query.where(CalendarEvent.cancelled.is_(False))
        rows = session.scalars(query.order_by(CalendarEvent.first_start).limit(6)).all()
    if not rows:
        raise NotFoundError(f"no event is called {name!r}; list events to see their titles")
    if len(rows) > 1:
        listed = ", ".join(f"#{r.id} {r.title!r}" for r in rows[:5])
        raise NotFoundError(
            f"several events match {name!r} ({listed}); give the id of the one you mean"
        )
    return rows[0]


def delete_events(session: Session, ids: Sequence[int]) -> None:
    if ids:
        session.execute(delete(CalendarEvent).where(CalendarEvent.id.in_(ids)))
