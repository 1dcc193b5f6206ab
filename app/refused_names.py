"""The tool the model meant where the grammar refused the name it began.

Asked "How many veterans were there in the United States in the year 1954?", the bundled
model begins a tool named ``get_v...``; no offered tool is, so the grammar steps in at the
first letter that fits no name and the call goes to the allowed name the model rated next
there, ``get_bureau_statistics``, which it never meant. The letters the model wrote before
the grammar stepped in still say what it meant: a word of the request ("veterans") that
only ``get_population``'s schema holds ("The population category (e.g., total, veterans,
women)"). Where no tool's schema holds the word ("kings" among ``get_events``,
``get_culture`` and ``get_monarchs``), the policy asks the model to pick among the
tools by their descriptions (:func:`tool_the_model_picks`), which it does well once it
reads them side by side: ``get_monarchs``. Either way the call keeps its arguments,
so the new tool must take them as they are; a call that needs other arguments is left as
it is.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence

from app.request_words import WORD, same_stem
from backends.base import Backend, CancelToken, GenerateOptions, Message
from backends.errors import GenerationIncomplete
from backends.generation import Conflict, ToolCall
from backends.output import validate_arguments
from backends.schema import ToolSpec, parse_tools

_LEAST_WORD = 3  # letters beyond the model's own that a request word must add
CHOOSER_PROMPT = "Pick the one function that answers the user's request.\nFunctions:\n"
_CHOOSER_TOKENS = 64  # {"name": "choose_function", "arguments": {"function": "..."}}


def refused_name(call: ToolCall, names: Mapping[str, object]) -> str | None:
    """What the model was writing as the call's name where the grammar refused it: no
    offered name begins with it (``None`` when the model wrote a name it was allowed, or
    one the grammar merely cut short, as a forced call does)."""
    for conflict in call.conflicts:
        if conflict.path == "name" and not any(n.startswith(conflict.wanted) for n in names):
            return conflict.wanted
    return None


def tool_by_begun_word(
    call: ToolCall, wanted: str, by_name: Mapping[str, ToolSpec], request: str
) -> str | None:
    """The one tool, other than the call's, whose schema holds the request word the model
    began where the grammar refused it ("v" of "veterans"), and that takes the call's
    arguments."""
    shared = 0
    while shared < min(len(wanted), len(call.name)) and wanted[shared] == call.name[shared]:
        shared += 1
    begun = wanted[shared:].lower()
    if not begun.isalpha():
        return None
    said = {
        w
        for w in WORD.findall(request.lower())
        if w.startswith(begun) and len(w) >= len(begun) + _LEAST_WORD
    }
    if not said:
        return None
    holding = [
        tool.name
        for tool in by_name.values()
        if any(same_stem(s, w) for s in said for w in _schema_words(tool))
    ]
    if len(holding) != 1 or holding[0] == call.name:
        return None
    return holding[0] if takes_arguments(by_name[holding[0]], call) else None


def tool_the_model_picks(
    backend: Backend,
    request: str,
    tools: Sequence[ToolSpec],
    options: GenerateOptions,
    cancel: CancelToken | None = None,
) -> str | None:
    """The tool the model picks for ``request`` when shown only the tools' names and
    descriptions, one per line, and made to answer with one of the names (a short prompt of
    its own, asked once, greedy or with ``options``' sampling). Measured on BFCL multiple:
    asked among ``get_events``, ``get_culture`` and ``get_monarchs`` about "the kings of
    France", it picks ``get_monarchs``, where its call began ``get_k...`` and the grammar
    gave ``get_culture``."""
    names = [tool.name for tool in tools]
    listing = "\n".join(f"- {tool.name}: {tool.description}" for tool in tools)
    (chooser,) = parse_tools(
        [
            {
                "name": "choose_function",
                "description": "The function that answers the request.",
                "parameters": {
                    "type": "object",
                    "properties": {"function": {"type": "string", "enum": names}},
                    "required": ["function"],
                },
            }
        ]
    )
    messages: list[Message] = [
        {"role": "system", "content": CHOOSER_PROMPT + listing},
        {"role": "user", "content": request},
    ]
    asked = GenerateOptions(
        max_tokens=_CHOOSER_TOKENS,
        temperature=options.temperature,
        seed=options.seed,
        allow_text=False,
    )
    try:
        answer = backend.generate(messages, [chooser], options=asked, cancel=cancel)
    except GenerationIncomplete:
        return None
    for call in answer.tool_calls:
        chosen = call.arguments.get("function")
        if isinstance(chosen, str) and chosen in names:
            return chosen
    return None


def takes_arguments(tool: ToolSpec, call: ToolCall) -> bool:
    """Whether ``tool`` takes ``call``'s arguments as they are."""
    return not validate_arguments(tool, call.arguments)


def renamed(call: ToolCall, name: str) -> ToolCall:
    """``call`` made to the tool ``name``; its refused-name flag now says where it went."""
    conflicts = tuple(
        Conflict(c.path, c.wanted, name) if c.path == "name" else c for c in call.conflicts
    )
    return dataclasses.replace(call, name=name, conflicts=conflicts)


def _schema_words(tool: ToolSpec) -> set[str]:
    """The words of a tool's description and parameter schemas."""
    return set(WORD.findall(f"{tool.description} {json.dumps(tool.parameters)}".lower()))
