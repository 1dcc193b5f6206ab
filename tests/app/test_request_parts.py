"""A request of several tasks is read as one part per task."""

from __future__ import annotations

import pytest

from app.request_parts import request_parts


@pytest.mark.parametrize(
    ("request_text", "parts"),
    [
        ("Turn on the lights in the kitchen", ["Turn on the lights in the kitchen"]),
        (
            "Find a Chinese restaurant in New York. Then find a flight to Los Angeles.",
            ["Find a Chinese restaurant in New York.", "Then find a flight to Los Angeles."],
        ),
        # a sentence without values opens the task that follows it
        (
            "Can you help me with math? First, the roots of 3x^2 + 4x - 7 = 0. Second, the "
            "roots of 2x^3 - 1 = 0.",
            [
                "Can you help me with math? First, the roots of 3x^2 + 4x - 7 = 0.",
                "Second, the roots of 2x^3 - 1 = 0.",
            ],
        ),
        # a sentence that points back belongs to the task before it
        (
            "What was the life expectancy in 1900 and 1950? Additionally, what was the GDP "
            "in these years?",
            [
                "What was the life expectancy in 1900 and 1950? Additionally, what was the GDP "
                "in these years?"
            ],
        ),
        # "after that" orders tasks, it points at none; "that is" describes
        (
            '"Find a condo in San Francisco with 2 bedrooms. After that, value a villa in Los '
            'Angeles that is 5 years old."',
            [
                "Find a condo in San Francisco with 2 bedrooms.",
                "After that, value a villa in Los Angeles that is 5 years old.",
            ],
        ),
        # words without a task after the last one stay with it
        (
            "Book a table at Nobu for 4. Thanks a lot!",
            ["Book a table at Nobu for 4. Thanks a lot!"],
        ),
    ],
)
def test_request_parts(request_text: str, parts: list[str]) -> None:
    assert request_parts(request_text) == parts
