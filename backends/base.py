"""The interface every model runtime implements.

One class per runtime (``backends.llamacpp``, ``backends.mlxlm``), each importing its heavy
library lazily and raising :class:`~backends.errors.RuntimeNotInstalledError` with the extra to
install when it is missing. Capabilities are class attributes, not string switches.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from backends.call_format import CallFormat
from backends.errors import GenerationIncomplete
from backends.generation import Completion, GenerationEvent
from backends.schema import ToolSpec

Message = Mapping[str, Any]


class CancelToken:
    """Set from any thread to stop a generation at the next token.

    A cancelled generation raises :class:`~backends.errors.GenerationCancelled` and returns
    nothing partial; the runtime's cache stays consistent for the next request.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the generation to stop."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()


@dataclass(frozen=True)
class GenerateOptions:
    """How to generate.

    Attributes:
        max_tokens: budget for the answer.
        temperature: 0 for greedy decoding, the default: tool calls should be reproducible.
        seed: sampler seed when ``temperature > 0``.
        constrained: enforce the tool grammar (off only to measure what it buys).
        allow_text: with tools, the model may answer in text instead of calling one.
        allow_calls: with tools, the model may call one (False: a text answer, tools still in
            the prompt so the cached prefix is reused).
        more_calls: a call planner. Given the calls written so far (the raw output), it returns
            the logits to add to "another call" wherever the list of calls may end; with a
            planner, calls always come as a JSON array so the model can go on. ``None``
            leaves the number of calls to the model and the call format.
        constrain_to: the tools the grammar enforces, when they differ from the tools shown
            in the prompt (for example with optional arguments the request never mentions
            left out): the prompt, and its cached prefix, stay the same for every request.
        numbers: numbers the user wrote in a list, as JSON writes them ("5,10 and 15": ``5``,
            ``10``, ``15``). While a top-level argument value is one of them,
            a digit that would turn it into a number that is none of them (nor the start of
            one) loses ``number_bias`` logits: the model glues "5,10 and 15" into ``510``.
        number_bias: how strongly; 0 turns the guard off.
        other_numbers: the user's other numbers, as JSON writes them: a guarded value on its
            way to one of them is not pushed ("$1000 ... for 1, 5 and 10 years": ``1000``
            passes through the listed ``1`` and ``10``).
        unsaid_examples: words the tools' descriptions give as examples that the user did
            not write, and their starts (``ca`` of "e.g. San Francisco, CA" when the user
            asked about Tel Aviv; casefolded). A token whose first word, opening a new word
            of a top-level string value, is one of them loses ``example_bias`` logits: the
            bundled model copied "CA" into "Tel Aviv, CA" and "Moscow, CA" with a margin of
            1-4 logits over the region it knows, and kept "San Francisco, CA" by 7.
        example_bias: how strongly; 0 turns the guard off.
        single_call: at most one call per answer (OpenAI's ``parallel_tool_calls: false``):
            the grammar drops the list form.
        response_schema: a JSON Schema the whole answer must match (OpenAI's
            ``response_format`` of type ``json_schema``), instead of the text-or-call grammar;
            the answer comes back as text (the JSON).
        backslashes: a call's free-text values (strings with no enum, const, pattern or
            format) may hold a backslash. Set it to whether the user (or a tool's result)
            wrote one (:func:`backends.grammar.said_backslash`): without, the grammar refuses
            the escape ``\\\\`` and keeps ``\\n``, so a note "with milk and eggs" is not
            saved as ``- milk\\n- eggs`` on one line; a path the user typed as
            ``C:\\Users`` can still be written.
        prefer_tool: where the grammar refuses the tool name the model wants, the name it
            writes instead is this one when the grammar allows it, not the model's next best
            (the tool a routing step chose; see :meth:`backends.decoding.TokenChooser.step`).
    """

    max_tokens: int = 512
    temperature: float = 0.0
    seed: int = 0
    constrained: bool = True
    allow_text: bool = True
    allow_calls: bool = True
    more_calls: Callable[[str], float] | None = None
    constrain_to: tuple[ToolSpec, ...] | None = None
    numbers: tuple[str, ...] = ()
    number_bias: float = 8.0
    other_numbers: tuple[str, ...] = ()
    unsaid_examples: tuple[str, ...] = ()
    example_bias: float = 5.0
    draft_tokens: int = 6
    single_call: bool = False
    response_schema: dict[str, Any] | None = None
    backslashes: bool = True
    prefer_tool: str | None = None


class Backend(ABC):
    """A loaded model that renders prompts and generates text or tool calls."""

    name: ClassVar[str]
    supports_grammar: ClassVar[bool] = True
    supports_prefix_cache: ClassVar[bool] = False

    @abstractmethod
    def load(self, model_path: Path) -> None:
        """Load the model at ``model_path`` (a GGUF for llama.cpp)."""

    @property
    @abstractmethod
    def architecture(self) -> str:
        """The model family (GGUF ``general.architecture``), which picks the call format."""

    @property
    @abstractmethod
    def call_format(self) -> CallFormat:
        """How this model writes tool calls."""

    @abstractmethod
    def tokenize(self, text: str) -> list[int]:
        """Token ids of ``text``, special tokens parsed."""

    @abstractmethod
    def detokenize(self, tokens: Sequence[int]) -> str:
        """Text of ``tokens``."""

    @abstractmethod
    def render(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        add_generation_prompt: bool = True,
    ) -> str:
        """The prompt for ``messages`` and ``tools`` in the model's own chat template."""

    @abstractmethod
    def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[GenerationEvent]:
        """Generate, yielding deltas as they are decoded and the :class:`Completion` last.

        Raises:
            GrammarError: the tools cannot be turned into a grammar (or the list is empty).
            GenerationCancelled: ``cancel`` was set.
            GenerationIncomplete: the budget ran out in the middle of a tool call.
            ContextOverflowError: the prompt does not fit the context.
        """

    def generate(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Completion:
        """Like :meth:`stream`, returning only the final completion."""
        for event in self.stream(messages, tools, options=options, cancel=cancel):
            if isinstance(event, Completion):
                return event
        raise GenerationIncomplete("the model stopped without an answer")  # pragma: no cover

    def prefix_tokens(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None
    ) -> list[int]:
        """The tokens every prompt with this first system message and these tools starts with
        (what a backend with ``supports_prefix_cache`` keeps ready); none by default."""
        return []

    def warm_prefix(
        self, messages: Sequence[Message], tools: Sequence[ToolSpec] | None = None
    ) -> float:
        """Make the system-and-tools prefix ready so the next request reads only the user's
        words; returns the seconds it took (nothing to do by default)."""
        return 0.0

    def close(self) -> None:  # noqa: B027 - optional hook
        """Free the model's memory."""
