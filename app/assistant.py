"""One turn of the assistant: the model proposes, policies and the user dispose.

``Assistant.turn`` is a generator of :mod:`app.events`: the terminal and the Qt window render
the same stream. Within a turn the model may call tools several times: read-only tools run at
once and their results go back to it; a tool that changes data becomes a pending action the
user approves (unless a policy says "always" or "never"); a bad call, a refused path or a
conflict flag goes back to the model as a short error so it can correct itself or ask. The
text that confirms a change is built from the stored action, never from the model's words, so
the assistant cannot claim something happened that no tool result confirms.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.action_summary import summarize_action
from app.actions import Action, Actions
from app.argument_scope import scoped_tools
from app.conversations import Conversations
from app.events import (
    ActionPending,
    CallProposed,
    Event,
    TextDelta,
    ToolErrorEvent,
    ToolResultEvent,
    TurnDone,
)
from app.history_window import fit_to_context
from app.policy import pipeline
from app.policy.clarify import question, unsaid_text
from app.policy.decision import LISTED_TOOLS, call_is_decided, decide, last_exchange
from app.policy.retrieval import retrieve
from app.policy.said_values import Said, missing, one_each, with_said, with_said_filled
from app.policy.thing_choice import pick_thing
from app.policy.unsaid_details import without_unsaid_details
from app.prompt import now_message, system_prompt
from app.result_answer import answer_from_results, asks_for_more
from app.tool_choice import respond_stream
from app.tool_policy import Policy, disposition, tool_policy
from app.tool_selection import group_of, select_groups
from backends.base import Backend, CancelToken, GenerateOptions
from backends.errors import GenerationIncomplete
from backends.generation import Completion, Conflict, ToolCall
from backends.generation import TextDelta as ModelText
from backends.schema import ToolSpec, parse_tools
from connectors.errors import ConnectorError
from connectors.registry import Registry
from connectors.tool import Effect, Tool, ToolContext

RESULT_CHARS = 1500  # a tool result longer than this is cut before it goes back to the model


def unexpected_error(tool: str, exc: Exception) -> str:
    """The sentence shown when a tool fails with something other than a ConnectorError.

    Such a failure is a bug (or input no check foresaw); turning it into a ToolError event
    keeps every front end's turn moving instead of leaving it busy until a restart.
    """
    return (
        f"{tool} stopped with an unexpected error ({type(exc).__name__}: {exc}); "
        "check the result before trying again"
    )


def failure_message(tool: str, exc: Exception) -> str:
    """What the user and the model are told when a call fails: a connector's own sentence, or
    :func:`unexpected_error` for anything else."""
    return str(exc) if isinstance(exc, ConnectorError) else unexpected_error(tool, exc)


@dataclass(frozen=True)
class AssistantOptions:
    """How turns run.

    Attributes:
        max_steps: model calls per turn (a chain of reads then an answer fits in 4).
        history: how many earlier messages the model sees.
        max_tokens: answer budget per model call.
        tool_limit: offer at most this many tools per request: the connectors that match the
            request best, whole (see :mod:`app.tool_selection`); 0 offers all of them.
        policies: per-tool "always", "ask" or "never"; tools that change data default to
            "ask", read-only tools to "always".
    """

    max_steps: int = 4
    history: int = 12
    max_tokens: int = 384
    tool_limit: int = 10
    policies: dict[str, Policy] | None = None


class Assistant:
    """The core every front end drives."""

    def __init__(
        self,
        backend: Backend,
        registry: Registry,
        context: ToolContext,
        options: AssistantOptions | None = None,
    ) -> None:
        self.backend = backend
        self.registry = registry
        self.context = context
        self.options = options or AssistantOptions()
        self.actions = Actions(registry, context)
        self.conversations = Conversations(context.store, context.current_time)
        self._specs: dict[str, ToolSpec] = {}
        self._specs_version = -1  # the registry's version the specs were read at

    # -- policies ------------------------------------------------------------------------------

    def policy(self, item: Tool) -> Policy:
        """What happens when the model calls ``item`` (see :mod:`app.tool_policy`)."""
        return tool_policy(item, self.options.policies)

    # -- the turn ------------------------------------------------------------------------------

    def turn(
        self, conversation_id: int | None, text: str, *, cancel: CancelToken | None = None
    ) -> Iterator[Event]:
        """Answer ``text`` in a conversation (a new one when ``conversation_id`` is None).

        Raises:
            BackendError and its subclasses: the model failed (the user's message is kept).
            StoreError: the store cannot be written.
        """
        if conversation_id is None:
            conversation_id = self.conversations.create(title=" ".join(text.split())[:80])
        self.conversations.append(conversation_id, {"role": "user", "content": text})
        # The conversation's last messages, read once: the route, the tools on offer and the
        # things the previous turn showed all come from them.
        history = self.conversations.messages(conversation_id, limit=_HISTORY_READ)
        used = _used_tools(history[-_ROUTE_HISTORY:])
        answered = self._answered(history, text)
        routed = answered or self._route(history[-_ROUTE_HISTORY:], used, text, cancel)
        tools = self._tools_for(text, routed, used)
        said = self._said(history[-_SAID_HISTORY:], text, tools)
        ask = self._clarify(text, routed, said, cancel)
        if ask is not None:
            # The routed tool needs a value the request does not give: ask, invent nothing.
            yield TextDelta(ask.text)
            self.conversations.append(conversation_id, ask.message())
            yield TurnDone(conversation_id, ask.text, ())
            return
        seen: set[str] = set()
        pending: list[Action] = []
        shown: list[str] = []
        choices = self._choices(tools) if pipeline.enabled("argument_scope") else {}
        earlier = _shown_before(history) if choices else ""
        grammar_tools = self._grammar_tools(text, tools, said, choices, earlier)
        if answered is not None:
            # The reply answers the question asked for this tool: it alone is written (the
            # prompt keeps the connector's tools, so its cached prefix is reused).
            grammar_tools = tuple(t for t in grammar_tools if t.name == answered) or grammar_tools
        chosen = {(name, argument) for name, found in choices.items() for argument in found}
        options = GenerateOptions(
            max_tokens=self.options.max_tokens,
            constrain_to=grammar_tools,
            allow_calls=bool(grammar_tools),
        )
        lookups = {t.name for t in tools if self.registry.get(t.name).effect is Effect.READS}
        failed: dict[str, str] = {}  # call -> why it failed, for the calls that did
        called: list[str] = []  # names of the tools called in this turn
        for step in range(self.options.max_steps):
            if step == self.options.max_steps - 1:
                options = dataclasses.replace(options, allow_calls=False)  # answer now
            messages = self._messages(conversation_id, tools)
            messages = fit_to_context(self.backend, messages, tools, reserve=options.max_tokens)
            tries = [options]
            if step == 0 and routed is not None and pipeline.enabled("routed_name"):
                # Where the grammar refuses the tool the model wants, the route's tool.
                tries = [dataclasses.replace(options, prefer_tool=routed)]
            if step == 0 and call_is_decided(routed, grammar_tools):
                tries.insert(0, dataclasses.replace(tries[0], allow_text=False))
            completion: Completion | None = None
            streamed: list[str] = []
            for n, step_options in enumerate(tries, start=1):
                try:
                    for event in respond_stream(
                        self.backend,
                        messages,
                        tools,
                        options=step_options,
                        cancel=cancel,
                        lookups=lookups,
                        routed=routed is not None and step == 0,
                    ):
                        if isinstance(event, ModelText):
                            streamed.append(event.text)
                            yield TextDelta(event.text)
                        elif isinstance(event, Completion):
                            completion = event
                except GenerationIncomplete:
                    if n == len(tries) or streamed:
                        raise
                    continue  # the forced call did not fit the budget: let the model choose
                break
            assert completion is not None
            if not completion.tool_calls:
                answer = (completion.text or "").strip()
                if not answer:
                    # A 0.5B model sometimes answers nothing, often right after a failed call:
                    # the user still gets a sentence, and the reason when a call failed.
                    answer = _empty_answer(list(failed.values()))
                    streamed = []
                if not streamed and answer:
                    yield TextDelta(answer)
                shown.append(answer)
                self.conversations.append(conversation_id, {"role": "assistant", "content": answer})
                break
            keys = [_call_key(call) for call in completion.tool_calls]
            if all(key in seen for key in keys):
                errors = [failed[key] for key in keys if key in failed]
                if errors:
                    # The same failing call again: the model cannot fix it; say why, plainly.
                    note = _empty_answer(errors[:1])
                    yield TextDelta(note)
                    shown.append(note)
                    self.conversations.append(
                        conversation_id, {"role": "assistant", "content": note}
                    )
                    break
                # The model repeats calls whose results it already has: it is done calling.
                # Ask for the answer in text, from those results, instead of failing the turn.
                options = dataclasses.replace(options, allow_calls=False)
                continue
            ask = self._clarify_wanted(text, completion.tool_calls, tools, said, routed, cancel)
            if ask is None and step == 0:
                unsaid = self._clarify_unsaid(text, completion.tool_calls, tools, history, cancel)
                ask = None if unsaid is None else Question(unsaid)
            if ask is not None:
                yield TextDelta(ask.text)
                shown.append(ask.text)
                self.conversations.append(conversation_id, ask.message())
                break
            calls = completion.tool_calls
            if pipeline.enabled("one_each"):
                calls = one_each(calls, said)
            if pipeline.enabled("said_filled"):
                calls = tuple(
                    with_said_filled(call, said.get(call.name, {}))
                    if call.name in lookups
                    else call
                    for call in calls
                )
            if pipeline.enabled("unsaid_details"):
                conversation = _recent_texts(history)
                specs_by = {spec.name: spec for spec in tools}
                calls = tuple(
                    without_unsaid_details(call, specs_by[call.name], conversation)
                    if call.name in specs_by
                    else call
                    for call in calls
                )
            if pipeline.enabled("thing_pick"):
                # Settled before they are recorded: the conversation shows the calls as run.
                calls = tuple(
                    self._picked_things(text, call, grammar_tools, chosen, cancel) for call in calls
                )
            self._record_calls(conversation_id, calls)
            ran: list[tuple[str, dict[str, Any]]] = []  # (summary, result) of the calls that ran
            for call, key in zip(calls, keys, strict=True):
                called.append(call.name)
                conflicts = tuple(
                    c.describe()
                    for c in call.conflicts
                    if not _said_by_user(c.got, text)
                    and not (step == 0 and _routed_name(c, routed))
                )
                yield CallProposed(call.name, dict(call.arguments), conflicts)
                repeated = key in seen
                seen.add(key)
                outcome = yield from self._handle(
                    conversation_id, call, conflicts, repeated, failed, key, ran
                )
                if isinstance(outcome, Action):
                    pending.append(outcome)
            if pending:
                confirmation = _pending_text(pending)
                yield TextDelta(confirmation)
                shown.append(confirmation)
                self.conversations.append(
                    conversation_id, {"role": "assistant", "content": confirmation}
                )
                break
            if len(ran) == len(completion.tool_calls) and not asks_for_more(
                text, self._change_tools(tools), called
            ):
                # Every call ran and the request asks for nothing more: the results are the
                # answer, shown as the tools returned them (see app.result_answer).
                answer = answer_from_results(ran)
                yield TextDelta(answer)
                shown.append(answer)
                self.conversations.append(conversation_id, {"role": "assistant", "content": answer})
                break
        yield TurnDone(
            conversation_id, "\n".join(s for s in shown if s), tuple(a.id for a in pending)
        )

    def _handle(
        self,
        conversation_id: int,
        call: ToolCall,
        conflicts: tuple[str, ...],
        repeated: bool,
        failed: dict[str, str],
        key: str,
        ran: list[tuple[str, dict[str, Any]]],
    ) -> Iterator[Event]:
        """Run, propose or refuse one call; its outcome goes back to the model as a tool message.

        A call that ran adds its (summary, result) to ``ran``.

        Returns (through ``yield from``): the pending :class:`Action`, ``"repeat"`` when the
        model made a call it had already made, or ``None``.
        """

        def reply(content: dict[str, Any]) -> None:
            text = json.dumps(content, ensure_ascii=False, default=str)
            if len(text) > RESULT_CHARS:
                text = text[:RESULT_CHARS] + " …(cut)"
            self.conversations.append(
                conversation_id, {"role": "tool", "name": call.name, "content": text}
            )

        def refuse(message: str) -> None:
            failed[key] = message
            reply({"error": message, "next": "correct the call, or ask the user"})

        try:
            item = self.registry.get(call.name)
            item.validate(call.arguments)
        except ConnectorError as exc:
            refuse(str(exc))
            yield ToolErrorEvent(call.name, str(exc))
            return "repeat" if repeated else None
        if repeated and not conflicts:
            message = "this exact call was already made in this turn"
            refuse(message)
            yield ToolErrorEvent(call.name, message)
            return "repeat"
        if conflicts and not repeated:
            message = "a value is not allowed: " + "; ".join(conflicts)
            refuse(message)
            yield ToolErrorEvent(call.name, message)
            return None
        # "ask" holds reads too, and a call carrying a value the grammar substituted waits
        # for the user whatever the policy (see app.tool_policy).
        decided = disposition(self.policy(item), conflicts)
        if decided == "refuse":
            message = f"the user does not allow {call.name}"
            refuse(message)
            yield ToolErrorEvent(call.name, message)
            return None
        if decided == "wait":
            try:
                action = self.actions.propose(
                    call.name,
                    dict(call.arguments),
                    conversation_id=conversation_id,
                    conflicts=conflicts,
                )
            except Exception as exc:  # a tool's bug must not leave a front end waiting either
                message = failure_message(call.name, exc)
                refuse(message)
                yield ToolErrorEvent(call.name, message)
                return None
            reply({"status": "waiting for the user's approval", "action": action.id})
            yield ActionPending(
                action.id,
                action.tool,
                action.arguments,
                action.preview,
                action.conflicts,
                action.summary,
            )
            return action
        try:
            if item.effect is Effect.CHANGES:
                done = self.actions.run_now(
                    call.name, dict(call.arguments), conversation_id=conversation_id
                )
                if done.error:
                    raise ConnectorError(done.error)
                result, summary, action_id = done.result or {}, done.summary, done.id
            else:
                output = self.registry.run(call.name, call.arguments, self.context)
                result, summary, action_id = output.data, output.summary, None
        except Exception as exc:  # a tool's bug must not leave a front end waiting either
            message = failure_message(call.name, exc)
            refuse(message)
            yield ToolErrorEvent(call.name, message)
            return None
        reply({"result": result})
        ran.append((summary or "", result if isinstance(result, dict) else {}))
        yield ToolResultEvent(call.name, dict(call.arguments), result, summary, action_id)
        return None

    # -- prompt --------------------------------------------------------------------------------

    def _current_specs(self) -> dict[str, ToolSpec]:
        """The registry's tools as the model sees them, read again when the registry changed
        (an MCP server's tools join when it connects, which may be after this was built)."""
        if self._specs_version != self.registry.version:
            version = self.registry.version
            self._specs = {spec.name: spec for spec in parse_tools(self.registry.definitions())}
            self._specs_version = version
        return self._specs

    def _route(
        self,
        history: Sequence[Mapping[str, Any]],
        used: Sequence[str],
        text: str,
        cancel: CancelToken | None,
    ) -> str | None:
        """The tool the model routes the request to (the ``route`` pass, any language), or
        ``None`` when it chose a text answer or the pass is off (see app.policy.decision)."""
        if not pipeline.enabled("route"):
            return None
        specs = list(self._current_specs().values())
        if not specs:
            return None
        earlier = last_exchange(history)
        return decide(self.backend, text, specs, earlier=earlier, keep=used, cancel=cancel).tool

    def _tools_for(
        self, text: str, routed: str | None = None, used: Sequence[str] = ()
    ) -> list[ToolSpec]:
        """The tools the prompt shows: the routed tool's connector whole (so its cached
        prefix is reused); else, among more than LISTED_TOOLS tools, those retrieval ranks
        best (and those the conversation used); else the connectors the request's words
        match."""
        specs = list(self._current_specs().values())
        if routed is not None and routed in self._current_specs():
            group = group_of(self._current_specs()[routed])
            members = [spec for spec in specs if group_of(spec) == group]
            if not self.options.tool_limit or len(members) <= self.options.tool_limit:
                return members
        if self.options.tool_limit and len(specs) > self.options.tool_limit:
            if pipeline.enabled("retrieval") and len(specs) > LISTED_TOOLS:
                # Among many tools (MCP servers' joining ours) the prompt and grammar offer
                # the ones retrieval ranks best, in any language, and those already used.
                return retrieve(text, specs, self.options.tool_limit, keep=used)
            if not pipeline.enabled("select_groups"):
                return specs[: self.options.tool_limit]
            return select_groups(text, specs, self.options.tool_limit)
        return specs

    def _grammar_tools(
        self,
        text: str,
        tools: Sequence[ToolSpec],
        said: Mapping[str, Said] | None = None,
        choices: Mapping[str, Mapping[str, Sequence[str]]] | None = None,
        earlier: str = "",
    ) -> tuple[ToolSpec, ...]:
        """What the grammar allows: the offered tools (the routed tool's whole connector:
        allowing the routed tool alone measured worse, 18 against 21 of 70 dev cases, because
        the route is wrong more often than the main pass within a connector), with optional
        arguments scoped to the request (the ``argument_scope`` pass), and the arguments the
        request gives values for limited to those values (the ``said_values`` pass): a tool
        that requires a value the request does not give is left out."""
        allowed = list(tools)
        if pipeline.enabled("argument_scope"):
            found = self._choices(allowed) if choices is None else choices
            scoped = scoped_tools(text, allowed, found, earlier, said)
        else:
            scoped = tuple(allowed)
        if not said:
            return scoped
        kept = (
            with_said(s, full, said.get(full.name, {}))
            for s, full in zip(scoped, allowed, strict=True)
        )
        return tuple(t for t in kept if t is not None)

    def _said(
        self, history: Sequence[Mapping[str, Any]], text: str, tools: Sequence[ToolSpec]
    ) -> dict[str, Said]:
        """The values the request gives each offered tool's arguments (see Tool.said). After
        the assistant asked a question, the message before the answer counts too: "Set up a
        call with the bank" then "Tuesday at 11" is one request."""
        if not pipeline.enabled("said_values"):
            return {}
        users = [m for m in history if m.get("role") == "user"]
        asked = len(history) >= 2 and history[-2].get("role") == "assistant"
        asked = asked and str(history[-2].get("content", "")).rstrip().endswith(("?", "？"))
        words = [text]
        if asked and len(users) >= 2:
            words.append(str(users[-2].get("content", "")))
        found: dict[str, Said] = {}
        for spec in tools:
            try:
                reader = self.registry.get(spec.name).said
                if reader is None:
                    continue
                readings = [reader(self.context, part) for part in words]
            except ConnectorError:
                continue
            merged: dict[str, list[str]] = {}
            for reading in readings:
                for name, values in reading.items():
                    merged.setdefault(name, []).extend(v for v in values if v not in merged[name])
            found[spec.name] = merged
        return found

    def _clarify_wanted(
        self,
        text: str,
        calls: Sequence[ToolCall],
        tools: Sequence[ToolSpec],
        said: Mapping[str, Said],
        routed: str | None,
        cancel: CancelToken | None,
    ) -> Question | None:
        """A question when the model wanted a tool the grammar left out because the request
        lacks a value it requires (it wanted calendar_create for "remind me to call grandma"
        and the grammar made it another tool): the ``clarify`` pass, after the main pass.

        Not for a call to the change the route chose: the route and the grammar agree on it,
        and the bundled model wants calendar_create for every calendar change ("Anula el
        vuelo a Berlín" was answered "¿Cuándo se anula el vuelo a Berlín?" instead of
        cancelling it). A read the route chose is no such agreement: "Lembra-me de ligar à
        avó" routed to calendar_free_time still asks when."""
        if not pipeline.enabled("clarify"):
            return None
        agreed = pipeline.enabled("routed_name") and routed in self._change_tools(tools)
        for call in calls:
            if agreed and call.name == routed:
                continue
            for conflict in call.conflicts:
                if conflict.path != "name" or len(conflict.wanted) < 3:
                    continue
                for spec in tools:
                    lacking = missing(spec, said.get(spec.name, {}))
                    if lacking and spec.name.startswith(conflict.wanted):
                        asked = question(self.backend, text, spec, lacking, cancel=cancel)
                        return Question(asked, spec.name, tuple(lacking))
        return None

    def _clarify_unsaid(
        self,
        text: str,
        calls: Sequence[ToolCall],
        tools: Sequence[ToolSpec],
        history: Sequence[Mapping[str, Any]],
        cancel: CancelToken | None,
    ) -> str | None:
        """A question when a change would write text nobody said (the ``unsaid_text`` pass,
        :func:`app.policy.clarify.unsaid_text`): the user is asked what to write."""
        if not pipeline.enabled("unsaid_text"):
            return None
        changes = self._change_tools(tools)
        conversation = _recent_texts(history)
        specs = {spec.name: spec for spec in tools}
        for call in calls:
            spec = specs.get(call.name)
            if spec is None or call.name not in changes:
                continue
            lacking = unsaid_text(call, spec, conversation)
            if lacking:
                return question(self.backend, text, spec, lacking, cancel=cancel)
        return None

    def _clarify(
        self, text: str, routed: str | None, said: Mapping[str, Said], cancel: CancelToken | None
    ) -> Question | None:
        """A question for the value the routed tool requires and the request does not give
        (the ``clarify`` pass), or ``None``."""
        if routed is None or not pipeline.enabled("clarify"):
            return None
        spec = self._current_specs().get(routed)
        lacking = missing(spec, said.get(routed, {})) if spec is not None else []
        if spec is None or not lacking:
            return None
        asked = question(self.backend, text, spec, lacking, cancel=cancel)
        return Question(asked, spec.name, tuple(lacking))

    def _answered(self, history: Sequence[Mapping[str, Any]], text: str) -> str | None:
        """The tool the assistant's question just before ``text`` asked values for, when
        ``text`` gives them all (the ``answered_question`` pass), else ``None``: the turn
        then writes a call of that tool alone.

        Asked "¿Cuándo es la cita con el fisio?", the user's "El miércoles a las 12:30" is
        the answer, not a new request: the bundled model's route, reading it alone, sent it
        to calendar_free_time. The values are the tool's own reading of the reply
        (``Tool.said``, any language), so a reply that gives none of them is routed as usual
        (the user may have moved on)."""
        if not pipeline.enabled("answered_question") or len(history) < 2:
            return None
        before = history[-2]
        name, lacking = before.get("asks_for"), before.get("lacking")
        if before.get("role") != "assistant" or not isinstance(name, str) or not lacking:
            return None
        spec = self._current_specs().get(name)
        if spec is None:
            return None
        given = self._said([], text, [spec]).get(name, {})
        return name if all(given.get(str(argument)) for argument in lacking) else None

    def _choices(self, tools: Sequence[ToolSpec]) -> dict[str, Mapping[str, Sequence[str]]]:
        """The current values of arguments that name the user's things (see Tool.choices)."""
        found: dict[str, Mapping[str, Sequence[str]]] = {}
        for spec in tools:
            try:
                choices = self.registry.get(spec.name).choices
                if choices is not None:
                    found[spec.name] = choices(self.context)
            except ConnectorError:
                continue  # no store yet, or it cannot be read: the arguments stay free
        return found

    def _change_tools(self, tools: Sequence[ToolSpec]) -> list[str]:
        """The names of the offered tools that change data."""
        names = []
        for spec in tools:
            try:
                if self.registry.get(spec.name).effect is Effect.CHANGES:
                    names.append(spec.name)
            except ConnectorError:
                continue
        return names

    def _messages(
        self, conversation_id: int, tools: Sequence[ToolSpec] = ()
    ) -> list[dict[str, Any]]:
        history = self.conversations.messages(conversation_id, limit=self.options.history)
        while history and history[0].get("role") == "tool":
            history.pop(0)  # a tool result without its call would confuse the model
        last_user = max(
            (i for i, m in enumerate(history) if m.get("role") == "user"), default=len(history)
        )
        now = now_message(self.context.current_time())
        history = [{k: v for k, v in m.items() if k not in _OWN_KEYS} for m in history]
        return [
            {"role": "system", "content": system_prompt(t.name for t in tools)},
            *history[:last_user],
            now,
            *history[last_user:],
        ]

    def _picked_things(
        self,
        request: str,
        call: ToolCall,
        offered: Sequence[ToolSpec],
        chosen: set[tuple[str, str]],
        cancel: CancelToken | None,
    ) -> ToolCall:
        """``call`` with each of the user's things the grammar substituted (the model wanted
        another name) replaced by the one the model, asked on its own, says the request means
        (the ``thing_pick`` pass, :mod:`app.policy.thing_choice`); such a conflict is then
        settled. One it answers "none" for stays, and the call is refused for it as before."""
        spec = next((t for t in offered if t.name == call.name), None)
        if spec is None:
            return call
        arguments = dict(call.arguments)
        left = []
        for conflict in call.conflicts:
            argument = conflict.path.partition(".")[2]
            schema = (spec.parameters.get("properties") or {}).get(argument)
            values = schema.get("enum") if isinstance(schema, dict) else None
            if (
                not _chosen(conflict, call.name, chosen)
                or _said_by_user(conflict.got, request)
                or not values
            ):
                left.append(conflict)
                continue
            picked = pick_thing(self.backend, request, spec, argument, values, cancel=cancel)
            if picked is None:
                left.append(conflict)
            else:
                arguments[argument] = picked
        if len(left) == len(call.conflicts):
            return call
        return dataclasses.replace(call, arguments=arguments, conflicts=tuple(left))

    def _record_calls(self, conversation_id: int, calls: Sequence[ToolCall]) -> None:
        self.conversations.append(
            conversation_id,
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {"type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                    for c in calls
                ],
            },
        )


@dataclass(frozen=True)
class Question:
    """A question the assistant asks instead of calling, and, when it asks for values a tool
    requires, that tool and those arguments: kept with the message (``asks_for``,
    ``lacking``), so the reply is read as their answer (:meth:`Assistant._answered`)."""

    text: str
    tool: str = ""
    lacking: tuple[str, ...] = ()

    def message(self) -> dict[str, Any]:
        """The conversation message that records the question."""
        message: dict[str, Any] = {"role": "assistant", "content": self.text}
        if self.tool:
            message.update(asks_for=self.tool, lacking=list(self.lacking))
        return message


_OWN_KEYS = frozenset({"asks_for", "lacking"})  # the assistant's notes, not the model's input


def _said_by_user(value: object, request: str) -> bool:
    """Whether the grammar's value is one the user said: then overriding the model (which
    wanted to write something else) followed the user, and there is nothing to flag."""
    return isinstance(value, str) and len(value) >= 2 and value.casefold() in request.casefold()


def _chosen(conflict: Conflict, tool: str, chosen: set[tuple[str, str]]) -> bool:
    """Whether the grammar's value is one of the user's things the argument is limited to (a
    note's title, a file): the model, asked which one the request means, settles it (the
    ``thing_pick`` pass). Reads were once let through with the grammar's next best token
    (asked to show "a receita das panquecas", the model began "Lista" and the grammar gave
    "Pancake recipe", the right note), but for a file that next best could be any file of
    the user's, read at once without approval."""
    head, _, argument = conflict.path.partition(".")
    return head == "arguments" and (tool, argument) in chosen


def _routed_name(conflict: Conflict, routed: str | None) -> bool:
    """Whether the grammar wrote the route's tool where the model wanted another (the
    ``routed_name`` pass): the tool is then the route's choice, a model pass made for choosing
    tools, not a substitute the model never weighed, so the call is not refused for it (the
    change still waits for approval like any other)."""
    return (
        routed is not None
        and conflict.path == "name"
        and conflict.got == routed
        and pipeline.enabled("routed_name")
    )


_HISTORY_READ = 12  # messages a turn reads back: enough for the previous turn's results
_ROUTE_HISTORY = 8  # of which the route sees these (the previous exchange, the tools used)
_SAID_HISTORY = 4  # and the said values these (a question just asked, and the answer to it)


def _recent_texts(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """The texts of the conversation's last messages (the said values' window): what the
    user and the assistant said, which text a call writes must share a word with."""
    return [str(m.get("content")) for m in history[-_SAID_HISTORY:] if m.get("content")]


def _shown_before(history: Sequence[Mapping[str, Any]]) -> str:
    """What the previous turn showed the user: its tool results and answer (the things a
    follow-up such as "append it there" refers to without naming them)."""
    users = [i for i, m in enumerate(history) if m.get("role") == "user"]
    if len(users) < 2:
        return ""
    shown = history[users[-2] + 1 : users[-1]]
    return "\n".join(
        str(m.get("content") or "") for m in shown if m.get("role") in ("tool", "assistant")
    )


def _used_tools(history: Sequence[Mapping[str, Any]]) -> list[str]:
    """The names of the tools the conversation's messages called."""
    return [
        str(c.get("function", {}).get("name"))
        for m in history
        for c in m.get("tool_calls") or ()
        if isinstance(c, dict)
    ]


def _call_key(call: ToolCall) -> str:
    return json.dumps([call.name, call.arguments], sort_keys=True, default=str)


def _pending_text(actions: Sequence[Action]) -> str:
    """The confirmation shown for proposed changes: built from the stored actions only."""
    lines = []
    for action in actions:
        what = summarize_action(action).sentence  # future tense: nothing has run yet
        check = f" Check: {'; '.join(action.conflicts)}." if action.conflicts else ""
        lines.append(f"#{action.id} {what}.{check}")
    head = "This needs your approval:" if len(actions) == 1 else "These need your approval:"
    return head + "\n" + "\n".join(lines)


def _empty_answer(errors: list[str]) -> str:
    """What to say when the model's answer is empty: the last failure, or a request to
    rephrase. Never a claim that something was done."""
    if errors:
        reason = errors[-1].rstrip()
        if not reason.endswith((".", "!", "?")):
            reason += "."
        return f"I couldn't do that: {reason} Could you give me more details?"
    return "I don't have an answer to that. Could you say it another way?"
