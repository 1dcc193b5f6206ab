"""Which words of the tools' descriptions a call must not copy unasked.

The decoder's half (a copied word loses logits) is tested in tests/backends/test_decoding.py.
"""

from __future__ import annotations

from app.description_examples import (
    example_starts,
    example_words,
    unsaid_examples,
    with_said_example,
)
from app.tool_choice import respond
from backends.base import GenerateOptions, Message
from backends.generation import ToolCall
from backends.schema import parse_tools
from tests.scripted_backend import ScriptedBackend

WEATHER = parse_tools(
    [
        {
            "name": "get_current_weather",
            "description": "Retrieves the current weather conditions for a location.",
            "parameters": {
                "type": "object",
                "properties": {
                    "location": {
                        "type": "string",
                        "description": "The city and state, e.g. San Francisco, CA. Use the "
                        "short form of the state.",
                    },
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["location"],
            },
        }
    ]
)


def test_example_words_are_read_after_their_marker_up_to_the_sentence_end() -> None:
    assert example_words("The city and state, e.g. San Francisco, CA. Use the short form.") == {
        "San",
        "Francisco",
        "CA",
    }
    assert example_words("A city, such as 'Washington D.C.' or 'Paris'. Required.") == {
        "Washington",
        "Paris",
    }
    assert example_words("Room type (for example Bathroom, Living room, etc.)") == {
        "Bathroom",
        "Living",
        "room",
    }
    assert example_words("The start, e.g., 2023-04-12T14:00:00Z.") == set()  # dates share digits
    assert example_words("The name of the city.") == set()
    assert example_words("Whose car, e.g. Anna's car. Not Bob.") == {"Anna", "car"}
    assert example_words("Search query, e.g. 'track:Doxy artist:Miles Davis'.") == {
        "Doxy",
        "Miles",
        "Davis",
    }  # the syntax's keys are to be copied


def test_only_words_nobody_said_are_avoided() -> None:
    assert set(unsaid_examples(WEATHER, "Weather in Tel Aviv?")) == {"San", "Francisco", "CA"}
    assert unsaid_examples(WEATHER, "How warm is it in San Francisco, CA?") == ()
    assert set(unsaid_examples(WEATHER, "san francisco please")) == {"CA"}  # any case
    rooms = parse_tools(
        [
            {
                "name": "art",
                "description": "Finds art.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string", "description": "e.g. sculpture, painting"}
                    },
                },
            }
        ]
    )
    assert unsaid_examples(rooms, "famous sculptures in Rome") == ("painting",)  # plural says it


def test_the_decoder_is_told_what_the_conversation_did_not_say() -> None:
    """The words come from the whole conversation: a tool result that said "CA" makes it the
    user's (the assistant may then copy it)."""
    call = '{"name": "get_current_weather", "arguments": {"location": "Tel Aviv, Israel"}}'
    backend = ScriptedBackend([call, call])
    respond(backend, [{"role": "user", "content": "Weather in Tel Aviv?"}], WEATHER)
    assert {"ca", "san", "francisco", "fra"} <= set(backend.options[0].unsaid_examples)
    conversation: list[Message] = [
        {"role": "user", "content": "Where am I?"},
        {"role": "tool", "name": "locate", "content": '{"city": "San Francisco, CA"}'},
        {"role": "assistant", "content": "You are in San Francisco."},
        {"role": "user", "content": "And the weather here?"},
    ]
    respond(backend, conversation, WEATHER)
    assert backend.options[1].unsaid_examples == ()
    unconstrained = GenerateOptions(constrained=False)
    backend = ScriptedBackend([call])
    respond(backend, [{"role": "user", "content": "Weather?"}], WEATHER, options=unconstrained)
    assert backend.options[0].unsaid_examples == ()


def test_starts_of_example_words_are_avoided_unless_the_user_wrote_them() -> None:
    """A tokenizer may write "Marriage" as "Mar" + "riage": the starts count, except those a
    word of the user begins with."""
    starts = example_starts(["Marriage", "CA"], "divorce lawyers in Marseille")
    assert "marriage" in starts and "marri" in starts and "ca" in starts
    assert "mar" not in starts and "marr" in starts  # "Marseille" starts with "mar"
    assert "ma" not in starts  # two letters start too many words


def test_a_value_naming_the_type_becomes_the_example_the_user_said() -> None:
    """ "famous contemporary sculptures": ``type: "string"`` is the schema's word, the
    user's is the description's "sculpture"."""
    (artwork,) = parse_tools(
        [
            {
                "name": "artwork_search",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "type": {
                            "type": "string",
                            "description": "Type of the artwork. E.g., painting, sculpture.",
                        },
                        "location": {"type": "string"},
                    },
                    "required": ["type", "location"],
                },
            }
        ]
    )

    def search(kind: str) -> ToolCall:
        return ToolCall(name="artwork_search", arguments={"type": kind, "location": "New York"})

    request = "Search for famous contemporary sculptures in New York."
    assert with_said_example(search("string"), artwork, request) == search("sculpture")
    # a real value stays, and an example nobody said is never written in
    assert with_said_example(search("statue"), artwork, request) == search("statue")
    unsaid = "Search for famous contemporary art in New York."
    assert with_said_example(search("string"), artwork, unsaid) == search("string")
