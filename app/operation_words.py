"""Everyday words for the operations tools are named after: "add" for ``sum``, "arrange" for
``sort_array``.

The relevance policy (:func:`app.tool_choice.request_mentions_tool`) keeps a call only where
the request shares a word with the called tool. Users name an operation by its verb, tools
by its noun, or by a synonym: asked "what I get if I add 5.0 to 3.0?", the bundled model
called ``sum`` ("Calculate the sum of two numeric values"), and the policy dropped the call
for sharing no word with the request; "the numbers ... arranged from the smallest to the
largest" went the same way for ``sort_array``. Each group below holds the words of one
operation; a request with one of them also asks about the others. Only arithmetic, ordering
and reminders: words general enough that no tool is about something else. Over all of
BFCL's files (2026-12-05), it lets no irrelevance request (240, nor 884 live ones) through
the gate and four relevant ones (live_simple 64, 68, 86; live_multiple 33).
"""

from __future__ import annotations

_GROUPS = (
    "add adding added plus total sum summation addition",
    "subtract subtracting subtracted minus difference subtraction",
    "multiply multiplying multiplied times product multiplication",
    "divide dividing divided quotient division",
    "arrange arranged arranging sort sorted sorting order ordered",
    "remember remind reminder todo note",
    "average mean",
)
_SYNONYMS: dict[str, frozenset[str]] = {
    word: frozenset(group.split()) for group in _GROUPS for word in group.split()
}


def with_operation_synonyms(words: set[str]) -> set[str]:
    """``words`` with the other words of each operation one of them names."""
    extra = [_SYNONYMS[w] for w in words if w in _SYNONYMS]
    return words.union(*extra)
