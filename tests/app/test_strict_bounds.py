""" "less than 5 ingredients": a strict bound on a count is the inclusive one a step inside."""

from __future__ import annotations

import pytest

from app.strict_bounds import with_strict_bounds
from backends.generation import ToolCall
from backends.schema import ToolSpec, parse_tools


def _tool(name: str, description: str, kind: str = "integer") -> ToolSpec:
    (tool,) = parse_tools(
        [
            {
                "name": "search",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "what": {"type": "string"},
                        name: {"type": kind, "description": description},
                    },
                    "required": ["what"],
                },
            }
        ]
    )
    return tool


RECIPE = _tool("ingredientLimit", "Max number of ingredients the recipe should use.")
GAME = _tool("player_count", "The minimum player count for the board game.")


@pytest.mark.parametrize(
    ("tool", "request_text", "sent", "meant"),
    [
        (RECIPE, "an apple pie recipe using less than 5 ingredients", 5, 4),
        (RECIPE, "a soup with fewer than 6 ingredients", 6, 5),
        (GAME, "a board game that supports more than 5 players", 5, 6),
        (GAME, "a board game for over 5 players", 5, 6),
    ],
)
def test_a_strict_bound_on_a_count_moves_one_step_inside(
    tool: ToolSpec, request_text: str, sent: int, meant: int
) -> None:
    call = ToolCall(name="search", arguments={"what": "x", tool_param(tool): sent})
    assert with_strict_bounds(call, tool, request_text).arguments[tool_param(tool)] == meant


@pytest.mark.parametrize(
    ("tool", "request_text"),
    [
        # the user's bound is inclusive already
        (RECIPE, "an apple pie recipe with at most 5 ingredients"),
        (RECIPE, "an apple pie recipe with 5 ingredients or less"),
        # a strict bound from the other side says nothing about the maximum
        (RECIPE, "a recipe with more than 5 ingredients"),
        # "under 5" a count is no strict bound in BFCL's answers, nor a number of something else
        (RECIPE, "a recipe under 5 ingredients"),
        (RECIPE, "a recipe ready in less than 5 minutes"),
        # a measure, not a count: "under 500 calories" means 500
        (_tool("calories", "The maximum calorie content of the recipe."), "less than 5 calories"),
        (_tool("calories", "Max number of calories.", "number"), "less than 5 calories"),
    ],
)
def test_an_inclusive_bound_or_another_quantity_stays(tool: ToolSpec, request_text: str) -> None:
    call = ToolCall(name="search", arguments={"what": "x", tool_param(tool): 5})
    assert with_strict_bounds(call, tool, request_text) == call


def tool_param(tool: ToolSpec) -> str:
    return next(name for name in tool.parameters["properties"] if name != "what")
