"""The clauses of a request joined by "and" (or "then"), each a thing the user may be asking.

"Cancel yoga this Thursday and book club this month", "Copia la factura a reports y borra el
archivo del presupuesto viejo": the bundled model writes the first call and stops (two actions
asked, on the ``dev`` split 2 of 10 right). The planner that asks it again for the calls a
request still needs (the ``missing_calls`` pass) saw nothing missing: it counts numbers, quoted
text and capitalised names, and "book club this month" has none. A clause whose words no call
uses is such a sign in any language, the coordinating words excepted, which are one short line
per language. A clause that only describes the one thing asked ("milk, eggs and bread",
"Lunch with Bob and Carol") has its words in the call, so it asks for nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Words that join two requests into one sentence, one line per language (whole words).
COORDINATORS = {
    "en": "and then also",
    "de": "und dann sowie außerdem",
    "fr": "et puis ensuite",
    "es": "y e luego después también",
    "pt": "e depois também",
}
_JOINS = frozenset(word for line in COORDINATORS.values() for word in line.split())
_WORD = re.compile(r"\w+")
_BREAK = re.compile(r"[;\n]")
_SHORTEST = 4  # letters of a word that can show a clause was used (not "el", "the", "à")


def clauses(request: str) -> list[frozenset[str]]:
    """The words (casefolded, letters only, four or more) of each clause of ``request``
    that no other clause has, in order; clauses with no such word are left out, and a
    request of one clause has none (the first answer already is the answer to it)."""
    found: list[frozenset[str]] = []
    for piece in _BREAK.split(request):
        current: list[str] = []
        for word in _WORD.findall(piece.casefold()):
            if word in _JOINS:
                found.append(frozenset(current))
                current = []
            elif word.isalpha() and len(word) >= _SHORTEST:
                current.append(word)
        found.append(frozenset(current))
    # A word of two clauses ("this" of "this Thursday ... this month") tells neither apart.
    own = [words - frozenset().union(*found[:i], *found[i + 1 :]) for i, words in enumerate(found)]
    kept = [words for words in own if words]
    return kept if len(kept) >= 2 else []


def unused(clause_words: Iterable[frozenset[str]], written: str) -> int:
    """How many clauses have none of their words in ``written`` (the calls as the model
    wrote them), a word counting as there when ``written`` holds a word starting with its
    first letters (all but two, at least four: "borra" / "borrar", "club" / "clubs")."""
    present = {w for w in _WORD.findall(written.casefold()) if len(w) >= _SHORTEST}
    return sum(1 for words in clause_words if not any(_seen(w, present) for w in words))


def _seen(word: str, present: set[str]) -> bool:
    if word in present:
        return True
    stem = word[: max(_SHORTEST, len(word) - 2)]
    return any(
        p.startswith(stem) or word.startswith(p[: max(_SHORTEST, len(p) - 2)]) for p in present
    )
