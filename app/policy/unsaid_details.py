"""Details nobody gave, taken out of a call before it is proposed.

An event's ``notes`` are the user's own details. The bundled 0.5B model, offered them, fills
them with text of its own: "I can't send messages; I manage your calendar, notes and files."
(an answer of the prompt's examples) on "La comida con Marta al final es en el restaurante
Solar, cámbialo", "New location." on "Le club de lecture se fera désormais à la Librairie
Bertrand". The call is right otherwise, and the user would find the invented text in their
calendar. Text the user gave shares a word with what they wrote (or with what the assistant
showed them), in any language; an optional detail that shares none is left out.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from app.policy.clarify import said_word_starts, word_starts
from backends.generation import ToolCall
from backends.schema import ToolSpec

# The optional arguments that hold details of a thing rather than the thing itself (a note's
# text or a file's content is what a change writes; an unsaid one is asked for instead,
# :func:`app.policy.clarify.unsaid_text`).
DETAILS = frozenset(("notes", "description", "details", "comment", "comments"))


def without_unsaid_details(call: ToolCall, tool: ToolSpec, conversation: Sequence[str]) -> ToolCall:
    """``call`` without its optional detail arguments whose text shares no word with the
    conversation; unchanged when that would leave it fewer arguments than the tool needs
    (``minProperties``: an update whose only change is the invented text stays as it is,
    and its approval shows the text)."""
    params = tool.parameters
    required = set(params.get("required") or ())
    said = said_word_starts(conversation)
    kept = {
        name: value
        for name, value in call.arguments.items()
        if name in required
        or name not in DETAILS
        or not isinstance(value, str)
        or not (written := word_starts(value))
        or written & said
    }
    least = params.get("minProperties")
    if len(kept) == len(call.arguments) or (isinstance(least, int) and len(kept) < least):
        return call
    return dataclasses.replace(call, arguments=kept)
