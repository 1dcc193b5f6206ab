"""A call is repeated for each item of a list the user gave, and only for a plain list."""

from __future__ import annotations

import pytest

from app.call_lists import with_list_items
from app.enumerations import list_siblings
from backends.generation import ToolCall
from backends.schema import parse_tools


def _call(name: str, **arguments: object) -> ToolCall:
    return ToolCall(name=name, arguments=dict(arguments))


FUTURE_VALUE, STORE, WINS, TRIP, PAINT, SHADE = parse_tools(
    [
        {
            "name": "future_value",
            "parameters": {
                "type": "object",
                "properties": {
                    "present_value": {"type": "number"},
                    "rate": {"type": "number"},
                    "years": {"type": "integer"},
                },
                "required": ["present_value", "rate", "years"],
            },
        },
        {
            "name": "find_store",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "instruments": {"type": "array", "items": {"type": "string"}},
                },
                "required": ["location"],
            },
        },
        {
            "name": "winning_percentage",
            "parameters": {
                "type": "object",
                "properties": {"team": {"type": "string"}, "season": {"type": "integer"}},
                "required": ["team", "season"],
            },
        },
        {
            "name": "distance",
            "parameters": {
                "type": "object",
                "properties": {"origin": {"type": "string"}, "destination": {"type": "string"}},
                "required": ["origin", "destination"],
            },
        },
        {
            "name": "modify_painting",
            "parameters": {
                "type": "object",
                "properties": {
                    "medium": {"type": "string", "enum": ["oil", "acrylic", "watercolor"]},
                    "dominant_color": {"type": "string"},
                },
                "required": ["medium"],
            },
        },
        {
            "name": "color_info",
            "parameters": {
                "type": "object",
                "properties": {"color": {"type": "string"}},
                "required": ["color"],
            },
        },
    ]
)
TOOLS = [FUTURE_VALUE, STORE, WINS, TRIP, PAINT, SHADE]


@pytest.mark.parametrize(
    ("request_text", "value", "siblings"),
    [
        ("The future value of $1000 at 5% for 1,5 and 10 years.", 10, [1.0, 5.0]),
        ("A loan of $400,000 at 4% for 15, 20 and 30 years", 15, [20.0, 30.0]),
        ("A loan of $400,000 at 4% for 15, 20 and 30 years", 400000, []),  # no list
        (
            "A shop in San Francisco, California, and Chicago, Illinois.",
            "San Francisco, California",
            ["Chicago, Illinois"],
        ),
        (
            "The ancient empires Persian Empire and Mauryan Empire",
            "Mauryan Empire",
            ["Persian Empire"],
        ),
        ("RGB values for navy, purple and maroon?", "purple", ["navy", "maroon"]),
        ("Distance between New York City and Washington", "New York City", []),
        ("Lakers and Bulls in NBA seasons 2018 and 2020", "Lakers", ["Bulls"]),
        ("Apple listed on NASDAQ and Microsoft listed on NYSE", "NASDAQ", []),  # two clauses
        ("Change the medium to oil, and the dominant color to red", "oil", []),
        ("Prices for Microsoft and Apple. First, Microsoft's average price", "Microsoft", []),
        ("Shows on Netflix for 'Friends', and Hulu for 'The Office'", "Hulu", []),
    ],
)
def test_list_siblings(request_text: str, value: str | int, siblings: list[object]) -> None:
    assert list_siblings(request_text, value) == siblings


def test_a_call_is_repeated_for_the_list_items_it_left_out() -> None:
    request = "Calculate the future value of $1000 at an annual rate of 5% for 1,5 and 10 years."
    calls = [
        _call("future_value", present_value=1000, rate=0.05, years=1),
        _call("future_value", present_value=1000, rate=0.05, years=10),
    ]
    assert with_list_items(calls, TOOLS, request) == [
        calls[0],
        _call("future_value", present_value=1000, rate=0.05, years=5),
        calls[1],
    ]


def test_a_city_with_its_state_is_one_item() -> None:
    request = "The closest music shop in San Francisco, California, and Chicago, Illinois."
    call = _call("find_store", location="San Francisco, California", instruments=["piano"])
    assert with_list_items([call], TOOLS, request) == [
        call,
        _call("find_store", location="Chicago, Illinois", instruments=["piano"]),
    ]


@pytest.mark.parametrize(
    ("request_text", "calls"),
    [
        # every item has its call
        (
            "RGB values for navy and maroon",
            [_call("color_info", color="navy"), _call("color_info", color="maroon")],
        ),
        # the two ends of a route are no list
        (
            "The distance between New York and Washington",
            [_call("distance", origin="New York", destination="Washington")],
        ),
        # two lists, each item used: the user's pairs ("respectively") are the model's too
        (
            "Winning percentage of Lakers and Bulls in seasons 2018 and 2020 respectively",
            [
                _call("winning_percentage", team="Lakers", season=2018),
                _call("winning_percentage", team="Bulls", season=2020),
            ],
        ),
        # an item that is no value of the tool's enum
        ("Repaint it in oil and pastel", [_call("modify_painting", medium="oil")]),
        # "the multiples of 3 and 5", then "the first 5 primes": the 3 is used already
        (
            "Loans for 3 and 5 years",
            [_call("future_value", present_value=1, rate=3, years=5)],
        ),
    ],
)
def test_no_repeat_where_the_list_is_not_plain(request_text: str, calls: list[ToolCall]) -> None:
    assert with_list_items(calls, TOOLS, request_text) == calls


def test_items_paired_when_the_user_says_respectively() -> None:
    request = "Winning percentage of Lakers and Bulls in seasons 2018 and 2020 respectively"
    call = _call("winning_percentage", team="Lakers", season=2018)
    assert with_list_items([call], TOOLS, request) == [
        call,
        _call("winning_percentage", team="Bulls", season=2020),
    ]


def test_two_lists_ask_for_every_combination() -> None:
    request = "Find the winning percentage of Lakers and Bulls in NBA seasons 2018 and 2020."
    calls = [
        _call("winning_percentage", team="Lakers", season=2018),
        _call("winning_percentage", team="Bulls", season=2020),
    ]
    assert with_list_items(calls, TOOLS, request) == [
        calls[0],
        _call("winning_percentage", team="Lakers", season=2020),
        _call("winning_percentage", team="Bulls", season=2018),
        calls[1],
    ]


(CASE,) = parse_tools(
    [
        {
            "name": "case_status",
            "parameters": {
                "type": "object",
                "properties": {
                    "case_number": {"type": "string"},
                    "details": {
                        "type": "string",
                        "enum": ["status", "trial_date", "trial_judge"],
                        "default": "status",
                    },
                },
                "required": ["case_number"],
            },
        },
    ]
)


def test_a_choice_the_user_listed_in_its_own_words_gets_its_call() -> None:
    """ "the status and scheduled trial date": ``trial_date`` is the choice those words name."""
    request = "What is the status and scheduled trial date for case number XY1234 in LA?"
    call = _call("case_status", case_number="XY1234", details="status")
    assert with_list_items([call], [CASE], request) == [
        call,
        _call("case_status", case_number="XY1234", details="trial_date"),
    ]


@pytest.mark.parametrize(
    ("request_text", "calls"),
    [
        # "trial" is in two choices: which one the user means is not plain
        (
            "The status and trial of case XY1234",
            [_call("case_status", case_number="XY1234", details="status")],
        ),
        # a call without ``details`` asks for the default, the status
        (
            "The trial date and status of case XY1234",
            [
                _call("case_status", case_number="XY1234"),
                _call("case_status", case_number="XY1234", details="trial_date"),
            ],
        ),
    ],
)
def test_no_choice_repeat_where_it_is_not_plain_or_done(
    request_text: str, calls: list[ToolCall]
) -> None:
    assert with_list_items(calls, [CASE], request_text) == calls


def test_each_case_gets_every_listed_choice() -> None:
    """Two cases and "the status and scheduled trial date": four calls, whichever choice the
    model wrote for each case (a choice another case has is not this case's)."""
    request = "What is the status and scheduled trial date for case XY1234, and case GH5678?"
    calls = [
        _call("case_status", case_number="XY1234", details="status"),
        _call("case_status", case_number="GH5678", details="trial_date"),
    ]
    assert with_list_items(calls, [CASE], request) == [
        calls[0],
        _call("case_status", case_number="XY1234", details="trial_date"),
        calls[1],
        _call("case_status", case_number="GH5678", details="status"),
    ]


def test_a_pair_written_as_one_value_is_two_calls() -> None:
    """ "rock and jazz concerts" in two cities: four searches, not "Rock and Jazz" twice."""
    (concerts,) = parse_tools(
        [
            {
                "name": "concert_finder",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}, "genre": {"type": "string"}},
                    "required": ["location", "genre"],
                },
            }
        ]
    )
    request = "Find upcoming rock and jazz concerts in San Francisco and Chicago"
    calls = [
        _call("concert_finder", location="San Francisco", genre="Rock and Jazz"),
        _call("concert_finder", location="Chicago", genre="Rock and Jazz"),
    ]
    assert with_list_items(calls, [concerts], request) == [
        _call("concert_finder", location="San Francisco", genre="rock"),
        _call("concert_finder", location="San Francisco", genre="jazz"),
        _call("concert_finder", location="Chicago", genre="rock"),
        _call("concert_finder", location="Chicago", genre="jazz"),
    ]
    # a title the user wrote as one ("Pride and Prejudice") stays one value
    title = [_call("concert_finder", location="Bath", genre="Pride and Prejudice")]
    assert with_list_items(title, [concerts], "Pride and Prejudice plays in Bath") == title


(PARKS,) = parse_tools(
    [
        {
            "name": "parks",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "amenities": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "enum": ["Tennis Court", "Picnic Area", "Playground", "RGB", "HEX"],
                        },
                    },
                },
                "required": ["location", "amenities"],
            },
        }
    ]
)


def test_a_list_of_choices_gets_the_choices_listed_beside_its_own() -> None:
    """ "the RGB and HEX values": a list holding "RGB" gets "HEX" too."""
    call = _call("parks", location="navy", amenities=["RGB"])
    assert with_list_items([call], [PARKS], "What are the RGB and HEX values for navy?") == [
        _call("parks", location="navy", amenities=["RGB", "HEX"])
    ]


def test_a_choice_written_in_two_lists_adds_nothing() -> None:
    """Each city has its own amenities, and "Tennis Court" is in two of the lists."""
    request = (
        "Parks in New York that have a Tennis Court and a Picnic Area, and parks in Chicago"
        " that have a Tennis Court and a Playground"
    )
    calls = [
        _call("parks", location="New York", amenities=["Tennis Court", "Picnic Area"]),
        _call("parks", location="Chicago", amenities=["Tennis Court", "Playground"]),
    ]
    assert with_list_items(calls, [PARKS], request) == calls


def test_an_item_the_user_gave_another_call_leaves_this_one() -> None:
    """ "24 hours" is New York's, "home delivery" San Diego's."""
    request = (
        "Find a supermarket in New York City that opens 24 hours and another one in San Diego"
        " that offers home delivery."
    )
    calls = [
        _call("find_store", location="New York City", instruments=["24 hours", "Home Delivery"]),
        _call("find_store", location="San Diego", instruments=["Home Delivery"]),
    ]
    assert with_list_items(calls, TOOLS, request) == [
        _call("find_store", location="New York City", instruments=["24 hours"]),
        calls[1],
    ]


@pytest.mark.parametrize(
    "request_text",
    [
        # written before the cities: both calls ask for them
        "Find pool and sauna gyms in Boston and in Chicago",
        # written after the last city only: no item is New York's own, nothing to tell apart
        "Find gyms in New York and in Chicago with a pool and a sauna",
    ],
)
def test_shared_items_stay(request_text: str) -> None:
    calls = [
        _call("find_store", location="Boston", instruments=["pool", "sauna"]),
        _call("find_store", location="Chicago", instruments=["pool", "sauna"]),
    ]
    if "New York" in request_text:
        calls[0] = _call("find_store", location="New York", instruments=["pool", "sauna"])
    assert with_list_items(calls, TOOLS, request_text) == calls


def test_an_item_asked_before_both_places_is_asked_of_both() -> None:
    """ "opening hours and ticket prices ... for the museum in Washington D.C. and the Louvre in
    Paris": the Washington call left without the opening hours gets them back."""
    request = (
        "Find opening hours and ticket prices for the National Museum in Washington D.C. and"
        " the Louvre Museum in Paris."
    )
    calls = [
        _call("find_store", location="Washington D.C.", instruments=["ticket prices"]),
        _call("find_store", location="Paris", instruments=["opening hours", "ticket prices"]),
    ]
    assert with_list_items(calls, TOOLS, request) == [
        _call(
            "find_store", location="Washington D.C.", instruments=["ticket prices", "opening hours"]
        ),
        calls[1],
    ]


def test_lists_with_nothing_in_common_keep_their_own_items() -> None:
    """ "Apple, Microsoft and Tesla over 1 week, 2 weeks and 1 month respectively": each call's
    company is what tells it apart, not an item to share."""
    request = "Prices for Apple, Microsoft and Tesla over 1 week, 2 weeks and 1 month respectively"
    calls = [
        _call("find_store", location=period, instruments=[company])
        for company, period in (("Apple", "1 week"), ("Microsoft", "2 weeks"), ("Tesla", "1 month"))
    ]
    assert with_list_items(calls, TOOLS, request) == calls


def test_a_word_of_another_calls_name_is_not_this_calls_value() -> None:
    """ "a Chicken Noodle Soup recipe and a Vegan Salad recipe": the soup's search is not a
    vegan one; the salad's is, and a diet written on its own is everyone's."""
    (recipes,) = parse_tools(
        [
            {
                "name": "recipe_search",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "dish": {"type": "string"},
                        "diet": {"type": "string", "enum": ["Vegan", "Keto"]},
                    },
                    "required": ["dish"],
                },
            }
        ]
    )
    soup = _call("recipe_search", dish="Chicken Noodle Soup", diet="Vegan")
    salad = _call("recipe_search", dish="Vegan Salad", diet="Vegan")
    request = "Search for a Chicken Noodle Soup recipe and a Vegan Salad recipe."
    assert with_list_items([soup, salad], [recipes], request) == [
        _call("recipe_search", dish="Chicken Noodle Soup"),
        salad,
    ]
    request = "Search for vegan recipes: a Chicken Noodle Soup and a Vegan Salad."
    assert with_list_items([soup, salad], [recipes], request) == [soup, salad]


def test_a_city_written_short_repeats_with_the_next_city_short() -> None:
    """ "hotels in Paris, France and New York, USA", a call for "Paris": New York's is written
    the same way, without its country."""
    request = "Find stores in Paris, France and New York, USA with a piano."
    call = _call("find_store", location="Paris", instruments=["piano"])
    assert with_list_items([call], TOOLS, request) == [
        call,
        _call("find_store", location="New York", instruments=["piano"]),
    ]


def test_examples_the_description_quotes_are_choices_of_a_list() -> None:
    """ "his highest scoring game and the total championships", a parameter described "E.g.,
    'highest_scoring_game', 'total_championships'": a call for each; a skill outside the
    examples ("Python and Java", examples 'Python', 'System Design') is read as any list."""
    (record,) = parse_tools(
        [
            {
                "name": "player_record",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "player": {"type": "string"},
                        "stat": {
                            "type": "string",
                            "description": "E.g., 'highest_scoring_game', 'total_championships'.",
                        },
                        "skill": {
                            "type": "string",
                            "description": "Such as 'Python' or 'System Design'.",
                        },
                    },
                    "required": ["player"],
                },
            }
        ]
    )
    request = "Michael Jordan's highest scoring game and the total championships he won?"
    call = _call("player_record", player="Michael Jordan", stat="highest_scoring_game")
    assert with_list_items([call], [record], request) == [
        call,
        _call("player_record", player="Michael Jordan", stat="total_championships"),
    ]
    skill = _call("player_record", player="Ann", skill="Python")
    assert with_list_items([skill], [record], "Interviewers for Python and Java") == [
        skill,
        _call("player_record", player="Ann", skill="Java"),
    ]
