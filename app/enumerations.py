"""Lists in what the user wrote: "copper and aluminum", "for 10, 20 and 30 years".

A request that lists several values for one thing asks for one call per value. The tool-choice
policy reads these lists twice: the call planner counts the other items of a list that a first
call used as values still missing (:func:`enumeration_siblings`), and the calls the model
wrote are completed with a call per item it left out (:func:`list_siblings`, used by
:mod:`app.call_lists`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.request_words import FILLER, content_words

_SENTENCE = re.compile(r"[^.;?!]+")
# "and" lists only: "garage or door?" asks which one, the calls must not do both
_LIST_SEPARATOR = re.compile(r"(\s*,\s*(?:and\s+)?|\s+and\s+)", re.IGNORECASE)
_LINK_WORDS_TEXT = "in at for from with on to by of near about as into over under between than"
_LINK_WORDS = frozenset(_LINK_WORDS_TEXT.split())
_ITEM_WORDS = 4  # an item of a list of values is a short phrase
_CLAUSE_WORDS = frozenset({"put", "set", "add", "send", "move", "create", "delete", "call"})
# Words that make a phrase no value to repeat a call with: a verb or an adverb of the
# sentence ("takes under 30 minutes", "finally"), a reference to what came before ("their
# 3D models" asks for more about the same items).
_NOT_VALUE_TEXT = (
    "change take takes switch turn adjust finally lastly additionally "
    "their its his her our my your these those"
)
_NOT_VALUE = frozenset(_NOT_VALUE_TEXT.split())


def enumeration_siblings(request: str, used: Sequence[str]) -> list[str]:
    """The other items of each list in ``request`` that one of the ``used`` values is in.

    "the resistivity of copper and aluminum", a call with ``"copper"``: ``["aluminum"]``.
    Lower-case values are invisible to :func:`request_values` (it sees numbers, quotes and
    names), yet a call that used one item of such a list is the sign that the others are
    calls too. Items are the short phrases between commas and "and"; an item is cut at
    the first linking word after it ("rat hemoglobin and their 3D models" gives "rat
    hemoglobin" and "their 3D models"), and a part too long to be a value ends the list.
    """
    wanted = [u.casefold() for u in used if u and content_words(u)]
    siblings: list[str] = []
    for sentence in _SENTENCE.findall(request):
        pieces = _LIST_SEPARATOR.split(sentence)  # part, separator, part, ...
        parts = [p.strip() for p in pieces[::2]]
        joins = pieces[1::2]  # joins[i] lies between parts[i] and parts[i + 1]
        for index, part in enumerate(parts):
            folded = part.casefold()
            hit = next((u for u in wanted if u in folded), None)
            if hit is None:
                continue
            if folded.endswith(hit):  # the list goes on after this part
                after = [_head_item(p) for p in parts[index + 1 :]]
                siblings += _list_run(after, joins[index:])
            if folded.startswith(hit):  # ... or came before it
                before = [_tail_item(p) for p in reversed(parts[:index])]
                siblings += _list_run(before, list(reversed(joins[:index])))
    used_folded = set(wanted)
    return [s for s in dict.fromkeys(siblings) if s.casefold() not in used_folded]


def _list_run(items: list[str | None], joins: list[str]) -> list[str]:
    """The items up to the first that is not one, if an "and" joins them to the value: a
    comma alone does not make a list ("keys on the shelf, garage or door")."""
    run: list[str] = []
    for item in items:
        if item is None:
            break
        run.append(item)
    has_and = any("and" in join.lower() for join in joins[: len(run)])
    return run if has_and else []


def _head_item(part: str) -> str | None:
    """The list item at the start of ``part``: its words up to the first linking word."""
    words: list[str] = []
    for word in part.split():
        if word.lower() in _LINK_WORDS:
            break
        words.append(word)
    return _as_item(words)


def _tail_item(part: str) -> str | None:
    """The list item at the end of ``part``: its words after the last linking word."""
    words: list[str] = []
    for word in reversed(part.split()):
        if word.lower() in _LINK_WORDS:
            break
        words.insert(0, word)
    return _as_item(words)


def _as_item(words: list[str]) -> str | None:
    """A short noun phrase, or ``None`` for a clause ("put what is there")."""
    if words and words[0].lower() in ("a", "an", "the"):
        words = words[1:]
    item = " ".join(words).strip(" '\"")
    if not words or len(words) > _ITEM_WORDS or not content_words(item):
        return None
    if any(w.lower().strip("'\"") in FILLER or w.lower() in _CLAUSE_WORDS for w in words):
        return None
    return item


# Sentence ends; a dot inside "D.C." or "0.5" ends nothing.
_SENTENCE_END = re.compile(r"[;?!]|\.(?!\w)")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")  # "$400,000" is one number
_HEAD_NUMBER = re.compile(r"^\$?(-?\d+(?:\.\d+)?)(?![\d.,])")
_TAIL_NUMBER = re.compile(r"(?:^|\s)\$?(-?\d+(?:\.\d+)?)\s*$")
_NAME_WORD = r"[A-Z][\w'.&-]+"  # not "I"
_NAME = rf"{_NAME_WORD}(?:\s+(?:(?:of|de|la|le|du|del|von|van)\s+)?(?:{_NAME_WORD}|\d+\b))*"
_HEAD_NAME = re.compile(rf"^({_NAME})")
_TAIL_NAME = re.compile(rf"(?:^|\s)({_NAME})$")
_VALUE_LIKE = re.compile(r"[A-Z0-9]")  # a name or a number
_BETWEEN = re.compile(r"\bbetween\s+(?:\S+\s+){0,3}\S*$", re.IGNORECASE)
_BARE = re.compile(r"^(?:a|an|the)\s+", re.IGNORECASE)
_PLACEHOLDER = "\x00"  # stands for the value while the sentence is split at its commas


def list_siblings(
    request: str, value: str | int | float, *, choices: bool = False
) -> list[str | float]:
    """The other items of the "and" lists of ``request`` that ``value`` is an item of.

    "for 1, 5 and 10 years" and ``5``: ``[1.0, 10.0]``; "in San Francisco, California, and
    Chicago, Illinois" and ``"San Francisco, California"``: ``["Chicago, Illinois"]`` (items
    are grouped as the value is: a value with one comma takes two pieces per item, and a
    list that does not divide that way gives nothing). Numbers are read as numbers (a list
    item is a number, with at most a unit after it: "30 years"); text items are the short
    phrases :func:`enumeration_siblings` reads. Empty where the value is in no list.

    With ``choices`` the caller keeps only items that name one of a parameter's choices, so
    a lower-case item may have names or numbers after it ("the status and scheduled trial
    date for case XY1234": without it that rest reads as a second clause).
    """
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number:
        text = str(int(value)) if float(value).is_integer() else repr(float(value))
        pattern = re.compile(rf"(?<![\d.]){re.escape(text)}(?:\.0+)?(?![\d.%])")
    else:
        text = str(value).strip()
        if not content_words(text):
            return []
        pattern = re.compile(rf"(?<!\w){re.escape(text)}(?!\w)", re.IGNORECASE)
    names = not number and text[:1].isupper()  # "Chicago" takes names, "navy" words
    found: list[str | float] = []
    for sentence in _sentences(request):
        if number:
            sentence = _THOUSANDS.sub("", sentence)
        marked = pattern.sub(_PLACEHOLDER, sentence)
        if _PLACEHOLDER not in marked:
            continue
        pieces = _LIST_SEPARATOR.split(marked)
        parts = [p.strip() for p in pieces[::2]]
        joins = pieces[1::2]
        for index, part in enumerate(parts):
            if _PLACEHOLDER not in part:
                continue
            bare = _BARE.sub("", part)
            ends = part.endswith(_PLACEHOLDER)
            if number:  # "for 10 years, 20 and 30": a unit may follow the value
                ends = ends or bool(re.search(f"{_PLACEHOLDER}\\s+\\S+$", part))
            kind = "number" if number else "name" if names else "word"
            link = part[: part.rfind(_PLACEHOLDER)].split()[-1:]  # "to" of "the medium to oil"
            after = (
                _run(parts[index + 1 :], kind, head=True, link=link, choices=choices)
                if ends
                else []
            )
            before = []
            if bare.startswith(_PLACEHOLDER):
                before = _run(list(reversed(parts[:index])), kind, head=False)
            around = joins[index - len(before) : index + len(after)]
            if not any("and" in join.lower() for join in around):
                return []  # a comma alone does not make a list ("keys on the shelf, garage")
            if _BETWEEN.search(parts[index - len(before)]):
                return []  # "between New York and Washington" names two ends, not a list
            before.reverse()
            if not number:
                before = _grouped([str(b) for b in before], text.count(","))
                after = _grouped([str(a) for a in after], text.count(","))
            found += [*before, *after]
    return [f for f in dict.fromkeys(found) if f != value and str(f).casefold() != text.casefold()]


def _sentences(request: str) -> list[str]:
    """The request's sentences: a list never runs across a sentence end."""
    return [s for s in _SENTENCE_END.split(request) if s.strip()]


def _run(
    parts: list[str],
    kind: str,
    *,
    head: bool,
    link: Sequence[str] = (),
    choices: bool = False,
) -> list[str | float]:
    """The list items at the start (``head``) or end of each of ``parts``, up to the first
    part that holds none: numbers, names (capitalised words) or lower-case words, as
    ``kind`` says. An item with more of the sentence after it is the list's last; there is
    none at all where that rest opens a second clause: it repeats the ``link`` word the value
    came after ("NASDAQ and Microsoft listed on NYSE" joins two clauses, not two exchanges;
    "the medium to oil, and the dominant color to red"), or, after a lower-case word, holds
    names or numbers of its own."""
    items: list[str | float] = []
    for part in parts:
        if _PLACEHOLDER in part:
            break
        if kind == "name":
            bare = _BARE.sub("", part)
            match = (_HEAD_NAME if head else _TAIL_NAME).search(bare)
            if match is None:
                break
            rest = bare[match.end() :] if head else bare[: match.start()]
            if head and link and link[0].lower() in rest.lower().split():
                break  # "NASDAQ and Microsoft listed on NYSE": "on" starts a second clause
            items.append(match.group(1))
            if rest.strip():
                break
            continue
        if kind == "number":
            match = (_HEAD_NUMBER if head else _TAIL_NUMBER).search(part)
            if match is None:
                break
            items.append(float(match.group(1)))
            if head and len(part[match.end() :].split()) > 1:
                break  # "30 years in Paris" is the list's last item
        elif head and part[:1] in "'\"" and part.find(part[0], 1) > 0:
            items.append(part[: part.find(part[0], 1) + 1])  # a quoted title, quotes kept
            break
        elif not head and part[-1:] in "'\"" and part.rfind(part[-1], 0, -1) >= 0:
            items.append(part[part.rfind(part[-1], 0, -1) :])
            break
        else:
            item = _head_item(part) if head else _tail_item(part)
            if item is None or _VALUE_LIKE.search(item):
                break  # "2 players" or "Creek" is no item of a list of words
            if any(word.lower() in _NOT_VALUE for word in item.split()):
                break
            bare = _BARE.sub("", part)
            cut = len(item.split()) < len(bare.split())
            rest = " ".join(bare.split()[len(item.split()) :])
            if cut and head and ((_VALUE_LIKE.search(part) and not choices) or _links(rest, link)):
                break
            if cut and item.split()[0].endswith("ed") and not choices:
                break  # "directed by david leitch" is no item
            items.append(item)
            if cut:
                break  # "maroon in oil": the list ends with this item
    return items


def _links(rest: str, link: Sequence[str]) -> bool:
    """Whether ``rest`` opens with the ``link`` word the value came after."""
    words = rest.lower().split()
    return bool(words and link and words[0] == link[0].lower())


def _grouped(items: list[str], commas: int) -> list[str]:
    """``items`` joined in groups of ``commas + 1`` ("Chicago", "Illinois" -> "Chicago,
    Illinois" for a value like "San Francisco, California"); none when they do not divide."""
    if not commas:
        return items
    size = commas + 1
    if len(items) % size:
        return []
    return [", ".join(items[i : i + size]) for i in range(0, len(items), size)]
