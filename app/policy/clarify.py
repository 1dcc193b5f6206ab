"""A clarifying question, in the user's language, when the request lacks a value a tool needs.

"Schedule a meeting with Pedro" says no time; the bundled model, offered calendar_create, wrote
one of its own (today at 10:05, the clock line's time), and the user got an event they never
asked for. When the tool the request is routed to requires a value the request does not give
(:func:`app.policy.said_values.missing`), the model is asked instead for one short question
naming what is missing, from a short prompt with a few examples in five languages; the user's
answer comes as the next message, which the route reads with this exchange. Told only "in the
language of the request", the model asked a German or French user in English, so the prompt
names the language (:mod:`app.policy.languages`, a language detector).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.policy.languages import language_of
from backends.base import Backend, CancelToken, GenerateOptions
from backends.generation import ToolCall
from backends.schema import ToolSpec

ASKING = (
    "You are a private assistant for the user's calendar, notes and files. The user asked "
    "for something that cannot be done yet because a detail is missing. Ask for the missing "
    "detail in one short question, written in the language the request names. Only the "
    "question."
)
# (request, what is missing, the question): requests of the kinds users write, five languages.
EXAMPLES: tuple[tuple[str, str, str, str], ...] = (
    ("Put a haircut in my calendar", "English", "when it starts", "When is the haircut?"),
    ("Trag den Elternabend ein", "German", "when it starts", "Wann ist der Elternabend?"),
    ("Marca o jantar com a Rita", "Portuguese", "when it starts", "Quando é o jantar com a Rita?"),
    (
        "Apúntame la revisión del coche",
        "Spanish",
        "when it starts",
        "¿Cuándo es la revisión del coche?",
    ),
    ("Ajoute le cours de yoga", "French", "when it starts", "Quand a lieu le cours de yoga ?"),
    (
        "Add something to my todo list",
        "English",
        "the text to add",
        "What should I add to your todo list?",
    ),
    (
        "Schreib noch was in meine Notiz",
        "German",
        "text to add at the end of the note",
        "Was soll ich in deine Notiz schreiben?",
    ),
)
_QUESTION_END = re.compile(r"[?？]")
_MAX_TOKENS = 40


def need(tool: ToolSpec, names: Sequence[str]) -> str:
    """What is missing, in the words of the arguments' descriptions ("when it starts")."""
    properties = tool.parameters.get("properties") or {}
    said = []
    for name in names:
        schema = properties.get(name)
        text = str(schema.get("description", "")) if isinstance(schema, dict) else ""
        head = re.split(r",\s*e\.g\.|\.\s", text, maxsplit=1)[0].strip().rstrip(".")
        said.append(head[:1].lower() + head[1:] if head else name.replace("_", " "))
    return " and ".join(said)


def _asked(request: str, language: str, missing_text: str) -> str:
    return f'Request: "{request}"\nMissing: {missing_text}.\nAsk in {language}.'


def asking_messages(request: str, missing_text: str) -> list[dict[str, str]]:
    """The question's prompt: the instructions, the examples as earlier turns (the same for
    every request, so their KV state is cached), then the request with its language, as the
    language detector read it."""
    messages = [{"role": "system", "content": ASKING}]
    for said, language, lacking, question in EXAMPLES:
        messages.append({"role": "user", "content": _asked(said, language, lacking)})
        messages.append({"role": "assistant", "content": question})
    language = language_of(request) or "the request's"
    messages.append({"role": "user", "content": _asked(request[:300], language, missing_text)})
    return messages


def question(
    backend: Backend,
    request: str,
    tool: ToolSpec,
    missing: Sequence[str],
    *,
    cancel: CancelToken | None = None,
) -> str:
    """One short question asking for ``missing`` (argument names of ``tool``)."""
    missing_text = need(tool, missing)
    options = GenerateOptions(max_tokens=_MAX_TOKENS, constrained=False)
    completion = backend.generate(
        asking_messages(request, missing_text), None, options=options, cancel=cancel
    )
    text = " ".join((completion.text or "").split()).removeprefix("->").strip()
    end = _QUESTION_END.search(text)
    if end is not None:
        text = text[: end.end()]
    return text or f"I need one more detail first: {missing_text}?"


# Arguments that hold the text a change writes (a note's line, a file's content).
_TEXT_ARGUMENTS = frozenset(("text", "body", "content", "message"))
_WORD = re.compile(r"\w{3,}")
_SAME_START = 4  # letters two forms of a word share at least ("Käse", "Käses")


def word_starts(text: str) -> set[str]:
    """The first letters of a text's words (of three letters or more, numbers left out): two
    forms of a word share them in any language ("Käse", "Käses")."""
    return {w[:_SAME_START] for w in _WORD.findall(text.casefold()) if not w.isdigit()}


def said_word_starts(conversation: Sequence[str]) -> set[str]:
    """The word starts of everything in ``conversation`` (:func:`word_starts`)."""
    return set().union(*(word_starts(text) for text in conversation)) if conversation else set()


def unsaid_text(call: ToolCall, tool: ToolSpec, conversation: Sequence[str]) -> list[str]:
    """The required text arguments of ``call`` that share no word with the conversation.

    "Acrescenta uma coisa à minha lista" names nothing to add; the bundled model added "-
    apples - bananas - oranges" of its own. Text the user gave shares a word with what they
    wrote, or with what the assistant showed before ("append it there"), in any language;
    text that shares none is the model's, and the user is asked for it instead. Only
    required arguments: an optional one the model fills is the scope's business."""
    required = set(tool.parameters.get("required") or ())
    said = said_word_starts(conversation)
    lacking = []
    for name, value in call.arguments.items():
        if name not in required or name not in _TEXT_ARGUMENTS or not isinstance(value, str):
            continue
        written = word_starts(value)
        if written and not written & said:
            lacking.append(name)
    return lacking
