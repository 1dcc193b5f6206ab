"""The tool the model meant where the grammar refused the name it began."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence

from app.refused_names import refused_name, renamed, tool_by_begun_word
from app.tool_choice import respond
from backends.base import CancelToken, GenerateOptions, Message
from backends.generation import Completion, Conflict, GenerationEvent, ToolCall
from backends.schema import ToolSpec, parse_tools
from tests.scripted_backend import ScriptedBackend


def _statistics_tool(name: str, kind: str, examples: str) -> dict[str, object]:
    return {
        "name": name,
        "description": f"Retrieve {kind} data for a specific year and {kind} category",
        "parameters": {
            "type": "object",
            "properties": {
                "year": {"type": "integer", "description": "The year of the data"},
                "category": {
                    "type": "string",
                    "description": f"The {kind} category (e.g., {examples})",
                },
            },
            "required": ["year", "category"],
        },
    }


STATISTICS = parse_tools(
    [
        _statistics_tool("get_bureau_statistics", "statistical", "employment, crime, health"),
        _statistics_tool("get_population", "population", "total, veterans, women"),
        _statistics_tool("get_demographics", "demographic", "gender, race, age"),
    ]
)
BY_NAME = {tool.name: tool for tool in STATISTICS}
VETERANS = "How many veterans were there in the year 1954?"
REFUSED = ToolCall(
    name="get_bureau_statistics",
    arguments={"year": 1954, "category": "veterans"},
    conflicts=(Conflict("name", "get_v", "get_bureau_statistics"),),
)


def test_a_name_no_tool_begins_with_is_refused() -> None:
    assert refused_name(REFUSED, BY_NAME) == "get_v"
    # a forced call cut the model's own tool name short: that name was allowed
    cut = ToolCall(
        name="get_demographics",
        arguments={},
        conflicts=(Conflict("name", "get_pop", "get_demographics"),),
    )
    assert refused_name(cut, BY_NAME) is None
    assert refused_name(ToolCall(name="get_population", arguments={}), BY_NAME) is None


def test_the_tool_holding_the_begun_word_is_the_meant_one() -> None:
    assert tool_by_begun_word(REFUSED, "get_v", BY_NAME, VETERANS) == "get_population"
    # no word of the request begins with what the model wrote
    assert tool_by_begun_word(REFUSED, "get_w", BY_NAME, VETERANS) is None
    # the word's tool must take the call's arguments as they are
    other = ToolCall(name="get_bureau_statistics", arguments={"year": 1954, "region": "US"})
    assert tool_by_begun_word(other, "get_v", BY_NAME, VETERANS) is None


def test_a_renamed_call_keeps_its_flag() -> None:
    call = renamed(REFUSED, "get_population")
    assert call.name == "get_population"
    assert call.conflicts == (Conflict("name", "get_v", "get_population"),)


class _RefusingBackend(ScriptedBackend):
    """The script's first call comes with the grammar's refusal of the name it began."""

    def __init__(self, replies: Sequence[str], wanted: str) -> None:
        super().__init__(replies)
        self.wanted = wanted

    def stream(
        self,
        messages: Sequence[Message],
        tools: Sequence[ToolSpec] | None = None,
        *,
        options: GenerateOptions | None = None,
        cancel: CancelToken | None = None,
    ) -> Iterator[GenerationEvent]:
        first = not self.prompts
        for event in super().stream(messages, tools, options=options, cancel=cancel):
            if first and isinstance(event, Completion) and event.tool_calls:
                call = event.tool_calls[0]
                flag = Conflict("name", self.wanted, call.name)
                flagged = dataclasses.replace(call, conflicts=(flag,))
                event = dataclasses.replace(event, tool_calls=(flagged,))
            yield event


def _call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments})


def test_a_refused_name_goes_to_the_tool_whose_schema_holds_the_begun_word() -> None:
    reply = _call("get_bureau_statistics", year=1954, category="veterans")
    backend = _RefusingBackend([reply] * 4, "get_v")
    answer = respond(backend, [{"role": "user", "content": VETERANS}], STATISTICS)
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [
        ("get_population", {"year": 1954, "category": "veterans"})
    ]


HISTORY = parse_tools(
    [
        {
            "name": f"european_history.get_{what}",
            "description": f"Provides {about} based on the specified country and century.",
            "parameters": {
                "type": "object",
                "properties": {"country": {"type": "string"}, "century": {"type": "integer"}},
                "required": ["country", "century"],
            },
        }
        for what, about in [
            ("events", "a list of major historical events"),
            ("culture", "information on cultural trends, art movements"),
            ("monarchs", "a list of monarchs"),
        ]
    ]
)
KINGS = "Who were the kings of France during the 18th century?"


def test_otherwise_the_model_picks_among_the_tools_by_their_descriptions() -> None:
    reply = _call("european_history.get_culture", country="France", century=18)
    chosen = _call("choose_function", function="european_history.get_monarchs")
    backend = _RefusingBackend([reply, chosen, reply, reply], "european_history.get_k")
    answer = respond(backend, [{"role": "user", "content": KINGS}], HISTORY)
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [
        ("european_history.get_monarchs", {"country": "France", "century": 18})
    ]
    # the model was shown each tool with its description, and could answer with a name only
    chooser = next(i for i, names in enumerate(backend.offered) if names == ["choose_function"])
    assert "- european_history.get_monarchs: Provides a list of monarchs" in str(
        backend.prompts[chooser][0]["content"]
    )
    assert backend.options[chooser].allow_text is False


def test_a_call_whose_name_was_allowed_asks_nothing_more() -> None:
    reply = _call("european_history.get_culture", country="France", century=18)
    backend = ScriptedBackend([reply, reply, reply])
    answer = respond(backend, [{"role": "user", "content": KINGS}], HISTORY)
    assert [c.name for c in answer.tool_calls] == ["european_history.get_culture"]
    assert ["choose_function"] not in backend.offered
