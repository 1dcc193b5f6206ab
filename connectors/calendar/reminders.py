"""Event reminders that fall due: what the desktop app shows as notifications.

An event's reminders are its ``VALARM`` components with a trigger relative to the start (what
``calendar_create``'s ``reminder_minutes`` writes, and what other calendar apps export). Only
events that have one are looked at, found by their stored text, so a check costs a few
milliseconds even with thousands of events; recurring events remind at each occurrence.
Reading only: checking never writes to the store, so it never waits for the write lock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import icalendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.calendar import dates, service
from connectors.calendar.models import CalendarEvent

# Looked at no further ahead than this: a reminder weeks before an event is not what anyone
# keeps an app open for, and the window bounds the cost of expanding recurring series.
MAX_LEAD = timedelta(days=7)


@dataclass(frozen=True)
class Reminder:
    """One reminder that fell due.

    Attributes:
        event_id: the event's id in the store.
        title: the event's title.
        start: when the occurrence starts (aware, in the user's zone).
        due: when the reminder fired (``start`` minus its lead).
        when: the occurrence's times as the user reads them ("Thu 26 Nov 2026 12:30–13:30 CET").
        location: where, or "".
    """

    event_id: int
    title: str
    start: datetime
    due: datetime
    when: str
    location: str = ""

    def message(self) -> str:
        """The notification's text: when (and where)."""
        return f"{self.when}, {self.location}" if self.location else self.when


def leads_of(ical_text: str) -> list[timedelta]:
    """The reminder leads of an event's text (how long before its start each one fires).

    Alarms relative to the end, at absolute times or after the start are left out; an event
    whose text does not parse has none.
    """
    try:
        calendar = icalendar.Calendar.from_ical(ical_text)
    except ValueError:
        return []
    leads: set[timedelta] = set()
    for component in calendar.walk("VALARM"):
        trigger = component.get("TRIGGER")
        if trigger is None or not isinstance(trigger.dt, timedelta):
            continue
        if str(trigger.params.get("RELATED", "START")).upper() != "START":
            continue
        lead = -trigger.dt
        if timedelta(0) <= lead <= MAX_LEAD:
            leads.add(lead)
    return sorted(leads)


def due_between(session: Session, after: datetime, until: datetime, zone: tzinfo) -> list[Reminder]:
    """Reminders that fire in ``(after, until]``, earliest first.

    Args:
        after: the end of the last check (exclusive), aware.
        until: now, aware.
        zone: the user's time zone, for the times shown.
    """
    if until <= after:
        return []
    rows = session.execute(
        select(CalendarEvent.id, CalendarEvent.ical).where(
            CalendarEvent.cancelled.is_(False), CalendarEvent.ical.contains("BEGIN:VALARM")
        )
    ).all()
    leads = {event_id: found for event_id, text in rows if (found := leads_of(text))}
    if not leads:
        return []
    longest = max(lead for found in leads.values() for lead in found)
    page = service.occurrences_between(session, after, until + longest + timedelta(seconds=1), zone)
    due: list[Reminder] = []
    for occurrence in page.items:
        for lead in leads.get(occurrence.event_id, ()):
            fires = occurrence.start - lead
            if after < fires <= until:
                start = occurrence.start
                end = occurrence.end
                shown_start = start.date() if occurrence.all_day else start
                shown_end = end.date() if occurrence.all_day else end
                due.append(
                    Reminder(
                        event_id=occurrence.event_id,
                        title=occurrence.title or "Event",
                        start=start,
                        due=fires,
                        when=dates.human(shown_start, shown_end, all_day=occurrence.all_day),
                        location=occurrence.location,
                    )
                )
    due.sort(key=lambda r: (r.due, r.start, r.event_id))
    return due
