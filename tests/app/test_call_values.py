"""Values the model copied or ordered wrong are mended before the call runs."""

from __future__ import annotations

import pytest

from app.call_values import with_quoted_values, with_route_order, without_repeats
from backends.generation import ToolCall
from backends.schema import parse_tools


def _call(name: str, **arguments: object) -> ToolCall:
    return ToolCall(name=name, arguments=dict(arguments))


(TODO,) = parse_tools(
    [
        {
            "name": "todo",
            "parameters": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["add", "delete"]},
                    "content": {"type": "string"},
                },
                "required": ["type", "content"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "written", "meant"),
    [
        (  # the bundled model's answer: the whole sentence as the item to delete
            "Hi, my name is Charlie. Remove the 'todo random' item from my todo list",
            "Remove the 'todo random' item from my todo list",
            "todo random",
        ),
        (
            'Please add "call the bank" to my list',
            'add "call the bank" to my list',
            "call the bank",
        ),
        ("Add Meeting 'Q3' to my list", "Meeting 'Q3'", "Meeting 'Q3'"),  # a short value
        (
            "I don't know what's left, add it",
            "I don't know what's left",
            "I don't know what's left",
        ),
        ("Remove the 'todo random' item", "the todo random item", "the todo random item"),  # own
    ],
)
def test_a_copied_sentence_becomes_its_quoted_phrase(
    request_text: str, written: str, meant: str
) -> None:
    call = with_quoted_values(_call("todo", type="delete", content=written), TODO, request_text)
    assert call.arguments == {"type": "delete", "content": meant}


(TRAFFIC,) = parse_tools(
    [
        {
            "name": "traffic_estimate",
            "parameters": {
                "type": "object",
                "properties": {
                    "start_location": {"type": "string"},
                    "end_location": {"type": "string"},
                },
                "required": ["start_location", "end_location"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "written", "meant"),
    [
        (  # the bundled model's answer (BFCL multiple_66)
            "How much traffic should I expect from Las Vegas to Los Angeles this weekend?",
            ("Los Angeles", "Las Vegas"),
            ("Las Vegas", "Los Angeles"),
        ),
        ("Traffic from the airport to the hotel?", ("hotel", "airport"), ("airport", "hotel")),
        ("Traffic to Paris from Lyon?", ("Lyon", "Paris"), ("Lyon", "Paris")),  # already right
        ("Traffic between Lyon and Paris", ("Paris", "Lyon"), ("Paris", "Lyon")),  # no order said
        (  # both ways said: the model's order stands
            "From Lyon to Paris and back from Paris to Lyon",
            ("Paris", "Lyon"),
            ("Paris", "Lyon"),
        ),
    ],
)
def test_a_route_runs_the_way_the_user_said(
    request_text: str, written: tuple[str, str], meant: tuple[str, str]
) -> None:
    start, end = written
    call = _call("traffic_estimate", start_location=start, end_location=end)
    mended = with_route_order(call, TRAFFIC, request_text)
    assert (mended.arguments["start_location"], mended.arguments["end_location"]) == meant


(ARTICLE,) = parse_tools(
    [
        {
            "name": "create_article",
            "parameters": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "summary": {"type": "string"}},
                "required": ["title"],
            },
        }
    ]
)
SAMPLE = "This is a sample news article for testing purposes."


@pytest.mark.parametrize(
    ("request_text", "written", "sent"),
    [
        ("Add a news article titled 'Julian is testing'", f"{SAMPLE} " * 3, SAMPLE),  # a loop
        (  # as the decoder ends a loop: in the next round
            "Add a news article titled 'Julian is testing'",
            f"{SAMPLE} {SAMPLE} {SAMPLE} This",
            SAMPLE,
        ),
        ("Add a news article titled 'Julian is testing'", SAMPLE, SAMPLE),
        ("Summary: 'go go go go go go go'", "go go go go go go go", "go go go go go go go"),
        (  # the user's own repeats are theirs
            f"Summary: {SAMPLE} {SAMPLE} {SAMPLE}",
            f"{SAMPLE} {SAMPLE} {SAMPLE}",
            f"{SAMPLE} {SAMPLE} {SAMPLE}",
        ),
    ],
)
def test_a_looped_phrase_is_sent_once(request_text: str, written: str, sent: str) -> None:
    call = _call("create_article", title="Julian is testing", summary=written)
    assert without_repeats(call, ARTICLE, request_text).arguments["summary"] == sent
