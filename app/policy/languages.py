"""The language a request is written in, by a language detector (lingua).

Told "answer in the user's language", the bundled 0.5B model answered German and French
requests in English; told "in German", it writes German. lingua reads short texts well (a
three-word request), offline, from n-gram models of each language; only the languages the
assistant's users write are loaded, which keeps its first use under two seconds.
"""

from __future__ import annotations

import functools
from typing import Any

# The languages the product is evaluated in (tests/assistant_cases): with Italian as well, "Pon
# una cita con el fisio" read as Italian.
LANGUAGES = ("ENGLISH", "GERMAN", "FRENCH", "SPANISH", "PORTUGUESE")


@functools.cache
def _detector() -> Any:
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        *(getattr(Language, name) for name in LANGUAGES)
    ).build()


def language_of(text: str) -> str | None:
    """The English name of the language ``text`` is in ("German"), or ``None`` when the
    detector cannot tell (no letters, a mix)."""
    found = _detector().detect_language_of(text)
    return None if found is None else found.name.capitalize()
