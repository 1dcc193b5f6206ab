""" "my employees database on personal_data table": each value where its label says."""

from __future__ import annotations

from app.labelled_values import with_labelled_values
from backends.generation import ToolCall
from backends.schema import parse_tools

(COLUMNS,) = parse_tools(
    [
        {
            "name": "database.modify_columns",
            "parameters": {
                "type": "object",
                "properties": {
                    "db_name": {"type": "string", "description": "The name of the database."},
                    "table": {"type": "string", "description": "The name of the table."},
                },
                "required": ["db_name", "table"],
            },
        }
    ]
)


def _call(db_name: str, table: str) -> ToolCall:
    return ToolCall(name="database.modify_columns", arguments={"db_name": db_name, "table": table})


def test_values_swapped_against_their_labels_are_swapped_back() -> None:
    request = "Delete some columns from my employees database on personal_data table"
    swapped = _call("personal_data", "employees")
    assert with_labelled_values(swapped, COLUMNS, request) == _call("employees", "personal_data")
    # already right: stays
    right = _call("employees", "personal_data")
    assert with_labelled_values(right, COLUMNS, request) == right


def test_values_without_labels_after_them_stay() -> None:
    call = _call("personal_data", "employees")
    # the labels come before the values: no word after either names an argument
    before = "From the database employees, the table personal_data"
    assert with_labelled_values(call, COLUMNS, before) == call
