"""Turning calls to tools that do not fit the request into text answers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.measure_units import misreads_measures
from app.tool_choice import (
    _CallPlanner,
    _Turn,
    _with_named_calls,
    _without_unfounded_options,
    call_planner,
    content_words,
    enumeration_siblings,
    invents_numbers,
    named_tools,
    request_mentions_tool,
    request_values,
    respond,
    trim_calls,
    value_in_request,
    with_fractions,
    without_unsaid_items,
    without_unsaid_options,
)
from backends.base import GenerateOptions
from backends.generation import Completion, ToolCall
from backends.llamacpp import LlamaCppBackend, LlamaSettings
from backends.schema import ToolSpec, parse_tools

REMINDER, FLUX = parse_tools(
    [
        {
            "name": "set_reminder",
            "description": "Remind the user of something at a given time.",
            "parameters": {
                "type": "object",
                "properties": {"text": {"type": "string", "description": "What to remind about"}},
                "required": ["text"],
            },
        },
        {
            "name": "adjust_flux",
            "description": "Tune the flux capacitor of the time machine.",
            "parameters": {
                "type": "object",
                "properties": {"gigawatts": {"type": "number"}},
                "required": ["gigawatts"],
            },
        },
    ]
)


TO_INT, WEATHER = parse_tools(
    [
        {
            "name": "str_to_int",
            "description": "Calculate the integer a string converts to.",
            "parameters": {"type": "object", "properties": {"text": {"type": "string"}}},
        },
        {
            "name": "get_current_weather",
            "description": "The current weather: temperature and sky.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    ]
)


def test_content_words_drop_filler_and_split_names() -> None:
    assert content_words("Please find the wifiPassword in my_notes") == {
        "wifi",
        "password",
        "notes",
    }


(APPLIANCE,) = parse_tools(
    [
        {
            "name": "ThinQ_Connect",
            "description": "Sends a command to control an appliance.",
            "parameters": {
                "type": "object",
                "properties": {
                    "body": {
                        "type": "object",
                        "properties": {
                            "airConJobMode": {"type": "string", "enum": ["COOL", "AIR_DRY"]},
                            "targetTemperature": {"type": "integer"},
                        },
                    }
                },
                "required": ["body"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "tool", "fits"),
    [
        ("Remind me to call Anna at five", REMINDER, True),  # remind ~ reminder
        ("Set a reminder for the dentist", REMINDER, True),
        ("Give the machine 1.21 gigawatts", FLUX, True),  # a parameter name counts
        ("What is the integral of x squared?", REMINDER, False),
        ("Who wrote Hamlet?", FLUX, False),
        ("ok", FLUX, True),  # nothing to judge by: keep the model's choice
        ("Find the integral of x^3 from 1 to 5", TO_INT, False),  # integral is not integer
        ("Calculate the mass of an electron", TO_INT, False),  # "calculate" fits any tool
        ("Convert '42' to a number", TO_INT, True),  # converts ~ convert
        ("Qual a temperatura atual em Lisboa?", WEATHER, True),  # temperatur...: 7 letters
        ("Set the air conditioner to cool mode", APPLIANCE, True),  # nested names, enums
        ("Set an alarm for seven", APPLIANCE, False),
    ],
)
def test_request_mentions_tool(request_text: str, tool: object, fits: bool) -> None:
    assert request_mentions_tool(request_text, tool) is fits


@pytest.fixture(scope="module")
def backend(tiny_gguf_path: Path) -> LlamaCppBackend:
    b = LlamaCppBackend(LlamaSettings(n_ctx=2048, n_threads=1))
    b.load(tiny_gguf_path)
    yield b
    b.close()


def test_unrelated_call_becomes_a_text_answer(backend: LlamaCppBackend) -> None:
    """Forced to call, the random model calls adjust_flux; for a Hamlet question that call is
    dropped and the same prompt is answered in text."""
    messages = [{"role": "user", "content": "Who wrote Hamlet?"}]
    forced = GenerateOptions(allow_text=False, max_tokens=300)
    assert backend.generate(messages, [FLUX], options=forced).tool_calls
    answer = respond(backend, messages, [FLUX], options=forced)
    assert answer.tool_calls == ()
    assert answer.text is not None
    assert not answer.text.startswith(("{", "[", "`"))


def test_related_call_is_kept(backend: LlamaCppBackend) -> None:
    messages = [{"role": "user", "content": "Remind me to call Anna at five"}]
    forced = GenerateOptions(allow_text=False, max_tokens=300)
    answer = respond(backend, messages, [REMINDER], options=forced)
    assert [c.name for c in answer.tool_calls][:1] == ["set_reminder"]


def test_call_with_made_up_numbers_becomes_a_text_answer(backend: LlamaCppBackend) -> None:
    """The request names the tool but gives no number; the random model's gigawatts are its
    own, so the call is dropped and answered in text (where the model can ask)."""
    messages = [{"role": "user", "content": "Tune the flux capacitor"}]
    forced = GenerateOptions(allow_text=False, max_tokens=300)
    first = backend.generate(messages, [FLUX], options=forced).tool_calls
    assert first and first[0].arguments["gigawatts"] not in (0, 0.0)
    answer = respond(backend, messages, [FLUX], options=forced)
    assert answer.tool_calls == ()
    assert answer.text


@pytest.mark.parametrize(
    ("context", "gigawatts", "invented"),
    [
        ("Tune the flux to 1.21 gigawatts", 1.21, False),
        ("Tune the flux capacitor", 88, True),
        ("Tune the flux capacitor", 0, False),  # "from rest": zero is nobody's invention
        ("Tune the flux capacitor\nThe manual says 88 gigawatts.", 88, False),  # a result
        ("Give it 1.2 million watts", 1_200_000, False),
        ("Tune it to twelve", 12, False),
        ("Tune it to 5,10 and 15", 510, False),  # misread, not made up: the planner mends it
        ("Tune the flux capacitor for next week", 7, False),  # a number in words
        ("Tune the flux capacitor for next week", 88, True),
        ("Give it 1e-9 gigawatts", 1e-9, False),
        ("Give it $1M of power", 1_000_000, False),
    ],
)
def test_invents_numbers(context: str, gigawatts: float, invented: bool) -> None:
    assert invents_numbers(_call("adjust_flux", gigawatts=gigawatts), FLUX, context) is invented


(SOLAR,) = parse_tools(
    [
        {
            "name": "solar_need",
            "description": "Solar panels a home needs.",
            "parameters": {
                "type": "object",
                "properties": {
                    "square_feet": {"type": "number"},
                    "sunlight_hours": {"type": "number"},
                    "panel_kind": {
                        "type": "integer",
                        "description": "1 for mono, 2 for poly",
                    },
                },
                "required": ["square_feet", "sunlight_hours", "panel_kind"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("context", "hours", "invented"),
    [
        ("How many panels for my 2000 sq ft home?", 10, True),  # the hours are the model's
        ("How many panels for my 2000 sq ft home with 6 hours of sun?", 6, False),
        ("Panels for 2000 sq ft and 6 hours of sun", 60, False),  # misread, not invented
        ("Panels for my 2000 sq ft home in sunny Arizona", 8, True),
    ],
)
def test_a_number_the_request_lacks_is_invented(context: str, hours: float, invented: bool) -> None:
    call = _call("solar_need", square_feet=2000, sunlight_hours=hours, panel_kind=2)
    assert invents_numbers(call, SOLAR, context) is invented


def _call(name: str, **arguments: object) -> ToolCall:
    return ToolCall(name=name, arguments=dict(arguments))


def test_calls_after_a_repeat_are_dropped() -> None:
    calls = [
        _call("rate", service="Netflix"),
        _call("rate", service="Hulu"),
        _call("rate", service="Netflix"),
    ]
    kept = trim_calls(calls, "Ratings on Netflix and Hulu")
    assert [c.arguments["service"] for c in kept] == ["Netflix", "Hulu"]


def test_calls_continuing_a_pattern_the_user_never_gave_are_dropped() -> None:
    calls = [_call("hyp", a=3, b=4), _call("hyp", a=5, b=12), _call("hyp", a=6, b=8)]
    kept = trim_calls(calls, "Hypotenuse of triangles with sides 3 and 4, and 5 and 12")
    assert [(c.arguments["a"], c.arguments["b"]) for c in kept] == [(3, 4), (5, 12)]


def test_a_round_trip_reuses_places_in_new_roles() -> None:
    """The way back starts where the last leg ended: every place was used before, but not
    as a start, so the call is one the user asked for."""
    calls = [
        _call("route", start="San Francisco", end="Palo Alto"),
        _call("route", start="Palo Alto", end="Golden Gate Bridge"),
        _call("route", start="Golden Gate Bridge", end="San Francisco"),
        _call("route", start="Golden Gate Bridge", end="San Francisco"),  # a repeat
    ]
    request = (
        "Routes from San Francisco to Palo Alto, then from Palo Alto to the Golden Gate "
        "Bridge, and back from the Golden Gate Bridge"
    )
    assert trim_calls(calls, request) == calls[:3]


def test_a_zero_is_no_invented_value() -> None:
    calls = [
        _call("displacement", velocity=20, time=10, acceleration=2),
        _call("displacement", velocity=25, time=8, acceleration=0),
        _call("displacement", velocity=30, time=8, acceleration=0),  # 30: nobody's number
    ]
    request = (
        "A car at 20 m/s accelerating at 2 m/s^2 for 10 seconds, and one at 25 m/s for "
        "8 seconds without any acceleration"
    )
    assert trim_calls(calls, request) == calls[:2]


def test_different_tools_with_values_from_the_request_are_kept() -> None:
    calls = [_call("weather", city="Paris"), _call("volume", level=30)]
    assert trim_calls(calls, "Weather in Paris, and set the volume to 30") == calls


def test_a_later_call_may_differ_by_a_value_the_tool_itself_offers() -> None:
    """'Alaska state and USA': ``type`` goes from "state" to "country", a word the parameter's
    description lists; the call is not an invention."""
    (census,) = parse_tools(
        [
            {
                "name": "population",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "area": {"type": "string"},
                        "type": {"type": "string", "description": "city/state/country"},
                    },
                },
            }
        ]
    )
    calls = [
        _call("population", area="Alaska", type="state"),
        _call("population", area="USA", type="country"),
    ]
    request = "Population data for Alaska state and USA"
    assert trim_calls(calls, request, [census]) == calls
    assert trim_calls(calls, request) == calls[:1]  # without the tool, "country" is unknown


@pytest.mark.parametrize(
    ("request_text", "used", "siblings"),
    [
        ("The resistivity of copper and aluminum", ["copper"], ["aluminum"]),
        (
            "The sequence of human HbA1c, normal hemoglobin, and rat hemoglobin and their models",
            ["human HbA1c"],
            ["normal hemoglobin", "rat hemoglobin", "their models"],
        ),
        ("Weather in paris, london and rome", ["rome"], ["london", "paris"]),
        ("Keys in the garage or the hall?", ["garage"], []),  # "or" asks which one
        ("Check the shelf at the door and put what is there in the hall", ["door"], []),
        ("Notes about the garden and the kitchen", ["roof"], []),  # the call used neither
        ("Notes about the garden", ["garden"], []),  # no list
    ],
)
def test_enumeration_siblings(request_text: str, used: list[str], siblings: list[str]) -> None:
    assert enumeration_siblings(request_text, used) == siblings


def test_the_first_call_is_never_trimmed() -> None:
    calls = [_call("weather", city="Atlantis")]
    assert trim_calls(calls, "How is the weather?") == calls


@pytest.mark.parametrize(
    ("value", "request_text", "found"),
    [
        (5.6, "height of 5.6 feet", True),
        (5000, "a budget of 5,000 dollars", True),
        (17, "sides 8 and 15", False),
        ("New York City", "population of new york in 2000", True),
        ("California", "population of Alaska", False),
        (True, "anything", True),
    ],
)
def test_value_in_request(value: object, request_text: str, found: bool) -> None:
    assert value_in_request(value, request_text) is found


def test_a_call_differing_only_by_a_flag_is_a_repeat() -> None:
    calls = [
        _call("shows", service="Netflix", sort=True),
        _call("shows", service="Hulu", sort=True),
        _call("shows", service="Netflix", sort=False),
    ]
    kept = trim_calls(calls, "Shows on Netflix and on Hulu, sorted")
    assert [c.arguments["service"] for c in kept] == ["Netflix", "Hulu"]


def test_a_neighbouring_tool_with_the_same_values_is_dropped() -> None:
    calls = [_call("capital", country="Brazil"), _call("population", country="Brazil")]
    assert trim_calls(calls, "What is the capital of Brazil?") == calls[:1]


def test_request_values_are_numbers_names_and_quoted_text() -> None:
    numbers, words = request_values(
        "Play songs by Taylor Swift and Maroon 5 for 20 and fifteen minutes, on 'Top Hits'."
    )
    assert numbers == {5.0, 20.0}
    assert {"taylor", "swift", "maroon", "top", "hits"} <= words
    assert "play" not in words  # opens the sentence


@pytest.mark.parametrize(
    ("request_text", "written", "pushes"),
    [
        ("Find the factorial of 5, 10 and 15.", '[{"name": "f", "arguments": {"n": 5}}', True),
        (
            "Find the factorial of 5, 10 and 15.",
            '[{"name": "f", "arguments": {"n": 5}}, {"name": "f", "arguments": {"n": 10}}, '
            '{"name": "f", "arguments": {"n": 15}}',
            False,
        ),
        (
            "What is the capital of Brazil?",
            '[{"name": "capital", "arguments": {"c": "Brazil"}}',
            False,
        ),
        (
            "Weather in Paris and in Lyon",
            '[{"name": "weather", "arguments": {"city": "Paris"}}',
            True,
        ),
        ("Weather in Paris", '[{"name": "weather", "arguments": {"city": "Paris, France"}}', False),
    ],
)
def test_call_planner_pushes_while_a_request_value_is_unused(
    request_text: str, written: str, pushes: bool
) -> None:
    assert (call_planner(request_text)(written) > 0) is pushes


def test_call_planner_stops_pushing_when_a_call_adds_nothing_new() -> None:
    """The model repeating the same call is stuck: pushing on would only write repeats."""
    plan = call_planner("Mortgage for $400,000 at 4% over 15, 20 and 30 years.")
    first = '[{"name": "m", "arguments": {"loan": 400000, "rate": 0.04, "years": 15}}'
    assert plan(first) > 0  # 20 and 30 are still unused
    assert plan(first + "\n") > 0  # same decision point after a newline token
    assert plan(first + ", " + first[1:]) < 0  # a repeat: no new value, stop


def test_values_match_as_percentages_and_whatever_their_sign() -> None:
    assert value_in_request(0.04, "at an interest rate of 4%")
    assert value_in_request(-1000, "with a loss of $1000")
    assert value_in_request(10, "the factorial of 5,10 and 15")
    assert not value_in_request(510, "the factorial of 5,10 and 15")


def test_call_planner_says_which_values_no_call_has_used() -> None:
    """What the decoder steers a second call towards: the request's unused numbers and names,
    as the user wrote them."""
    plan = call_planner("Weather in 'New York' and in Los Angeles over the next 3 and 5 days.")
    first = '[{"name": "weather", "arguments": {"city": "New York", "days": 3}}, '
    assert plan.values_left(first) == ["5", "Los Angeles"]  # type: ignore[attr-defined]
    everything = first + '{"name": "weather", "arguments": {"city": "Los Angeles", "days": 5}}'
    assert plan.values_left(everything) == []  # type: ignore[attr-defined]


STATS = parse_tools(
    [
        {
            "name": f"statistics.{name}",
            "description": f"The {name} of a list of numbers.",
            "parameters": {
                "type": "object",
                "properties": {"numbers": {"type": "array", "items": {"type": "number"}}},
            },
        }
        for name in ("median", "variance", "mode")
    ]
)


def test_named_tools_are_the_uncalled_tools_the_request_names() -> None:
    request = "The median and variance of 3,4,5,2,8,5. Also the mode for these numbers."
    assert named_tools(request, STATS, {"statistics.median"}) == [
        "statistics.variance",
        "statistics.mode",
    ]
    assert named_tools("The median of 3,4,5", STATS, {"statistics.median"}) == []
    # "numbers" is the called tool's argument: it does not name another tool
    assert named_tools("Median of these numbers", STATS, {"statistics.median"}) == []


def test_a_named_tool_with_the_same_values_is_not_trimmed() -> None:
    calls = [
        _call("statistics.median", numbers=[3, 4, 5]),
        _call("statistics.mode", numbers=[3, 4, 5]),
    ]
    request = "The median of 3, 4 and 5, and also their mode"
    assert trim_calls(calls, request, STATS) == calls[:1]  # same values: a neighbour's repeat
    assert trim_calls(calls, request, STATS, named=["statistics.mode"]) == calls


def test_a_named_tool_with_values_nobody_gave_is_trimmed() -> None:
    calls = [
        _call("statistics.median", numbers=[3, 4, 5]),
        _call("statistics.mode", numbers=[7, 9]),
    ]
    request = "The median of 3, 4 and 5, and the mode"
    assert trim_calls(calls, request, STATS, named=["statistics.mode"]) == calls[:1]


def test_a_percentage_does_not_use_up_the_same_number_of_years() -> None:
    request = "Future value of $1000 at 5% a year for 1,5 and 10 years"
    planner = _CallPlanner.for_request(request)
    assert request_values(request)[0] == {1000.0, 0.05, 1.0, 5.0, 10.0}
    written = [{"name": "fv", "arguments": {"present": 1000, "rate": 0.05, "years": 1}}]
    assert planner.missing(json.dumps(written)) == 2  # 1000 is no 10%: 5 and 10 are left
    written.append({"name": "fv", "arguments": {"present": 1000, "rate": 0.05, "years": 10}})
    assert planner.missing(json.dumps(written)) == 1  # the 5 years
    written.append({"name": "fv", "arguments": {"present": 1000, "rate": 0.05, "years": 5}})
    assert planner.missing(json.dumps(written)) == 0


(BOOKS,) = parse_tools(
    [
        {
            "name": "search_books",
            "parameters": {
                "type": "object",
                "properties": {
                    "genre": {"type": "string"},
                    "title": {"type": "string"},
                    "year": {"type": "integer"},
                    "sort": {"type": "string", "enum": ["newest", "oldest"]},
                    "limit": {"type": "integer", "default": 10},
                    "published": {
                        "type": "string",
                        "description": "Date in ISO format (e.g., '2023-04-12').",
                    },
                },
                "required": ["genre"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("arguments", "kept"),
    [
        ({"genre": "history", "title": "The Great Gatsby"}, {"genre": "history"}),
        ({"genre": "history", "published": "2023-04-12"}, {"genre": "history"}),  # the example
        ({"genre": "history", "year": 1999}, {"genre": "history"}),
        ({"genre": "history", "title": "Dune", "year": 1965}, None),  # both were asked for
        ({"genre": "history", "title": "Dune 2"}, {"genre": "history"}),  # numbered by the model
        ({"genre": "history", "title": "Dune 1965"}, None),  # the number is the user's
        ({"genre": "history", "sort": "newest", "limit": 10}, None),  # the tool's own values
        ({"genre": "poetry"}, None),  # required values are never dropped here
    ],
)
def test_optional_values_nobody_gave_are_dropped(
    arguments: dict[str, object], kept: dict[str, object] | None
) -> None:
    request = "Find me a historical book from 1965, ideally about Dune"
    call = _call("search_books", **arguments)
    trimmed = without_unsaid_options(call, BOOKS, request)
    assert trimmed.arguments == (arguments if kept is None else kept)


(SAVINGS,) = parse_tools(
    [
        {
            "name": "interest",
            "parameters": {
                "type": "object",
                "properties": {
                    "principal": {"type": "number"},
                    "rate": {"type": "number", "description": "The annual rate as a decimal."},
                    "tax": {"type": "number", "description": "Tax in percent."},
                },
                "required": ["principal", "rate"],
            },
        }
    ]
)


@pytest.mark.parametrize(
    ("request_text", "arguments", "expected"),
    [
        ("Interest on $5000 at 3%", {"principal": 5000, "rate": 3}, {"rate": 0.03}),
        ("Interest on $5000 at 3 percent", {"principal": 5000, "rate": 0.03}, {}),
        ("Interest on $5000 at 3", {"principal": 5000, "rate": 3}, {}),  # no percent sign
        ("$5000 at 3%, 20% tax", {"principal": 5000, "rate": 3, "tax": 20}, {"rate": 0.03}),
    ],
)
def test_a_percentage_becomes_the_fraction_the_parameter_takes(
    request_text: str, arguments: dict[str, object], expected: dict[str, object]
) -> None:
    call = with_fractions(_call("interest", **arguments), SAVINGS, request_text)
    assert call.arguments == {**arguments, **expected}


(PRESENT_VALUE,) = parse_tools(
    [
        {
            "name": "present_value",
            "parameters": {
                "type": "object",
                "properties": {
                    "interest_rate": {"type": "number", "description": "The rate per period."},
                    "growth_rate": {"type": "number", "description": "Growth in percent."},
                    "discount": {"type": "number", "description": "The discount."},
                },
                "required": ["interest_rate"],
            },
        }
    ]
)


def test_a_rate_is_a_fraction_unless_its_description_says_percent() -> None:
    """ "An interest rate of 5%" was sent as ``"interest_rate": 5`` to "the rate per period":
    a rate (by its name) takes the fraction; one described in percent, and an argument that
    is not a rate, keep the user's number."""
    request = "Present value at an interest rate of 5%, 3% growth and a 10% discount"
    arguments = {"interest_rate": 5, "growth_rate": 3, "discount": 10}
    call = with_fractions(_call("present_value", **arguments), PRESENT_VALUE, request)
    assert call.arguments == {"interest_rate": 0.05, "growth_rate": 3, "discount": 10}


def test_text_the_assistant_writes_is_kept() -> None:
    """A note's body is the assistant's to write: "note my shopping" with ``body: "- milk"``
    keeps it, while a made-up tag is dropped."""
    (notes,) = parse_tools(
        [
            {
                "name": "notes_create",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "title": {"type": "string"},
                        "body": {"type": "string"},
                        "tags": {"type": "string"},
                    },
                    "required": ["title"],
                },
            }
        ]
    )
    call = _call("notes_create", title="Shopping", body="- milk", tags="groceries")
    kept = without_unsaid_options(call, notes, "note my shopping")
    assert kept.arguments == {"title": "Shopping", "body": "- milk"}


(LIBRARY,) = parse_tools(
    [
        {
            "name": "library_find",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {"type": "string"},
                    "preferences": {
                        "type": "array",
                        "items": {
                            "type": "string",
                            "enum": ["Pet-friendly", "Disabled Access", "24 hours", "Cafe Inside"],
                        },
                    },
                },
                "required": ["location"],
            },
        }
    ]
)
EVERY_PREFERENCE = ["Pet-friendly", "Disabled Access", "24 hours", "Cafe Inside"]


@pytest.mark.parametrize(
    ("request_text", "written", "kept"),
    [
        (  # the bundled model's answer (BFCL multiple_48): every choice the tool has
            "Find me a pet-friendly library with facilities for disabled people in New York.",
            EVERY_PREFERENCE,
            ["Pet-friendly", "Disabled Access"],
        ),
        ("A library in New York, any kind", EVERY_PREFERENCE, EVERY_PREFERENCE),  # none said
        (  # part of the choices: the model chose them
            "A pet-friendly library in New York",
            ["Pet-friendly", "Cafe Inside"],
            ["Pet-friendly", "Cafe Inside"],
        ),
    ],
)
def test_a_list_of_every_choice_keeps_the_ones_asked_for(
    request_text: str, written: list[str], kept: list[str]
) -> None:
    call = _call("library_find", location="New York", preferences=written)
    trimmed = without_unsaid_items(call, LIBRARY, request_text)
    assert trimmed.arguments == {"location": "New York", "preferences": kept}


LIGHTS, LOCK, NOTE = parse_tools(
    [
        {
            "name": "lights_on",
            "description": "Turn the lights on in a room.",
            "parameters": {
                "type": "object",
                "properties": {"room": {"type": "string", "enum": ["kitchen", "hall"]}},
                "required": ["room"],
            },
        },
        {
            "name": "lock_door",
            "description": "Lock a door of the house.",
            "parameters": {
                "type": "object",
                "properties": {"door": {"type": "string", "enum": ["front", "back"]}},
                "required": ["door"],
            },
        },
        {
            "name": "write_note",
            "description": "Write a note.",
            "parameters": {
                "type": "object",
                "properties": {"text": {"type": "string"}},
                "required": ["text"],
            },
        },
    ]
)


def _answered(*calls: ToolCall) -> Completion:
    return Completion(text=None, tool_calls=calls, raw="")


def test_a_named_tool_no_call_used_is_asked_for_by_itself(backend: LlamaCppBackend) -> None:
    """The request names two tools, the answer called one: the other is asked for alone,
    and its call (the door is one of the tool's own choices) joins the answer."""
    request = "Turn on the lights in the kitchen and lock the door"
    messages = [{"role": "user", "content": request}]
    first = _answered(_call("lights_on", room="kitchen"))
    options = GenerateOptions(max_tokens=200)
    tools = [LIGHTS, LOCK, NOTE]
    answer = _with_named_calls(_Turn(backend, messages, tools, options, None, request), first)
    assert [c.name for c in answer.tool_calls] == ["lights_on", "lock_door"]
    assert answer.tool_calls[1].arguments["door"] in ("front", "back")


def test_a_named_call_with_values_nobody_gave_is_not_added(backend: LlamaCppBackend) -> None:
    """Asked for the note alone, the random model writes text the user never said: the
    answer stays as it was (the user is asked rather than sent a made-up note)."""
    request = "Turn on the lights in the kitchen and write a note"
    messages = [{"role": "user", "content": request}]
    first = _answered(_call("lights_on", room="kitchen"))
    assert named_tools(request, [LIGHTS, NOTE], {"lights_on"}) == ["write_note"]
    options = GenerateOptions(max_tokens=200)
    turn = _Turn(backend, messages, [LIGHTS, NOTE], options, None, request)
    answer = _with_named_calls(turn, first)
    assert answer == first


def test_no_pass_where_every_named_tool_has_its_call(backend: LlamaCppBackend) -> None:
    request = "Turn on the lights in the kitchen"
    messages = [{"role": "user", "content": request}]
    first = _answered(_call("lights_on", room="kitchen"))
    options = GenerateOptions(max_tokens=200)
    tools = [LIGHTS, LOCK]
    turn = _Turn(backend, messages, tools, options, None, request)
    assert _with_named_calls(turn, first) is first


def test_the_answer_gets_the_list_items_the_model_left_out() -> None:
    """ "the RGB and HEX values": the call the model wrote with RGB alone asks for both (the
    answer changes though the number of calls does not)."""
    from tests.scripted_backend import ScriptedBackend

    (colors,) = parse_tools(
        [
            {
                "name": "color_info",
                "description": "Color values of a color",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "color_name": {"type": "string"},
                        "conversion_type": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["RGB", "HEX"]},
                        },
                    },
                    "required": ["color_name", "conversion_type"],
                },
            }
        ]
    )
    call = '{"name": "color_info", "arguments": {"color_name": "navy", "conversion_type": ["RGB"]}}'
    backend = ScriptedBackend([call, call, call])
    messages = [{"role": "user", "content": "What are the RGB and HEX color values for navy?"}]
    answer = respond(backend, messages, [colors])
    assert [c.arguments for c in answer.tool_calls] == [
        {"color_name": "navy", "conversion_type": ["RGB", "HEX"]}
    ]


def test_a_forced_call_drops_optional_values_nobody_gave() -> None:
    """ "also calculate the total balance": the balance call keeps the user's account and
    loses the transactions the model made up (the tool's default stands in)."""
    (balance,) = parse_tools(
        [
            {
                "name": "bank.calculate_balance",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "account": {"type": "string"},
                        "transactions": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"amount": {"type": "number"}},
                            },
                        },
                        "currency": {"type": "string", "enum": ["USD", "EUR"]},
                    },
                    "required": ["account"],
                },
            }
        ]
    )
    call = ToolCall(
        name="bank.calculate_balance",
        arguments={"account": "00125648", "transactions": [{"amount": 250.5}], "currency": "USD"},
    )
    request = "The history of account '00125648' for 7 days, and also calculate the total balance."
    kept = _without_unfounded_options(call, balance, request)
    assert kept.arguments == {"account": "00125648", "currency": "USD"}  # USD: the tool's choice


def test_currencies_are_codes_in_the_answer_not_in_the_passes() -> None:
    """ "15000 Euro to dollars? and ... 200 pounds to dollars?": the passes weigh the calls in
    the user's words (as codes, "GBP" is no word of the request, and the second pass's
    pounds call was trimmed as made up); the answer gives the tool codes."""
    from tests.scripted_backend import ScriptedBackend

    (cost,) = parse_tools(
        [
            {
                "name": "get_conversion_cost",
                "description": "Cost of converting currency",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "amount": {"type": "integer"},
                        "from_currency": {"type": "string"},
                        "to_currency": {"type": "string"},
                    },
                    "required": ["amount", "from_currency", "to_currency"],
                },
            }
        ]
    )
    euro = '{"name": "get_conversion_cost", "arguments": {"amount": 15000, "from_currency": "Euro", "to_currency": "dollars"}}'  # noqa: E501
    pounds = '{"name": "get_conversion_cost", "arguments": {"amount": 200, "from_currency": "pounds", "to_currency": "dollars"}}'  # noqa: E501
    request = (
        "How much will it cost if I transfer 15000 Euro to dollars? And how much if I convert"
        " 200 pounds to dollars?"
    )
    messages = [{"role": "user", "content": request}]
    script = [euro, f"[{euro}, {pounds}]", euro, pounds]  # answer, second pass, two parts
    answer = respond(ScriptedBackend(script), messages, [cost])
    assert [c.arguments for c in answer.tool_calls] == [
        {"amount": 15000, "from_currency": "EUR", "to_currency": "USD"},
        {"amount": 200, "from_currency": "GBP", "to_currency": "USD"},
    ]


def test_a_part_keeps_the_function_the_whole_request_defines() -> None:
    """ "... for the function f(x)=x^2. And find the derivative at x=3.": the second sentence
    answered alone writes ``f(x)``; the answer gives the expression the first defined."""
    from tests.scripted_backend import ScriptedBackend

    tools = parse_tools(
        [
            {
                "name": name,
                "description": f"The {name} of a function",
                "parameters": {
                    "type": "object",
                    "properties": {"function": {"type": "string"}, **extra},
                    "required": ["function", *extra],
                },
            }
            for name, extra in (
                ("integral", {"a": {"type": "number"}, "b": {"type": "number"}}),
                ("derivative", {"x": {"type": "number"}}),
            )
        ]
    )
    integral = '{"name": "integral", "arguments": {"function": "x^2", "a": 1, "b": 5}}'
    derivative = '{"name": "derivative", "arguments": {"function": "f(x)", "x": 3}}'
    request = (
        "Calculate the integral from x=1 to x=5 for the function f(x)=x^2. And find the"
        " derivative at x=3."
    )
    script = [f"[{integral}, {derivative}]", integral, derivative]  # the answer, two parts
    answer = respond(ScriptedBackend(script), [{"role": "user", "content": request}], tools)
    assert [c.arguments for c in answer.tool_calls] == [
        {"function": "x^2", "a": 1, "b": 5},
        {"function": "x^2", "x": 3},
    ]


def test_a_request_naming_a_currency_asks_for_a_currency_tool() -> None:
    """ "I have 100 euro. How much is it in USD?" shares no word with ``currency_conversion``
    but names two currencies; "20 pounds of flour" names none."""
    converter, weight = parse_tools(
        [
            {
                "name": "currency_conversion",
                "description": "Convert an amount from one currency to another",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "amount": {"type": "number"},
                        "from_currency": {"type": "string"},
                        "to_currency": {"type": "string"},
                    },
                    "required": ["amount", "from_currency", "to_currency"],
                },
            },
            {
                "name": "weight_in_space",
                "description": "Weight on another planet",
                "parameters": {
                    "type": "object",
                    "properties": {"kg": {"type": "number"}, "planet": {"type": "string"}},
                    "required": ["kg", "planet"],
                },
            },
        ]
    )
    assert request_mentions_tool("I have 100 euro. How much is it in USD?", converter)
    assert not request_mentions_tool("Bake with 20 pounds of flour", converter)
    trip = "I weigh 75 kg on Earth: what on Mars? I have 5000 US dollars: how many Japanese Yen?"
    assert named_tools(trip, [converter, weight], {"weight_in_space"}) == ["currency_conversion"]


def _exchange_tools() -> list[ToolSpec]:
    return parse_tools(
        [
            {
                "name": "currency_conversion",
                "description": "Convert an amount of money from one currency to another",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "amount": {"type": "number"},
                        "from_currency": {"type": "string"},
                        "to_currency": {"type": "string"},
                    },
                    "required": ["amount", "from_currency", "to_currency"],
                },
            },
            {
                "name": "get_exchange_rate",
                "description": "The exchange rate between two currencies",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "base_currency": {"type": "string"},
                        "target_currency": {"type": "string"},
                    },
                    "required": ["base_currency", "target_currency"],
                },
            },
        ]
    )


def test_a_call_written_inside_a_text_answer_is_made() -> None:
    """ "I have 100 euro. How much is it in USD?": the model explained which function to use
    and wrote its JSON in the text; the user gets the conversion, not the instructions."""
    from tests.scripted_backend import ScriptedBackend

    call = '{"name": "currency_conversion", "arguments": {"amount": 100, "from_currency": "euro", "to_currency": "usd"}}'  # noqa: E501
    text = f"To convert 100 euro to USD, use the `currency_conversion` function:\n\n{call}"
    messages = [{"role": "user", "content": "I have 100 euro. How much is it in USD?"}]
    answer = respond(ScriptedBackend([text, call, call, call]), messages, _exchange_tools())
    assert answer.text is None
    assert [(c.name, c.arguments["amount"]) for c in answer.tool_calls] == [
        ("currency_conversion", 100)
    ]


def test_a_call_with_values_the_user_never_gave_stays_text() -> None:
    """ "the price of a Tesla model S in India": a text holding an exchange-rate call with
    currencies the user never named is an answer that wandered, not a request to run."""
    from tests.scripted_backend import ScriptedBackend

    call = '{"name": "get_exchange_rate", "arguments": {"base_currency": "INR", "target_currency": "USD"}}'  # noqa: E501
    text = f"To get the price, you can use the following function call:\n\n```json\n{call}\n```"
    messages = [{"role": "user", "content": "Give me the price of a Tesla model S in India."}]
    answer = respond(ScriptedBackend([text]), messages, _exchange_tools())
    assert answer.tool_calls == ()
    assert answer.text == text


def _library_tools() -> list[ToolSpec]:
    return parse_tools(
        [
            {
                "name": "library.reserve_book",
                "description": "Reserves a book in the library if available.",
                "parameters": {
                    "type": "object",
                    "properties": {"book_id": {"type": "string"}, "branch_id": {"type": "string"}},
                    "required": ["book_id", "branch_id"],
                },
            },
            {
                "name": "library.search_book",
                "description": "Searches for a book in the library within the specified city.",
                "parameters": {
                    "type": "object",
                    "properties": {"book_name": {"type": "string"}, "city": {"type": "string"}},
                    "required": ["book_name", "city"],
                },
            },
        ]
    )


RESERVE = '{"name": "library.reserve_book", "arguments": {"book_id": "The Alchemist", "branch_id": "New York"}}'  # noqa: E501
SEARCH = '{"name": "library.search_book", "arguments": {"book_name": "The Alchemist", "city": "New York"}}'  # noqa: E501


def test_a_change_nobody_asked_for_becomes_the_lookup_asked_for() -> None:
    """ "Find a book": the model reserved it; the user gets the search they asked for."""
    from tests.scripted_backend import ScriptedBackend

    request = "Find a book 'The Alchemist' in the library branches within New York city."
    messages = [{"role": "user", "content": request}]
    backend = ScriptedBackend([RESERVE, SEARCH, SEARCH, SEARCH, SEARCH])
    answer = respond(backend, messages, _library_tools())
    assert [c.name for c in answer.tool_calls] == ["library.search_book"]
    assert answer.tool_calls[0].arguments == {"book_name": "The Alchemist", "city": "New York"}


def test_a_change_the_user_asked_for_stays() -> None:
    from tests.scripted_backend import ScriptedBackend

    request = "Reserve the book 'The Alchemist' at the New York branch."
    messages = [{"role": "user", "content": request}]
    answer = respond(ScriptedBackend([RESERVE, RESERVE, RESERVE]), messages, _library_tools())
    assert [c.name for c in answer.tool_calls] == ["library.reserve_book"]


@pytest.mark.parametrize(
    ("arguments", "misread"),
    [
        ({"weight": 10, "height": 5}, True),  # 10 meters sent as a weight
        ({"height": 10, "width": 5}, False),  # lengths as lengths
        ({"weight": 70, "height": 5}, False),  # 70 is the user's kilograms
        ({"weight": 3, "height": 5}, False),  # 3 has no unit: nothing to read
    ],
)
def test_a_length_sent_as_a_weight_is_misread(arguments: dict[str, float], misread: bool) -> None:
    request = "A triangle with a base of 10 meters and a height of 5 meters; I weigh 70 kg; 3 sides"
    assert misreads_measures(_call("any_tool", **arguments), request) is misread


def test_a_call_written_in_the_text_that_replaces_an_unrelated_call_is_made() -> None:
    """The model called a unit converter for euros; the policy asked for text instead, and
    the text wrote out the currency conversion the user asked for."""
    from tests.scripted_backend import ScriptedBackend

    tools = [
        *_exchange_tools(),
        *parse_tools(
            [
                {
                    "name": "unit_conversion",
                    "description": "Convert a value from one unit of length to another",
                    "parameters": {
                        "type": "object",
                        "properties": {
                            "value": {"type": "number"},
                            "from_unit": {"type": "string"},
                            "to_unit": {"type": "string"},
                        },
                        "required": ["value", "from_unit", "to_unit"],
                    },
                }
            ]
        ),
    ]
    unrelated = '{"name": "unit_conversion", "arguments": {"value": 100, "from_unit": "euro", "to_unit": "usd"}}'  # noqa: E501
    call = '{"name": "currency_conversion", "arguments": {"amount": 100, "from_currency": "euro", "to_currency": "usd"}}'  # noqa: E501
    text = f"You can use the `currency_conversion` function:\n\n{call}"
    messages = [{"role": "user", "content": "I have 100 euro. How much is it in USD?"}]
    answer = respond(ScriptedBackend([unrelated, text]), messages, tools)
    assert [(c.name, c.arguments) for c in answer.tool_calls] == [
        ("currency_conversion", {"amount": 100, "from_currency": "EUR", "to_currency": "USD"})
    ]


def test_a_misread_call_written_out_again_in_the_text_stays_text() -> None:
    """The policy dropped a body-mass-index call for "a triangle ... base 10 meters and
    height 5 meters"; the text that replaces it writes the same call out: still not made."""
    from tests.scripted_backend import ScriptedBackend

    (bmi,) = parse_tools(
        [
            {
                "name": "determine_body_mass_index",
                "description": "Calculate body mass index given weight and height",
                "parameters": {
                    "type": "object",
                    "properties": {"weight": {"type": "number"}, "height": {"type": "number"}},
                    "required": ["weight", "height"],
                },
            }
        ]
    )
    call = '{"name": "determine_body_mass_index", "arguments": {"weight": 10, "height": 5}}'
    text = f"You can use this function:\n\n{call}"
    request = "Calculate the area of a triangle given the base is 10 meters and height is 5 meters."
    answer = respond(ScriptedBackend([call, text]), [{"role": "user", "content": request}], [bmi])
    assert answer.tool_calls == ()
    assert answer.text == text
