"""Which event reminders to show now: the calendar's due reminders since the last look.

The desktop app asks every half minute; each reminder is shown once. The first look starts
at the moment the app started: reminders that fell due while it was closed are not replayed
as a burst of stale notifications.
"""

from __future__ import annotations

from datetime import datetime

from connectors.calendar.reminders import Reminder, due_between
from connectors.errors import ConnectorError
from connectors.tool import ToolContext


class ReminderWatch:
    """Reminders due since the previous :meth:`due` call, for one running app."""

    def __init__(self, context: ToolContext, since: datetime | None = None) -> None:
        self.context = context
        self._last = since if since is not None else context.current_time()

    def due(self) -> list[Reminder]:
        """The reminders that fell due since the last call, earliest first.

        A store that cannot be read now (its key locked away, a migration by another
        process) yields nothing and the next call looks again from the same moment, so no
        reminder is lost to a passing problem.
        """
        now = self.context.current_time()
        zone = self.context.timezone or now.tzinfo
        assert zone is not None  # current_time() is aware
        try:
            with self.context.store().reading() as session:
                found = due_between(session, self._last, now, zone)
        except ConnectorError:
            return []
        self._last = now
        return found
