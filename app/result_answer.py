"""The answer to a lookup, written from what the tools returned rather than by the model.

Measured on the bundled 0.5B model (bench/turn.py): after a read ("What is on my calendar
tomorrow?") its text answers were mostly wrong or empty ("Mark the note as matched.", an
echoed call), and writing them cost 2-8 s: the tool result has to be read into the context
first, then the answer decoded at about 40 tokens/s. The tool's own result is exact and
already in hand, so the assistant shows it, in a short readable form, and the turn ends as
soon as the read has run. The model still sees the result in the conversation, so a follow-up
("append it to that note") can use it.

The layout is driven by the result's shape, not by tool names, so a third-party connector's
reads read well too: the tool's one-line summary, then one line per listed item (its title or
name, then when / where / what kind), then any text body, quoted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from app.request_words import content_words, same_stem

MAX_ITEMS = 10  # items listed per result; the rest are counted
MAX_TEXT = 1200  # characters of a text body shown
_LABELS = ("title", "name", "path", "tag")
_DETAILS = ("when", "location", "kind", "size", "notes", "snippet", "tags")
_BODIES = ("text", "body")


def answer_from_results(results: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Markdown text presenting ``results``: (summary, data) pairs of the calls that ran."""
    return "\n\n".join(_present(summary, data) for summary, data in results).strip()


# Words that ask for a change, beyond the action words in the tools' own names.
_CHANGE_SYNONYMS = {
    "add": ("create", "append"),
    "schedule": ("create",),
    "book": ("create",),
    "remove": ("delete",),
    "erase": ("delete",),
    "trash": ("delete",),
    "change": ("edit", "update"),
    "replace": ("edit",),
    "put": ("move",),
    "save": ("write", "create"),
}


def asks_for_more(request: str, change_tools: Iterable[str], called: Iterable[str]) -> bool:
    """Whether ``request`` also asks for a change that no call of this turn has made.

    ``change_tools`` are the offered tools that change data (``notes_append``); the word after
    the connector's prefix is the action (``append``). "Find my wifi note and append the
    router's place" asks for ``notes_append`` after the search, so the model goes on with the
    search's result in view; "Search my notes for wifi" does not, so the result is the answer.
    """
    done = {name.split("_", 1)[-1] for name in called}
    wanted = {name.split("_", 1)[-1] for name in change_tools} - done
    for word in content_words(request):
        actions = (*_CHANGE_SYNONYMS.get(word, ()), word)
        if any(same_stem(a, w) for a in actions for w in wanted):
            return True
    return False


def _present(summary: str, data: Mapping[str, Any]) -> str:
    items = _first_list(data)
    body = next((data[k] for k in _BODIES if isinstance(data.get(k), str)), None)
    head = summary.strip().rstrip(".")
    if not head:  # a tool without a summary: its plain fields are the answer
        fields = {k: v for k, v in data.items() if isinstance(v, str | int | float | bool)}
        head = "; ".join(f"{k}: {v}" for k, v in fields.items()) or "Done"
    lines = [head + (":" if items or body else ".")]
    for item in items[:MAX_ITEMS]:
        lines.append("- " + _item_line(item))
    more = len(items) - MAX_ITEMS + _as_int(data.get("more"))
    if more > 0:
        lines.append(f"- … and {more} more")
    if body is not None:
        text = body.strip()
        if len(text) > MAX_TEXT:
            text = text[:MAX_TEXT].rstrip() + " …"
        if data.get("truncated"):
            text += "\n(only the first part)"
        lines.append("")
        lines.extend("> " + line if line else ">" for line in (text or "(empty)").splitlines())
    return "\n".join(lines)


def _first_list(data: Mapping[str, Any]) -> list[Any]:
    for value in data.values():
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            return value
    return []


def _item_line(item: Mapping[str, Any]) -> str:
    label = next((str(item[k]) for k in _LABELS if item.get(k) not in (None, "")), "")
    details: list[str] = []
    for key in _DETAILS:
        value = item.get(key)
        if value in (None, "", []) or str(value) == label:
            continue
        if key == "snippet":
            value = str(value).replace("**", "").strip()
            if not value or value == label:
                continue
            details.append(f"“{value}”")
        elif key == "tags":
            details.append(", ".join(f"#{t}" for t in value) if isinstance(value, list) else value)
        elif key == "size":
            details.append(_size(value))
        elif key == "notes":
            details.append(f"{value} note{'' if value == 1 else 's'}")
        elif key == "kind" and value == "file":
            continue
        else:
            details.append(str(value))
    if not label and "start" in item and not item.get("when"):
        label = f"{item['start']} – {item.get('end', '')}".strip(" –")
    if label and details:
        return f"**{label}** — {', '.join(details)}"
    return f"**{label}**" if label else ", ".join(details)


def _size(value: Any) -> str:
    size = float(_as_int(value))
    if size < 1024:
        return f"{int(size)} bytes"
    for unit in ("KB", "MB", "GB"):
        size /= 1024
        if size < 1024 or unit == "GB":
            break
    return f"{size:.1f} {unit}"


def _as_int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
