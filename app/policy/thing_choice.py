"""Which of the user's things a call means, asked of the model on its own.

An argument that names one of the user's things (a note's title, an event) is limited by the
grammar to the things that exist (``Tool.choices``). When the model wants to write something
else, mostly the thing's name in the request's language ("Lista" for the note "Shopping
list", "Bes..." for "Meeting notes 9 March"), the grammar takes the model's next best token
among the allowed ones, which is close to a guess: on the ``dev`` split it gave "Books to read"
for "die Besprechungsnotizen" and "Gift ideas" for "die Besprechungsnotiz". A change carrying
such a substitution was refused, and asked to correct it, the model wrote the call in prose.

Here the model answers one narrow question instead: the request, the names of the things the
argument allows, and "which one does the request mean, or none". Its answer is its own score
over those names (the grammar allows them and ``none`` alone), in whatever language the request
is, with no word lists. It runs only when the grammar overrode the model inside such an
argument; the call still waits for the user's approval like every change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from app.policy.decision import first_sentence
from backends.base import Backend, CancelToken, GenerateOptions
from backends.schema import ToolSpec

NONE = "none"
MOST_VALUES = 40  # beyond this many names the prompt grows past what a pass may cost
_REQUEST_CHARS = 600
_MAX_TOKENS = 64  # the longest name, in tokens, with its quotes

CHOOSING = (
    "The user's request is for the tool {tool}: {description}. Its argument {argument} is "
    "{about} It must be one of the user's existing ones:\n{names}\n"
    "Answer with the one the request means, written exactly as listed, or none when the "
    "request means none of them. The request may be in any language, and the names in "
    "another."
)


def choosing_prompt(tool: ToolSpec, argument: str, values: Sequence[str]) -> str:
    """The system message: what the argument is and the names it may take."""
    schema = (tool.parameters.get("properties") or {}).get(argument)
    about = str(schema.get("description", "")) if isinstance(schema, dict) else ""
    return CHOOSING.format(
        tool=tool.name,
        description=first_sentence(tool.description).rstrip("."),
        argument=argument,
        about=about or "one of the user's things.",
        names="\n".join(f"- {value}" for value in values),
    )


def pick_thing(
    backend: Backend,
    request: str,
    tool: ToolSpec,
    argument: str,
    values: Sequence[str],
    *,
    cancel: CancelToken | None = None,
) -> str | None:
    """The one of ``values`` the model says ``request`` means for ``argument``, or None
    (it says none, or there are too many to ask about)."""
    names = [v for v in dict.fromkeys(values) if v.strip()]
    if not names or len(names) > MOST_VALUES:
        return None
    options = GenerateOptions(
        max_tokens=_MAX_TOKENS, response_schema={"type": "string", "enum": [*names, NONE]}
    )
    messages = [
        {"role": "system", "content": choosing_prompt(tool, argument, names)},
        {"role": "user", "content": request[:_REQUEST_CHARS]},
    ]
    completion = backend.generate(messages, None, options=options, cancel=cancel)
    try:
        chosen = json.loads(completion.text or '""')
    except json.JSONDecodeError:
        return None
    return chosen if chosen in names else None
