"""A request in parts, one task each: "Find a condo in San Francisco ... After that, value a
villa in Los Angeles ... Lastly, value an apartment in New York ...".

Measured on the bundled model (BFCL parallel_multiple, first 100): asked for several tasks in
several sentences, it writes a call for each but mixes their values (the San Francisco condo's
budget goes to the Los Angeles call, the first equation's coefficients to the quadratic tool
of the third). Asked one sentence at a time it reads each on its own. The parts are the
request's sentences that hold values (numbers, names, quoted text); a sentence without any
("Can you help me with some math problems?", "First, I need the roots of a quadratic.")
opens the next part, and one that points back ("... walk this route", "in these years")
belongs to the part before it.
"""

from __future__ import annotations

import re

_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=\S)|\n+")
_VALUE = re.compile(r"\d|'[^']+'|\"[^\"]+\"|(?<=\S\s)[A-Z][a-z]")
_POINTS_BACK = re.compile(
    r"\b(?:this|these|those|it|them|the same|same|both|above|previous|result|results|here)\b",
    re.IGNORECASE,
)
_SEQUENCE = re.compile(r"\b(?:after|before|besides|apart from|other than) that\b", re.IGNORECASE)


def request_parts(request: str) -> list[str]:
    """The request's tasks, in order (one part for a request of one task)."""
    parts: list[str] = []
    opening: list[str] = []  # sentences without values, waiting for their task
    for sentence in (s.strip() for s in _SENTENCE.split(request.strip().strip('"'))):
        if not sentence:
            continue
        if parts and not opening and _POINTS_BACK.search(_SEQUENCE.sub("", sentence)):
            parts[-1] = f"{parts[-1]} {sentence}"
        elif _VALUE.search(sentence):
            parts.append(" ".join([*opening, sentence]))
            opening = []
        else:
            opening.append(sentence)
    if opening:
        if parts:
            parts[-1] = f"{parts[-1]} {' '.join(opening)}"
        else:
            parts.append(" ".join(opening))
    return parts
