""" "add" for ``sum``, "arranged" for ``sort_array``: the relevance policy knows an
operation by its everyday words."""

from __future__ import annotations

import pytest

from app.operation_words import with_operation_synonyms
from app.tool_choice import request_mentions_tool, respond
from backends.schema import ToolSpec, parse_tools
from tests.scripted_backend import ScriptedBackend


def _tool(name: str, description: str, properties: dict[str, object]) -> ToolSpec:
    (tool,) = parse_tools(
        [
            {
                "name": name,
                "description": description,
                "parameters": {
                    "type": "object",
                    "properties": properties,
                    "required": list(properties),
                },
            }
        ]
    )
    return tool


SUM = _tool(
    "sum",
    "Calculate the sum of two numeric values.",
    {"a": {"type": "number"}, "b": {"type": "number"}},
)
SORT = _tool(
    "sort_array",
    "Sorts an array of integers in ascending order.",
    {"array": {"type": "array", "items": {"type": "integer"}}},
)
WEATHER = _tool("get_weather", "The weather forecast of a city", {"city": {"type": "string"}})


def test_a_word_of_an_operation_brings_the_others() -> None:
    assert {"sum", "total"} <= with_operation_synonyms({"add", "numbers"})
    assert with_operation_synonyms({"weather"}) == {"weather"}


@pytest.mark.parametrize(
    ("request_text", "tool", "mentioned"),
    [
        ("Could you tell me what I get if I add 5.0 to 3.0?", SUM, True),
        ("The numbers [1, 54, 3] arranged from the smallest to the largest", SORT, True),
        # an operation's word is no word about the weather
        ("Could you tell me what I get if I add 5.0 to 3.0?", WEATHER, False),
        ("Add a note: the weather in Paris", SORT, False),
    ],
)
def test_the_relevance_policy_reads_an_operation_by_its_words(
    request_text: str, tool: ToolSpec, mentioned: bool
) -> None:
    assert request_mentions_tool(request_text, tool) is mentioned


def test_a_call_to_the_operation_the_user_named_in_other_words_is_kept() -> None:
    call = '{"name": "sum", "arguments": {"a": 5.0, "b": 3.0}}'
    messages = [{"role": "user", "content": "Could you tell me what I get if I add 5.0 to 3.0?"}]
    answer = respond(ScriptedBackend([call, call, call]), messages, [SUM, WEATHER])
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [("sum", {"a": 5.0, "b": 3.0})]
