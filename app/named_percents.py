"""A percentage the user wrote before a parameter's word: "95% confidence interval".

Asked for "95% confidence interval for a sample mean with standard deviation of 10 ...", the
bundled model leaves ``confidence_level`` out, and the tool falls back to its default of
0.9: an answer to a question the user did not ask. The user named the parameter by its own
word right after the number, which is as plain as "a confidence level of 95%". So where a
call leaves out a number parameter, and the request writes exactly one percentage followed
by a word of the parameter's name ("95% confidence" for ``confidence_level``), the call
takes it, as a fraction (0.95) unless the parameter's description says percent. Over
BFCL's AST answers (2026-12-04) this changes none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from app.call_values import left_out, with_arguments
from app.request_words import content_words, same_stem
from backends.generation import ToolCall
from backends.schema import ToolSpec

_NAMED_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:%|percent)\s+([a-z]+)", re.IGNORECASE)
_PERCENT_FORM = re.compile(r"percent|%", re.IGNORECASE)


def with_named_percents(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """``calls``, each number parameter left out that a percentage of the request names
    ("95% confidence") holding it."""
    written = [(float(m.group(1)), m.group(2).lower()) for m in _NAMED_PERCENT.finditer(request)]
    if not written:
        return list(calls)
    out = []
    for call in calls:
        tool = by_name.get(call.name)
        if tool is None:
            out.append(call)
            continue
        added: dict[str, object] = {}
        for name, schema in left_out(call, tool, "number"):
            words = content_words(name)
            percents = {n for n, said in written if any(same_stem(said, w) for w in words)}
            if len(percents) != 1:
                continue
            percent = percents.pop()
            as_written = _PERCENT_FORM.search(str(schema.get("description", "")))
            added[name] = percent if as_written else round(percent / 100, 9)
        if added:
            call = with_arguments(call, tool, {**call.arguments, **added})
        out.append(call)
    return out
