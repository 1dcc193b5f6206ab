"""The user's time zone, as an IANA zone (so "every Monday 9:00" stays 9:00 across DST), and
the clock: the real one, or the instant ``$CALLMEMAYBE_NOW`` fixes for reproducible runs.

``datetime.now().astimezone()`` only gives a fixed offset, which is wrong half the year for a
recurring event; so the zone is read from the setting, then ``$TZ``, then the system's
configuration, and UTC only as a last resort.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name.strip().lstrip(":"))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def local_timezone(setting: str | None = None) -> ZoneInfo:
    """The zone from ``setting``, ``$TZ``, ``/etc/timezone`` or ``/etc/localtime``, else UTC."""
    for candidate in (setting, os.environ.get("TZ")):
        zone = _zone(candidate)
        if zone is not None:
            return zone
    try:
        zone = _zone(Path("/etc/timezone").read_text(encoding="utf-8"))
        if zone is not None:
            return zone
    except OSError:
        pass
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        zone = _zone(target.split("zoneinfo/", 1)[1])
        if zone is not None:
            return zone
    return ZoneInfo("UTC")


FIXED_NOW_VARIABLE = "CALLMEMAYBE_NOW"


class ClockError(ValueError):
    """``CALLMEMAYBE_NOW`` is set but is not an ISO local date and time."""


def fixed_now(zone: ZoneInfo) -> datetime | None:
    """The instant ``$CALLMEMAYBE_NOW`` names, in ``zone``; ``None`` when it is unset.

    The value is an ISO local time such as ``2026-03-14T10:05`` (read in ``zone``, the user's
    zone) or an ISO time with an offset. Evaluations and tests set it so that "tomorrow" means
    the same day on any day they run.

    Raises:
        ClockError: the variable is set to something that is not an ISO date and time.
    """
    text = os.environ.get(FIXED_NOW_VARIABLE, "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ClockError(
            f"{FIXED_NOW_VARIABLE}={text!r} is not an ISO date and time "
            "(for example 2026-03-14T10:05); unset it to use the real clock"
        ) from exc
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone)
    return moment.astimezone(zone)


def clock(zone: ZoneInfo) -> Callable[[], datetime]:
    """The function every part of the app asks for "now": fixed by ``$CALLMEMAYBE_NOW``, else
    the real clock, in ``zone``.

    The variable is read once, here, so a bad value fails at start-up with a clear message
    rather than in the middle of a turn.
    """
    fixed = fixed_now(zone)
    if fixed is not None:
        return lambda: fixed
    return lambda: datetime.now(zone)
