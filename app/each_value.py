"""'How many stores carry it in each city': a call per city the other calls name.

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

from app.call_values import with_arguments
from app.request_words import WORD, content_words, same_stem
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
    words = {n: content_words(n.replace(".", " ")) for n in names}
    out = list(calls)
    for name in names:
        tool = by_name.get(name)
        if tool is None:
            continue
        own = words[name] - set().union(*(words[o] for o in names if o != name))
        mine = [c for c in calls if c.name == name]
        for key in mine[0].arguments:
            if not any(_names(word, key) and _said(own, sentence) for word, sentence in asked):
                continue
            held = [c.arguments[key] for c in mine]
            values = [c.arguments.get(key) for c in calls]
            texts = [v for v in dict.fromkeys(v for v in values if isinstance(v, str))]
            for value in texts:
                if value in held or len(texts) < 2:
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
