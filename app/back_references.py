"""A place the user named once and then called "the museum": the name, not "Museum".

Asked for "the shortest path from my home in New York City to the Metropolitan Museum of
Art by walking ... After visiting the museum, I plan to bike to Central Park", the bundled
model starts the bike trip at ``"Museum"`` and times the route ``"Museum to Central Park"``:
it copies the user's back reference, which names no place a map can find. Where a value's
capitalised word is written in the request only lower-case after "the" ("the museum"), and
exactly one other value of the answer is a longer name holding that word, written before
the reference ("Metropolitan Museum of Art"), the word stands for that name and is replaced
by it. Over BFCL's AST answers (2026-12-04) this changes none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from app.call_values import with_arguments
from app.request_words import word_places
from backends.generation import ToolCall
from backends.schema import ToolSpec

_NAME_WORD = re.compile(r"\b[A-Z][a-z]{2,}\b")  # "Museum", not "NYC" or "I"
# a run of capitalised words, with the small words names hold: "Museum of Art"
_NAME_RUN = re.compile(r"[A-Z][\w'.-]*(?:\s+(?:(?:of|the|and|de|on|at)\s+)*[A-Z][\w'.-]*)*")
_JOINING = frozenset({"of", "the", "and", "de", "on", "at"})  # "Museum of Art"
_LONGEST_VALUE = 6  # words: a place's name, not a sentence the user dictated


def with_named_referents(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, each word that copies the user's "the museum" replaced by the name the
    user gave it earlier (one other value of the answer)."""
    values = {
        value
        for call in calls
        for value in call.arguments.values()
        if isinstance(value, str) and _is_name(value)
    }
    out = []
    for call in calls:
        tool = by_name.get(call.name)
        changed = {}
        for key, value in call.arguments.items():
            if tool is None or not isinstance(value, str):
                continue
            if len(value.split()) > _LONGEST_VALUE:
                continue
            named = value
            for word in _lone_name_words(value):
                name = _referent(word, value, values, request)
                if name is not None:
                    named = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", name, named, count=1)
            if named != value:
                changed[key] = named
        out.append(with_arguments(call, tool, {**call.arguments, **changed}) if changed else call)
    return out


def _referent(word: str, value: str, names: set[str], request: str) -> str | None:
    """The one name among ``names`` that "the <word>" refers back to, if the user wrote
    ``word`` only that way."""
    said = [m for m in re.finditer(rf"(?<!\w){re.escape(word)}(?!\w)", request, re.IGNORECASE)]
    references = [
        m.start()
        for m in said
        if m.group().islower() and re.search(r"\bthe\s+$", request[: m.start()], re.IGNORECASE)
    ]
    if not references or len(references) != len([m for m in said if m.group().islower()]):
        return None
    longer = {
        name
        for name in names
        if name != value
        and len(name) > len(word)
        and word_places(name, word)
        and not word_places(value, name)
    }
    if len(longer) != 1:
        return None
    name = longer.pop()
    written = word_places(request, name)
    return name if written and written[0] < references[0] else None


def _lone_name_words(value: str) -> list[str]:
    """The capitalised words of ``value`` that stand alone, not inside a longer name:
    "Museum" of "Museum to Central Park", not of "Louvre Museum"."""
    runs = [m.group() for m in _NAME_RUN.finditer(value)]
    return list(dict.fromkeys(r for r in runs if _NAME_WORD.fullmatch(r)))


def _is_name(value: str) -> bool:
    """Whether ``value`` is written as a name: capitalised words ("Metropolitan Museum of
    Art"), not a route ("Museum to Central Park") or a sentence."""
    words = value.split()
    return 0 < len(words) <= _LONGEST_VALUE and all(w[:1].isupper() or w in _JOINING for w in words)
