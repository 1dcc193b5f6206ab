"""The user's time zone, as an IANA zone (so "every Monday 9:00" stays 9:00 across DST).

``datetime.now().astimezone()`` only gives a fixed offset, which is wrong half the year for a
recurring event; so the zone is read from the setting, then ``$TZ``, then the system's
configuration, and UTC only as a last resort.
"""

from __future__ import annotations

import os
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
