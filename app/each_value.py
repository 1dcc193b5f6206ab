"""A call for each value the user asked about, where the model wrote one.

'How many stores carry it in each city': a call per city the other calls name
(:func:`with_call_for_each`); "the first material has a density of 5.2 ... the second a
density of 7.8 ... the mass of each cone": a call per density (:func:`with_call_per_number`).

"Find me the lowest price for a Yamaha Acoustic Guitar in Austin and compare it to the
average price ... in New York. Also tell me how many stores carry Yamaha Acoustic Guitar in
each city": the bundled model counts the stores of New York only. "each city", "every
city", "both cities" ask for one call per city, and the cities are the ones the other calls
hold. So where a sentence says "each"/"every"/"both" before a word naming a text argument of
a called tool, and names that tool by a word no other called tool's name holds ("stores" of
``store_count``), the tool gets a call for each value the answer's calls hold in that
argument that none of its calls holds yet. Over BFCL's AST answers (2026-12-04) this adds
no call to any answer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from app.call_values import is_number, numbers_named, typed_arguments, with_arguments
from app.request_words import WORD, content_words, same_stem
from app.value_owners import own_name_words
from backends.generation import ToolCall
from backends.schema import ToolSpec

_EACH = re.compile(r"\b(?:each|every|both)\s+(?:of\s+(?:the|these|those)\s+)?([a-z]+)", re.I)
_SENTENCE = re.compile(r"[^.;?!]+")


def with_call_for_each(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls`` and, for a tool asked about "each city", its calls for the cities the
    other calls hold."""
    asked = [
        (match.group(1).lower(), set(WORD.findall(sentence.group().lower())))
        for sentence in _SENTENCE.finditer(request)
        for match in _EACH.finditer(sentence.group())
    ]
    names = list(dict.fromkeys(c.name for c in calls))
    if not asked or len(names) < 2:
        return list(calls)
    out = list(calls)
    for name, own in own_name_words(names).items():
        tool = by_name.get(name)
        if tool is None:
            continue
        mine = [c for c in calls if c.name == name]
        for key in mine[0].arguments:
            if not any(_names(word, key) and _said(own, sentence) for word, sentence in asked):
                continue
            held = [c.arguments[key] for c in mine]
            values = [c.arguments.get(key) for c in calls]
            texts = list(dict.fromkeys(v for v in values if isinstance(v, str)))
            if len(texts) < 2:
                continue
            for value in texts:
                if value in held:
                    continue
                added = with_arguments(mine[0], tool, {**mine[0].arguments, key: value})
                if added is not mine[0]:
                    out.append(added)
    return out


def _names(word: str, parameter: str) -> bool:
    """Whether ``word`` ("city", "cities") names the parameter ("city")."""
    forms = {word, word.removesuffix("s"), re.sub(r"ies$", "y", word)}
    return any(same_stem(f, p) for f in forms for p in content_words(parameter))


def _said(own: set[str], sentence: set[str]) -> bool:
    """Whether the sentence names the tool by one of its own words ("stores")."""
    return any(same_stem(o, w) for o in own for w in sentence)


def with_call_per_number(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls`` and, for a tool called once with a number the user wrote after the
    argument's name ("a density of 7.8"), a call for each other number written after that
    name ("a density of 5.2") that no call holds anywhere.

    "The first material has a density of 5.2 g/cm^3 and the second material has a density of
    7.8 g/cm^3 ... calculate the mass of each cone using their respective densities": the
    bundled model computes the second cone's mass only. Over BFCL's AST answers (2026-12-04)
    this adds no call to any answer.
    """
    used = {float(v) for c in calls for v in c.arguments.values() if is_number(v)}
    out = list(calls)
    for name in dict.fromkeys(c.name for c in calls):
        tool = by_name.get(name)
        mine = [c for c in calls if c.name == name]
        if tool is None or len(mine) != 1:
            continue
        (call,) = mine
        for key, value, schema in typed_arguments(call, tool, "number", "integer"):
            named = numbers_named(key, request)
            if float(value) not in named:
                continue
            unused = sorted(n for n in named if n not in used)
            for number in unused:
                whole = schema["type"] == "integer" and number.is_integer()
                added = with_arguments(
                    call, tool, {**call.arguments, key: int(number) if whole else number}
                )
                if added is not call:
                    out.append(added)
            if unused:
                break  # one argument's numbers, not every combination
    return out
