"""A conversation longer than the model's context keeps working, with no error for the user.

Real llama.cpp decoding on the tiny random-weight model (its byte-level vocabulary makes every
character about a token, so a few long messages overflow the context quickly), through the real
assistant, store and tools. Also, on the scripted backend, exactly what is dropped or cut.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from app.assistant import Assistant, AssistantOptions
from app.events import Event, TurnDone
from app.history_window import fit_to_context
from app.policy import pipeline
from app.prompt import INSTRUCTIONS
from app.refused_names import CHOOSER_PROMPT
from backends.base import GenerateOptions
from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.schema import ToolSpec
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend

CONTEXT = 6144
MAX_TOKENS = 64


class Recording(LlamaCppBackend):
    """The llama.cpp backend, keeping each prompt's size and whether it began with the cached
    prefix (the instructions and tools, whose KV state is reused)."""

    def __init__(self, settings: LlamaSettings) -> None:
        super().__init__(settings)
        self.prompts: list[dict[str, Any]] = []

    def stream(
        self,
        messages: Sequence[Any],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: Any = None,
    ) -> Iterator[Any]:
        tokens = self.tokenize(self.render(messages, tools))
        prefix = self.prefix_tokens(messages, tools)
        if tools is None or str(messages[0].get("content", "")).startswith(CHOOSER_PROMPT):
            # the route pass's short prompt (app.policy.decision), or the one that asks which
            # tool a refused name meant (app.refused_names): not a turn's
            self.routed = getattr(self, "routed", 0) + 1
            yield from super().stream(messages, tools, options=options, cancel=cancel)
            return
        self.prompts.append(
            {
                "tokens": len(tokens),
                "prefix_kept": bool(prefix) and tokens[: len(prefix)] == prefix,
                "first": dict(messages[0]),
                "last_user": next(
                    m["content"] for m in reversed(messages) if m.get("role") == "user"
                ),
            }
        )
        yield from super().stream(messages, tools, options=options, cancel=cancel)


@pytest.fixture(scope="module")
def model(tiny_long_gguf: Path) -> Iterator[Recording]:
    backend = Recording(LlamaSettings(n_ctx=CONTEXT, n_threads=1))
    backend.load(tiny_long_gguf)
    yield backend
    backend.close()


def _turn(assistant: Assistant, conversation: int | None, text: str) -> TurnDone:
    events: list[Event] = list(assistant.turn(conversation, text))
    done = events[-1]
    assert isinstance(done, TurnDone), events
    return done


def test_a_conversation_longer_than_the_context_keeps_working(
    model: Recording, tool_context: ToolContext
) -> None:
    assistant = Assistant(
        model,
        load_registry(),
        tool_context,
        AssistantOptions(max_tokens=MAX_TOKENS, max_steps=2, history=40),
    )
    conversation: int | None = None
    stored = 0
    # The tiny model's tokenizer spends about a token per byte: the exemplar calls in five
    # languages (app.policy.exemplar_calls) and 24 tools would fill its whole context, which
    # the bundled model's tokenizer does not; this test is about the history, so they are off.
    # The tiny model's route is random: a request it routes to a tool that needs a date the
    # request lacks gets a question (the clarify pass) and no main-pass prompt to check.
    with pipeline.without(["exemplar_calls", "clarify"]):
        for i in range(14):
            text = f"message {i}: " + f"please remember item {i} of my long shopping list. " * 30
            conversation = _turn(assistant, conversation, text).conversation_id
            stored += len(text)
    assert stored > 3 * CONTEXT  # the conversation is several contexts long
    assert model.prompts, "the model was called"
    for prompt in model.prompts:
        assert prompt["tokens"] + MAX_TOKENS <= CONTEXT
        assert prompt["first"]["role"] == "system"
        assert prompt["first"]["content"].startswith(INSTRUCTIONS)
        assert prompt["prefix_kept"], "the cached prefix (instructions and tools) is intact"
    assert model.prompts[-1]["last_user"].startswith("message 13:")
    assert len(assistant.conversations.messages(conversation)) >= 28  # nothing was deleted


def test_one_message_larger_than_the_context_is_cut_not_refused(
    model: Recording, tool_context: ToolContext
) -> None:
    assistant = Assistant(
        model, load_registry(), tool_context, AssistantOptions(max_tokens=MAX_TOKENS, max_steps=1)
    )
    text = "Summarise this: " + "lorem ipsum dolor sit amet " * 2000 + " THE END"
    with pipeline.without(["exemplar_calls"]):  # see the test above
        _turn(assistant, None, text)
    last = model.prompts[-1]
    assert last["tokens"] + MAX_TOKENS <= CONTEXT
    assert last["last_user"].startswith("Summarise this:")
    assert last["last_user"].endswith("THE END")
    assert "characters left out to fit" in last["last_user"]


# -- exactly what is kept, on the scripted backend (one character is one token) ---------------


def _conversation(exchanges: int, size: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "INSTRUCTIONS"}]
    for i in range(exchanges):
        messages += [
            {"role": "user", "content": f"q{i} " + "x" * size},
            {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "t"}}]},
            {"role": "tool", "name": "t", "content": f"r{i} " + "y" * size},
            {"role": "assistant", "content": f"a{i}"},
        ]
    messages.insert(len(messages) - 4, {"role": "system", "content": "Now: Wednesday"})
    return messages


def _scripted(context: int) -> ScriptedBackend:
    backend = ScriptedBackend([])
    backend.n_ctx = context  # type: ignore[attr-defined]
    return backend


def test_messages_that_fit_are_left_alone() -> None:
    messages = _conversation(3, 50)
    assert fit_to_context(_scripted(10_000), messages, None, reserve=100) == messages


def test_whole_old_exchanges_are_dropped_oldest_first() -> None:
    messages = _conversation(6, 100)
    fitted = fit_to_context(_scripted(1200), messages, None, reserve=100)
    assert fitted[0] == messages[0]
    assert fitted[1]["role"] == "user", "an exchange starts with its question"
    kept = [m["content"][:2] for m in fitted if m["role"] == "user"]
    assert kept == ["q2", "q3", "q4", "q5"]  # as many of the newest as fit
    assert fitted[-6:] == messages[-6:]  # the "now" line and the current exchange
    assert len("\n".join(f"{m['role']}: {m['content']}" for m in fitted)) <= 1200 - 100


def test_the_current_exchange_alone_too_long_is_cut_in_the_middle() -> None:
    messages = _conversation(1, 5000)
    fitted = fit_to_context(_scripted(2000), messages, None, reserve=200)
    rendered = "\n".join(f"{m['role']}: {m['content']}" for m in fitted)
    assert len(rendered) <= 2000 - 200
    assert fitted[0] == messages[0]
    assert [m["role"] for m in fitted] == [m["role"] for m in messages]
    user = next(m["content"] for m in fitted if m["role"] == "user")
    assert user.startswith("q0 xxx") and "left out to fit" in user


def test_instructions_larger_than_the_context_are_left_for_the_backend_to_report() -> None:
    messages = [{"role": "system", "content": "I" * 500}, {"role": "user", "content": "hi"}]
    assert fit_to_context(_scripted(300), messages, None, reserve=50) == messages
