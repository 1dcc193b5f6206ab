"""The ``asked_together`` pass: the user's answer to the assistant's question is read with the
request it completes, as one message, by the route and the main pass.

The model's words are scripted (tests/scripted_backend.py); the registry, the store, the
conversation and the assistant's turn are real.
"""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending
from app.policy import pipeline
from app.policy.answered_question import together
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

REQUEST = "Erinner mich, die Steuererklärung zu machen"
QUESTION = "Wann soll ich dich an die Steuererklärung erinnern?"
ANSWER = "Am Montag um 10"


def _answer_the_question(tool_context: ToolContext) -> tuple[ScriptedBackend, list]:
    reply = json.dumps(
        {
            "name": "calendar_create",
            "arguments": {"title": "Steuererklärung", "start": "Montag um 10"},
        }
    )
    backend = ScriptedBackend([reply], routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    conversation = assistant.conversations.create(title=REQUEST)
    assistant.conversations.append(conversation, {"role": "user", "content": REQUEST})
    assistant.conversations.append(conversation, {"role": "assistant", "content": QUESTION})
    return backend, list(assistant.turn(conversation, ANSWER))


def test_the_answer_to_a_question_is_read_with_the_request_it_completes(
    tool_context: ToolContext,
) -> None:
    """The bundled model, shown the answer as the newest message, titled the event "Montag um
    10"; joined, the request reads as one ("remind me to do my taxes on Monday at 10")."""
    backend, events = _answer_the_question(tool_context)
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["calendar_create"]
    assert backend.routed == [f"{REQUEST}\n{ANSWER}"]
    users = [m["content"] for m in backend.prompts[0] if m["role"] == "user"]
    assert users == [f"{REQUEST}\n{ANSWER}"]
    assert QUESTION not in json.dumps(backend.prompts[0], ensure_ascii=False)

    with pipeline.without(["asked_together"]):
        backend, _ = _answer_the_question(tool_context)
    assert backend.routed == [ANSWER]
    assert [m["content"] for m in backend.prompts[0] if m["role"] == "user"] == [REQUEST, ANSWER]


def test_only_an_answer_right_after_a_question_is_joined() -> None:
    asked = [
        {"role": "user", "content": "Add a dentist appointment"},
        {"role": "assistant", "content": "When is it?"},
        {"role": "user", "content": "Tuesday at 9"},
    ]
    assert together(asked) == [
        {"role": "user", "content": "Add a dentist appointment\nTuesday at 9"}
    ]
    told = [*asked[:1], {"role": "assistant", "content": "Done."}, asked[2]]
    assert together(told) == told
    after_a_call = [
        asked[0],
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "x"}}]},
        {"role": "tool", "content": "{}"},
        {"role": "assistant", "content": "Which one?"},
        asked[2],
    ]
    assert together(after_a_call) == after_a_call  # the question is about the results
