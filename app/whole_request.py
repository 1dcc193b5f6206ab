"""The values only the whole request gives a finished answer's calls.

Each rule here reads the user's whole request against the whole answer: whose a value is
when several calls share a kind of value, what "the museum" or "each city" refers to, which
choice, unit or percentage the user named with a parameter's own word. They run once the
answer is complete (:func:`app.tool_choice.respond_stream` with ``finish``), not on the
calls of one part of the request, and not before the passes that ask the model again, so
they change no prompt. Every rule was checked against BFCL's ground-truth answers first;
each module's docstring gives its count.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from app.back_references import with_named_referents
from app.call_values import with_asked_unit, with_lettered_numbers
from app.date_formats import with_24_hour_times
from app.description_examples import with_said_example
from app.each_value import with_call_for_each, with_call_per_number
from app.labelled_values import with_labelled_values
from app.named_parameters import with_tool_of_named_numbers
from app.named_percents import with_named_percents
from app.repeated_values import with_repeated_values
from app.said_choices import with_said_choices
from app.said_flags import with_said_flags
from app.si_prefixes import with_base_units
from app.strict_bounds import with_strict_bounds
from app.value_owners import (
    with_items_by_tools,
    with_own_numbers,
    with_values_after_own_places,
    without_copied_names,
)
from backends.generation import ToolCall
from backends.schema import ToolSpec


def read_from_whole_request(
    calls: Sequence[ToolCall], by_name: Mapping[str, ToolSpec], request: str
) -> list[ToolCall]:
    """The calls with the values that only the whole request gives them:
    - one call of the user's labelled numbers made to the tool whose parameters the labels
      name ("given distance is 8 meters and current is 12 Amperes",
      :mod:`app.named_parameters`);
    - a list's items by the tool named beside them, a number another call owns replaced by
      the one its own tool's other call holds, and a call whose name copies its other value
      (a chess club "London" in London) dropped, and a date given to the call whose place
      the user wrote it after (:mod:`app.value_owners`);
    - "the museum" by the museum's name (:mod:`app.back_references`);
    - a value written for each call given to each (:mod:`app.repeated_values`);
    - a parameter named after a percentage ("95% confidence", :mod:`app.named_percents`),
      and a left-out unit the one unit the user asked the answer "in" ("in miles");
    - a left-out choice the one the user named with the parameter's word ("using the
      reduced method", :mod:`app.said_choices`);
    - two values swapped back where the word after each names the other's argument
      ("the employees database on personal_data table", :mod:`app.labelled_values`);
    - a value naming the parameter's type (``type: "string"``) by the one example of its
      description the user said ("sculptures", :mod:`app.description_examples`), and
      "221 Baker Street" as the user wrote it, "221B"; "50mH" in the henries a tool asks
      for (:mod:`app.si_prefixes`); "11 PM" as 23 for a 24-hour parameter;
    - "less than 5 ingredients" as a maximum of 4 (:mod:`app.strict_bounds`), and a flag on
      whose action the user asked for ("using current exchange rate", :mod:`app.said_flags`);
    - a call for each city where the user asks about "each city", and for each number the
      user wrote after an argument's name ("a density of 5.2 ... a density of 7.8", where
      the model wrote one) (:mod:`app.each_value`).
    Done on the whole answer only, not on a part's."""
    calls = with_tool_of_named_numbers(calls, by_name, request)
    calls = with_own_numbers(with_items_by_tools(calls, by_name, request), by_name, request)
    calls = without_copied_names(calls, by_name, request)
    calls = with_values_after_own_places(calls, by_name, request)
    calls = with_repeated_values(with_named_referents(calls, by_name, request), by_name, request)
    calls = with_said_choices(with_named_percents(calls, by_name, request), by_name, request)
    calls = [_read_per_call(c, by_name[c.name], request) if c.name in by_name else c for c in calls]
    return with_call_per_number(with_call_for_each(calls, by_name, request), by_name, request)


def _read_per_call(call: ToolCall, tool: ToolSpec, request: str) -> ToolCall:
    """One call's part of :func:`read_from_whole_request`."""
    call = with_labelled_values(with_asked_unit(call, tool, request), tool, request)
    call = with_lettered_numbers(with_said_example(call, tool, request), tool, request)
    call = with_24_hour_times(with_base_units(call, tool, request), tool, request)
    return with_said_flags(with_strict_bounds(call, tool, request), tool, request)
