"""An answer to the assistant's question, read together with the request it completes.

Asked "Wann soll ich dich erinnern?" after "Erinner mich, die Steuererklärung zu machen", the
user answers "Am Montag um 10". Read as a follow-up, the bundled 0.5B model titled the event
"Montag um 10" (the newest message is what it copies from), "Voiture" for "Ajoute le contrôle
technique de la voiture" then "le 9 avril à 14h", and the route took "El miércoles a las 12:30"
after "Pon una cita con el fisio" for a free-time search (dev split). Joined, the two messages
are one request of the kind it gets right ("Remind me to do my taxes on Monday at 10").

So while the assistant's last message is a question the user just answered, the route and the
main pass read the request and its answer as one user message, the question left out (the
``asked_together`` pass). Nothing reads words: a question is the assistant's text answer that
ends with a question mark, as the said values already read it (:meth:`Assistant._said`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from app.policy import pipeline

Message = Mapping[str, Any]

_QUESTION_MARKS = ("?", "？", "؟")


def is_question(message: Message) -> bool:
    """Whether ``message`` is the assistant asking the user something (no call in it)."""
    content = message.get("content")
    return (
        message.get("role") == "assistant"
        and not message.get("tool_calls")
        and isinstance(content, str)
        and content.rstrip().endswith(_QUESTION_MARKS)
    )


def _answered_at(messages: Sequence[Message]) -> int | None:
    """The index of the request a question asked about, when the last user message of
    ``messages`` answers that question right after it; else ``None``."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if len(users) < 2:
        return None
    request, answer = users[-2], users[-1]
    between = [m for m in messages[request + 1 : answer] if m.get("role") != "system"]
    if len(between) != 1 or not is_question(between[0]):
        return None
    return request


def joined_text(request: str, answer: str) -> str:
    """The request and the user's answer to the question about it, as one message."""
    return f"{request.rstrip()}\n{answer.strip()}"


def answered_request(messages: Sequence[Message]) -> str | None:
    """The request the last user message answers a question about, joined with that answer,
    or ``None`` when it answers no question (or the pass is off)."""
    if not pipeline.enabled("asked_together"):
        return None
    request = _answered_at(messages)
    if request is None:
        return None
    users = [m for m in messages if m.get("role") == "user"]
    return joined_text(str(users[-2].get("content", "")), str(users[-1].get("content", "")))


def together(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """``messages`` with a request, the assistant's question about it and the user's answer
    replaced by one user message holding the request and the answer; unchanged when the last
    user message answers no question (or the pass is off). What follows the answer (the
    calls of this turn and their results) stays."""
    out = [dict(m) for m in messages]
    if not pipeline.enabled("asked_together"):
        return out
    request = _answered_at(messages)
    if request is None:
        return out
    answer = max(i for i, m in enumerate(messages) if m.get("role") == "user")
    joined = {
        **out[request],
        "content": joined_text(str(out[request].get("content", "")), str(out[answer]["content"])),
    }
    kept_between = [m for m in out[request + 1 : answer] if m.get("role") == "system"]
    return [*out[:request], *kept_between, joined, *out[answer + 1 :]]
