"""Every pass of the decision, in the order a turn runs them, each with a switch.

A pass is one of five kinds (:class:`Kind`): it shapes what the model is offered before it
decodes; a gate keeps or drops a call; a mend rewrites one call; a whole-answer mend rewrites
the list of calls; a re-ask runs the model again. Each has a name, the languages it reads
(``any`` when it reads no words, only the model, numbers or the schema) and a one-line reason.

The list is the one place that shows the order; the code that runs a pass asks
:func:`enabled` first, so ``--without NAME[,NAME]`` on ``eval`` and ``eval-assistant`` (and the
``policy_without`` setting) measures what each pass is worth. The ablation table in
docs/EVALUATION.md is made from those runs.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any


class Kind(enum.Enum):
    """When a pass runs and what it may change."""

    BEFORE = "before decoding"
    GATE = "gate"
    MEND = "mend one call"
    WHOLE = "mend the whole answer"
    REASK = "re-ask the model"


@dataclass(frozen=True)
class Pass:
    """One step of the decision."""

    name: str
    kind: Kind
    languages: str  # "any", or the languages its word lists read ("en")
    reason: str
    where: str  # the function that runs it


PIPELINE: tuple[Pass, ...] = (
    Pass(
        "answered_question",
        Kind.BEFORE,
        "any",
        "a reply that gives every value the assistant's question just asked a tool for "
        "(the tool's own reading of it) is a call of that tool alone, with no route",
        "app.assistant.Assistant",
    ),
    Pass(
        "route",
        Kind.BEFORE,
        "any",
        "the model picks the tool (or none) from one line per tool and exemplars in five "
        "languages; the connector of that tool is offered",
        "app.policy.decision.decide",
    ),
    Pass(
        "retrieval",
        Kind.BEFORE,
        "any",
        "the route chooses among the five tools a character n-gram BM25 index of the tools "
        "and their example requests ranks best",
        "app.policy.retrieval.retrieve",
    ),
    Pass(
        "nearest_examples",
        Kind.BEFORE,
        "any",
        "the route reads, for each tool it may choose (and none), that tool's example request "
        "nearest the request (character n-gram BM25), as turns just before it",
        "app.policy.retrieval.nearest_examples",
    ),
    Pass(
        "second_examples",
        Kind.BEFORE,
        "any",
        "the route reads the two nearest examples of each choice, not one: right on 103 of "
        "121 dev and 101 of 123 test requests routed alone, against 97 and 92 (and twice "
        "the route's time)",
        "app.policy.decision.routing_messages",
    ),
    Pass(
        "exemplar_calls",
        Kind.BEFORE,
        "any",
        "the system message shows requests in five languages with the calls that answer "
        "them, for the offered tools",
        "app.policy.exemplar_calls.examples_text",
    ),
    Pass(
        "select_groups",
        Kind.BEFORE,
        "en",
        "without a routed tool, the connectors whose words the request shares are offered",
        "app.tool_selection.select_groups",
    ),
    Pass(
        "argument_scope",
        Kind.BEFORE,
        "en",
        "optional arguments the request never mentions are left out of the grammar",
        "app.argument_scope.scoped_tools",
    ),
    Pass(
        "close_choices",
        Kind.BEFORE,
        "any",
        "an argument limited to the user's things (note and event titles) is limited to "
        "those whose character n-grams the request shares most, when it names none",
        "app.policy.retrieval.closest_values",
    ),
    Pass(
        "earlier_things",
        Kind.BEFORE,
        "any",
        "an argument limited to the user's things, when the request names none of them, is "
        "limited to those the previous answer showed (a follow-up: 'append it there')",
        "app.argument_scope.named_in",
    ),
    Pass(
        "said_values",
        Kind.BEFORE,
        "any",
        "an argument the tool can read from the request (a date, by dateparser in the "
        "user's language; an event's place, after a word that says where) may only be a "
        "stretch of the request that reads as one",
        "app.policy.said_values.with_said",
    ),
    Pass(
        "routed_call",
        Kind.BEFORE,
        "any",
        "a request the route gave a tool is answered with a call (the route already chose "
        "between a call and a text answer); a call cut short by the budget falls back to "
        "the free choice",
        "app.policy.decision.call_is_decided",
    ),
    Pass(
        "routed_name",
        Kind.BEFORE,
        "any",
        "where the grammar refuses the tool name the model wants (a tool left out for a "
        "missing value), the route's tool is written, not the model's next best",
        "backends.decoding.TokenChooser",
    ),
    Pass(
        "clarify",
        Kind.BEFORE,
        "any",
        "when the routed tool requires a value the request does not give, the model asks "
        "for it in the user's language instead of inventing one",
        "app.policy.clarify.question",
    ),
    Pass(
        "one_each",
        Kind.WHOLE,
        "any",
        "calls of one tool that share a date the request said, while another it said goes "
        "unused, get one each in the request's order",
        "app.policy.said_values.one_each",
    ),
    Pass(
        "said_filled",
        Kind.MEND,
        "any",
        "a listing or search the model left without the one value the request says for an "
        "argument (a day, a slot's length) gets it",
        "app.policy.said_values.with_said_filled",
    ),
    Pass(
        "unsaid_details",
        Kind.MEND,
        "any",
        "an optional detail (an event's notes) whose text shares no word with the "
        "conversation is the model's, not the user's: it is left out of the call",
        "app.policy.unsaid_details.without_unsaid_details",
    ),
    Pass(
        "unsaid_text",
        Kind.GATE,
        "any",
        "a change whose required text to write shares no word with the conversation is not "
        "proposed; the user is asked what to write",
        "app.policy.clarify.unsaid_text",
    ),
    Pass(
        "thing_pick",
        Kind.REASK,
        "any",
        "where the grammar put another of the user's things in a call than the model wanted "
        "(a name in the request's language), the model is asked which one the request means, "
        "or none",
        "app.policy.thing_choice.pick_thing",
    ),
    Pass(
        "no_unsaid_backslash",
        Kind.BEFORE,
        "any",
        "free text may not hold a backslash the user never typed, so a list keeps its line "
        "breaks instead of a literal backslash-n",
        "backends.grammar.said_backslash",
    ),
    Pass(
        "number_guard",
        Kind.BEFORE,
        "any",
        "digits that would glue the user's listed numbers together lose logits",
        "app.tool_choice.respond_stream",
    ),
    Pass(
        "unsaid_examples",
        Kind.BEFORE,
        "any",
        "words of the descriptions' examples the user did not write lose logits",
        "app.description_examples.unsaid_examples",
    ),
    Pass(
        "calls_in_text",
        Kind.WHOLE,
        "any",
        "a call the model wrote out in its text answer is made",
        "app.text_calls.calls_in_text",
    ),
    Pass(
        "invented_numbers",
        Kind.GATE,
        "any",
        "a call with numbers nobody said is dropped",
        "app.tool_choice.invents_numbers",
    ),
    Pass(
        "misread_measures",
        Kind.GATE,
        "en",
        "a call that misreads a unit the user gave is dropped",
        "app.measure_units.misreads_measures",
    ),
    Pass(
        "as_given",
        Kind.MEND,
        "en",
        "optional values and list items nobody gave are dropped; quoted, ordered, numbered, "
        "named, unit, percent, date and sign values are written as the user gave them",
        "app.tool_choice._as_given",
    ),
    Pass(
        "topic_gate",
        Kind.GATE,
        "en",
        "calls to tools the request shares no word with become a text answer (skipped when "
        "the route pass chose the tool)",
        "app.tool_choice.request_mentions_tool",
    ),
    Pass(
        "trim_calls",
        Kind.WHOLE,
        "en",
        "calls beyond what the request names are dropped",
        "app.tool_choice.trim_calls",
    ),
    Pass(
        "asked_lookups",
        Kind.REASK,
        "en",
        "a lookup the request names but the answer lacks is asked for",
        "app.tool_choice._with_asked_lookups",
    ),
    Pass(
        "missing_calls",
        Kind.REASK,
        "en",
        "the model is asked for the calls the request's values still need",
        "app.tool_choice._with_missing_calls",
    ),
    Pass(
        "meant_tool",
        Kind.REASK,
        "en",
        "a call to a tool the request does not name is asked again for the named one",
        "app.tool_choice._with_meant_tool",
    ),
    Pass(
        "named_calls",
        Kind.REASK,
        "en",
        "tools the request names one by one are each called",
        "app.tool_choice._with_named_calls",
    ),
    Pass(
        "by_parts",
        Kind.REASK,
        "en",
        "a request of several parts is answered part by part",
        "app.tool_choice._by_parts",
    ),
    Pass(
        "list_items",
        Kind.WHOLE,
        "en",
        "one call per item the user listed",
        "app.call_lists.with_list_items",
    ),
    Pass(
        "borrowed_numbers",
        Kind.WHOLE,
        "en",
        "a number copied from another call's part is dropped",
        "app.value_owners.without_borrowed_numbers",
    ),
    Pass(
        "whole_request",
        Kind.WHOLE,
        "en",
        "values only the whole request gives, and codes and places in the tools' own forms",
        "app.tool_choice._finished",
    ),
)

NAMES = frozenset(p.name for p in PIPELINE)

_WITHOUT: set[str] = set()  # process-wide: the UI runs turns in worker threads


class UnknownPassError(ValueError):
    """A name given to ``--without`` is not a pass."""


def parse_without(text: str | Iterable[str] | None) -> frozenset[str]:
    """The pass names in ``text`` ("a,b" or a list), checked against the pipeline.

    Raises:
        UnknownPassError: a name is not a pass; the message lists them.
    """
    if text is None:
        return frozenset()
    items = text.split(",") if isinstance(text, str) else list(text)
    names = frozenset(n.strip() for n in items if n.strip())
    unknown = sorted(names - NAMES)
    if unknown:
        raise UnknownPassError(
            f"no pass named {', '.join(unknown)}; the passes are: {', '.join(sorted(NAMES))}"
        )
    return names


def enabled(name: str) -> bool:
    """Whether the pass ``name`` runs (it is not switched off)."""
    assert name in NAMES, name
    return name not in _WITHOUT


def disabled() -> frozenset[str]:
    """The passes switched off now."""
    return frozenset(_WITHOUT)


def set_without(names: frozenset[str]) -> None:
    """Switch ``names`` off for this context (a command's whole run)."""
    _WITHOUT.clear()
    _WITHOUT.update(parse_without(list(names)))


@contextlib.contextmanager
def without(names: Iterable[str]) -> Iterator[None]:
    """Switch ``names`` off inside the block."""
    before = frozenset(_WITHOUT)
    set_without(frozenset(names))
    try:
        yield
    finally:
        set_without(before)


def add_without_option(parser: Any) -> None:
    """``--without NAME[,NAME]`` on an argparse (sub)parser."""
    parser.add_argument(
        "--without",
        metavar="NAME[,NAME]",
        help="switch these passes of the tool-choice policy off (names: "
        + ", ".join(p.name for p in PIPELINE)
        + ")",
    )


def table() -> list[str]:
    """The pipeline as lines: order, name, kind, languages, reason."""
    return [
        f"{i:2d}. {p.name} ({p.kind.value}; reads {p.languages}): {p.reason}"
        for i, p in enumerate(PIPELINE, 1)
    ]
