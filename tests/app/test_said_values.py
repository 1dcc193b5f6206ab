"""Arguments the request gives values for are limited to them; a tool that requires a value the
request does not give is asked about, in the user's language, not called with an invented one.

The registry, store, tool specs and the assistant's turn are real; the model's words are
scripted (tests/scripted_backend.py). The bundled model's own behaviour is measured by the
product evaluation (docs/EVALUATION.md).
"""

from __future__ import annotations

import json

from app.assistant import Assistant, AssistantOptions
from app.events import ActionPending, CallProposed, TextDelta, TurnDone
from app.policy import pipeline
from app.policy.clarify import need
from app.policy.said_values import missing, one_each, with_said
from backends.generation import ToolCall
from backends.schema import parse_tools
from connectors.registry import load_registry
from connectors.tool import ToolContext
from tests.scripted_backend import ScriptedBackend


def call(name: str, **arguments: object) -> str:
    return json.dumps({"name": name, "arguments": arguments}, ensure_ascii=False)


def spec(name: str):
    return next(s for s in parse_tools(load_registry().definitions()) if s.name == name)


def test_a_said_argument_becomes_a_choice_of_the_request_stretches() -> None:
    create = spec("calendar_create")
    narrowed = with_said(create, create, {"start": ["tomorrow at 12:30"], "end": []})
    assert narrowed is not None
    assert narrowed.parameters["properties"]["start"]["enum"] == ["tomorrow at 12:30"]
    assert "end" not in narrowed.parameters["properties"]  # no second date: no end


def test_a_required_argument_without_a_value_leaves_the_tool_out() -> None:
    create = spec("calendar_create")
    assert missing(create, {"start": []}) == ["start"]
    assert with_said(create, create, {"start": []}) is None
    assert need(create, ["start"]) == "when it starts"


def test_the_first_said_argument_comes_back_when_the_scope_left_it_out() -> None:
    listing = spec("calendar_list")
    bare = parse_tools([{**load_registry().get("calendar_list").definition()}])[0]
    scoped = type(bare)(bare.name, bare.description, {**bare.parameters, "properties": {}})
    narrowed = with_said(scoped, listing, {"start": ["amanhã"], "end": []})
    assert narrowed is not None
    assert narrowed.parameters["properties"]["start"]["enum"] == ["amanhã"]


def test_a_request_without_a_time_is_answered_with_a_question_and_nothing_waits(
    tool_context: ToolContext,
) -> None:
    backend = ScriptedBackend(["Wann ist das Treffen mit Lena?"], routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, "Trag ein Treffen mit Lena ein"))
    assert not [e for e in events if isinstance(e, ActionPending)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == (
        "Wann ist das Treffen mit Lena?"
    )
    assert isinstance(events[-1], TurnDone) and events[-1].pending == ()
    asked = backend.prompts[0]
    assert "Missing: when it starts" in asked[-1]["content"]  # the question names what is missing
    assert not backend.replies  # the main pass never ran: no call could be invented


def test_the_answer_to_the_question_completes_the_request(tool_context: ToolContext) -> None:
    reply = call("calendar_create", title="Treffen mit Lena", start="Dienstag um 11")
    backend = ScriptedBackend(
        ["Wann ist das Treffen mit Lena?", reply, f"[{reply}]", reply],
        routes=["calendar_create", "calendar_create"],
    )
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    first = list(assistant.turn(None, "Trag ein Treffen mit Lena ein"))
    events = list(assistant.turn(first[-1].conversation_id, "Dienstag um 11"))
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert [p.tool for p in pending] == ["calendar_create"]
    assert pending[0].preview["start"].startswith("2026-12-01T11:00")  # the next Tuesday
    grammar = backend.options[1].constrain_to
    create = next(t for t in grammar if t.name == "calendar_create")
    assert create.parameters["properties"]["start"]["enum"] == ["Dienstag um 11"]


def test_without_the_pass_the_tool_is_offered_with_free_dates(tool_context: ToolContext) -> None:
    reply = call("calendar_create", title="Treffen mit Lena", start="2026-11-26 10:00")
    backend = ScriptedBackend([reply, f"[{reply}]", reply], routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    with pipeline.without(["said_values"]):
        events = list(assistant.turn(None, "Trag ein Treffen mit Lena ein"))
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["calendar_create"]


def test_a_slots_length_said_in_words_is_the_only_length_offered(
    tool_context: ToolContext,
) -> None:
    reply = call("calendar_free_time", duration_minutes=120, start="jeudi")
    backend = ScriptedBackend([reply, f"[{reply}]", reply], routes=["calendar_free_time"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    list(assistant.turn(None, "Trouve-moi un créneau libre de deux heures jeudi"))
    grammar = next(o.constrain_to for o in backend.options if o.constrain_to)
    free = next(t for t in grammar if t.name == "calendar_free_time")
    duration = free.parameters["properties"]["duration_minutes"]
    assert duration["type"] == "integer" and duration["enum"] == [120]  # it searched for 60
    assert free.parameters["properties"]["start"]["enum"] == ["jeudi"]


def test_two_events_said_with_two_dates_get_one_each(tool_context: ToolContext) -> None:
    request = "Marca cabeleireiro na sexta às 11h e jantar com a Rita no sábado às 20h"
    first = {
        "name": "calendar_create",
        "arguments": {"title": "Cabeleireiro", "start": "sábado às 20h"},
    }
    second = {
        "name": "calendar_create",
        "arguments": {"title": "Jantar com a Rita", "start": "sábado às 20h"},
    }
    reply = json.dumps([first, second], ensure_ascii=False)
    backend = ScriptedBackend([reply, reply, reply], routes=["calendar_create"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, request))
    pending = [e for e in events if isinstance(e, ActionPending)]
    assert [p.preview["title"] for p in pending] == ["Cabeleireiro", "Jantar com a Rita"]
    # The model made both on Saturday at 20:00; the hairdresser is on Friday at 11:00.
    assert pending[0].preview["start"].startswith("2026-11-27T11:00")
    assert pending[1].preview["start"].startswith("2026-11-28T20:00")
    with pipeline.without(["one_each"]):
        backend = ScriptedBackend([reply, reply, reply], routes=["calendar_create"])
        assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
        events = list(assistant.turn(None, request))
    starts = [e.preview["start"][:16] for e in events if isinstance(e, ActionPending)]
    assert starts == ["2026-11-28T20:00", "2026-11-28T20:00"]


def test_two_events_at_one_place_keep_it_whole() -> None:
    """One place said is offered as "Cafe" and "Cafe Luz": two stretches of one value, not a
    value for each of two events."""
    calls = tuple(
        ToolCall("calendar_create", {"title": title, "start": start, "location": "Cafe Luz"})
        for title, start in (("Lunch", "Monday at 1"), ("Coffee", "Tuesday at 4"))
    )
    said = {
        "calendar_create": {
            "start": ["Monday at 1", "Tuesday at 4"],
            "location": ["Cafe", "Cafe Luz"],
        }
    }
    mended = one_each(calls, said)
    assert [c.arguments["location"] for c in mended] == ["Cafe Luz", "Cafe Luz"]


def test_an_argument_taken_back_keeps_its_place_in_the_schema() -> None:
    """The grammar keeps the schema's order: with the slot's length last, the bundled model
    (which writes it first) closed the call empty for "uma reunião de uma hora" on "terça"."""
    free = spec("calendar_free_time")
    scoped = type(free)(free.name, free.description, {**free.parameters, "properties": {}})
    narrowed = with_said(scoped, free, {"start": ["terça"], "end": [], "duration_minutes": [60]})
    assert narrowed is not None
    assert list(narrowed.parameters["properties"]) == ["duration_minutes", "start"]


def _list_note(tool_context: ToolContext) -> None:
    load_registry().run(
        "notes_create", {"title": "Compras", "body": "- leite"}, tool_context, approved=True
    )


def test_text_nobody_said_is_asked_for_not_added(tool_context: ToolContext) -> None:
    _list_note(tool_context)
    invented = call("notes_append", note="Compras", text="- apples\n- bananas")
    backend = ScriptedBackend(
        [invented, "O que devo acrescentar à lista?"], routes=["notes_append"]
    )
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, "Acrescenta uma coisa à minha lista"))
    assert not [e for e in events if isinstance(e, ActionPending)]
    assert isinstance(events[-1], TurnDone) and events[-1].pending == ()
    assert events[-1].text == "O que devo acrescentar à lista?"
    assert "Missing: text to add at the end of the note" in backend.prompts[-1][-1]["content"]
    with pipeline.without(["unsaid_text"]):
        backend = ScriptedBackend([invented, f"[{invented}]"], routes=["notes_append"])
        assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
        events = list(assistant.turn(None, "Acrescenta uma coisa à minha lista"))
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["notes_append"]


def test_text_the_user_said_in_any_language_is_added(tool_context: ToolContext) -> None:
    _list_note(tool_context)
    said = call("notes_append", note="Compras", text="- pão")
    backend = ScriptedBackend([said, f"[{said}]"], routes=["notes_append"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, "Acrescenta pão à lista de compras"))
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["notes_append"]


def test_a_search_left_without_the_slot_length_said_gets_it(tool_context: ToolContext) -> None:
    empty = call("calendar_free_time", start="jeudi")
    backend = ScriptedBackend([empty, "Rien."], routes=["calendar_free_time"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, "Trouve-moi un créneau libre de deux heures jeudi"))
    proposed = [e for e in events if isinstance(e, CallProposed)]
    assert [p.arguments.get("duration_minutes") for p in proposed] == [120]  # not the hour


def test_a_value_another_argument_holds_is_not_filled_in_again(
    tool_context: ToolContext,
) -> None:
    """The search from next week's start to next week's start found nothing."""
    searched = call("calendar_free_time", duration_minutes=30, start="next week")
    backend = ScriptedBackend([searched, "Nothing."], routes=["calendar_free_time"])
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    events = list(assistant.turn(None, "When am I free for 30 minutes next week?"))
    proposed = [e for e in events if isinstance(e, CallProposed)]
    assert [p.arguments for p in proposed] == [{"duration_minutes": 30, "start": "next week"}]


def test_a_listing_left_without_the_day_said_gets_it(tool_context: ToolContext) -> None:
    """Offered only "hoy", the bundled model closed the call empty and the listing showed the
    next seven days."""
    empty = call("calendar_list")
    for without, start in (((), "hoy"), (("said_filled",), None)):
        backend = ScriptedBackend([empty, "Nada."], routes=["calendar_list"])
        assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
        with pipeline.without(without):
            events = list(assistant.turn(None, "¿Qué hay hoy en mi agenda?"))
        proposed = [e for e in events if isinstance(e, CallProposed)]
        assert [p.arguments.get("start") for p in proposed] == [start]


def test_an_update_left_with_nothing_to_change_is_not_offered() -> None:
    """ "What's 17 times 23?" kept the event and a start, which said no date: the grammar
    then required two arguments of one, and decoding failed (GrammarError)."""
    update = spec("calendar_update")
    scoped = type(update)(
        update.name,
        update.description,
        {
            **update.parameters,
            "properties": {k: update.parameters["properties"][k] for k in ("event", "start")},
        },
    )
    assert with_said(scoped, update, {"start": [], "end": []}) is None


def test_the_reply_to_a_question_goes_to_the_tool_asked_for_without_a_route(
    tool_context: ToolContext,
) -> None:
    """Asked when the appointment is, the user's "El miércoles a las 12:30" went to
    calendar_free_time: the bundled model's route read the reply alone."""
    reply = call("calendar_create", title="Cita con el fisio", start="miércoles a las 12:30")
    backend = ScriptedBackend(
        ["¿Cuándo es la cita con el fisio?", reply, f"[{reply}]", reply],
        routes=["calendar_create", "calendar_free_time"],
    )
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    first = list(assistant.turn(None, "Pon una cita con el fisio"))
    conversation = first[-1].conversation_id
    events = list(assistant.turn(conversation, "El miércoles a las 12:30"))
    assert [e.tool for e in events if isinstance(e, ActionPending)] == ["calendar_create"]
    assert backend.routed == ["Pon una cita con el fisio"]  # the reply was not routed
    # and the call is the asked tool's alone (the bundled model chose the free-time search
    # when the calendar's other tools were allowed too).
    grammar = next(o.constrain_to for o in reversed(backend.options) if o.constrain_to)
    assert [t.name for t in grammar] == ["calendar_create"]
    # The question's bookkeeping stays with the conversation, out of the model's prompt.
    assert "asks_for" not in json.dumps(backend.prompts[-1])
    # Without the pass the route reads the reply, and sends it to the free-time search.
    backend = ScriptedBackend(
        ["¿Cuándo es la cita con el fisio?", call("calendar_free_time", start="miércoles")]
        + ["Tienes libre el miércoles."] * 3,
        routes=["calendar_create", "calendar_free_time"],
    )
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    with pipeline.without(["answered_question"]):
        first = list(assistant.turn(None, "Pon una cita con el fisio"))
        events = list(assistant.turn(first[-1].conversation_id, "El miércoles a las 12:30"))
    assert not [e for e in events if isinstance(e, ActionPending)]


def test_a_reply_that_answers_nothing_asked_is_routed_as_usual(tool_context: ToolContext) -> None:
    backend = ScriptedBackend(
        ["¿Cuándo es la cita con el fisio?", "Hola."], routes=["calendar_create", "none"]
    )
    assistant = Assistant(backend, load_registry(), tool_context, AssistantOptions())
    first = list(assistant.turn(None, "Pon una cita con el fisio"))
    list(assistant.turn(first[-1].conversation_id, "¿Cuánto es 17 por 23?"))
    assert backend.routed == ["Pon una cita con el fisio", "¿Cuánto es 17 por 23?"]
