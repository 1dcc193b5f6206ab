"""Values the user labelled: "my employees database on personal_data table".

Asked to "delete some columns from my employees database on personal_data table", the bundled
model sent ``db_name: "personal_data"`` and ``table: "employees"``: two names of one kind,
swapped. The user said which is which: the word right after each value names the argument
it belongs to ("database" is the ``db_name``'s, described "the name of the database";
"table" is the ``table``'s). Where each of two text values of a call is written once, and
the word after each names the other's argument (by its name or description) and not its
own, the two are swapped. A word before the value is no label ("a vegan main course
recipe"). Over BFCL's AST answers (2026-12-04) this changes none.
"""

from __future__ import annotations

import itertools

from app.call_values import with_arguments
from app.request_words import WORD, content_words, same_stem, word_places
from backends.generation import ToolCall
from backends.schema import ToolSpec


def with_labelled_values(call: ToolCall, tool: ToolSpec, request: str) -> ToolCall:
    """``call`` with two text values swapped where the word the user wrote after each
    names the other's argument."""
    properties = tool.parameters.get("properties") or {}
    texts = [
        (name, value)
        for name, value in call.arguments.items()
        if isinstance(value, str) and value.strip() and isinstance(properties.get(name), dict)
    ]
    for (first, one), (second, other) in itertools.combinations(texts, 2):
        label_one, label_two = _label(request, one), _label(request, other)
        if label_one is None or label_two is None:
            continue
        words_one = _words(first, properties[first])
        words_two = _words(second, properties[second])
        one_is_second = _names(label_one, words_two) and not _names(label_one, words_one)
        other_is_first = _names(label_two, words_one) and not _names(label_two, words_two)
        if one_is_second and other_is_first:
            return with_arguments(call, tool, {**call.arguments, first: other, second: one})
    return call


def _label(request: str, value: str) -> str | None:
    """The word written right after ``value``, where the user wrote it once."""
    places = word_places(request, value)
    if len(places) != 1:
        return None
    after = WORD.findall(request[places[0] + len(value) :].lower())
    return after[0] if after else None


def _words(name: str, schema: dict[str, object]) -> set[str]:
    return content_words(name) | content_words(str(schema.get("description", "")))


def _names(word: str, words: set[str]) -> bool:
    return any(same_stem(word, w) for w in words)
