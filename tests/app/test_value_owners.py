"""Values go to the call whose text the user wrote them after; routes and lists stay."""

from __future__ import annotations

from app.value_owners import (
    with_items_by_tools,
    with_own_numbers,
    with_values_after_own_places,
    with_values_after_tools,
    with_values_in_place,
    without_borrowed_numbers,
    without_copied_names,
)
from backends.generation import ToolCall
from backends.schema import parse_tools

OFFICE, ROUTE = parse_tools(
    [
        {
            "name": "office_holder",
            "parameters": {
                "type": "object",
                "properties": {"year": {"type": "integer"}, "position": {"type": "string"}},
                "required": ["year", "position"],
            },
        },
        {
            "name": "route",
            "parameters": {
                "type": "object",
                "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
                "required": ["start", "end"],
            },
        },
    ]
)
BY_NAME = {OFFICE.name: OFFICE, ROUTE.name: ROUTE}


def _office(year: int, position: str) -> ToolCall:
    return ToolCall(name="office_holder", arguments={"year": year, "position": position})


def test_years_go_to_the_position_they_were_written_after() -> None:
    request = "Who was the president in 1980 and 2016, and the vice president in 1975 and 2011?"
    calls = [
        _office(1980, "president"),
        _office(1975, "president"),
        _office(2016, "vice president"),
        _office(2011, "vice president"),
    ]
    assert with_values_in_place(calls, BY_NAME, request) == [
        _office(1980, "president"),
        _office(2016, "president"),
        _office(1975, "vice president"),
        _office(2011, "vice president"),
    ]


def test_values_written_before_the_texts_or_in_other_numbers_stay() -> None:
    calls = [
        _office(1980, "president"),
        _office(1975, "president"),
        _office(2016, "vice president"),
    ]
    # the years come first: which goes with which is not read from their places
    before = "In 1980, 2016 and 1975: the president, then the vice president"
    assert with_values_in_place(calls, BY_NAME, before) == calls
    # two years after the president, one after the vice president, but two president calls
    # and a vice president call hold them otherwise: moved only when the counts agree
    request = "The president in 1980, 1975 and 2016, and the vice president in 2011"
    assert with_values_in_place(calls, BY_NAME, request) == calls


def test_a_route_keeps_its_stops() -> None:
    """ "from San Francisco to Palo Alto, then to San Jose and back to San Francisco": a
    call's end is written after the next call's start, and it stays the end."""
    request = "From San Francisco to Palo Alto, then to San Jose, then back to San Francisco"
    legs = [
        ("San Francisco", "Palo Alto"),
        ("Palo Alto", "San Jose"),
        ("San Jose", "San Francisco"),
    ]
    calls = [ToolCall(name="route", arguments={"start": a, "end": b}) for a, b in legs]
    assert with_values_in_place(calls, BY_NAME, request) == calls


def test_each_tool_takes_the_value_written_after_its_name() -> None:
    forecasts = parse_tools(
        [
            {
                "name": f"forecast_{kind}",
                "parameters": {
                    "type": "object",
                    "properties": {"location": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["location"],
                },
            }
            for kind in ("temperature", "humidity", "precipitation")
        ]
    )
    by_name = {tool.name: tool for tool in forecasts}

    def forecast(kind: str, location: str) -> ToolCall:
        return ToolCall(name=f"forecast_{kind}", arguments={"location": location, "days": 10})

    calls = [
        forecast("temperature", "Boston"),
        forecast("humidity", "Rome"),
        forecast("precipitation", "Boston"),
    ]
    request = "Temperature and humidity forecast for Boston and precipitation forecast for Rome"
    assert with_values_after_tools(calls, by_name, request) == [
        forecast("temperature", "Boston"),
        forecast("humidity", "Boston"),
        forecast("precipitation", "Rome"),
    ]
    # a place written before the tools' words: whose it is is not read from the order
    before = "For Boston the temperature and humidity, and for Rome the precipitation"
    assert with_values_after_tools(calls, by_name, before) == calls


def test_an_optional_number_written_for_another_argument_is_left_out() -> None:
    (field,) = parse_tools(
        [
            {
                "name": "magnetic_field",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "current": {"type": "number"},
                        "radius": {"type": "number"},
                        "permeability": {"type": "number"},
                    },
                    "required": ["current", "radius"],
                },
            }
        ]
    )
    by_name = {field.name: field}

    def setup(current: float, radius: float, **more: float) -> ToolCall:
        return ToolCall(
            name="magnetic_field", arguments={"current": current, "radius": radius, **more}
        )

    request = (
        "A radius of 0.5 meters and a current of 10 A, then a radius of 1 meter and 15 A,"
        " with the permeability of free space"
    )
    calls = [setup(10, 0.5, permeability=1), setup(15, 1, permeability=1)]
    assert without_borrowed_numbers(calls, by_name, request) == [setup(10, 0.5), setup(15, 1)]
    # written for it too: the permeability is the user's
    said = f"{request}, which is 1"
    assert without_borrowed_numbers(calls, by_name, said) == calls


def _finder(name: str) -> dict[str, object]:
    return {
        "name": name,
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string"},
                "preferences": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["location", "preferences"],
        },
    }


def test_list_items_go_to_the_tool_named_beside_them() -> None:
    library, store = parse_tools([_finder("library.find_nearby"), _finder("store.find_nearby")])
    by_name = {library.name: library, store.name: store}
    everything = ["Pet-friendly", "Disabled Access", "24 hours", "Cafe Inside"]

    def find(tool: str, preferences: list[str]) -> ToolCall:
        return ToolCall(name=tool, arguments={"location": "Boston", "preferences": preferences})

    calls = [find("library.find_nearby", everything), find("store.find_nearby", everything)]
    request = (
        "Find a pet-friendly library with a cafe inside in Boston and then a store in the"
        " same city that has disabled access and operates 24 hours"
    )
    assert with_items_by_tools(calls, by_name, request) == [
        find("library.find_nearby", ["Pet-friendly", "Cafe Inside"]),
        find("store.find_nearby", ["Disabled Access", "24 hours"]),
    ]
    # every item is wanted of both: each tool would be left with none, the lists stay
    shared = "Pet-friendly, cafe inside, disabled access, open 24 hours: a library and a store"
    assert with_items_by_tools(calls, by_name, shared) == calls
    # one tool named twice: which mention an item is near says nothing
    twice = f"{request}, near the library"
    assert with_items_by_tools(calls, by_name, twice) == calls


def _stock_tools() -> dict[str, object]:
    dividends, market = parse_tools(
        [
            {
                "name": "dividend_data",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "company": {"type": "string"},
                        "years": {"type": "integer"},
                        "frequency": {"type": "string"},
                    },
                    "required": ["company", "years"],
                },
            },
            {
                "name": "stock_market_data",
                "parameters": {
                    "type": "object",
                    "properties": {"company": {"type": "string"}, "days": {"type": "integer"}},
                    "required": ["company", "days"],
                },
            },
        ]
    )
    return {dividends.name: dividends, market.name: market}


def test_a_number_written_for_another_calls_argument_is_not_this_ones() -> None:
    by_name = _stock_tools()

    def dividends(years: int, frequency: str) -> ToolCall:
        arguments = {"company": "Microsoft", "years": years, "frequency": frequency}
        return ToolCall(name="dividend_data", arguments=arguments)

    def market(days: int) -> ToolCall:
        return ToolCall(name="stock_market_data", arguments={"company": "Microsoft", "days": days})

    request = (
        "Dividend data for Microsoft for the past 5 years on a quarterly basis, then the same"
        " data on an annual basis. Then the stock market data for the past 60 days and then"
        " for the past 120 days."
    )
    calls = [
        dividends(5, "quarterly"),
        dividends(120, "annually"),
        market(60),
        market(120),
    ]
    assert with_own_numbers(calls, by_name, request) == [
        dividends(5, "quarterly"),
        dividends(5, "annually"),
        market(60),
        market(120),
    ]
    # "120 years" names the dividends' argument: the number is theirs too
    own = request.replace("120 days", "120 days, and annual dividends for 120 years")
    assert with_own_numbers(calls, by_name, own) == calls


def test_a_call_whose_name_copies_its_city_is_dropped() -> None:
    """ "the fastest route from London to Edinburgh for playing a chess championship": a
    chess club named "London" in London is no club the user named."""
    route, club = parse_tools(
        [
            {
                "name": "calculate_route",
                "parameters": {
                    "type": "object",
                    "properties": {"start": {"type": "string"}, "destination": {"type": "string"}},
                    "required": ["start", "destination"],
                },
            },
            {
                "name": "chess_club_details.find",
                "parameters": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "city": {"type": "string"}},
                    "required": ["name", "city"],
                },
            },
        ]
    )
    by_name = {route.name: route, club.name: club}
    trip = ToolCall(name=route.name, arguments={"start": "London", "destination": "Edinburgh"})
    copied = ToolCall(name=club.name, arguments={"name": "London", "city": "London"})
    request = "What is the fastest route from London to Edinburgh for a chess championship?"
    assert without_copied_names([trip, copied], by_name, request) == [trip]
    # a club the user named after its city ("the London chess club in London") stays
    named = "The route from London to Edinburgh, and the London chess club in London"
    assert without_copied_names([trip, copied], by_name, named) == [trip, copied]


def test_dates_go_to_the_call_whose_place_they_follow() -> None:
    by_city, by_coordinates = parse_tools(
        [
            {
                "name": "weather.by_city_date",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}, "date": {"type": "string"}},
                    "required": ["city", "date"],
                },
            },
            {
                "name": "weather.by_coordinates_date",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "coordinates": {"type": "array", "items": {"type": "number"}},
                        "date": {"type": "string"},
                    },
                    "required": ["coordinates", "date"],
                },
            },
        ]
    )
    by_name = {by_city.name: by_city, by_coordinates.name: by_coordinates}

    def city(date: str) -> ToolCall:
        return ToolCall(name=by_city.name, arguments={"city": "New York City", "date": date})

    def point(date: str) -> ToolCall:
        arguments = {"coordinates": [40.7128, -74.006], "date": date}
        return ToolCall(name=by_coordinates.name, arguments=arguments)

    request = (
        "The weather in New York City on 2020-12-25 and 2021-01-01, and the weather at the"
        " coordinates (40.7128, -74.0060) on 2021-01-15"
    )
    calls = [point("2020-12-25"), city("2021-01-01"), city("2021-01-15")]
    assert with_values_after_own_places(calls, by_name, request) == [
        point("2021-01-15"),
        city("2020-12-25"),
        city("2021-01-01"),
    ]
    # the dates before the places: which is whose is not written
    before = "On 2020-12-25, 2021-01-01 and 2021-01-15: New York City, then (40.7128, -74.0060)"
    assert with_values_after_own_places(calls, by_name, before) == calls
