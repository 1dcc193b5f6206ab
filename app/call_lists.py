"""A call for each item of a list the user gave, where the model wrote calls for some.

Measured on the bundled model (BFCL parallel, first 100): asked "the future value ... for 1,
5 and 10 years", it writes the calls for 1 and 10 and stops, even on the planner's second
pass, which pushes for the missing value; asked about a shop "in San Francisco, California,
and Chicago, Illinois", it writes San Francisco's call only. What such a request asks is
plain from its words: the same call once per item of the list. So where a call's argument
holds one item of an "and" list of the request (:func:`app.enumerations.list_siblings`) and
no call of that tool has another item in that argument, the call is repeated with it.

Only where the list is plainly one argument's: a call that holds two items of the list in
different arguments ("side lengths 3 and 4, 5 and 12") reads it otherwise. Two arguments with
lists ("the Lakers and the Bulls in 2018 and 2020") ask for every combination, unless the
user pairs them ("respectively"). A repeated call must fit the tool's schema (an item outside
an ``enum`` is no value of it), and, like every call that changes something, still waits for
approval.

A list the model wrote as one value ("rock and jazz concerts": ``"Rock and Jazz"``) is split
into a call per item first, and a parameter with choices (an ``enum``) is repeated for each
choice the user listed in their own words ("the status and scheduled trial date"). Calls of
one tool told apart by a value ("New York City", "San Diego") keep in their lists only the
items the user gave them, not those written after another call's value.

Checked on BFCL's ground-truth answers of eight AST files (2,800 requests): repeating adds a
call to none of the complete answers except one of live_multiple (a "Sci-fi and Action"
genre list where the answer wants one call); cut down to the first call of each tool, it
completes 21 of the 200 parallel answers.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from app.call_values import leaf_values, typed_arguments, with_arguments
from app.enumerations import list_siblings
from app.request_words import QUOTED, word_places
from app.value_owners import (
    with_values_after_tools,
    with_values_in_place,
    without_borrowed_values,
)
from backends.generation import ToolCall
from backends.schema import ToolSpec

_RESPECTIVELY = ("respectively", "in that order")


def with_list_items(
    calls: Sequence[ToolCall], tools: Sequence[ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, each followed by its repeats for the items of the request's lists that no
    call has used in its place, with each value given to the call the request's word order
    says it belongs to (:mod:`app.value_owners`)."""
    by_name = {tool.name: tool for tool in tools}
    read: list[ToolCall] = []  # the calls with their lists read the user's way
    for call in calls:
        tool = by_name.get(call.name)
        if tool is None:
            read.append(call)
        else:
            read.extend(_split_pair(_with_listed_choices(call, tool, request), tool, request))
    calls = without_borrowed_values(_without_others_items(read, by_name, request), by_name, request)
    out: list[ToolCall] = []
    for call in calls:
        out.append(call)
        tool = by_name.get(call.name)
        if tool is None:
            continue
        written = [*out, *calls]
        out.extend(_repeats(call, tool, request, written))
    return with_values_after_tools(with_values_in_place(out, by_name, request), by_name, request)


def _with_listed_choices(call: ToolCall, tool: ToolSpec, request: str) -> ToolCall:
    """``call`` with each list of choices holding the choices the user listed beside one it
    holds ("the RGB and HEX color values": ``conversion_type: ["RGB"]`` gets ``"HEX"``)."""
    properties = tool.parameters.get("properties") or {}
    changed = {}
    for name, value in call.arguments.items():
        schema = properties.get(name)
        items = schema.get("items") if isinstance(schema, dict) else None
        choices = items.get("enum") if isinstance(items, dict) else None
        if not isinstance(value, list) or not isinstance(choices, list) or not value:
            continue
        texts = [c for c in choices if isinstance(c, str)]
        held = [v for v in value if isinstance(v, str)]
        listed = [c for v in held for c in _choice_items(request, v, texts)]
        added = [c for c in dict.fromkeys(listed) if c not in value]
        if added:
            changed[name] = [*value, *added]
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})


def _without_others_items(
    calls: list[ToolCall], by_name: dict[str, ToolSpec], request: str
) -> list[ToolCall]:
    """The calls, each list argument without the items the user gave another call.

    "a supermarket in New York City that opens 24 hours and another one in San Diego that
    offers home delivery": the bundled model wrote ``criteria: ["24 hours", "Home
    Delivery"]`` for New York. Where calls of one tool differ in a value the user wrote
    once each ("New York City", "San Diego"), an item written only after another call's
    value (and before the next) is that call's; it leaves a list that keeps an item of its
    own. An item written before the first such value, or nowhere, is everyone's.
    """
    out = list(calls)
    for name in dict.fromkeys(c.name for c in calls):
        group = [i for i, c in enumerate(calls) if c.name == name]
        if len(group) < 2 or name not in by_name:
            continue
        starts = _distinct_places(request, [calls[i] for i in group])
        if starts is None:
            continue
        bounds = sorted(starts)
        for index, start in zip(group, starts, strict=True):
            after = [b for b in bounds if b > start]
            own = (start, after[0] if after else len(request))
            out[index] = _own_items(calls[index], by_name[name], request, own, bounds[0])
        _share_items(out, group, by_name[name], request, bounds[0])
    return out


def _share_items(
    calls: list[ToolCall], group: list[int], tool: ToolSpec, request: str, first: int
) -> None:
    """Give each call of ``group`` (indexes into ``calls``, changed in place) the list items
    written before the ``first`` call value that another call of the group holds.

    "Find opening hours and ticket prices for adults and children for the National Museum
    in Washington D.C. and the Louvre Museum in Paris": what comes before both museums is
    asked of both, but the bundled model gave the Washington call the ticket prices only.
    Lists with no item in common are left alone: their items tell the calls apart ("Apple,
    Microsoft ... over 1 week, 2 weeks ... respectively")."""
    keys = {k for i in group for k, v in calls[i].arguments.items() if _texts(v)}
    for key in keys:
        shared = [
            item
            for i in group
            if _texts(calls[i].arguments.get(key))
            for item in calls[i].arguments[key]
            if (places := word_places(request, str(item))) and all(p < first for p in places)
        ]
        for i in group:
            value = calls[i].arguments.get(key)
            others = {
                item
                for j in group
                if j != i and _texts(calls[j].arguments.get(key))
                for item in calls[j].arguments[key]
            }
            if not _texts(value) or not set(value) & others:
                continue  # lists with nothing in common are told apart by their items
            added = [item for item in dict.fromkeys(shared) if item not in value]
            if added:
                arguments = {**calls[i].arguments, key: [*value, *added]}
                calls[i] = with_arguments(calls[i], tool, arguments)


def _texts(value: object) -> bool:
    """Whether ``value`` is a non-empty list of strings."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) for v in value)


def _distinct_places(request: str, calls: list[ToolCall]) -> list[int] | None:
    """Where the user wrote the value that tells ``calls`` apart, one place per call: the
    first text argument all have, with a different value each written once."""
    for key, first in calls[0].arguments.items():
        if not isinstance(first, str):
            continue
        values = [c.arguments.get(key) for c in calls]
        if not all(isinstance(v, str) and v for v in values):
            continue
        if len({str(v).casefold() for v in values}) != len(values):
            continue
        places = [word_places(request, str(v)) for v in values]
        if all(len(p) == 1 for p in places):
            return [p[0] for p in places]
    return None


def _own_items(
    call: ToolCall, tool: ToolSpec, request: str, own: tuple[int, int], first: int
) -> ToolCall:
    """``call`` without the list items written only outside its ``own`` stretch of the
    request (and after the ``first`` call value), when one of its items is in it."""
    changed = {}
    for key, value in call.arguments.items():
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            continue
        kept, ours = [], False
        for item in value:
            places = word_places(request, str(item))
            mine = any(own[0] <= p < own[1] for p in places)
            shared = not places or any(p < first for p in places)
            ours = ours or mine
            if mine or shared:
                kept.append(item)
        if ours and len(kept) < len(value):
            changed[key] = kept
    return with_arguments(call, tool, {**call.arguments, **changed})


_PAIR = re.compile(r"^([a-z]+(?: [a-z]+)?) and ([a-z]+(?: [a-z]+)?)$")


def _split_pair(call: ToolCall, tool: ToolSpec, request: str) -> list[ToolCall]:
    """``call``, or one call per item where the model wrote the user's "a and b" list as
    one value of a parameter that takes one ("upcoming rock and jazz concerts":
    ``music_genre: "Rock and Jazz"`` asks for two searches). Only a list the user wrote in
    lower case, of items of two words at most: "Pride and Prejudice" is a title, "the
    history of kites and how they're made" a phrase."""
    for name, value, schema in typed_arguments(call, tool, "string"):
        if "enum" in schema:
            continue
        match = _PAIR.match(str(value).casefold())
        if match is None or f" {match.group(0)} " not in f" {request} ":
            continue  # not written so, or not in lower case, by the user
        split = [
            with_arguments(call, tool, {**call.arguments, name: item}) for item in match.groups()
        ]
        if all(c is not call for c in split):
            return split
    return [call]


def _repeats(
    call: ToolCall, tool: ToolSpec, request: str, written: Sequence[ToolCall]
) -> list[ToolCall]:
    """The copies of ``call`` for the list items none of the ``written`` calls used."""
    missing: dict[str, list[str | int | float]] = {}
    lists: dict[str, list[str | int | float]] = {}  # every item, used or not, by argument
    for name, value, schema in typed_arguments(call, tool, "string", "number", "integer"):
        piece = _PIECE_AFTER.match(_after(request, value)) if isinstance(value, str) else None
        quoted = isinstance(value, str) and _is_quoted(request, value)
        choices = schema.get("enum")
        examples = quoted_examples(schema) if isinstance(value, str) and choices is None else []
        # "E.g., 'highest_scoring_game', 'total_championships'": examples named in a list
        named = _choice_items(request, str(value), examples) if value in examples else []
        if isinstance(value, str) and isinstance(choices, list):
            items = _choice_items(request, value, [c for c in choices if isinstance(c, str)])
        elif named:
            items = named
        elif piece is not None:  # "Paris" of "Paris, France and New York, USA": "New York"
            whole = f"{value}{piece.group(0)}"
            items = [str(i).split(",")[0].strip() for i in list_siblings(request, whole)]
        else:
            siblings = list_siblings(request, value)
            items = [i for i in (_like(value, item, quoted) for item in siblings) if i]
        if not items:
            continue
        others = [v for k, v in call.arguments.items() if k != name]
        if any(_matches(o, item) for o in others for item in items):
            return []  # the list gives this call more than one of its values
        typed = [t for t in (_typed(item, schema) for item in items) if t is not None]
        lists[name] = [value, *typed]
        default = schema.get("default")
        if isinstance(choices, list):  # a choice is used by a call that differs in it alone
            unused = [t for t in typed if not _has_row(written, call, {name: t}, {name: default})]
        else:
            unused = [
                t for t in typed if not any(_uses(c, call.name, name, t, default) for c in written)
            ]
        if unused:
            missing[name] = unused
    paired = any(w in request.lower() for w in _RESPECTIVELY)
    if len(lists) >= 2 and not paired:
        return _combinations(call, tool, lists, written)
    if not missing:
        return []
    if len(missing) == 1:
        ((name, items),) = missing.items()
        rows = [{name: item} for item in items]
    elif len({len(items) for items in missing.values()}) == 1:  # paired by "respectively"
        rows = [dict(zip(missing, row, strict=True)) for row in zip(*missing.values(), strict=True)]
    else:
        return []  # lists of different lengths: which items go together is not plain
    repeats = []
    for row in rows:
        repeat = with_arguments(call, tool, {**call.arguments, **row})
        if repeat is not call:
            repeats.append(repeat)
    return repeats


def _combinations(
    call: ToolCall,
    tool: ToolSpec,
    lists: dict[str, list[str | int | float]],
    written: Sequence[ToolCall],
) -> list[ToolCall]:
    """A copy of ``call`` for every combination of the items of two or more lists that no
    call has yet ("the Lakers and the Bulls in 2018 and 2020" asks four); a call that
    leaves an argument out has its default there."""
    properties = tool.parameters.get("properties") or {}
    defaults = {k: (properties.get(k) or {}).get("default") for k in lists}
    repeats = []
    for row in itertools.product(*lists.values()):
        values = dict(zip(lists, row, strict=True))
        done = any(
            c.name == call.name
            and all(_matches(c.arguments.get(k, defaults[k]), v) for k, v in values.items())
            for c in [*written, *repeats]
        )
        if done:
            continue
        repeat = with_arguments(call, tool, {**call.arguments, **values})
        if repeat is not call:
            repeats.append(repeat)
    return repeats


def _choice_items(request: str, value: str, choices: list[str]) -> list[str]:
    """The other choices of an ``enum`` the user listed beside ``value``.

    "the status and scheduled trial date" with ``details`` one of ``status`` and
    ``trial_date``: ``["trial_date"]`` for a call with ``status``, and ``["status"]`` for
    one with ``trial_date``. A choice is found as the user writes it, its underscores read
    as spaces, and a list item names the one choice whose words it holds ("scheduled trial
    date" holds "trial date"); a list with an item that names no choice, or two, gives
    nothing.
    """
    if any(len(word_places(request, written)) > 1 for written in _written_forms(value)):
        return []  # each place may be in another list
    items = _listed_choices(request, value, choices)
    items += [c for c in choices if c != value and value in _listed_choices(request, c, choices)]
    return [c for c in dict.fromkeys(items) if c != value]


def _listed_choices(request: str, choice: str, choices: list[str]) -> list[str]:
    """The choices the items listed after or before ``choice`` name; none where the user
    wrote ``choice`` more than once (each may be in another list: "parks with a Tennis Court
    and a Picnic Area, ... and in Chicago with a Tennis Court and a Playground")."""
    words = {c: set(_choice_words(c)) for c in choices}
    for written in _written_forms(choice):
        if len(word_places(request, written)) > 1:
            return []
        siblings = list_siblings(request, written, choices=True)
        if not siblings:
            continue
        named = []
        for sibling in siblings:
            held = set(_choice_words(str(sibling).strip("'\"")))
            matching = [c for c, w in words.items() if w and w <= held]
            if len(matching) != 1:
                return []
            named.append(matching[0])
        return named
    return []


def quoted_examples(schema: dict[str, object]) -> list[str]:
    """The values a parameter's description quotes as examples, when it quotes two or more."""
    found = [a or b for a, b in QUOTED.findall(str(schema.get("description", "")))]
    return found if len(found) >= 2 else []


def _written_forms(choice: str) -> list[str]:
    """How the user may write a choice: as it is, its underscores as spaces, in quotes."""
    return list(dict.fromkeys((choice, choice.replace("_", " "), f"'{choice}'", f'"{choice}"')))


def _choice_words(text: str) -> list[str]:
    """The words of a choice or a list item, without case ("trial_date": trial, date)."""
    return [w for w in re.split(r"[\s_\-]+", text.casefold()) if w]


def _has_row(
    written: Sequence[ToolCall],
    call: ToolCall,
    values: dict[str, str | int | float],
    defaults: dict[str, object],
) -> bool:
    """Whether a ``written`` call is ``call`` with ``values`` in place of its own (a call
    that leaves an argument out has its default there)."""
    wanted = {**call.arguments, **values}
    for other in written:
        if other.name != call.name:
            continue
        keys = set(wanted) | set(other.arguments)
        if all(
            _same_value(other.arguments.get(k, defaults.get(k)), wanted.get(k, defaults.get(k)))
            for k in keys
        ):
            return True
    return False


def _same_value(a: object, b: object) -> bool:
    """Two argument values alike (texts without case)."""
    if isinstance(a, str) and isinstance(b, str):
        return a.casefold() == b.casefold()
    return a == b


def _uses(
    call: ToolCall, tool: str, name: str, item: str | int | float, default: object = None
) -> bool:
    """Whether ``call`` has used the list item already: a number anywhere ("the multiples of
    3 and 5", then "the first 5 primes") but in another tool's argument of the same name
    ("life expectancy in 1900 and 1950, and the GDP in these years": the GDP calls take the
    same list), a text in the same tool's argument, or within it ("Taylor Swift" in "the
    artists Taylor Swift"). A call that leaves the argument out has used its ``default``
    ("pending and active mandates": a call without a status asks for the active ones)."""
    if not isinstance(item, str):
        if call.name != tool and _same(call.arguments.get(name), item):
            return False  # another tool took the same list in this argument ("these years")
        return any(_same(v, item) for v in leaf_values(call.arguments).values())
    return call.name == tool and _within(call.arguments.get(name, default), item)


def _matches(value: object, item: str | int | float) -> bool:
    """Whether a call's value is the list item or a text holding it, or held by it."""
    return _same(value, item) or _within(value, item)


def _within(value: object, item: str | int | float) -> bool:
    """Whether one of two texts holds the other ("blue" and "blue colors")."""
    if not isinstance(value, str) or not isinstance(item, str):
        return False
    a, b = value.casefold(), item.casefold()
    return a in b or b in a


_QUOTES = ("'", '"')
# The value is the first piece of "City, Country": the piece after it.
_PIECE_AFTER = re.compile(r"^,\s*[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*")
_EXTRA_WORDS = 2  # an item may be a little longer than the value ("Chicago, Illinois")


def _is_quoted(request: str, value: str) -> bool:
    """Whether the user wrote ``value`` in quote marks."""
    return any(f"{q}{value.casefold()}{q}" in request.casefold() for q in _QUOTES)


def _after(request: str, value: str) -> str:
    """What follows the first place ``value`` is written in ``request``."""
    at = request.casefold().find(value.casefold())
    return request[at + len(value) :] if at >= 0 else ""


def _like(value: str | int | float, item: str | float, quoted: bool) -> str | float | None:
    """The list item written as a value of the kind of ``value``, or ``None`` when it is no
    value of that kind: a name for a name ("Persian Empire" of "the ancient empires Persian
    Empire"), a lower-case word for a lower-case word ("navy" and "purple"), no quoted text
    where the user quoted none, nothing much longer than the value."""
    if not isinstance(value, str) or not isinstance(item, str):
        return item if not isinstance(value, str) and not isinstance(item, str) else None
    if item[:1] in _QUOTES and item[-1:] == item[:1]:
        if not quoted:
            return None  # "Hulu for 'The Office'": a title is no service
        return item[1:-1]
    if quoted or any(q in item for q in _QUOTES):
        return None
    if not item or len(item.split()) > len(value.split()) + _EXTRA_WORDS:
        return None
    return item


def _same(value: object, item: str | int | float) -> bool:
    """Whether a call's value is the list item (text compared without case)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(item, str):
        return isinstance(value, str) and value.casefold() == item.casefold()
    return isinstance(value, int | float) and float(value) == float(item)


def _typed(item: str | float, schema: dict[str, object]) -> str | int | float | None:
    """The item as the parameter takes it, or ``None`` when it is not of its type."""
    kind = schema.get("type")
    if kind == "string":
        return item if isinstance(item, str) else None
    if isinstance(item, str):
        return None
    if kind == "integer":
        return int(item) if float(item).is_integer() else None
    return item
