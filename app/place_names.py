"""A place written as the user wrote it: "Berlin, Germany", not "Berlin".

The bundled model shortens the places it copies ("hotel rooms ... in Berlin, Germany":
``location: "Berlin"``). The country or state the user added tells two places of one name
apart (Paris, France and Paris, Texas), and a tool taking a location reads it. Over BFCL's
AST answers (2026-12-04), where the request writes "Place, Region" for a parameter named as
a location (``location``, ``start_location``, ``place``), the answers take the whole name
in 133 places and accept only the short one in 6, four of them for a tool described "the
name of the city" and two where "Philadelphia, Washington D.C., and Atlanta" is a list.
So a location the model wrote short gets its region back, unless the user's words go on
as a list (a comma after the region) or the region is a value of a call itself (a stop of
the same route). A parameter named ``city`` is left alone: the answers want the city alone
there (London of "London, UK").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.call_values import leaf_values, typed_arguments, with_arguments
from app.request_words import FILLER, WORD, name_words, word_places
from backends.generation import ToolCall
from backends.schema import ToolSpec

_LOCATION_WORDS = frozenset({"loc", "location", "locations", "place"})
# ", Germany", ", NY", ", United States", ", D.C.": capitalised words, up to three
_REGION = re.compile(r"^,\s*((?:[A-Z][\w.]*)(?:\s+[A-Z][\w.]*){0,2})(?=(.?))")
_INITIALS = re.compile(r"\b[A-Z]\.(?:[A-Z]\.)+$")  # "D.C.", "U.S."


def with_whole_places(
    calls: Sequence[ToolCall], tools: Sequence[ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, each location the user wrote with its region holding the region too."""
    by_name = {tool.name: tool for tool in tools}
    values = {
        str(v).casefold()
        for c in calls
        for v in leaf_values(c.arguments).values()
        if isinstance(v, str)
    }
    out = []
    for call in calls:
        tool = by_name.get(call.name)
        if tool is not None:
            call = _with_regions(call, tool, request, values)
        out.append(call)
    return out


def _with_regions(call: ToolCall, tool: ToolSpec, request: str, values: set[str]) -> ToolCall:
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "string"):
        if not _is_location(name) or "enum" in schema or "," in value:
            continue
        regions = {
            region
            for place in word_places(request, value)
            if (region := _region_after(request[place + len(value) :])) is not None
        }
        if len(regions) == 1 and (region := regions.pop()).casefold() not in values:
            changed[name] = f"{value}, {region}"
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})


def _is_location(name: str) -> bool:
    """Whether a parameter's name says it takes a location ("start_location", "storeLoc")."""
    words = name_words(name)
    return bool(_LOCATION_WORDS.intersection(words))


def _region_after(text: str) -> str | None:
    """The region written right after a place (", Germany"), unless a list goes on."""
    match = _REGION.match(text)
    if match is None or match.group(2) == ",":
        return None
    region = match.group(1)
    if any(word in FILLER for word in WORD.findall(region.lower())):
        return None  # "New York City, I would like": a sentence goes on, not a region
    if region.endswith(".") and not _INITIALS.search(region):
        return region[:-1]  # "Berlin, Germany." ends a sentence, not the name
    return region
