"""Approval cards in the chat: approve, edit and reject where the change was proposed.

The real core, store and tools; the model's words come from a script so each test gets the
tool call it needs. What is asserted is what a user sees or gets: the card's sentence and
rows, no raw arguments in the conversation, the action's state in the store.
"""

from __future__ import annotations

import json
import re
from typing import Any

from PySide6.QtCore import Qt

from app.records import ActionState
from tests.ui.test_window import send_and_wait

NOTE = json.dumps(
    {
        "name": "notes_create",
        "arguments": {"title": "Shopping", "body": "- milk\n- eggs", "tags": ["home"]},
    }
)
JSON_LIKE = re.compile(r"[{\[]\s*\"")


def _chat_card(desktop: Any) -> Any:
    desktop.window.chat.view.render_now()
    cards = desktop.window.chat.view.action_cards()
    assert len(cards) == 1
    return cards[0]


def test_the_chat_card_says_what_will_change_and_approves_then_undoes(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    desktop = make_desktop(scripted([NOTE]))
    desktop.start()
    window = desktop.window
    send_and_wait(qtbot, desktop, "note my shopping: milk and eggs")
    card = _chat_card(desktop)
    assert card.isVisibleTo(window)
    assert card.sentence.text() == "Create the note 'Shopping'"
    rows = card.summary.changes
    assert [(c.label, c.value) for c in rows] == [
        ("Title", "Shopping"),
        ("Tags", "home"),
        ("Text", "- milk\n- eggs"),
    ]
    seen = window.chat.view.visible_text()
    assert "- milk\n- eggs" in seen  # the text that will be written, with its line breaks
    assert JSON_LIKE.search(seen) is None, seen  # raw arguments only behind Details
    assert "This needs your approval" not in seen  # the card says it once, with its buttons
    assert not card.details.isVisibleTo(window)
    card.details_button.click()
    assert card.details.isVisibleTo(window) and '"title": "Shopping"' in card.details.text()

    card.approve_button.click()
    action = desktop.bridge.actions.get(card.action_id)
    assert action.state is ActionState.DONE
    assert card.heading.text() == f"#{action.id} · Done"
    assert card.outcome.text() == "Created note 'Shopping'"
    assert card.undo_button.isVisibleTo(window) and not card.approve_button.isVisibleTo(window)
    assert window.pending_count == 0
    assert not window.approvals.empty.isHidden()

    card.undo_button.click()
    assert desktop.bridge.actions.get(action.id).state is ActionState.UNDONE
    assert card.heading.text() == f"#{action.id} · Undone"
    assert card.outcome.text().startswith(f"Undid #{action.id}")
    # Reopened from the store, the card shows the same outcome, and the core's notes about
    # the decision ("Done #1: ...") are not repeated under it.
    window.open_conversation(window.conversation_id)
    reopened = _chat_card(desktop)
    assert reopened.heading.text() == f"#{action.id} · Undone"
    assert "Done #" not in window.chat.view.visible_text()


def test_reject_from_the_chat_card(qtbot: Any, make_desktop: Any, scripted: Any) -> None:
    desktop = make_desktop(scripted([NOTE]))
    desktop.start()
    send_and_wait(qtbot, desktop, "note my shopping")
    card = _chat_card(desktop)
    card.reject_button.click()
    assert desktop.bridge.actions.get(card.action_id).state is ActionState.REJECTED
    assert card.heading.text().endswith("Rejected — nothing was changed")
    assert not card.approve_button.isVisibleTo(desktop.window)
    assert desktop.window.pending_count == 0
    listed = desktop.bridge.core.registry.run("notes_list", {}, desktop.bridge.core.context)
    assert listed.data["total"] == 0


def test_edit_from_the_chat_card_opens_the_form_then_approves_the_edit(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    desktop = make_desktop(scripted([NOTE]))
    desktop.start()
    send_and_wait(qtbot, desktop, "note my shopping")
    card = _chat_card(desktop)
    dialog = card.edit()
    assert dialog.form.fields["title"].widget.text() == "Shopping"
    dialog.form.fields["title"].widget.setText("Groceries")
    dialog.save()
    assert not dialog.isVisible()
    assert card.sentence.text() == "Create the note 'Groceries'"
    assert desktop.bridge.actions.get(card.action_id).state is ActionState.EDITED
    assert desktop.window.approvals.card.sentence.text() == "Create the note 'Groceries'"
    card.approve_button.click()
    action = desktop.bridge.actions.get(card.action_id)
    assert action.state is ActionState.DONE
    assert action.arguments["title"] == "Groceries"


def test_an_edit_made_elsewhere_is_shown_before_anything_runs(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    """Issue 25, item 12: the terminal edits the action after the window drew it; Approve
    in the window shows the new values and waits instead of running what nobody saw."""
    from app.actions import Actions
    from app.ui.action_card import CHANGED_ELSEWHERE

    desktop = make_desktop(scripted([NOTE]))
    desktop.start()
    send_and_wait(qtbot, desktop, "note my shopping")
    card = _chat_card(desktop)
    core = desktop.bridge.core
    terminal = Actions(core.registry, core.context)  # another front end, the same store
    terminal.edit(card.action_id, {"title": "Bank codes", "body": "1234"})
    assert card.sentence.text() == "Create the note 'Shopping'"  # drawn before the edit

    card.approve_button.click()
    action = desktop.bridge.actions.get(card.action_id)
    assert action.state is ActionState.EDITED  # nothing ran
    assert card.sentence.text() == "Create the note 'Bank codes'"
    assert card.outcome.text() == CHANGED_ELSEWHERE
    assert ("Text", "1234") in [(c.label, c.value) for c in card.summary.changes]

    card.approve_button.click()  # the second approval is of what is on screen now
    action = desktop.bridge.actions.get(card.action_id)
    assert action.state is ActionState.DONE and action.arguments["title"] == "Bank codes"


def test_ctrl_enter_approves_the_focused_card_and_only_it(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    desktop = make_desktop(scripted([NOTE]))
    desktop.start()
    window = desktop.window
    send_and_wait(qtbot, desktop, "note my shopping")
    card = _chat_card(desktop)
    chat = window.chat
    chat.input.setFocus()
    qtbot.keyClick(chat.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert desktop.bridge.actions.get(card.action_id).state is ActionState.PENDING
    # Shift+Tab from the message box reaches the newest waiting card's Approve button (the
    # offscreen platform has no active window: the window's focus widget is where keys go);
    # Ctrl+Enter there approves it.
    qtbot.keyClick(chat.input, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert window.focusWidget() is card.approve_button
    qtbot.keyClick(card.approve_button, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert desktop.bridge.actions.get(card.action_id).state is ActionState.DONE


def test_a_question_is_shown_as_one_and_invites_the_answer(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    desktop = make_desktop(scripted(["Which day should I move **Dentist** to?"]))
    desktop.start()
    window = desktop.window
    send_and_wait(qtbot, desktop, "move my dentist appointment")
    window.chat.view.render_now()
    bubble = window.chat.view.widgets[-1]
    assert bubble.header.text().startswith("<b>The assistant asks</b>")
    assert re.search(r"answered in \d+\.\d s", bubble.header.text())
    assert "answer to the question" in window.chat.input.placeholderText()


def test_a_long_answer_is_collapsed_and_opens_whole(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    long = "\n".join(f"- item {n}" for n in range(40))
    desktop = make_desktop(scripted([long]))
    desktop.start()
    send_and_wait(qtbot, desktop, "list forty things")
    view = desktop.window.chat.view
    view.render_now()
    bubble = view.widgets[-1]
    assert bubble.more.isVisibleTo(desktop.window) and "40 lines" in bubble.more.text()
    assert "item 39" not in bubble.visible_text()
    bubble.more.click()
    assert "item 39" in bubble.visible_text()


def test_welcome_examples_fill_the_message_box(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    from PySide6.QtCore import QPoint

    desktop = make_desktop(scripted([]))
    window = desktop.window
    window.show()
    window.new_conversation()
    welcome = window.chat.view.welcome
    assert welcome.isVisibleTo(window) and len(welcome.examples) == 3
    example = welcome.examples[1]
    qtbot.mouseClick(example, Qt.MouseButton.LeftButton, pos=QPoint(12, example.height() // 2))
    assert window.chat.input.toPlainText() == "Lunch with Ana on Thursday at 12:30 at Cafe Luz"


def test_the_spinner_runs_while_the_model_works(
    qtbot: Any, make_desktop: Any, tiny_settings: Any
) -> None:
    from app.runtime import open_backend

    settings = tiny_settings(400)
    desktop = make_desktop(lambda progress: open_backend(settings, progress), settings)
    desktop.start()
    chat = desktop.window.chat
    desktop.window.send("write a long story")
    first = chat.status.text()
    qtbot.waitUntil(lambda: chat.status.text()[:1] != first[:1], timeout=5000)  # it turns
    assert chat.stop_button.isEnabled()
    chat.stop_button.click()
    qtbot.waitUntil(lambda: not desktop.bridge.busy, timeout=60_000)
    assert chat.status.text() == ""


def test_a_change_run_by_an_always_policy_shows_its_result_with_undo(
    qtbot: Any, make_desktop: Any, scripted: Any
) -> None:
    from app.settings import Settings

    settings = Settings(tool_policies={"notes_create": "always"})
    desktop = make_desktop(scripted([NOTE, "Noted."]), settings)
    desktop.start()
    send_and_wait(qtbot, desktop, "note my shopping")
    card = _chat_card(desktop)
    assert card.heading.text() == f"#{card.action_id} · Done"
    assert card.undo_button.isVisibleTo(desktop.window)
    card.undo_button.click()
    assert desktop.bridge.actions.get(card.action_id).state is ActionState.UNDONE
