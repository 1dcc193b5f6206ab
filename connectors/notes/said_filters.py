"""What a request to list notes says about which ones: a tag the user has, and the trash.

"List my personal notes": the bundled model listed every note, with no tag; "Welche Notizen
liegen im Papierkorb?": it listed the notes outside the trash, as ``in_trash`` is named in
English only. A tag is the user's own word, found in the request word for word (any case, with
or without "#"), in any language; the trash is one short line of words per language, read as
word starts ("gelöschten", "apagadas"). The listing's reader offers them (``Tool.said``), and a
listing the model left without them gets them (the ``said_filled`` pass).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Word starts that name the trash or deleted notes, one line per language.
TRASH_WORDS = {
    "en": "trash deleted recycle",
    "de": "papierkorb gelöscht mülleimer",
    "fr": "corbeille supprimé",
    "es": "papelera borrad eliminad",
    "pt": "lixo lixeira apagad",
}
_TRASH = tuple(word for line in TRASH_WORDS.values() for word in line.split())
_WORD = re.compile(r"\w+")


def tags(text: str, known: Iterable[str]) -> list[str]:
    """The user's tags (``known``) the request names word for word, in its order."""
    words = [w.casefold() for w in _WORD.findall(text)]
    found = [tag for tag in known if tag and tag.casefold() in words]
    return sorted(found, key=lambda tag: words.index(tag.casefold()))


def says_trash(text: str) -> bool:
    """Whether a word of the request begins like a word for the trash."""
    return any(word.casefold().startswith(_TRASH) for word in _WORD.findall(text))
