"""Which call a value the user wrote belongs to, where the model gave it to another.

Asked for several calls at once, the bundled model reads the values right but hands them
out wrong: the salad's "Vegan" to the soup's search too, the vice president's year to the
president, Boston's forecast to the precipitation tool, a radius to the permeability. The
request's word order says whose each value is: a word inside one call's value is that
call's (:func:`without_borrowed_values`), values follow the text of the call they belong to
(:func:`with_values_in_place`, :func:`with_values_after_tools`), and a number written once
for one argument is not another's too (:func:`without_borrowed_numbers`). Each rule moves
or drops a value only where that order is plain, and was checked on BFCL's ground-truth
answers first (counts in each docstring).
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Mapping, Sequence

from app.call_values import is_number, typed_arguments, with_arguments
from app.request_words import NUMBER, WORD, content_words, name_words, same_stem, word_places
from backends.generation import ToolCall
from backends.schema import ToolSpec


def without_borrowed_values(
    calls: Sequence[ToolCall], by_name: dict[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, each without the optional values the user wrote only inside another
    call's value.

    Asked "a Chicken Noodle Soup recipe and a Vegan Salad recipe", the bundled model gives
    both recipe searches ``diet: "Vegan"``: the word is there, but as part of the salad's
    name, and a user asking so wants a plain soup. Where every place the user wrote a
    call's optional value lies inside another call's longer value, and none inside one of
    its own, the call drops it (the tool's default stands). A value written on its own
    ("vegan recipes: a soup and a salad") is everyone's and stays."""
    out = list(calls)
    for index, call in enumerate(calls):
        tool = by_name.get(call.name)
        if tool is None:
            continue
        others = [c for c in calls if c.name == call.name and c is not call]
        if not others:
            continue
        required = set(tool.parameters.get("required") or ())
        borrowed = [
            name
            for name, value, _ in typed_arguments(call, tool, "string")
            if name not in required and _inside_others(request, value, call, others, tool)
        ]
        if borrowed:
            kept = {k: v for k, v in call.arguments.items() if k not in borrowed}
            out[index] = with_arguments(call, tool, kept)
    return out


def _inside_others(
    request: str, value: str, call: ToolCall, others: Sequence[ToolCall], tool: ToolSpec
) -> bool:
    """Whether every place ``value`` is written lies inside a longer value of another
    call and none inside one of ``call``'s own."""
    places = word_places(request, value) if value.strip() else []
    if not places:
        return False
    own = _spans(request, [call], tool, value)
    theirs = _spans(request, others, tool, value)
    return all(
        any(a <= p < b for a, b in theirs) and not any(a <= p < b for a, b in own) for p in places
    )


def _spans(
    request: str, calls: Sequence[ToolCall], tool: ToolSpec, value: str
) -> list[tuple[int, int]]:
    """Where the calls' text values longer than ``value`` are written."""
    return [
        (place, place + len(text))
        for c in calls
        for _, text, _ in typed_arguments(c, tool, "string")
        if len(text) > len(value)
        for place in word_places(request, text)
    ]


def with_values_in_place(
    calls: Sequence[ToolCall], by_name: dict[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, with the values of calls of one tool moved to the call whose value the
    user wrote them after.

    "who was the president ... in 1980 and 2016, and the vice president in 1975 and
    2011": the bundled model paired the president with 1975 and the vice president with
    2016. Where calls of one tool differ in a text value written once each ("president",
    "vice president"; a word inside a longer one does not count), and another argument
    holds a different value in each call, each written once and after the first of those
    texts, the values written after a text (and before the next) go to that text's calls,
    in the order written; only when they are as many as its calls."""
    out = list(calls)
    for name in dict.fromkeys(c.name for c in calls):
        group = [i for i, c in enumerate(calls) if c.name == name]
        tool = by_name.get(name)
        if len(group) < 2 or tool is None:
            continue
        for index, call in zip(group, _in_place([calls[i] for i in group], request), strict=True):
            out[index] = with_arguments(calls[index], tool, call.arguments)
    return out


def _in_place(calls: list[ToolCall], request: str) -> list[ToolCall]:
    """The ``calls`` of one tool with the values :func:`with_values_in_place` moves moved."""
    for key, starts in _told_apart(calls, request):
        bounds = sorted(starts.values())
        for other in calls[0].arguments:
            values = [c.arguments.get(other) for c in calls]
            places = [_place(request, v) for v in values] if other != key else []
            if not places or None in places or len(set(map(str, values))) < len(values):
                continue
            if set(map(str, values)) & set(starts):
                continue  # a route's stops: one call's end is the next one's start
            if min(p for p in places if p is not None) < bounds[0]:
                continue  # a value written before the texts: not read from its stretch
            stretch = {p: max(b for b in bounds if b <= p) for p in places if p is not None}
            written = sorted(zip(places, values, strict=True), key=lambda pair: pair[0])
            wanted: list[object] = []
            for call in calls:
                start = starts[call.arguments[key]]
                mine = [v for p, v in written if stretch[p] == start and v not in wanted]
                if not mine:
                    break
                wanted.append(mine[0])
            if len(wanted) != len(calls) or wanted == values:
                continue
            per_stretch = collections.Counter(stretch.values())
            per_text = collections.Counter(starts[c.arguments[key]] for c in calls)
            if per_stretch != per_text:
                continue  # as many values after each text as it has calls, or none moves
            return [
                dataclasses.replace(c, arguments={**c.arguments, other: v})
                for c, v in zip(calls, wanted, strict=True)
            ]
    return calls


def _told_apart(calls: list[ToolCall], request: str) -> list[tuple[str, dict[object, int]]]:
    """The text arguments whose values tell ``calls`` apart, each with where the user wrote
    each value (once, not counting places inside another of the values)."""
    found = []
    for key, first in calls[0].arguments.items():
        values = [c.arguments.get(key) for c in calls]
        if not isinstance(first, str) or not all(isinstance(v, str) and v for v in values):
            continue
        distinct = list(dict.fromkeys(values))
        if len(distinct) < 2 or len(distinct) == len(values):
            continue  # one text for all tells nothing; one each is a list, read as a list
        spans = {v: [(p, p + len(str(v))) for p in word_places(request, str(v))] for v in distinct}
        starts = {}
        for value in distinct:
            own = [
                a
                for a, _ in spans[value]
                if not any(
                    o != value and len(str(o)) > len(str(value)) and s <= a < e
                    for o in distinct
                    for s, e in spans[o]
                )
            ]
            if len(own) != 1:
                break
            starts[value] = own[0]
        else:
            found.append((key, starts))
    return found


def _place(request: str, value: object) -> int | None:
    """Where ``value`` (a text or a number) is written, when it is written once."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    places = word_places(request, str(value))
    return places[0] if len(places) == 1 else None


def with_values_after_tools(
    calls: Sequence[ToolCall], by_name: dict[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls`` of different tools, each holding the value the user wrote first after the
    tool's own name word, where they share an argument.

    "temperature and humidity forecast for Boston, USA and precipitation forecast for Rome":
    the bundled model gave the humidity forecast Rome and the precipitation forecast
    Boston. Where each call's tool is named by a word no other called tool's name holds
    ("humidity", "precipitation"), written once, and the calls' values of a shared text
    argument are each written once, all after the first such name word, each call takes
    the first of those values written after its name word. Over BFCL's AST answers of
    different tools sharing an argument (2026-12-04), this reading agrees with all 12 it
    applies to; the 3 requests that write a value before any name word ("Boston's weather")
    are left alone."""
    names = [c.name for c in calls]
    if len(set(names)) < 2 or len(names) != len(set(names)):
        return list(calls)
    mentions = _name_mentions(names, request)
    if mentions is None:
        return list(calls)
    out = list(calls)
    for key in set.intersection(*(set(c.arguments) for c in calls)):
        values = [c.arguments[key] for c in calls]
        if not all(isinstance(v, str) and v for v in values) or len(set(values)) < 2:
            continue
        places = {v: word_places(request, str(v)) for v in set(values)}
        if any(len(p) != 1 for p in places.values()):
            continue
        if min(p[0] for p in places.values()) < min(mentions.values()):
            continue  # "Boston's weather": a value before the tools' words
        wanted = []
        for call in calls:
            after = sorted((p[0], v) for v, p in places.items() if p[0] > mentions[call.name])
            wanted.append(after[0][1] if after else None)
        if None in wanted or wanted == values:
            continue
        for index, (call, value) in enumerate(zip(out, wanted, strict=True)):
            tool = by_name.get(call.name)
            if tool is not None:
                out[index] = with_arguments(call, tool, {**call.arguments, key: value})
    return out


def own_name_words(names: Sequence[str]) -> dict[str, set[str]]:
    """The words of each tool's name that no other of ``names`` holds ("humidity" of
    ``forecast_humidity`` beside ``forecast_precipitation``)."""
    words = {n: content_words(n.replace(".", " ")) for n in names}
    return {n: words[n] - set().union(*(words[o] for o in names if o != n)) for n in names}


def _name_mentions(names: list[str], request: str) -> dict[str, int] | None:
    """Where the user wrote the word that names each tool and no other (once each)."""
    mentions = {}
    for name, own in own_name_words(names).items():
        places = sorted(p for w in own for p in word_places(request, w))
        if len(places) != 1:
            return None
        mentions[name] = places[0]
    return mentions


def without_borrowed_numbers(
    calls: Sequence[ToolCall], by_name: dict[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls`` without the optional numbers that the user wrote for another argument.

    "a radius of 0.5 meters ... a radius of 1 meter ... the magnetic permeability the same as
    in free space": the bundled model gave both magnetic-field calls ``permeability: 1``,
    the second setup's radius. Where an optional number is written in the request no more
    often than other arguments (of any call, by another name) use it, it is theirs, and the
    call leaves the argument to its default. Over BFCL's AST answers (2026-12-04) this
    changes one answer, which stays right."""
    written = collections.Counter(float(n.replace(",", "")) for n in NUMBER.findall(request))
    numbers = [
        (index, name, float(value))
        for index, call in enumerate(calls)
        for name, value in call.arguments.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    out = list(calls)
    for index, call in enumerate(calls):
        tool = by_name.get(call.name)
        if tool is None:
            continue
        required = set(tool.parameters.get("required") or ())
        borrowed = set()
        for i, name, value in numbers:
            if i != index or name in required or not written[value]:
                continue
            others = sum(1 for _, other, v in numbers if v == value and other != name)
            if others and written[value] <= others:
                borrowed.add(name)
        if borrowed:
            kept = {k: v for k, v in call.arguments.items() if k not in borrowed}
            out[index] = with_arguments(call, tool, kept)
    return out


def with_items_by_tools(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls`` of different tools that hold one list, each keeping the items the user
    wrote beside the tool's own name word.

    "a pet-friendly library with a cafe inside ... and then a store in the same city that
    has disabled access and operates 24 hours": the bundled model gave the library search
    and the store search all four preferences. Where calls of different tools hold the same
    list of texts in one argument, each tool is named by a word no other of them holds
    (written once), and each item is written once, an item goes to the tool whose name word
    is nearest to it; only when every call keeps at least one. Over BFCL's AST answers
    (2026-12-04) no two calls of different tools hold one list, so no answer changes."""
    out = list(calls)
    shared = set.intersection(*(set(c.arguments) for c in calls)) if calls else set()
    for key in sorted(shared):
        groups: dict[tuple[str, ...], list[int]] = collections.defaultdict(list)
        for index, call in enumerate(calls):
            value = call.arguments[key]
            texts = isinstance(value, list) and all(isinstance(i, str) and i.strip() for i in value)
            if texts and len(value) > 1:
                groups[tuple(value)].append(index)
        for items, group in groups.items():
            names = [calls[i].name for i in group]
            if len(group) < 2 or len(set(names)) < len(names):
                continue
            mentions = _name_mentions(names, request)
            places = [word_places(request, item) for item in items]
            if mentions is None or any(len(p) != 1 for p in places):
                continue
            nearest = [min(names, key=lambda n, p=p[0]: abs(mentions[n] - p)) for p in places]
            kept = {n: [i for i, o in zip(items, nearest, strict=True) if o == n] for n in names}
            if not all(kept.values()):
                continue
            for index in group:
                tool = by_name.get(out[index].name)
                if tool is not None:
                    wanted = {**out[index].arguments, key: kept[out[index].name]}
                    out[index] = with_arguments(out[index], tool, wanted)
    return out


def with_own_numbers(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, a number the user wrote once for another call's argument replaced by the
    value the same tool's other call holds.

    "the historical dividend data for Microsoft for the past 5 years on a quarterly basis,
    then the same data but on an annual basis? After that ... the stock market data for
    ... the past 60 days and then for the past 120 days": the bundled model asked for 120
    years of annual dividends. Where a number is written once, another call holds it under
    another argument that the word after it names ("120 days": ``days``) and that does not
    name this one, and the other calls of this tool agree on one value the user wrote, the
    call takes that value. Over BFCL's AST answers (2026-12-04) it changes none."""
    written = [(m.end(), float(m.group().replace(",", ""))) for m in NUMBER.finditer(request)]
    counts = collections.Counter(value for _, value in written)
    out = list(calls)
    for index, call in enumerate(calls):
        tool = by_name.get(call.name)
        if tool is None:
            continue
        for name, value in call.arguments.items():
            if not is_number(value) or counts[float(value)] != 1:
                continue
            end = next(e for e, v in written if v == float(value))
            after = WORD.findall(request[end : end + 30].lower())[:2]
            holders = [
                other
                for i, c in enumerate(calls)
                if i != index
                for other, held in c.arguments.items()
                if other != name and is_number(held) and float(held) == float(value)
            ]
            if len(holders) != 1 or not _names(after, holders[0]) or _names(after, name):
                continue
            siblings = {
                c.arguments[name]
                for c in calls
                if c is not call and c.name == call.name and is_number(c.arguments.get(name))
            }
            if len(siblings) == 1 and counts[float(own := siblings.pop())]:
                wanted = {**out[index].arguments, name: own}
                out[index] = with_arguments(out[index], tool, wanted)
    return out


def _names(words: Sequence[str], parameter: str) -> bool:
    """Whether one of ``words`` is a form of a word of the parameter's name."""
    return any(same_stem(w, p) for w in words for p in content_words(parameter))


def without_copied_names(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls`` without those whose name argument copies another of their own values.

    "What is the fastest route from London to Edinburgh for playing a chess championship?",
    offered a route planner and ``chess_club_details.find(name, city)``: the bundled model
    added a search for a chess club named "London" in London. A name (an argument called
    ``name`` or ``..._name``) that repeats the call's other value, written once by the
    user, is no name the user gave: the call looks up nothing they asked about, and goes
    when other calls remain. Over BFCL's AST answers (2026-12-04) no call has such a name.
    """
    if len(calls) < 2:
        return list(calls)
    kept = [c for c in calls if c.name not in by_name or not _copies_a_name(c, request)]
    return kept or list(calls)


def _copies_a_name(call: ToolCall, request: str) -> bool:
    for name, value in call.arguments.items():
        if name_words(name)[-1] != "name":
            continue  # "name", "club_name", "clubName"; not "filename"
        if not isinstance(value, str) or not value.strip():
            continue
        copied = any(other != name and held == value for other, held in call.arguments.items())
        if copied and len(word_places(request, value)) == 1:
            return True
    return False


def with_values_after_own_places(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls`` of different tools sharing a text argument, each holding the values the
    user wrote after the call's other values.

    "the weather ... in New York City on 2020-12-25 and 2021-01-01, and also ... for the
    coordinates (40.7128, -74.0060) on 2021-01-15": the bundled model asked the coordinates
    about Christmas and New York about January 15. Where calls of two or more tools hold
    different values of one text argument, each written once, and each call's other values
    are written before them (its place: the first of them), the values written after a
    place and before the next go to that place's calls, in the order written; only when
    every place gets as many values as it has calls. Over BFCL's AST answers (2026-12-04)
    this changes none."""
    out = list(calls)
    keys = sorted({k for c in calls for k, v in c.arguments.items() if isinstance(v, str)})
    for key in keys:
        group = [i for i, c in enumerate(calls) if isinstance(c.arguments.get(key), str)]
        values = [str(calls[i].arguments[key]) for i in group]
        if len({calls[i].name for i in group}) < 2 or len(set(values)) < len(values):
            continue
        places = [_place(request, v) if v.strip() else None for v in values]
        starts = [_start(calls[i], key, request) for i in group]
        if None in places or None in starts:
            continue
        bounds = sorted(set(s for s in starts if s is not None))
        written = sorted((p, v) for p, v in zip(places, values, strict=True) if p is not None)
        if written[0][0] < bounds[0]:
            continue  # a value before every call's place: whose it is is not written
        stretch = {v: max(b for b in bounds if b <= p) for p, v in written}
        if collections.Counter(stretch.values()) != collections.Counter(starts):
            continue
        queues = {b: [v for _, v in written if stretch[v] == b] for b in bounds}
        wanted = [queues[s].pop(0) for s in starts if s is not None]
        if wanted == values:
            continue
        for index, value in zip(group, wanted, strict=True):
            arguments = {**out[index].arguments, key: value}
            out[index] = dataclasses.replace(out[index], arguments=arguments)
    return out


def _start(call: ToolCall, key: str, request: str) -> int | None:
    """Where the first of the call's values other than ``key``'s is written (a list by its
    first item: the coordinates' latitude)."""
    found = []
    for name, value in call.arguments.items():
        if name == key:
            continue
        if isinstance(value, list) and value and isinstance(value[0], str | int | float):
            value = value[0]
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        text = str(value)
        if text.strip():
            found += word_places(request, text)[:1]
    return min(found) if found else None
