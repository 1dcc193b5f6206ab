"""What a pending action will do, in words a person reads before approving it.

The window's approval card, the quick popup, the approvals panel and ``callmemaybe pending``
all show the same two things, built here from the action's tool, arguments and stored preview
(no Qt, so the terminal prints exactly what the window shows):

- a sentence in the future tense ("Create the event 'Lunch with Ana', Thu 15 Jan 2027
  12:30–13:30 CET, at Cafe Luz"): the connectors' own preview summaries are written by a
  dry run and read in the past tense ("Created note ...") before anything happened;
- what will change, as labelled rows: an event's resolved times in the user's zone, place and
  people; a note's title and the text that will be written (or the diff of an edit); a file's
  source and destination or the first lines of the text to be written;

and the grammar's conflict flags and calendar overlaps in plain words. The raw arguments are
never part of it: a front end shows them only behind a "Details" disclosure.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

FIRST_LINES = 8  # lines of a file's new text shown before approving
MAX_BLOCK_CHARS = 1200  # a note's text beyond this is cut in the summary (Details has it all)


@dataclass(frozen=True)
class Change:
    """One labelled row of what will change.

    Attributes:
        label: a short word or two ("When", "Text"); front ends keep it on one line.
        value: the value as the user will find it after approving.
        block: the value is multi-line text to show as written (a note's body, a diff).
    """

    label: str
    value: str
    block: bool = False


@dataclass(frozen=True)
class ActionSummary:
    """A sentence, the rows of what will change, and what to check."""

    sentence: str
    changes: tuple[Change, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def lines(self, indent: str = "    ") -> list[str]:
        """The summary as terminal lines: the sentence, each row, then each warning."""
        out = [self.sentence]
        for change in self.changes:
            if change.block:
                out.append(f"{indent}{change.label}:")
                out.extend(f"{indent}  | {line}" for line in change.value.splitlines() or [""])
            else:
                out.append(f"{indent}{change.label}: {change.value}")
        out.extend(f"{indent}⚠ {warning}" for warning in self.warnings)
        return out


class _ActionLike(Protocol):
    tool: str
    arguments: dict[str, Any]
    preview: dict[str, Any]
    conflicts: tuple[str, ...]


def summarize_action(action: _ActionLike) -> ActionSummary:
    """The summary of a stored action or an ``ActionPending`` event (same fields)."""
    return summarize(action.tool, action.arguments, action.preview, action.conflicts)


def summarize(
    tool: str,
    arguments: dict[str, Any],
    preview: dict[str, Any] | None = None,
    conflicts: Iterable[str] = (),
) -> ActionSummary:
    """What approving ``tool(arguments)`` will do, from its preview.

    Args:
        tool: the tool's name.
        arguments: the validated arguments that will run.
        preview: what the tool's preview computed (resolved times, a diff, checked paths).
        conflicts: the grammar's flags (a value the model wanted but the tool does not allow).
    """
    preview = dict(preview or {})
    builder = _BUILDERS.get(tool, _generic)
    sentence, changes, warnings = builder(tool, arguments, preview)
    flags = tuple(_plain_flag(flag) for flag in conflicts)
    return ActionSummary(sentence, tuple(changes), (*flags, *warnings))


# ---------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------

Built = tuple[str, list[Change], list[str]]
_FLAG = re.compile(
    r"^(?P<path>.+?): the model wanted (?P<wanted>.+) but the tool allows only (?P<got>.+)$"
)


def _quote(text: Any) -> str:
    return f"'{text}'"


def _plain_flag(flag: str) -> str:
    """A grammar conflict as a sentence: which field, what was wanted, what will be used."""
    found = _FLAG.match(flag)
    if not found:
        return f"Check this: {flag}"
    field_name = _label(found["path"].split(".")[-1].split("[")[0]).lower()
    return (
        f"Check the {field_name}: the assistant wanted {found['wanted']}, which is not allowed, "
        f"so {found['got']} will be used instead."
    )


def _label(key: str) -> str:
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def _value_text(value: Any) -> str:
    """A value in words, never as JSON: lists joined, mappings as 'key: value' pairs."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(k)).lower()}: {_value_text(v)}" for k, v in value.items())
    return str(value)


def _literal_newlines(text: str) -> list[str]:
    """A warning when text has the two characters backslash-n where line breaks were meant."""
    if "\\n" in text and "\n" not in text:
        return ["The text contains '\\n' as written characters, not line breaks."]
    return []


def _cut(text: str, limit: int = MAX_BLOCK_CHARS) -> str:
    return (
        text
        if len(text) <= limit
        else text[:limit].rstrip() + f"\n… ({len(text) - limit} more characters)"
    )


def _first_lines(text: str, count: int = FIRST_LINES) -> str:
    lines = text.splitlines()
    shown = "\n".join(lines[:count])
    if len(lines) > count:
        shown += f"\n… ({len(lines) - count} more lines)"
    return _cut(shown)


_FREQ = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}


def _repeats(rule: str) -> str:
    """'FREQ=WEEKLY;COUNT=10' -> 'every week, 10 times in all'."""
    parts = dict(p.split("=", 1) for p in rule.split(";") if "=" in p)
    unit = _FREQ.get(parts.get("FREQ", ""), parts.get("FREQ", "").lower())
    interval = int(parts.get("INTERVAL", "1") or 1)
    text = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    if parts.get("COUNT"):
        text += f", {parts['COUNT']} times in all"
    elif parts.get("UNTIL"):
        until = parts["UNTIL"]
        text += f", until {until[:4]}-{until[4:6]}-{until[6:8]}" if len(until) >= 8 else ""
    return text


def _minutes(value: Any) -> str:
    values = value if isinstance(value, list) else [value]
    return ", ".join(f"{int(v)} minutes before" for v in values)


# ---------------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------------


def _event_rows(described: dict[str, Any]) -> list[Change]:
    rows = []
    if described.get("when"):
        rows.append(Change("When", str(described["when"])))
    if described.get("event_when"):
        zone = described.get("event_time_zone", "")
        rows.append(Change("Their time", f"{described['event_when']} ({zone})"))
    if described.get("location"):
        rows.append(Change("Where", str(described["location"])))
    if described.get("attendees"):
        rows.append(Change("People", _value_text(described["attendees"])))
    if described.get("repeats"):
        rows.append(Change("Repeats", _repeats(str(described["repeats"]))))
    if described.get("reminder_minutes") not in (None, -1):
        rows.append(Change("Reminder", _minutes(described["reminder_minutes"])))
    if described.get("notes"):
        rows.append(
            Change("Notes", _cut(str(described["notes"])), block="\n" in described["notes"])
        )
    return rows


def _overlaps(preview: dict[str, Any]) -> list[str]:
    found = preview.get("conflicts") or []
    if not isinstance(found, list):
        return []
    return [
        f"Overlaps {_quote(item.get('title', '?'))} {item.get('when', '')}".rstrip()
        for item in found
        if isinstance(item, dict)
    ]


def _calendar_create(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    title = preview.get("title") or args.get("title", "")
    sentence = f"Create the event {_quote(title)}"
    if preview.get("when"):
        sentence += f", {preview['when']}"
    if preview.get("location"):
        sentence += f", at {preview['location']}"
    return sentence, _event_rows(preview), _overlaps(preview)


def _calendar_update(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    before = preview.get("before") or {}
    after = preview.get("after") or {}
    title = before.get("title") or args.get("event", "")
    sentence = f"Change the event {_quote(title)}"
    if args.get("occurrence"):
        sentence += f" (only the occurrence of {args['occurrence']})"
    rows: list[Change] = []
    old_rows = {c.label: c.value for c in _event_rows(before)}
    if after.get("title") and after.get("title") != before.get("title"):
        rows.append(Change("Title", f"{before.get('title', '')} → {after['title']}"))
    for change in _event_rows(after):
        old = old_rows.pop(change.label, None)
        if old != change.value:
            shown = f"{old} → {change.value}" if old and not change.block else change.value
            rows.append(Change(change.label, shown, change.block))
    for label in old_rows:
        rows.append(Change(label, "(removed)"))
    if after.get("when") and after.get("when") != before.get("when"):
        sentence += f" to {after['when']}"
    return sentence, rows, _overlaps(preview)


def _calendar_cancel(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    cancels = preview.get("cancels") or {}
    title = cancels.get("title") or args.get("event", "")
    sentence = f"Cancel the event {_quote(title)}"
    if args.get("occurrence"):
        sentence = f"Cancel the occurrence of {args['occurrence']} of {_quote(title)}"
    if cancels.get("when"):
        sentence += f", {cancels['when']}"
    return sentence, _event_rows(cancels), []


def _calendar_file(tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    path = preview.get("path") or args.get("path", "")
    count = preview.get("events")
    events = f"{count} event{'' if count == 1 else 's'}" if count is not None else "the events"
    if tool == "calendar_import":
        return f"Import {events} from {path}", [Change("From", str(path))], []
    return f"Export {events} to {path}", [Change("To", str(path))], []


# ---------------------------------------------------------------------------------------------
# Notes
# ---------------------------------------------------------------------------------------------


def _note_title(args: dict[str, Any], preview: dict[str, Any]) -> str:
    return str(preview.get("title") or args.get("note") or args.get("title") or "")


def _notes_create(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    title = _note_title(args, preview)
    body = str(args.get("body", ""))
    rows = [Change("Title", title)]
    tags = preview.get("tags", args.get("tags"))
    if tags:
        rows.append(Change("Tags", _value_text(tags)))
    rows.append(Change("Text", _cut(body) if body else "(empty)", block=bool(body)))
    return f"Create the note {_quote(title)}", rows, _literal_newlines(body)


def _notes_append(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    title = _note_title(args, preview)
    text = str(args.get("text", ""))
    rows = [Change("Adds", _cut(text), block=True)]
    return f"Add to the end of the note {_quote(title)}", rows, _literal_newlines(text)


def _notes_edit(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    title = _note_title(args, preview)
    rows: list[Change] = []
    warnings: list[str] = []
    if args.get("find"):
        rows.append(Change("Replaces", str(args["find"]), block="\n" in str(args["find"])))
        with_text = str(args.get("replace", "")) or "(nothing: the passage is deleted)"
        rows.append(Change("With", with_text, block="\n" in with_text))
        warnings += _literal_newlines(str(args.get("replace", "")))
    elif args.get("body"):
        warnings += _literal_newlines(str(args["body"]))
    if preview.get("diff"):
        rows.append(Change("Changes", str(preview["diff"]), block=True))
    elif args.get("body"):
        rows.append(Change("New text", _cut(str(args["body"])), block=True))
    if args.get("tags") is not None:
        rows.append(Change("Tags", _value_text(args["tags"])))
    return f"Edit the note {_quote(title)}", rows, warnings


def _notes_rename(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    old = preview.get("old_title") or args.get("note", "")
    new = args.get("new_title", "")
    return f"Rename the note {_quote(old)} to {_quote(new)}", [Change("New title", str(new))], []


def _notes_trash(tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    title = _note_title(args, preview)
    if tool == "notes_restore":
        return f"Take the note {_quote(title)} out of the trash", [], []
    return f"Move the note {_quote(title)} to the trash (it can be restored)", [], []


# ---------------------------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------------------------


def _files_write(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    path = preview.get("path") or args.get("path", "")
    text = str(args.get("text", ""))
    size = len(text.encode("utf-8"))
    replaces = bool(preview.get("replaces"))
    verb = "Replace the file" if replaces else "Write a new file"
    lines = len(text.splitlines())
    rows = [
        Change("File", str(path)),
        Change("Size", f"{size} bytes, {lines} line{'' if lines == 1 else 's'}"),
        Change("Text", _first_lines(text) if text else "(empty)", block=bool(text)),
    ]
    warnings = ["The file exists: its current content will be replaced."] if replaces else []
    return f"{verb} {path}", rows, warnings + _literal_newlines(text)


def _files_move(tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    source = preview.get("from") or args.get("source", "")
    destination = preview.get("to") or args.get("destination", "")
    verb = "Copy" if tool == "files_copy" else "Move"
    rows = [Change("From", str(source)), Change("To", str(destination))]
    return f"{verb} {source} to {destination}", rows, []


def _files_delete(_tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    path = preview.get("path") or args.get("path", "")
    summary = str(preview.get("summary", ""))
    kind = "folder" if "the folder" in summary else "file"
    return f"Move the {kind} {path} to the trash (it can be restored)", [], []


# ---------------------------------------------------------------------------------------------
# Any other tool (an MCP server's, a third-party connector's)
# ---------------------------------------------------------------------------------------------


def _generic(tool: str, args: dict[str, Any], preview: dict[str, Any]) -> Built:
    rows = [
        Change(_label(key), _cut(_value_text(value)), block="\n" in _value_text(value))
        for key, value in args.items()
    ]
    summary = str(preview.get("summary", "")).strip()
    sentence = f"Run {_label(tool).lower()}" + (f": {summary}" if summary else "")
    return sentence, rows, []


_BUILDERS: dict[str, Callable[[str, dict[str, Any], dict[str, Any]], Built]] = {
    "calendar_create": _calendar_create,
    "calendar_update": _calendar_update,
    "calendar_cancel": _calendar_cancel,
    "calendar_import": _calendar_file,
    "calendar_export": _calendar_file,
    "notes_create": _notes_create,
    "notes_append": _notes_append,
    "notes_edit": _notes_edit,
    "notes_rename": _notes_rename,
    "notes_delete": _notes_trash,
    "notes_restore": _notes_trash,
    "files_write": _files_write,
    "files_move": _files_move,
    "files_copy": _files_move,
    "files_delete": _files_delete,
}
