"""A note's new title, as the stretches of the request it can be.

Asked "Rename the Porto trip note to Porto weekend", the bundled 0.5B model wrote "Weekend
Trip to Porto"; asked "Benenn die Notiz 'Books to read' in Leseliste um", it wrote "Read", and
offered the request's stretches it copied the old title back. A new title is the user's own
words: the grammar offers the stretches of the request (whole words, inside one quote or
clause), less those that are a note's title or part of one, so the model chooses where the new
title starts and ends and can neither invent it nor give the old one again. Reads no words of
any language.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

LONGEST = 8  # words a title holds at most: every stretch is offered, so the grammar grows
# with the square of this
_PARTS = re.compile(r"[\"«»“”„,;:!?()]|(?<!\w)'|'(?!\w)")  # quotes and clause marks, not
# an apostrophe inside a word ("Marta's")
_WORD = re.compile(r"\S+")
_EDGE = "'’.-–—…¿¡[]{}"


def stretches(text: str, longest: int = LONGEST) -> list[str]:
    """Every stretch of at most ``longest`` whole words of ``text`` that crosses no quote or
    clause mark, without the punctuation around it."""
    found: list[str] = []
    for part in _PARTS.split(text):
        words = [w.strip(_EDGE) for w in _WORD.findall(part)]
        words = [w for w in words if w]
        for first in range(len(words)):
            for last in range(first, min(first + longest, len(words))):
                found.append(" ".join(words[first : last + 1]))
    return list(dict.fromkeys(found))


def new_titles(text: str, titles: Iterable[str]) -> list[str]:
    """The stretches of ``text`` a note's new title may be: none that is one of ``titles``
    (the notes there are) or part of one."""
    taken = [title.casefold() for title in titles]
    return [s for s in stretches(text) if not any(s.casefold() in title for title in taken)]
