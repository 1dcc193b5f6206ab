"""What a tool's name says it does, and whether the user asked for that.

"Find a book 'The Alchemist' in the library branches within New York city", offered
``library.reserve_book`` and ``library.search_book``: the bundled model reserved the book.
A tool's name leads with its verb ("reserve", "search"), and the user's verbs say which
was asked for: "find" asks to search, and nothing asked to reserve. A change nobody asked
for is the worst call the assistant can propose (it waits for approval, but the user wanted
an answer), so a call to a tool whose leading verb changes something and that the user did
not say (nor a word for it: "change" for "update") is checked against the offered look-ups:
where exactly one of them, about the same thing (a name word shared: "library", "book"),
leads with a verb the user said ("find" for "search"), that look-up is the call to make.

Over BFCL's AST answers of eight files (2026-12-04), no right call is a change whose verb the
user left unsaid beside such a look-up (the one near case, "change the armor level ... and
find me a game guide", says "change" for ``update_player_equipment``).
"""

from __future__ import annotations

from app.request_words import WORD, content_words, name_words, same_stem

# A change tool's leading verb, with the words a user says for it.
_CHANGES: dict[str, frozenset[str]] = {
    verb: frozenset({verb, *said.split()})
    for verb, said in {
        "reserve": "hold",  # not "book": "find a book" asks for no reservation
        "book": "reserve",
        "delete": "remove erase",
        "remove": "delete erase",
        "create": "make new add",
        "add": "create make new put",
        "update": "change modify edit set",
        "modify": "change update edit set",
        "edit": "change update modify",
        "set": "change update put make",
        "cancel": "stop",
        "send": "email text message mail",
        "buy": "purchase order",
        "purchase": "buy order",
        "order": "buy purchase",
        "schedule": "book plan",
        "transfer": "send move",
        "pay": "send",
        "post": "publish share",
        "submit": "send file",
    }.items()
}
# A look-up tool's leading verb, with the words a user says for it.
_LOOKUPS: dict[str, frozenset[str]] = {
    "search": frozenset({"search", "find", "look", "locate", "seek"}),
    "find": frozenset({"find", "search", "look", "locate", "seek"}),
    "lookup": frozenset({"lookup", "look", "find", "search"}),
    "locate": frozenset({"locate", "find", "search"}),
}


def leading_verb(tool_name: str) -> str:
    """The first word of the tool's own name: "reserve" of ``library.reserve_book``."""
    last = tool_name.rsplit(".", 1)[-1]
    return name_words(last)[0]


def is_unasked_change(tool_name: str, request: str) -> bool:
    """Whether the tool's verb changes something and the user said no word for it."""
    said = _CHANGES.get(leading_verb(tool_name))
    return said is not None and not _says(request, said)


def is_asked_lookup(tool_name: str, request: str) -> bool:
    """Whether the tool's verb looks something up and the user said a word for it."""
    said = _LOOKUPS.get(leading_verb(tool_name))
    return said is not None and _says(request, said)


def same_subject(first: str, second: str) -> bool:
    """Whether two tools' names share a word besides their verbs ("library", "book"; in
    any form: ``delete_event`` and ``search_events``)."""
    words = [content_words(n.replace(".", " ")) - {leading_verb(n)} for n in (first, second)]
    return any(same_stem(a, b) for a in words[0] for b in words[1])


def _says(request: str, words: frozenset[str]) -> bool:
    asked = WORD.findall(request.lower())
    return any(same_stem(a, w) for a in asked for w in words)
