"""The passages of a note a request quotes, as the note writes them: what an edit may replace.

Asked "Cross buy stamps off my todo list, done" (the note holds "- buy stamps"), the bundled
0.5B model wrote ``find: "- stamps"``; the edit failed ("the note does not contain") and the
turn ended with the note read back, unchanged. When the request says words that stand in a
note word for word, those words are what the user wants replaced or removed: the grammar offers
them (as the note has them: its case, its spacing) and nothing else, so the model chooses among
real passages and cannot misquote one. A request that quotes no passage (another language than
the note's, a paraphrase) offers nothing and leaves ``find`` free, as before. Reads no words of
any language: a passage is found by its letters, in the notes the request names by title (all
of them when it names none, and then only in one note alone), and holds a word of four letters
or a digit (a small word every note holds says no passage).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from connectors.notes.said_titles import stretches
from connectors.notes.service import loose_words

LONGEST = 8  # words of the request a passage holds at most
LEAST_LETTERS = 4  # a passage holds a word of at least this many letters, or a digit: "in
# the", "note" and other small words stand in most notes and say no passage


def _pattern(stretch: str) -> re.Pattern[str]:
    """Whole words of ``stretch``, any case, any spacing between them (as the edit finds a
    passage: connectors.notes.service.replaced)."""
    return re.compile(rf"(?<!\w){loose_words(stretch)}(?!\w)", re.IGNORECASE)


def _telling(stretch: str) -> bool:
    return any(
        len(word) >= LEAST_LETTERS or any(c.isdigit() for c in word) for word in stretch.split()
    )


def passages(text: str, notes: Mapping[str, str]) -> list[str]:
    """The passages of ``notes`` (title -> text) that ``text`` says word for word, as the
    notes write them, in the request's order; none that lies inside another.

    When the request names notes by their titles, only their texts are read; else a passage
    must stand in one note alone."""
    named = [
        body for title, body in notes.items() if title.strip() and _pattern(title).search(text)
    ]
    texts = [body for body in (named or notes.values()) if body.strip()]
    found: list[str] = []
    for stretch in stretches(text, LONGEST):
        if not _telling(stretch):
            continue
        pattern = _pattern(stretch)
        matches = [m.group(0) for body in texts if (m := pattern.search(body))]
        if not matches or (not named and len(matches) > 1):
            continue
        found.append(matches[0])
    folded = [passage.casefold() for passage in found]
    kept = [
        passage
        for passage, fold in zip(found, folded, strict=True)
        if not any(fold != other and fold in other for other in folded)
    ]
    return list(dict.fromkeys(kept))
