"""Other services' tools beside the product's (app/evaluation/extra_tools.py): the registry
bench/retrieval.py measures retrieval on, and ``eval-assistant --registry-tools`` runs the
product evaluation with. BFCL files of the tests' own stand in for the real ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app import cli
from app.evaluation import assistant_runner
from app.evaluation.extra_tools import registry_tools, stand_in_name, with_stand_ins
from connectors.errors import ConnectorError
from connectors.registry import load_registry
from connectors.tool import Effect

PRODUCT = len(load_registry().tools())


def _function(name: str, description: str) -> dict:
    return {
        "name": name,
        "description": description,
        "parameters": {
            "type": "dict",
            "properties": {"city": {"type": "string", "description": "The city"}},
            "required": ["city"],
        },
    }


@pytest.fixture
def bfcl(tmp_path: Path) -> Path:
    """Two BFCL files: five functions, two of them with names the registry refuses."""
    folder = tmp_path / "bfcl"
    folder.mkdir()
    multiple = [
        {"id": "multiple_0", "function": [_function("get_weather", "Weather in a city.")]},
        {"id": "multiple_1", "function": [_function("uber.eat.order", "Order food.")]},
    ]
    simple = [
        {"id": "live_simple_0", "function": [_function("ThinQ_Connect", "Control an LG fridge.")]},
        {"id": "live_simple_1", "function": [_function("book_hotel", "Book a hotel room.")]},
        {"id": "live_simple_2", "function": [_function("get_weather", "Weather, again.")]},
        {"id": "live_simple_3", "function": [_function("find_museum", "Museums in a city.")]},
    ]
    for name, lines in (("BFCL_v4_multiple.json", multiple), ("BFCL_v4_live_simple.json", simple)):
        (folder / name).write_text("\n".join(json.dumps(x) for x in lines), encoding="utf-8")
    return folder


def test_the_registry_is_the_product_s_tools_and_a_seeded_sample_of_bfcl(bfcl: Path) -> None:
    tools, made_of = registry_tools(bfcl, size=PRODUCT + 3)
    names = [t.name for t in tools]
    assert names[:PRODUCT] == [t.name for t in load_registry().tools()]
    assert len(names) == PRODUCT + 3 == len(set(names))
    assert names == [t.name for t in registry_tools(bfcl, size=PRODUCT + 3)[0]]
    assert made_of.startswith(f"registry: {PRODUCT + 3} tools = product {PRODUCT} + ")
    everything, _ = registry_tools(bfcl, size=500)
    assert len(everything) == PRODUCT + 5  # get_weather once


def test_a_stand_in_is_offered_read_only_and_never_runs(bfcl: Path, tool_context) -> None:
    """A call to another service's tool is a wrong call the turn reports, never a change."""
    tools, _ = registry_tools(bfcl, size=500)
    registry = with_stand_ins(load_registry(), tools)
    offered = {t.name for t in registry.tools()}
    assert {"bfcl.uber_eat_order", "bfcl.ThinQ_Connect", "get_weather"} <= offered
    assert stand_in_name("uber.eat.order") == "bfcl.uber_eat_order"
    weather = registry.get("get_weather")
    assert weather.effect is Effect.READS
    assert weather.definition()["function"]["description"] == "Weather in a city."
    with pytest.raises(ConnectorError, match="another service's tool"):
        registry.run("get_weather", {"city": "Porto"}, tool_context)
    assert len(load_registry().tools()) == PRODUCT  # the product's registry is left alone


CASES = """\
cases:
  - id: en-calendar_read-tomorrow
    lang: en
    category: calendar_read
    request: "What do I have tomorrow?"
    expect:
      kind: read
      reads:
        - tool: calendar_list
          values: {from: "2026-03-15"}
  - id: en-ask-missing-time
    lang: en
    category: ask
    request: "Put a meeting in my calendar"
    expect: {kind: ask}
"""


def test_eval_assistant_runs_with_other_services_tools_on_the_tiny_model(
    bfcl: Path,
    tmp_path: Path,
    tiny_long_gguf: Path,
    _isolated_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """``--registry-tools`` registers the extra tools for the whole run, on a real backend;
    one case (``--limit 1``) runs to a verdict without an error. (The tiny model reads a byte
    a token: its prompts need the 8k context.)"""
    _isolated_home.mkdir(parents=True, exist_ok=True)
    (_isolated_home / "settings.json").write_text('{"context_tokens": 8192}', encoding="utf-8")
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "fixture.yaml").write_text(
        'now: "2026-03-14T10:05"\ntimezone: Europe/Lisbon\n', encoding="utf-8"
    )
    (cases / "everyday.yaml").write_text(CASES, encoding="utf-8")
    monkeypatch.setattr(assistant_runner, "WARM_UP", ())
    report = tmp_path / "report.json"
    code = cli.main(
        [
            "eval-assistant",
            str(cases),
            "--limit",
            "1",
            "--registry-tools",
            str(PRODUCT + 4),
            "--bfcl",
            str(bfcl),
            "--no-time-server",
            "--report",
            str(report),
            "--model",
            str(tiny_long_gguf),
            "--max-tokens",
            "8",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert f"registry: {PRODUCT + 4} tools = product {PRODUCT} + time server 0" in err
    assert out.strip().splitlines()[-1].startswith("accuracy=")
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["meta"]["registry_tools"] == PRODUCT + 4
    (case,) = document["cases"]
    assert case["error"] == ""
