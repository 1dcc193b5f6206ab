"""The one place where Qt meets the assistant core.

:class:`AssistantBridge` owns a worker thread. The model is loaded there (its byte progress
becomes a signal), then each :meth:`AssistantBridge.send` runs ``Assistant.turn`` there and
every event it yields crosses back to the GUI thread as a signal. A turn that arrives while the
model is still loading simply waits in the worker's queue. Decisions (approve, edit, reject,
undo) go through :class:`app.decisions.Decisions`, so the conversation records them exactly as
the terminal would. Widgets call the bridge and connect to its signals; they hold no rules.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.events import (
    ActionPending,
    CallProposed,
    Event,
    TextDelta,
    ToolErrorEvent,
    ToolResultEvent,
    TurnDone,
)
from app.prefix_warmup import ModelUse, PrefixWarmup
from backends.schema import parse_tools
from connectors.errors import ConnectorError

# How much the model's threads defer to the GUI (Linux nice, 0-19). Enough for the window to
# win every time slice it asks for; not so much that other busy programs starve the model: at
# 10, on a machine compiling something, a turn took minutes (about 2 % of a core).
WORKER_NICE = 4

if TYPE_CHECKING:  # the core's modules load after the window is shown (see AssistantBridge)
    from app.actions import Action, Actions
    from app.assistant import Assistant
    from app.conversations import ConversationInfo, Conversations
    from app.decisions import Decisions
    from app.settings import Settings
    from backends.base import Backend, CancelToken
    from connectors.registry import Registry
    from connectors.tool import ToolContext

Progress = Callable[[int, int], None]
BackendLoader = Callable[[Progress], "Backend"]


@dataclass
class Core:
    """What the window needs from the app, built by :func:`app.ui.app.open_core` (or a test).

    Attributes:
        registry, context: the tools and the context they run in (the store opens lazily).
        settings: the core settings the turn options come from.
        load_backend: loads the model (called in the worker thread, may take minutes on a first
            run); it reports bytes joined or downloaded through its progress argument.
        close: frees what the core opened (the store); called at shutdown.
    """

    registry: Registry
    context: ToolContext
    settings: Settings
    load_backend: BackendLoader
    close: Callable[[], None] = field(default=lambda: None)


def _spare_the_collector() -> None:
    """Keep what start-up made out of Python's full garbage collections.

    Measured with bench/ui.py: the event loop's worst stalls (110-140 ms) came while the
    worker ran a full collection, which holds the GIL while it walks every object of the
    process (Qt wrappers, SQLAlchemy's mappers, the model's tables): the GUI thread could not
    run a line of Python meanwhile. Objects made while starting (imports, the core, the model)
    live as long as the app, so they are moved out of the collector's sight once loaded
    (``gc.freeze``); what turns create is still collected as before.
    """
    gc.freeze()


def _yield_to_the_gui() -> None:
    """Run this thread (and the model's compute threads, which it starts) at a lower priority.

    Measured with bench/ui.py on 2 cores: the model's threads keep both cores busy, and the
    GUI thread, competing with them as an equal, waited up to 330 ms for a time slice. At a
    lower priority the model gives way whenever the window has something to do, and loses
    nothing when it has not. Linux sets a nice value per thread (inherited by the threads this
    one creates); elsewhere Qt's thread priority is the available knob.
    """
    if sys.platform.startswith("linux"):
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
            return
        except OSError:  # pragma: no cover - a sandbox that forbids it: keep the default
            pass
    thread = QThread.currentThread()
    if thread is not None:
        thread.setPriority(QThread.Priority.LowPriority)


class _Worker(QObject):
    """Lives in the worker thread; its slots run there."""

    progress = Signal(int, int)
    loaded = Signal(object)
    loadFailed = Signal(str)
    event = Signal(object)
    finished = Signal(object)

    def __init__(self, bridge: AssistantBridge) -> None:
        super().__init__()
        self.bridge = bridge
        self.assistant: Assistant | None = None
        self.backend: Backend | None = None
        self.warmup: PrefixWarmup | None = None

    @Slot()
    def load(self) -> None:
        from app.assistant import Assistant, AssistantOptions
        from backends.errors import BackendError

        _yield_to_the_gui()
        try:
            core = self.bridge.core
            self.backend = core.load_backend(lambda done, total: self.progress.emit(done, total))
        except (BackendError, ConnectorError, OSError) as exc:
            self.loadFailed.emit(str(exc))
            return
        options = AssistantOptions(
            max_tokens=core.settings.max_tokens, policies=core.settings.tool_policies
        )
        self.assistant = Assistant(self.backend, core.registry, core.context, options)
        self.warmup = PrefixWarmup(
            self.backend,
            lambda: parse_tools(core.registry.definitions()),
            options.tool_limit,
            use=self.bridge.model_use,  # gives way to the user's turns
        )
        self.warmup.start()  # no cold tool prefix in front of the user's first requests
        _spare_the_collector()
        self.loaded.emit(self.backend)

    @Slot(object, str, object)
    def turn(self, conversation_id: int | None, text: str, cancel: CancelToken) -> None:
        from backends.errors import BackendError, GenerationCancelled

        if self.assistant is None:
            self.finished.emit("The model is not loaded; see the status bar.")
            return
        try:
            for item in self.assistant.turn(conversation_id, text, cancel=cancel):
                self.event.emit(item)
        except GenerationCancelled:
            self.finished.emit("Stopped.")
            return
        except (BackendError, ConnectorError) as exc:
            self.finished.emit(f"Error: {exc}")
            return
        self.finished.emit(None)
        if self.warmup is not None:
            self.warmup.start()  # warms again only when the tools changed

    @Slot()
    def close(self) -> None:
        if self.backend is not None:
            if self.warmup is not None:
                self.warmup.stop()
            self.backend.close()
            self.backend = None


class AssistantBridge(QObject):
    """Runs the core off the GUI thread and reports it as signals.

    Signals:
        modelProgress(int, int): bytes done and total while the model is joined or downloaded.
        modelReady(): the model is loaded; turns run now.
        modelFailed(str): the model cannot be loaded (the message says why and what to do).
        busyChanged(bool): a turn started or ended.
        textDelta(str): a piece of the answer.
        callProposed(object): an :class:`app.events.CallProposed`.
        actionPending(object): an :class:`app.events.ActionPending`.
        toolResult(object): an :class:`app.events.ToolResultEvent`.
        toolError(object): an :class:`app.events.ToolErrorEvent`.
        turnDone(object): an :class:`app.events.TurnDone`.
        turnFailed(str): the turn ended early (stopped, or an error), said for the user.
        conversationStarted(int): the turn opened a new conversation with this id.
        pendingChanged(int): how many actions wait for approval now.
        actionsChanged(): an action was decided or undone (history lists refresh).
    """

    modelProgress = Signal(int, int)
    modelReady = Signal()
    modelFailed = Signal(str)
    busyChanged = Signal(bool)
    textDelta = Signal(str)
    callProposed = Signal(object)
    actionPending = Signal(object)
    toolResult = Signal(object)
    toolError = Signal(object)
    turnDone = Signal(object)
    turnFailed = Signal(str)
    conversationStarted = Signal(int)
    pendingChanged = Signal(int)
    actionsChanged = Signal()

    _requestLoad = Signal()
    _requestTurn = Signal(object, str, object)
    _requestClose = Signal()

    def __init__(self, core: Core | Callable[[], Core], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._core = core if isinstance(core, Core) else None
        self._make_core = None if isinstance(core, Core) else core
        self._decisions: Decisions | None = None
        self.model_loaded = False
        self.model_where = ""  # where the model runs, when not in this process
        self.model_error: str | None = None
        self._cancel: CancelToken | None = None
        self._turn_conversation: int | None = None
        self.turn_owner: object = None
        self.model_use = ModelUse()  # from send to finished; background work waits for it
        self._thread = QThread(self)
        self._thread.setObjectName("assistant-worker")
        self._worker = _Worker(self)
        self._worker.moveToThread(self._thread)
        self._requestLoad.connect(self._worker.load)
        self._requestTurn.connect(self._worker.turn)
        self._requestClose.connect(self._worker.close)
        self._worker.progress.connect(self.modelProgress)
        self._worker.loaded.connect(self._on_loaded)
        self._worker.loadFailed.connect(self._on_load_failed)
        self._worker.event.connect(self._on_event)
        self._worker.finished.connect(self._on_finished)
        self._started = False

    @property
    def core(self) -> Core:
        """The core, built on first use when a factory was given.

        The window is shown before this runs: importing the store and model layers costs
        about a second on a slow machine, and nothing on screen needs them to appear.
        """
        if self._core is None:
            assert self._make_core is not None
            self._core = self._make_core()
        return self._core

    @property
    def decisions(self) -> Decisions:
        """Approve, reject and undo, recording the outcome in the conversation."""
        if self._decisions is None:
            from app.actions import Actions
            from app.conversations import Conversations
            from app.decisions import Decisions

            core = self.core
            actions = Actions(core.registry, core.context)
            conversations = Conversations(core.context.store, core.context.current_time)
            self._decisions = Decisions(actions, conversations)
        return self._decisions

    @property
    def actions(self) -> Actions:
        """The action queue."""
        return self.decisions.actions

    @property
    def conversations(self) -> Conversations:
        """The stored conversations."""
        return self.decisions.conversations

    # -- life ----------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and begin loading the model in it (returns at once)."""
        if self._started:
            return
        self._started = True
        _ = self.core  # built here, in the GUI thread, before the worker reads it
        self._thread.start()
        self._requestLoad.emit()

    def shutdown(self) -> None:
        """Stop any turn, free the model, stop the thread and close the store."""
        if self._cancel is not None:
            self._cancel.cancel()
        if self._started:
            self._requestClose.emit()
            self._thread.quit()
            self._thread.wait()
            self._started = False
        if self._core is not None:
            self._core.close()

    @property
    def busy(self) -> bool:
        """Whether a turn is running (one at a time: the model is one)."""
        return self._cancel is not None

    # -- turns ---------------------------------------------------------------------------------

    def send(self, conversation_id: int | None, text: str, owner: object = None) -> bool:
        """Queue a turn; False (and nothing happens) when one is already running or text is empty.

        Args:
            owner: who asked (the window or the quick popup); kept as :attr:`turn_owner` until
                the next turn, so each front end renders only its own turn's signals.
        """
        text = text.strip()
        if not text or self.busy:
            return False
        self.model_use.begin()  # before the model loads: a queued turn comes first too
        try:
            self.start()
        except BaseException:
            self.model_use.end()
            raise
        self.turn_owner = owner
        from backends.base import CancelToken

        self._cancel = CancelToken()
        self._turn_conversation = conversation_id
        self.busyChanged.emit(True)
        self._requestTurn.emit(conversation_id, text, self._cancel)
        return True

    def stop(self) -> None:
        """Cancel the running turn at the next token (the user's message is kept)."""
        if self._cancel is not None:
            self._cancel.cancel()

    @Slot(object)
    def _on_loaded(self, backend: object) -> None:
        self.model_loaded = True
        describe = getattr(backend, "describe", None)  # a remote backend names its server
        self.model_where = describe() if callable(describe) else ""
        self.modelReady.emit()

    @Slot(str)
    def _on_load_failed(self, message: str) -> None:
        self.model_error = message
        self.modelFailed.emit(message)

    @Slot(object)
    def _on_event(self, event: Event) -> None:
        if isinstance(event, TextDelta):
            self.textDelta.emit(event.text)
        elif isinstance(event, CallProposed):
            self.callProposed.emit(event)
        elif isinstance(event, ActionPending):
            self.actionPending.emit(event)
            self.pendingChanged.emit(self.pending_count())
        elif isinstance(event, ToolResultEvent):
            self.toolResult.emit(event)
            if event.action_id is not None:
                self.actionsChanged.emit()
        elif isinstance(event, ToolErrorEvent):
            self.toolError.emit(event)
        elif isinstance(event, TurnDone):
            if self._turn_conversation is None:
                self._turn_conversation = event.conversation_id
                self.conversationStarted.emit(event.conversation_id)
            self.turnDone.emit(event)

    @Slot(object)
    def _on_finished(self, problem: str | None) -> None:
        self._cancel = None
        self.model_use.end()
        if problem is not None:
            self.turnFailed.emit(problem)
        self.busyChanged.emit(False)

    # -- reading the store ---------------------------------------------------------------------

    def pending(self) -> list[Action]:
        """Actions waiting for approval, oldest first."""
        return self.actions.pending()

    def pending_count(self) -> int:
        """How many actions wait (the badge)."""
        return len(self.actions.pending())

    def recent_done(self, limit: int = 20) -> list[Action]:
        """The newest actions that can be undone."""
        return [a for a in self.actions.history(limit) if a.undoable]

    def conversation_list(self, limit: int = 50) -> list[ConversationInfo]:
        """The most recently active conversations."""
        return self.conversations.latest(limit)

    def messages(self, conversation_id: int) -> list[dict[str, Any]]:
        """A conversation's messages in the OpenAI chat format."""
        return self.conversations.messages(conversation_id)

    def timed_messages(self, conversation_id: int) -> tuple[list[dict[str, Any]], list[Any]]:
        """A conversation's messages and when each was written (the chat shows each turn's time).

        Times are in the user's zone; stored times are UTC.
        """
        from sqlalchemy import select

        from app.records import MessageRecord

        zone = self.core.context.timezone
        with self.core.context.store().reading() as session:
            rows = list(
                session.scalars(
                    select(MessageRecord)
                    .where(MessageRecord.conversation_id == conversation_id)
                    .order_by(MessageRecord.id)
                )
            )
            messages = [row.message() for row in rows]
            times = [row.created.astimezone(zone) if row.created else None for row in rows]
        return messages, times

    def tool_schema(self, name: str) -> dict[str, Any]:
        """The JSON Schema of a tool's arguments (what the edit form is built from)."""
        return self.core.registry.get(name).parameters()

    # -- deciding ------------------------------------------------------------------------------

    def approve(self, action_id: int, edited: dict[str, Any] | None = None) -> Action:
        """Approve (after an edit, if given) and run an action.

        Raises:
            ConnectorError: the edit is invalid (``InvalidArgumentsError`` lists the fields) or
                the action is no longer waiting; nothing ran.
        """
        try:
            return self.decisions.approve(action_id, edited=edited)
        finally:
            self._changed()

    def edit(self, action_id: int, arguments: dict[str, Any]) -> Action:
        """Replace a waiting action's arguments; it waits again with a new preview.

        Raises:
            InvalidArgumentsError: the values do not fit the tool's schema (``problems`` lists
                the fields); nothing changed.
        """
        try:
            return self.actions.edit(action_id, arguments)
        finally:
            self._changed()

    def reject(self, action_id: int) -> Action:
        """Reject an action; nothing runs."""
        try:
            return self.decisions.reject(action_id)
        finally:
            self._changed()

    def undo(self, action_id: int | None = None) -> str:
        """Revert a done action; returns the sentence saying what was reverted."""
        try:
            return self.decisions.undo(action_id)[1]
        finally:
            self._changed()

    def _changed(self) -> None:
        with contextlib.suppress(ConnectorError):
            self.pendingChanged.emit(self.pending_count())
        self.actionsChanged.emit()
