"""Values the model copied or ordered wrong are mended before the call runs."""

from __future__ import annotations

import pytest

from app.call_values import (
    with_asked_unit,
    with_lettered_numbers,
    with_named_identifiers,
    with_named_numbers,
    with_numbered_order,
    with_quoted_values,
    with_route_order,
    with_said_unit,
    without_copied_options,
    without_repeats,
)
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


(CIRCLE, CONVERT) = parse_tools(
    [
        {
            "name": "circle_area",
            "parameters": {
                "type": "object",
                "properties": {
                    "radius": {"type": "number"},
                    "unit": {"type": "string", "description": "The unit. Defaults to cm."},
                },
                "required": ["radius"],
            },
        },
        {
            "name": "convert",
            "parameters": {
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "from_unit": {"type": "string"},
                    "to_unit": {"type": "string"},
                },
                "required": ["value", "from_unit", "to_unit"],
            },
        },
    ]
)


@pytest.mark.parametrize(
    ("request_text", "written", "sent"),
    [
        ("Area of a circle with a radius of 5 meters", "cm", "meters"),  # the default copied
        ("Area of circles of radius 5m and 10m", "cm", "m"),
        ("Area of a circle with a radius of 5 meters", "m", "m"),  # the same unit
        ("A circle of radius 5 meters, or 20 feet", "cm", "cm"),  # two units: unclear
        ("A circle of radius 5 meters weighing 2 kg", "kg", "kg"),  # mass: nothing said
        ("A circle of radius 5 in Paris", "cm", "cm"),  # "in" is not inches here
        ("Accelerating at 6 m/s² over a radius of 5", "cm", "cm"),  # a speed, not a length
        ("Area of a circle with a radius of 5", "cm", "cm"),  # no unit said
        ("Area of a circle with a radius of 5 meters", "metric", "metric"),  # not a unit
    ],
)
def test_a_unit_copied_from_the_default_becomes_the_users(
    request_text: str, written: str, sent: str
) -> None:
    call = with_said_unit(_call("circle_area", radius=5, unit=written), CIRCLE, request_text)
    assert call.arguments == {"radius": 5, "unit": sent}


@pytest.mark.parametrize(
    ("request_text", "sent"),
    [
        ("The area of a circle with a radius of 5, in square meters", {"unit": "meters"}),
        ("The driving distance in miles for a radius of 5", {"unit": "miles"}),
        ("A circle of radius 5 in Paris", {}),  # a place, not a unit
        ("The speed in km/h over a radius of 5", {}),  # a rate, not a length
        ("A radius of 5 in miles, the area in feet", {}),  # two units: unclear
    ],
)
def test_a_left_out_unit_is_the_one_the_answer_was_asked_in(
    request_text: str, sent: dict[str, str]
) -> None:
    call = with_asked_unit(_call("circle_area", radius=5), CIRCLE, request_text)
    assert call.arguments == {"radius": 5, **sent}
    # a unit the model wrote stays for with_said_unit to judge
    given = _call("circle_area", radius=5, unit="cm")
    assert with_asked_unit(given, CIRCLE, request_text) == given


def test_a_number_written_with_its_letter_keeps_it() -> None:
    """ "from 221B Baker Street": "221 Baker Street" is another house."""
    (ride,) = parse_tools(
        [
            {
                "name": "ride",
                "parameters": {
                    "type": "object",
                    "properties": {"loc": {"type": "string"}},
                    "required": ["loc"],
                },
            }
        ]
    )
    request = "I need a ride from 221B Baker Street, Berkeley, and I can wait up to 600 seconds"
    call = _call("ride", loc="221 Baker Street, Berkeley")
    assert with_lettered_numbers(call, ride, request).arguments == {
        "loc": "221B Baker Street, Berkeley"
    }
    # the user wrote "221 Baker Street" too: the model's text is theirs
    both = f"{request}, or from 221 Baker Street, Berkeley"
    assert with_lettered_numbers(call, ride, both) == call


def test_the_ends_of_a_conversion_are_not_the_users_unit() -> None:
    """ "Convert 15 km to miles": ``to_unit`` is the unit asked for, not one said with a number."""
    call = _call("convert", value=15, from_unit="km", to_unit="mi")
    assert with_said_unit(call, CONVERT, "Convert 15 km to miles") == call


(RECTANGLE,) = parse_tools(
    [
        {
            "name": "rectangle",
            "parameters": {
                "type": "object",
                "properties": {"width": {"type": "number"}, "length": {"type": "integer"}},
                "required": ["width", "length"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "written", "sent"),
    [
        (  # the bundled model's answer, the two numbers the wrong way round
            "A playground with a length of 50 meters and a width of 30 meters",
            {"width": 50, "length": 30},
            {"width": 30, "length": 50},
        ),
        ("width = 30, length = 50", {"width": 50, "length": 30}, {"width": 30, "length": 50}),
        (  # right already
            "A playground with a length of 50 meters and a width of 30 meters",
            {"width": 30, "length": 50},
            {"width": 30, "length": 50},
        ),
        (  # only one of them named: not enough to swap
            "A playground 50 long with a width of 30",
            {"width": 50, "length": 30},
            {"width": 50, "length": 30},
        ),
        (  # each name has both numbers (two rectangles): left as written
            "A length of 50 and a width of 30, then a length of 30 and a width of 50",
            {"width": 50, "length": 30},
            {"width": 50, "length": 30},
        ),
    ],
)
def test_numbers_the_user_named_go_to_their_arguments(
    request_text: str, written: dict[str, object], sent: dict[str, object]
) -> None:
    call = with_named_numbers(_call("rectangle", **written), RECTANGLE, request_text)
    assert call.arguments == sent


(TIME_DIFFERENCE,) = parse_tools(
    [
        {
            "name": "time_difference",
            "parameters": {
                "type": "object",
                "properties": {"city_1": {"type": "string"}, "city_2": {"type": "string"}},
                "required": ["city_1", "city_2"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "meant"),
    [
        ("The time difference between Beijing and Tokyo", ("Beijing", "Tokyo")),
        # a city written twice: which place the user meant first is not plain
        ("Time in Tokyo, then the difference between Beijing and Tokyo", ("Tokyo", "Beijing")),
    ],
)
def test_numbered_arguments_follow_the_users_order(
    request_text: str, meant: tuple[str, str]
) -> None:
    call = _call("time_difference", city_1="Tokyo", city_2="Beijing")
    mended = with_numbered_order(call, TIME_DIFFERENCE, request_text)
    assert (mended.arguments["city_1"], mended.arguments["city_2"]) == meant


def test_optional_text_copied_from_another_argument_is_left_out() -> None:
    """ "add a news article titled 'Julian is testing'": the meta title and URL name copied
    from the title, and the made-up content copied into the meta description, are not the
    user's; a short value two arguments share is kept (a track and its album)."""
    (cms,) = parse_tools(
        [
            {
                "name": "create_item",
                "parameters": {
                    "type": "object",
                    "properties": {
                        name: {"type": "string"}
                        for name in ("Title", "Content", "MetaTitle", "MetaDescription", "Album")
                    },
                    "required": ["Title"],
                },
            }
        ]
    )
    call = _call(
        "create_item",
        Title="Julian is testing",
        Content="A sample news article.",
        MetaTitle="Julian is testing",
        MetaDescription="A sample news article.",
    )
    assert without_copied_options(call, cms) == _call("create_item", Title="Julian is testing")
    song = _call("create_item", Title="The Getaway", Album="The Getaway")
    assert without_copied_options(song, cms) == song


def test_an_identifier_named_in_words_first_is_sent_alone() -> None:
    """ "the sentiment of today's journal entry my_journal_entry_text": the tool gets the
    identifier; "ideas for project_alpha" is a title, and stays one."""
    (tool,) = parse_tools(
        [
            {
                "name": "analyze",
                "parameters": {
                    "type": "object",
                    "properties": {"text": {"type": "string"}},
                    "required": ["text"],
                },
            }
        ]
    )
    request = "Analyze the sentiment of today's journal entry my_journal_entry_text."
    call = _call("analyze", text="Today's journal entry my_journal_entry_text")
    assert with_named_identifiers(call, tool, request).arguments == {
        "text": "my_journal_entry_text"
    }
    title = _call("analyze", text="Ideas for project_alpha")
    assert with_named_identifiers(title, tool, "Note down ideas for project_alpha") == title
