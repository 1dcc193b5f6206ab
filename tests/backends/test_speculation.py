"""Copy speculation: drafts copied from the conversation, cut by the grammar, checked in one batch.

The draft finder is tested on plain token ids; the decode loop on the tiny random-weight model
with both runtimes, where speculation must change the number of passes over the weights and
nothing else: the same answers as one step per pass, on random schemas.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.base import Backend, GenerateOptions
from backends.decoding import make_matcher
from backends.schema import parse_tools
from backends.speculation import PromptLookup, grammar_prefix
from tests.backends.test_backend_contract import WEATHER, _bounded_schema, make_backend

# Token ids for the draft finder's tests, with the bytes each stands for.
PIECES = {
    1: b" meet",
    2: b" Anna",
    3: b" Schmidt",
    4: b" at",
    5: b" noon",
    6: b'"',
    7: b",",
    8: b" the",
    9: b" budget",
    10: b"<|im_end|>",
    11: b" tomorrow",
}
END = 10


def _lookup(history: list[int], longest: int = 4) -> PromptLookup:
    return PromptLookup(history, longest=longest, piece=PIECES.__getitem__, stop=frozenset({END}))


def test_draft_copies_what_followed_the_last_tokens_in_the_request() -> None:
    """Written " Anna" (a name seen once): the draft is the rest of the name and what came
    after it in the request."""
    lookup = _lookup([1, 2, 3, 4, 5], longest=4)
    lookup.extend([6, 2])
    assert lookup.propose(10) == [3, 4]


def test_the_latest_occurrence_of_the_last_tokens_wins() -> None:
    """The same two words twice: the later continuation (nearer the request's end) is drafted."""
    lookup = _lookup([8, 9, 4, 11, 7, 8, 9, 5])
    lookup.extend([6, 8, 9])
    assert lookup.propose(1) == [5]


def test_no_draft_from_punctuation_or_a_common_word() -> None:
    """A quote, a comma, or " the" seen three times predict nothing worth a pass."""
    lookup = _lookup([6, 7, 6, 8, 1, 8, 2, 8, 3])
    lookup.extend([6, 7])
    assert lookup.propose(4) == []
    lookup.extend([8])
    assert lookup.propose(4) == []


def test_draft_stops_before_the_end_of_a_turn() -> None:
    lookup = _lookup([1, 2, 3, END, 4])
    lookup.extend([2])
    assert lookup.propose(4) == [3]


def test_draft_length_follows_what_the_model_took() -> None:
    """Refused at once: shorter drafts; taken whole: longer ones, up to the limit."""
    lookup = _lookup([1, 2, 3, 4, 5, 9, 11, 1, 2], longest=6)
    assert lookup.length == 3
    lookup.taken(3, 0)
    assert lookup.length == 1
    lookup.taken(1, 1)
    lookup.taken(3, 3)
    assert lookup.length == 5
    lookup.taken(5, 5)
    assert lookup.length == 6
    lookup.taken(6, 2)
    assert lookup.length == 3


@pytest.fixture(scope="module", params=["llama.cpp", "mlx"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    kind = request.param
    model: Path = request.getfixturevalue("tiny_mlx_path" if kind == "mlx" else "tiny_gguf_path")
    b = make_backend(kind, model)
    yield b
    b.close()


def test_grammar_cuts_a_draft_where_it_refuses_it(tiny_gguf_path: Path) -> None:
    """A draft that leaves the schema is cut at the first refused token, and checking it
    consumes nothing: the matcher still takes the allowed part afterwards."""
    backend = make_backend("llama.cpp", tiny_gguf_path)
    try:
        options = GenerateOptions(allow_text=False)
        matcher = make_matcher(
            backend._lltokenizer, parse_tools([WEATHER]), backend.call_format, options
        )
        allowed = backend.tokenize('{"name": "get_weather", "arguments": {"')
        refused = backend.tokenize('zone": "UTC"}}')  # no such argument
        assert grammar_prefix(matcher, [*allowed, *refused]) == allowed
        assert matcher.try_consume_tokens(allowed) == len(allowed)
    finally:
        backend.close()


def test_speculation_changes_passes_not_answers(backend: Backend) -> None:
    """On random schemas, greedy answers with drafts are the answers of one step per pass
    (calls, flags, raw text), and drafts were taken: fewer passes than steps."""
    totals = dict.fromkeys(["drafted", "accepted", "passes", "plain passes"], 0)
    examples = 12 if backend.name == "llama.cpp" else 5

    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(
        schemas=st.lists(_bounded_schema(), min_size=1, max_size=3),
        words=st.lists(st.sampled_from(["alpha", "abc", "xyz", "beta", "7", "42"]), max_size=6),
    )
    def check(schemas: list[dict[str, Any]], words: list[str]) -> None:
        tools = parse_tools([{"name": f"tool_{i}", "parameters": s} for i, s in enumerate(schemas)])
        messages = [
            {"role": "system", "content": "You help."},
            {"role": "user", "content": "do it " + " ".join(words * 2)},
        ]
        plain = backend.generate(
            messages, tools, options=GenerateOptions(max_tokens=300, draft_tokens=0)
        )
        drafted = backend.generate(
            messages, tools, options=GenerateOptions(max_tokens=300, draft_tokens=6)
        )
        assert drafted.raw == plain.raw
        assert drafted.to_json() == plain.to_json()
        assert drafted.finish_reason == plain.finish_reason
        assert plain.drafted_tokens == 0
        assert drafted.passes <= plain.passes
        totals["drafted"] += drafted.drafted_tokens
        totals["accepted"] += drafted.accepted_tokens
        totals["plain passes"] += plain.passes
        totals["passes"] += drafted.passes

    check()
    assert totals["accepted"] > 0, totals
    assert totals["drafted"] > totals["accepted"], totals  # refused drafts were rolled back
    assert totals["passes"] < totals["plain passes"], totals
