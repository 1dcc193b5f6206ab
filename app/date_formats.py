"""Dates written the way the tool's description asks ("the date, in the format mm-dd-yyyy").

The bundled model writes dates as ISO ``2023-06-01`` whatever the tool says (BFCL
multiple_64: "June01 2023" for a parameter described "in the format mm-dd-yyyy" came out
``2023-06-01``). A tool that states its format parses dates that way, so a date the model wrote
in another unambiguous form is rewritten into it. Only plain dates: a description whose
format goes on with a time or a range ("YYYY-MM-DD HH:mm:ss", "YYYY-MM-DD to YYYY-MM-DD"),
or a value with a time, is left as written. Over BFCL's AST answers (2026-12-04), the
answers agree with the stated format in 289 places; the 36 that do not are datetimes or
ranges, which this leaves alone.
"""

from __future__ import annotations

import datetime as dt
import re

from app.call_values import typed_arguments, with_arguments
from backends.generation import ToolCall
from backends.schema import ToolSpec

_FORMAT = re.compile(
    r"(?<![A-Za-z])(YYYY|MM|DD)([-/.])(YYYY|MM|DD)\2(YYYY|MM|DD)(?![A-Za-z])", re.IGNORECASE
)
# What may follow a plain date format: a time ("YYYY-MM-DD HH:mm", "...THH") or a range.
_GOES_ON = re.compile(r"^(?:\s*(?:T|HH|hh|\d|:)|\s+to\s)")
_YEAR_FIRST = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_MONTH_NAME_FORMS = ("%B %d, %Y", "%b %d, %Y", "%B %d %Y", "%b %d %Y", "%d %B %Y", "%d %b %Y")
_FIELDS = {"YYYY": "%Y", "MM": "%m", "DD": "%d"}


def described_date_format(description: str) -> str | None:
    """The ``strftime`` pattern of a plain date format a description states, or ``None``."""
    match = _FORMAT.search(description)
    if match is None or _GOES_ON.match(description[match.end() :]):
        return None
    fields = [match.group(i).upper() for i in (1, 3, 4)]
    if sorted(fields) != ["DD", "MM", "YYYY"]:
        return None
    return match.group(2).join(_FIELDS[f] for f in fields)


def read_date(value: str) -> dt.date | None:
    """A date written in a form that says which number is which: year first (``2023-06-01``,
    ``2023/6/1``) or with the month's name (``June 1, 2023``); ``None`` otherwise
    (``06/01/2023`` could be either day first or month first)."""
    text = value.strip()
    match = _YEAR_FIRST.match(text)
    try:
        if match:
            return dt.date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
        for form in _MONTH_NAME_FORMS:
            try:
                return dt.datetime.strptime(text, form).date()
            except ValueError:
                continue
    except ValueError:  # "2023-13-45"
        return None
    return None


def with_described_dates(call: ToolCall, tool: ToolSpec) -> ToolCall:
    """``call`` with each top-level date rewritten into the format its parameter's
    description states (``call`` itself when none needs it)."""
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "string"):
        pattern = described_date_format(str(schema.get("description", "")))
        date = read_date(str(value)) if pattern else None
        if pattern and date is not None and date.strftime(pattern) != value:
            changed[name] = date.strftime(pattern)
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})


_SAID_DAY = re.compile(
    r"\b(?:(?:next|this|coming|upcoming)\s+(?:monday|tuesday|wednesday|thursday|friday|"
    r"saturday|sunday|week(?:end)?|month|year)|tomorrow|today|tonight)\b",
    re.IGNORECASE,
)
_WRITTEN_DATE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d"
    r"|\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}",
    re.IGNORECASE,
)


def with_said_days(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with a date the model made up for the user's "next Friday" written as the
    user's words, where the parameter states no format.

    The bundled model knows no today: asked for "classical concerts ... next Friday", it
    wrote ``date: "2023-05-15"``, a day of its training data. A tool that takes a date in
    any form reads "next Friday" against its own clock; a made-up date sends it to the
    wrong day. Only when the request says one such day and writes no date of its own (the
    model's date then may come from it), and never for a parameter that states its format
    (:func:`with_described_dates` writes those)."""
    said = {m.group(0).casefold(): m.group(0) for m in _SAID_DAY.finditer(context)}
    if len(said) != 1 or _WRITTEN_DATE.search(context):
        return call
    (phrase,) = said.values()
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "string"):
        description = str(schema.get("description", ""))
        if "format" in schema or described_date_format(description) or "enum" in schema:
            continue
        if read_date(value) is not None and value not in context:
            changed[name] = phrase
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})


# "11 PM", "11pm", "11 p.m.": an hour the user wrote on the 12-hour clock
_AFTERNOON_HOUR = re.compile(r"\b(\d{1,2})\s*(?:pm|p\.m\.)(?!\w)", re.IGNORECASE)
_24_HOUR = re.compile(r"\b24[- ]hours?\b", re.IGNORECASE)


def with_24_hour_times(call: ToolCall, tool: ToolSpec, context: str) -> ToolCall:
    """``call`` with an hour the user wrote "11 PM" given as 23, where the parameter's
    description says it takes the 24-hour clock.

    "a vegan restaurant in New York that opens until at least 11 PM", offered
    ``operating_hours`` "in 24 hour format": the bundled model sent 11, which that tool
    reads as eleven in the morning. Over BFCL's AST answers (2026-12-04) one request writes
    an afternoon hour for a 24-hour parameter, and its answer holds the 24-hour hour."""
    afternoon = {int(m.group(1)) for m in _AFTERNOON_HOUR.finditer(context)}
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "integer", "number"):
        said_24 = _24_HOUR.search(str(schema.get("description", "")))
        if said_24 and value in afternoon and 1 <= value <= 11:
            changed[name] = int(value) + 12
    return with_arguments(call, tool, {**call.arguments, **changed}) if changed else call
