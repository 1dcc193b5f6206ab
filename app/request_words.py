"""The words of a request that carry meaning, and when two of them are the same word.

Shared by the tool-choice policy (:mod:`app.tool_choice`), the list reading of
:mod:`app.enumerations` and the value rules, which all compare what the user wrote with
what a call holds.
"""

from __future__ import annotations

import re

_FILLER_WORDS = (
    "a an the of to in on for and or is are was were be been with by at from as it "
    "its this that these those what which who whom how do does did i me my we our you "
    "your can could would should will shall may might must please find get give tell "
    "show use using given let some any all there here then than into about also just "
    "want need like make made have has had not no yes now"
)
FILLER = frozenset(_FILLER_WORDS.split())
WORD = re.compile(r"[a-z0-9]+")
# A number as the user writes it in digits: "1,500", "0.5", "42".
NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
# Text in single or double quotes: a value written as the user wants it (group 1 or 2).
QUOTED = re.compile(r"'([^']+)'|\"([^\"]+)\"")


def name_words(name: str) -> list[str]:
    """The lower-case words of an identifier, in order: ``clubName`` and ``club_name`` ->
    ``["club", "name"]``."""
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower().split("_")


def content_words(text: str) -> set[str]:
    """Lower-case words of three or more characters that carry meaning."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)  # camelCase names
    words = WORD.findall(spaced.lower().replace("_", " "))
    return {w for w in words if len(w) >= 3 and w not in FILLER}


def same_stem(a: str, b: str) -> bool:
    """Whether two content words are forms of one word: equal, or sharing all but their
    last two letters (at least four): ``meet``/``meeting``, ``hemoglobin``/``hemoglobins``."""
    if a == b:
        return True
    if len(a) < 4 or len(b) < 4:
        return False
    stem = min(len(a), len(b), max(4, min(len(a), len(b)) - 2))
    return a[:stem] == b[:stem]


_LONGER_FORM = 4  # letters a form of a word may add ("meet", "meeting"; not "chess", "Chesapeake")


def same_word(a: str, b: str) -> bool:
    """Whether a value's word is one the user wrote, in another form at most: ``same_stem``,
    without a much longer word that merely starts alike."""
    return same_stem(a, b) and abs(len(a) - len(b)) <= _LONGER_FORM


def word_places(text: str, phrase: str) -> list[int]:
    """Where ``phrase`` stands in ``text`` as whole words, without case (its start offsets)."""
    pattern = rf"(?<!\w){re.escape(phrase)}(?!\w)"
    return [m.start() for m in re.finditer(pattern, text, re.IGNORECASE)]
