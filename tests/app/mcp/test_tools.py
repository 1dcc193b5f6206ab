"""An MCP tool's answer as the model gets it: structured data, cut to size, errors as errors."""

from __future__ import annotations

import pytest
from mcp.types import CallToolResult, ImageContent, TextContent, Tool, ToolAnnotations

from app.mcp.errors import McpToolError
from app.mcp.log import McpLog
from app.mcp.tools import MAX_RESULT_CHARS, McpToolSync, registry_name, to_result
from connectors.registry import Registry


def test_structured_content_is_the_result_and_text_the_summary() -> None:
    result = to_result(
        "time.now",
        CallToolResult(
            content=[TextContent(text='{\n "hour": 9\n}')], structured_content={"hour": 9}
        ),
    )
    assert result.data == {"hour": 9}
    assert result.summary == 'time.now: { "hour": 9 }'
    assert result.undo is None


def test_a_long_answer_is_cut() -> None:
    text = "word " * 5000
    result = to_result("docs.read", CallToolResult(content=[TextContent(text=text)]))
    assert result.data["cut"] is True
    assert len(result.data["text"]) <= MAX_RESULT_CHARS + 10
    assert len(result.summary) <= 160


def test_an_error_the_tool_reports_is_raised_with_its_words() -> None:
    with pytest.raises(McpToolError, match=r"docs\.read reported an error: no such page"):
        to_result(
            "docs.read", CallToolResult(content=[TextContent(text="no such page")], is_error=True)
        )


def test_content_other_than_text_is_named() -> None:
    image = ImageContent(data="aGk=", mime_type="image/png")
    result = to_result("cam.snap", CallToolResult(content=[image]))
    assert result.data == {"text": "[image]"}


def test_names_are_folded_and_unusable_tools_left_out_with_a_log_line(tmp_path) -> None:
    assert registry_name("Brave-Search", "web search.v2") == "brave_search.web_search_v2"
    registry = Registry()
    log = McpLog(tmp_path / "mcp.log")
    sync = McpToolSync(registry, lambda server, tool, arguments: None, log)  # type: ignore[arg-type,return-value]
    good = Tool(
        name="look",
        input_schema={"type": "object", "properties": {}},
        annotations=ToolAnnotations(read_only_hint=True),
    )
    bad = Tool(name="broken", input_schema={"type": "object", "properties": {"x": {"type": 5}}})

    sync.publish("Eyes", [good, bad])
    assert [t.name for t in registry.tools()] == ["eyes.look"]
    assert "tool 'broken' left out" in log.read()

    sync.publish("Eyes", [])  # the server no longer offers it
    assert registry.tools() == []
