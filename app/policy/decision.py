"""The call / answer decision, made by the model in any language: which tool the request needs,
or none.

The main prompt shows the tools' full JSON Schemas (a thousand tokens and more), and a 0.5B model
reading them answers a German or French request with whatever tool comes first, or describes a
call in prose. Here the model reads a short routing prompt instead: one line per tool, a few
requests with the tool that does each (:mod:`app.policy.exemplars`, several languages), and the
user's request; the grammar lets it write only one of the tools' names or ``none``. Its choice
is the model's own score over the options, so it reads every language the model reads, with no
word lists. The routing prompt is one system message, whose KV state the prefix cache keeps:
after the first request a decision reads only the user's words and writes a few tokens.

The assistant then offers the chosen tool (the grammar allows it alone), or asks for a text
answer when the choice is ``none``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.policy import pipeline
from app.policy.exemplars import EXEMPLARS, NO_TOOL
from app.policy.retrieval import nearest_examples, retrieve
from backends.base import Backend, CancelToken, GenerateOptions
from backends.schema import ToolSpec

Message = Mapping[str, Any]

_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_DESCRIPTION_CHARS = 110  # a tool's line: its first sentence, at most this long
_EARLIER_CHARS = 240  # what the decision sees of the assistant's previous answer
_REQUEST_CHARS = 600  # and of the request: its start says what it is for; a pasted text
# of thousands of words must not overflow the context (the main prompt cuts it its own way)

ROUTING = (
    "You route a user's request to the tool that does it. Answer with the name of the one "
    "tool the request needs, or none when no tool does it: something you can answer "
    "yourself (facts, maths, translations, small talk) or a service not in the list (e-mail, "
    "messages, shopping). The request may be in any language.\n"
)


@dataclass(frozen=True)
class Decision:
    """What the request needs: ``tool`` (a name of the offered tools) or ``None`` for a text
    answer."""

    tool: str | None


def first_sentence(description: str) -> str:
    """A tool's description cut to its first sentence, for a one-line list."""
    text = " ".join(description.split())
    head = _SENTENCE_END.split(text, maxsplit=1)[0]
    return head if len(head) <= _DESCRIPTION_CHARS else head[: _DESCRIPTION_CHARS - 1] + "…"


def routing_prompt(
    tools: Sequence[ToolSpec], exemplars: Sequence[tuple[str, str]] = EXEMPLARS
) -> str:
    """The routing system message for ``tools``: the instruction, one line per tool, and the
    exemplars whose tool is offered (all of the ``none`` ones when any is)."""
    names = {tool.name for tool in tools}
    lines = [ROUTING, "Tools:"]
    lines += [f"- {tool.name}: {first_sentence(tool.description)}" for tool in tools]
    lines.append(f"- {NO_TOOL}: no tool does it; answer in text.")
    shown = [(text, name) for text, name in exemplars if name in names]
    if shown:
        shown += [(text, name) for text, name in exemplars if name == NO_TOOL]
        lines.append("Examples:")
        lines += [f"{json.dumps(text, ensure_ascii=False)} -> {name}" for text, name in shown]
    return "\n".join(lines)


def routing_messages(
    tools: Sequence[ToolSpec],
    request: str,
    earlier: Sequence[Message] = (),
    candidates: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The routing conversation: the system message, the previous exchange when there is one
    (a follow-up such as "move them to archive" names its things there), and the request."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": routing_prompt(tools)}]
    if pipeline.enabled("nearest_examples"):
        among = None if candidates is None else {*candidates, NO_TOOL}
        per_choice = EXAMPLES_PER_CHOICE if pipeline.enabled("second_examples") else 1
        found = nearest_examples(request, tools, NEAREST, among=among, per_choice=per_choice)
        for text, name in found:
            messages.append({"role": "user", "content": text})
            messages.append({"role": "assistant", "content": json.dumps(name)})
    for message in earlier:
        content = message.get("content")
        if message.get("role") in ("user", "assistant") and isinstance(content, str) and content:
            messages.append({"role": message["role"], "content": content[:_EARLIER_CHARS]})
    messages.append({"role": "user", "content": request[:_REQUEST_CHARS]})
    return messages


# Example requests near the request, as earlier turns after the cached system message (a few
# dozen tokens): the routing prompt's examples are far from the request, these are near. One
# per tool the route may choose (and none), the nearest of each: route alone on the dev split
# (140 requests) 101 right, p50 1.63 s; 77 without examples. The NEAREST nearest of any tool
# scored 101 with 2 (p50 0.75 s), 102 with 4, 104 with 6, but showed only tools the request
# shares words with: "Add a dentist appointment tomorrow at 12:30" saw a free-time and a
# cancel example and was routed to notes_search.
#
# Two of each choice (the ``second_examples`` pass), measured on the single-request cases
# routed alone (ask cases left out; 2026-12-07): dev 97 -> 103 of 121, test 92 -> 101 of 123.
# It doubles the tokens the route reads after its cached prefix (about 1.9 -> 3.5 s a request
# on 2 cores). Five candidates with one example of each against two: four candidates scored 99
# with one and 96 with two, and the six nearest examples of any candidate 99 (dev).
EXAMPLES_PER_CHOICE = 2
NEAREST = 2  # without candidates (a caller outside the route)
CANDIDATES = 5  # the grammar lets the route choose among this many retrieved tools (and none)
# Up to this many tools the routing prompt lists them all, so its prefix is the same for every
# request and stays cached; beyond it (MCP servers' tools joining ours) it lists only the
# candidates: one line for each of 150 tools is about 3,800 tokens, most of a 4,096 context.
LISTED_TOOLS = 40


def decide(
    backend: Backend,
    request: str,
    tools: Sequence[ToolSpec],
    *,
    earlier: Sequence[Message] = (),
    keep: Sequence[str] = (),
    cancel: CancelToken | None = None,
) -> Decision:
    """The model's choice of one of ``tools`` for ``request``, or of a text answer.

    The prompt lists every tool (its prefix stays cached; only the candidates beyond
    :data:`LISTED_TOOLS` tools); the grammar narrows the choice to
    the :data:`CANDIDATES` tools retrieval ranks best for the request (the ``retrieval``
    pass, :mod:`app.policy.retrieval`) and the tools in ``keep`` (already used in this
    conversation). Measured on the product's ``dev`` split: the model alone routed 65 of 140
    requests right, among the five retrieved 77.

    Raises:
        The backend's errors (see :meth:`backends.base.Backend.stream`).
    """
    names = [tool.name for tool in tools]
    listed = list(tools)
    if pipeline.enabled("retrieval") and len(tools) > CANDIDATES:
        picked = retrieve(request, tools, CANDIDATES, keep=keep)
        names = [tool.name for tool in picked]
        if len(tools) > LISTED_TOOLS:
            listed = picked
    options = GenerateOptions(
        max_tokens=24, response_schema={"type": "string", "enum": [*names, NO_TOOL]}
    )
    completion = backend.generate(
        routing_messages(listed, request, earlier, names), None, options=options, cancel=cancel
    )
    try:
        chosen = json.loads(completion.text or '""')
    except json.JSONDecodeError:
        return Decision(None)
    return Decision(chosen if chosen in names else None)


def last_exchange(messages: Sequence[Message]) -> list[Message]:
    """The user's previous message and the assistant's text answer to it, from a conversation
    whose last message is the current request (empty for a first request)."""
    users = [i for i, m in enumerate(messages) if m.get("role") == "user"]
    if len(users) < 2:
        return []
    start, end = users[-2], users[-1]
    out: list[Message] = [messages[start]]
    answers = [
        m
        for m in messages[start + 1 : end]
        if m.get("role") == "assistant" and isinstance(m.get("content"), str) and m["content"]
    ]
    if answers:
        out.append(answers[-1])
    return out


def call_is_decided(routed: str | None, grammar_tools: Sequence[ToolSpec]) -> bool:
    """Whether the main pass must call a tool (the ``routed_call`` pass): the route chose a
    call over a text answer, and the bundled model, left to choose again, often answers in
    prose where the route was right ("Printer-setup.txt says 'Printer setup file.'" instead
    of reading the file). The caller falls back to the free choice when the forced call does
    not fit the token budget, so a model that cannot write the call still answers."""
    return (
        routed is not None
        and pipeline.enabled("routed_call")
        and any(t.name == routed for t in grammar_tools)
    )
