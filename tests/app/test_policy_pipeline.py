"""The decision pipeline: one ordered list of passes, each switchable by name, and the passes
that read any language (the model's route, the exemplar calls).

The model's words are scripted (tests/scripted_backend.py); the registry, the store, the
grammar-facing tool specs and the assistant's turn are real.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

from app.assistant import Assistant, AssistantOptions
from app.evaluation.extra_tools import with_stand_ins
from app.events import ActionPending, ToolResultEvent, TurnDone
from app.policy import pipeline
from app.policy.decision import CANDIDATES, decide, last_exchange, routing_prompt
from app.policy.exemplar_calls import EXEMPLAR_CALLS
from app.policy.exemplars import EXEMPLARS
from app.prompt import INSTRUCTIONS, system_prompt
from app.tool_choice import ReaskBudget
from backends.errors import GenerationIncomplete
from backends.schema import parse_tools
from connectors.registry import Registry, load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend


def call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def test_every_pass_has_a_unique_name_a_reason_and_code_that_exists() -> None:
    names = [p.name for p in pipeline.PIPELINE]
    assert len(names) == len(set(names))
    for item in pipeline.PIPELINE:
        assert item.reason and item.languages
        module, _, attribute = item.where.rpartition(".")
        assert hasattr(importlib.import_module(module), attribute), item.where


def test_an_unknown_pass_name_is_refused_with_the_list_of_names() -> None:
    with pytest.raises(pipeline.UnknownPassError, match="no pass named nosuch; the passes are"):
        pipeline.parse_without("topic_gate,nosuch")
    assert pipeline.parse_without(" topic_gate , route ") == {"topic_gate", "route"}


def test_the_command_line_refuses_an_unknown_pass_before_loading_a_model(tmp_path) -> None:
    cases = tmp_path / "cases.yaml"
    cases.write_text("cases: []\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "app", "eval-assistant", str(cases), "--without", "nosuch"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "no pass named nosuch" in done.stderr


def test_switching_a_pass_off_lasts_for_the_block_only() -> None:
    assert pipeline.enabled("topic_gate")
    with pipeline.without(["topic_gate"]):
        assert not pipeline.enabled("topic_gate")
        assert pipeline.disabled() == {"topic_gate"}
    assert pipeline.enabled("topic_gate")


# -- the route pass ------------------------------------------------------------------------------


@pytest.fixture
def product_registry() -> Registry:
    return load_registry()


def test_the_routing_prompt_lists_every_tool_and_only_the_exemplars_of_offered_tools(
    product_registry: Registry,
) -> None:
    specs = parse_tools(product_registry.definitions())
    notes = [s for s in specs if s.name.startswith("notes_")]
    text = routing_prompt(notes)
    assert all(f"- {s.name}:" in text for s in notes)
    assert "calendar_create" not in text
    assert "Junta batatas à lista de compras" in text  # a notes exemplar, in Portuguese
    assert "Pon gimnasio todos los lunes a las 7" not in text  # a calendar one


def test_a_german_request_routed_to_a_tool_becomes_a_pending_action(
    product_registry: Registry, tool_context: ToolContext
) -> None:
    request = "Trag mir für morgen um 15 Uhr Kaffee mit Jonas ein"
    reply = call("calendar_create", title="Kaffee mit Jonas", start="morgen 15:00")
    # the model's answer, then the same answer to the re-ask passes' "any more calls?"
    backend = ScriptedBackend([reply, f"[{reply}]", reply], routes=["calendar_create"])
    assistant = Assistant(backend, product_registry, tool_context, AssistantOptions())
    events = list(assistant.turn(None, request))
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert [p.tool for p in pending] == ["calendar_create"]
    assert backend.routed == [request]
    assert backend.offered[0] == [s for s in backend.offered[0] if s.startswith("calendar_")]


def test_without_the_route_the_english_word_gate_turns_the_same_german_call_into_text(
    product_registry: Registry, tool_context: ToolContext
) -> None:
    request = "Trag mir für morgen um 15 Uhr Kaffee mit Jonas ein"
    reply = call("calendar_create", title="Kaffee mit Jonas", start="morgen 15:00")
    backend = ScriptedBackend([reply, "Wann?"])
    assistant = Assistant(backend, product_registry, tool_context, AssistantOptions())
    with pipeline.without(["route"]):
        events = list(assistant.turn(None, request))
    assert not [e for e in events if isinstance(e, ActionPending)]
    assert backend.routed == []  # the pass is off: the model is not asked to route
    assert isinstance(events[-1], TurnDone)


def test_the_route_reads_the_previous_exchange_of_a_follow_up(
    product_registry: Registry, tool_context: ToolContext
) -> None:
    backend = ScriptedBackend(["Du hast drei Notizen."], routes=["none", "notes_delete"])
    assistant = Assistant(backend, product_registry, tool_context, AssistantOptions())
    first = list(assistant.turn(None, "Welche Notizen habe ich?"))
    conversation = first[-1].conversation_id
    messages = assistant.conversations.messages(conversation, limit=8)
    messages.append({"role": "user", "content": "Lösch die erste"})
    earlier = last_exchange(messages)
    assert [m["content"] for m in earlier] == ["Welche Notizen habe ich?", "Du hast drei Notizen."]


def test_decide_returns_none_for_a_text_answer_and_the_tool_otherwise(
    product_registry: Registry,
) -> None:
    specs = parse_tools(product_registry.definitions())
    backend = ScriptedBackend([], routes=["notes_append", "none"])
    assert decide(backend, "Setz Käse auf die Einkaufsliste", specs).tool == "notes_append"
    assert decide(backend, "Erzähl mir einen Witz", specs).tool is None


def test_among_many_tools_the_routing_prompt_lists_the_retrieved_ones_only(
    product_registry: Registry,
) -> None:
    """150 tools in one line each fill most of a 4,096-token context: beyond LISTED_TOOLS the
    route's prompt shows the candidates retrieval picked, and the choice is still one of them."""
    product = parse_tools(product_registry.definitions())
    others = parse_tools(
        [
            {
                "name": f"service_{n}_lookup",
                "description": f"Look up record {n} of another service.",
                "parameters": {"type": "object", "properties": {}},
            }
            for n in range(150 - len(product))
        ]
    )
    backend = ScriptedBackend([], routes=["notes_append"])
    assert decide(backend, "Setz Käse auf die Einkaufsliste", [*product, *others]).tool == (
        "notes_append"
    )
    (prompt,) = [m["content"] for m in backend.route_prompts[-1] if m["role"] == "system"]
    listed = [line for line in prompt.splitlines() if line.startswith("- ")]
    assert "- notes_append: " in prompt
    assert len(listed) <= CANDIDATES + 1  # and the "none" line
    assert len(routing_prompt(product).splitlines()) > len(prompt.splitlines())


# -- exemplar calls ------------------------------------------------------------------------------


def test_the_system_message_shows_exemplar_calls_of_the_offered_tools_only() -> None:
    text = system_prompt(["notes_append", "notes_create"])
    assert text.startswith(INSTRUCTIONS)
    assert '"name": "notes_append"' in text
    assert "calendar_create" not in text
    assert system_prompt(["get_weather"]) == INSTRUCTIONS  # another app's tools: no examples
    with pipeline.without(["exemplar_calls"]):
        assert system_prompt(["notes_append"]) == INSTRUCTIONS


def test_exemplar_calls_are_valid_calls_of_the_product_tools(product_registry: Registry) -> None:
    for _text, name, arguments in EXEMPLAR_CALLS:
        product_registry.get(name).validate(arguments)  # raises on a bad exemplar
    assert {name for _t, name, _a in EXEMPLAR_CALLS} == {
        s.name for s in parse_tools(product_registry.definitions())
    }


def test_no_exemplar_is_a_request_of_the_product_cases() -> None:
    from pathlib import Path

    from app.evaluation.assistant_cases import load_cases

    cases, _fixtures = load_cases(Path("tests/assistant_cases"), split="all", limit=None)
    asked = {" ".join(m.casefold().split()) for c in cases for m in c.messages}
    shown = [t for t, _n in EXEMPLARS] + [t for t, _n, _a in EXEMPLAR_CALLS]
    assert not [t for t in shown if " ".join(t.casefold().split()) in asked]


# -- the re-ask budget ---------------------------------------------------------------------------


def test_the_reask_budget_ends_after_its_passes_or_its_seconds() -> None:
    budget = ReaskBudget(passes=2, seconds=10.0)
    budget.spend(1.0)
    assert budget.left()
    budget.spend(1.0)
    assert not budget.left()
    slow = ReaskBudget(passes=5, seconds=3.0)
    slow.spend(3.5)
    assert not slow.left()


def test_the_policy_command_lists_the_passes_in_order_and_marks_those_switched_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from app.cli import main
    from app.settings import load_settings, save_settings

    settings = load_settings().model_copy(update={"policy_without": ["topic_gate"]})
    save_settings(settings)
    assert main(["policy"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(". ", 1)[1].split(" ", 1)[0] for line in lines] == [
        p.name for p in pipeline.PIPELINE
    ]
    assert [line for line in lines if line.endswith("[off]")] == [
        line for line in lines if " topic_gate " in line
    ]


# -- the routed_call pass --------------------------------------------------------------------------


class _ProseUnlessForced(ScriptedBackend):
    """A model that answers in prose when it may ("Printer-setup.txt says ...", as the bundled
    model did) and writes the scripted call only when the grammar allows calls alone; with
    ``cut`` its forced call runs out of tokens instead."""

    def __init__(self, reply: str, *, cut: bool = False, routes: list[str]) -> None:
        super().__init__([], routes=routes)
        self.reply, self.cut = reply, cut

    def stream(self, messages, tools=None, *, options=None, cancel=None):
        schema = (options.response_schema if options else None) or {}
        if not (tools is None and "none" in schema.get("enum", ())):
            forced = options is not None and not options.allow_text and options.allow_calls
            if forced and self.cut:
                raise GenerationIncomplete("the budget ran out in the call", partial_text="{")
            self.replies.append(self.reply if forced else "It says: printer setup.")
        yield from super().stream(messages, tools, options=options, cancel=cancel)


def _read_printer_guide(backend: ScriptedBackend, tool_context: ToolContext) -> list:
    (tool_context.granted_folders[0] / "printer-setup.txt").write_text("Press the blue button.")
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    return list(assistant.turn(None, "What does printer-setup.txt say?"))


def test_a_request_the_route_gave_a_tool_is_answered_with_a_call(
    tool_context: ToolContext,
) -> None:
    reply = call("files_read", path="printer-setup.txt")
    events = _read_printer_guide(_ProseUnlessForced(reply, routes=["files_read"]), tool_context)
    assert [e.name for e in events if isinstance(e, ToolResultEvent)] == ["files_read"]
    assert "blue button" in events[-1].text
    with pipeline.without(["routed_call"]):
        events = _read_printer_guide(_ProseUnlessForced(reply, routes=["files_read"]), tool_context)
    assert not [e for e in events if isinstance(e, ToolResultEvent)]


def test_a_forced_call_cut_short_by_the_budget_falls_back_to_the_model_s_choice(
    tool_context: ToolContext,
) -> None:
    backend = _ProseUnlessForced("", cut=True, routes=["files_read"])
    events = _read_printer_guide(backend, tool_context)
    assert events[-1].text == "It says: printer setup."
    assert [o.allow_text for o in backend.options] == [True]  # the cut try is not a turn's end


def test_among_many_tools_a_request_the_route_left_open_is_offered_the_retrieved_ones(
    tool_context: ToolContext,
) -> None:
    """Routed to none among 150 tools, the main pass used to offer the connectors whose
    English words the request shares; the German request shares none of them, and the
    grammar must cover only the tools retrieval picked."""
    others = parse_tools(
        [
            {
                "name": f"service{n}_lookup",
                "description": f"Look up record {n} of another service.",
                "parameters": {"type": "object", "properties": {}},
            }
            for n in range(126)
        ]
    )
    registry = with_stand_ins(load_registry(), others)
    backend = ScriptedBackend(["Gern."], routes=["none"])
    assistant = Assistant(backend, registry, tool_context, AssistantOptions(tool_limit=10))
    list(assistant.turn(None, "Setz Käse auf die Einkaufsliste"))
    offered = backend.offered[0]
    assert "notes_append" in offered
    assert len(offered) <= 10
    assert not [name for name in offered if name.startswith("service")]
