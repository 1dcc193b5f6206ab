"""The notes tools, run through the registry on a real encrypted store."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from connectors.errors import InvalidArgumentsError, NotFoundError
from connectors.notes import register, service
from connectors.notes.models import Note, NoteTag
from connectors.notes.service import AmbiguousNoteError
from connectors.registry import Registry
from connectors.store.database import Store
from connectors.tool import ToolContext, ToolResult


@pytest.fixture
def registry() -> Registry:
    registry = Registry()
    register(registry)
    return registry


@pytest.fixture
def context(tool_context: ToolContext) -> ToolContext:
    """The test context with a clock that moves a minute at every reading, so a change's
    ``updated`` differs from the one before it and an undo must really put the old one back."""
    start = tool_context.now()
    ticks = iter(range(10_000))
    return dataclasses.replace(tool_context, now=lambda: start + timedelta(minutes=next(ticks)))


class Notes:
    """Calls tools as the app does: validated by the registry, changes approved."""

    def __init__(self, registry: Registry, context: ToolContext, store: Store) -> None:
        self.registry = registry
        self.context = context
        self.store = store

    def __call__(self, name: str, arguments: dict[str, Any] | str) -> ToolResult:
        return self.registry.run(name, arguments, self.context, approved=True)

    def undo(self, result: ToolResult) -> ToolResult:
        assert result.undo is not None
        return self(result.undo.tool, result.undo.arguments)

    def state(self) -> list[tuple[Any, ...]]:
        """Everything stored about every note, tag rows included, to compare before and after."""
        with self.store.reading() as session:
            notes = [
                (n.id, n.title, n.title_key, n.body, n.tags, n.created, n.updated, n.trashed)
                for n in session.scalars(select(Note).order_by(Note.id))
            ]
            tags = [
                (t.tag, t.note_id, t.updated)
                for t in session.scalars(select(NoteTag).order_by(NoteTag.tag, NoteTag.note_id))
            ]
        return [*notes, *tags]

    def titles(self, query: str, **extra: Any) -> list[str]:
        found = self("notes_search", {"query": query, **extra}).data["results"]
        return [hit["title"] for hit in found]


@pytest.fixture
def notes(registry: Registry, context: ToolContext, store: Store) -> Notes:
    return Notes(registry, context, store)


# ---------------------------------------------------------------------------------------------
# Create, read, and each change undone exactly
# ---------------------------------------------------------------------------------------------


def test_create_then_read_shows_text_tags_and_local_times(notes: Notes) -> None:
    created = notes(
        "notes_create",
        {
            "title": "  Shopping   list ",
            "body": "- milk\n- eggs",
            "tags": ["#Home", "To Do", "home"],
        },
    )
    assert created.summary == "Created note 'Shopping list'"
    assert created.data["tags"] == ["home", "to-do"]

    shown = notes("notes_read", {"note": "shopping list"}).data
    assert shown["title"] == "Shopping list"
    assert shown["body"] == "- milk\n- eggs"
    assert shown["tags"] == ["home", "to-do"]
    assert shown["created"] == "2026-11-25T10:00+01:00"


def test_undo_create_erases_the_note(notes: Notes) -> None:
    before = notes.state()
    created = notes("notes_create", {"title": "Temp", "body": "zebra crossing", "tags": ["x"]})
    assert notes.titles("zebra") == ["Temp"]

    notes.undo(created)
    assert notes.state() == before
    assert notes.titles("zebra") == []
    assert notes("notes_tags", {}).data["tags"] == []


def test_append_adds_a_line_and_undo_restores_exactly(notes: Notes) -> None:
    notes("notes_create", {"title": "Shopping list", "body": "- milk", "tags": ["home"]})
    before = notes.state()

    appended = notes("notes_append", {"note": "Shopping list", "text": "- bread"})
    assert notes("notes_read", {"note": "Shopping list"}).data["body"] == "- milk\n- bread"
    assert "+- bread" in appended.data["diff"]
    assert notes.state() != before

    notes.undo(appended)
    assert notes.state() == before
    assert notes.titles("bread") == []


def test_edit_find_replace_previews_the_diff_and_undo_restores_exactly(notes: Notes) -> None:
    notes("notes_create", {"title": "Plans", "body": "Monday: call Bob\nTuesday: gym"})
    before = notes.state()

    edited = notes("notes_edit", {"note": "plans", "find": "call Bob", "replace": "call Alice"})
    assert edited.data["diff"].splitlines() == [
        "@@ -1,2 +1,2 @@",
        "-Monday: call Bob",
        "+Monday: call Alice",
        " Tuesday: gym",
    ]
    assert "replaced 1 passage" in edited.summary
    assert notes.titles("Alice") == ["Plans"]
    assert notes.titles("Bob") == []

    notes.undo(edited)
    assert notes.state() == before
    assert notes.titles("Bob") == ["Plans"]


def test_edit_finds_a_passage_quoted_with_other_case_and_spacing(notes: Notes) -> None:
    notes("notes_create", {"title": "Recipe", "body": "Mix the flour\nand the sugar. Bake."})
    notes("notes_edit", {"note": "Recipe", "find": "mix the flour and", "replace": "Sift"})
    assert notes("notes_read", {"note": "Recipe"}).data["body"] == "Sift the sugar. Bake."


def test_edit_of_a_missing_passage_changes_nothing(notes: Notes) -> None:
    notes("notes_create", {"title": "Plans", "body": "Monday: call Bob"})
    before = notes.state()
    with pytest.raises(NotFoundError, match=r"does not contain 'call Carol'.*notes_read"):
        notes("notes_edit", {"note": "Plans", "find": "call Carol", "replace": "x"})
    assert notes.state() == before


def test_edit_whole_body_and_tags_then_undo(notes: Notes) -> None:
    notes("notes_create", {"title": "Ideas", "body": "old text", "tags": ["work"]})
    before = notes.state()

    edited = notes("notes_edit", {"note": "Ideas", "body": "new text", "tags": ["Home"]})
    shown = notes("notes_read", {"note": "Ideas"}).data
    assert (shown["body"], shown["tags"]) == ("new text", ["home"])
    assert notes("notes_list", {"tag": "work"}).data["notes"] == []

    notes.undo(edited)
    assert notes.state() == before
    assert [n["title"] for n in notes("notes_list", {"tag": "work"}).data["notes"]] == ["Ideas"]


def test_rename_then_undo_and_taken_titles_are_refused(notes: Notes) -> None:
    notes("notes_create", {"title": "Groceries"})
    notes("notes_create", {"title": "Shopping list", "body": "- milk"})
    before = notes.state()

    renamed = notes("notes_rename", {"note": "Shopping list", "new_title": "Weekend shopping"})
    assert renamed.summary == "Renamed note 'Shopping list' to 'Weekend shopping'"
    assert notes("notes_read", {"note": "weekend shopping"}).data["body"] == "- milk"

    notes.undo(renamed)
    assert notes.state() == before

    with pytest.raises(Exception, match="'Groceries' already exists"):
        notes("notes_rename", {"note": "Shopping list", "new_title": "GROCERIES"})
    with pytest.raises(Exception, match="'Groceries' already exists"):
        notes("notes_create", {"title": "groceries"})
    assert notes.state() == before


def test_delete_moves_to_trash_restore_brings_back_and_undo_both(notes: Notes) -> None:
    notes("notes_create", {"title": "Diary", "body": "secret walrus", "tags": ["me"]})
    before = notes.state()

    deleted = notes("notes_delete", {"note": "Diary"})
    assert deleted.summary == "Moved note 'Diary' to the trash"
    assert notes.titles("walrus") == []
    assert notes("notes_list", {}).data["total"] == 0
    assert notes("notes_tags", {}).data["tags"] == []
    trash = notes("notes_list", {"in_trash": True}).data["notes"]
    assert [n["title"] for n in trash] == ["Diary"]
    with pytest.raises(NotFoundError, match="'Diary' is in the trash: restore it"):
        notes("notes_read", {"note": "Diary"})

    notes.undo(deleted)
    assert notes.state() == before
    assert notes.titles("walrus") == ["Diary"]

    notes("notes_delete", {"note": "Diary"})
    trashed = notes.state()
    restored = notes("notes_restore", {"note": "diary"})
    assert notes.titles("walrus") == ["Diary"]
    assert notes("notes_tags", {}).data["tags"] == [{"tag": "me", "notes": 1}]

    notes.undo(restored)
    assert notes.state() == trashed
    assert notes.titles("walrus") == []


def test_an_undo_can_itself_be_undone(notes: Notes) -> None:
    notes("notes_create", {"title": "Log", "body": "one"})
    appended = notes("notes_append", {"note": "Log", "text": "two"})
    after = notes.state()

    undone = notes.undo(appended)
    assert notes("notes_read", {"note": "Log"}).data["body"] == "one"
    notes.undo(undone)
    assert notes.state() == after


def test_restore_version_refuses_a_version_of_another_note(notes: Notes) -> None:
    notes("notes_create", {"title": "A", "body": "a"})
    notes("notes_create", {"title": "B", "body": "b"})
    changed = notes("notes_append", {"note": "A", "text": "more"})
    version = changed.undo.arguments["version_id"] if changed.undo else 0
    b_id = notes("notes_read", {"note": "B"}).data["id"]
    with pytest.raises(NotFoundError, match="'B' has no saved version"):
        notes("notes_restore_version", {"note_id": b_id, "version_id": version})


# ---------------------------------------------------------------------------------------------
# Naming a note
# ---------------------------------------------------------------------------------------------


def test_a_note_is_found_by_exact_title_id_unique_prefix_or_part(notes: Notes) -> None:
    notes("notes_create", {"title": "Plan", "body": "short"})
    notes("notes_create", {"title": "Plan for the trip", "body": "long"})
    note_id = notes("notes_create", {"title": "Books to read", "body": "Dune"}).data["id"]

    assert notes("notes_read", {"note": "PLAN"}).data["body"] == "short"  # exact beats prefix
    assert notes("notes_read", {"note": "plan for"}).data["body"] == "long"
    assert notes("notes_read", {"note": "books"}).data["body"] == "Dune"
    assert notes("notes_read", {"note": "to read"}).data["body"] == "Dune"
    assert notes("notes_read", {"note": str(note_id)}).data["title"] == "Books to read"
    assert notes("notes_read", {"note": f"#{note_id}"}).data["title"] == "Books to read"


def test_an_ambiguous_name_lists_the_candidates(notes: Notes) -> None:
    first = notes("notes_create", {"title": "Meeting Monday"}).data["id"]
    second = notes("notes_create", {"title": "Meeting Friday"}).data["id"]
    before = notes.state()
    with pytest.raises(AmbiguousNoteError) as caught:
        notes("notes_append", {"note": "meeting", "text": "x"})
    message = str(caught.value)
    assert f"'Meeting Friday' (id {second})" in message
    assert f"'Meeting Monday' (id {first})" in message
    assert "full title or the id" in message
    assert notes.state() == before


def test_an_unknown_name_says_how_to_find_the_note(notes: Notes) -> None:
    notes("notes_create", {"title": "Something"})
    with pytest.raises(NotFoundError, match=r"no note titled 'Holiday' .*notes_search"):
        notes("notes_delete", {"note": "Holiday"})
    with pytest.raises(NotFoundError, match="'Something' is not in the trash"):
        notes("notes_restore", {"note": "Something"})


def test_like_wildcards_in_a_name_are_plain_characters(notes: Notes) -> None:
    notes("notes_create", {"title": "Budget 2026"})
    with pytest.raises(NotFoundError):
        notes("notes_read", {"note": "%"})
    with pytest.raises(NotFoundError):
        notes("notes_read", {"note": "_udget"})


# ---------------------------------------------------------------------------------------------
# Search, tags and listing
# ---------------------------------------------------------------------------------------------


def test_a_title_hit_outranks_a_body_hit(notes: Notes) -> None:
    notes(
        "notes_create",
        {"title": "Misc", "body": "Remember the budget for the garden and the fence."},
    )
    notes("notes_create", {"title": "Budget", "body": "Numbers for next year."})
    notes("notes_create", {"title": "Unrelated", "body": "Nothing to see here."})

    found = notes("notes_search", {"query": "budget"}).data
    assert [hit["title"] for hit in found["results"]] == ["Budget", "Misc"]
    assert found["matched"] == "all words"
    assert "**budget**" in found["results"][1]["snippet"]


def test_search_snippet_marks_the_words_near_the_match(notes: Notes) -> None:
    filler = " ".join(f"word{i}" for i in range(60))
    notes("notes_create", {"title": "Long", "body": f"{filler} the dentist is on Friday {filler}"})
    snippet = notes("notes_search", {"query": "dentist"}).data["results"][0]["snippet"]
    assert "**dentist**" in snippet
    assert snippet.startswith("…") and snippet.endswith("…")
    assert len(snippet) < 150


def test_search_prefers_all_words_and_falls_back_to_some(notes: Notes) -> None:
    notes("notes_create", {"title": "Dentist", "body": "appointment on Friday"})
    notes("notes_create", {"title": "Car", "body": "appointment at the garage"})
    both = notes("notes_search", {"query": "dentist appointment"}).data
    assert [hit["title"] for hit in both["results"]] == ["Dentist"]
    some = notes("notes_search", {"query": "garage holidays"}).data
    assert ([hit["title"] for hit in some["results"]], some["matched"]) == (["Car"], "some words")
    assert notes("notes_search", {"query": "volcano"}).data == {"results": [], "matched": "none"}


@pytest.mark.parametrize(
    "query",
    ['C++ "quoted', "AND OR NOT", "NEAR(", "title: x", "-minus *", '"', "(", "^start", "a:b:c"],
)
def test_search_never_fails_on_fts_syntax(notes: Notes, query: str) -> None:
    notes("notes_create", {"title": "Languages", "body": "I write C++ and NOT much else."})
    notes("notes_search", {"query": query})  # no FTS syntax error


def test_search_finds_words_written_with_operators_and_quotes(notes: Notes) -> None:
    notes("notes_create", {"title": "Languages", "body": 'Learning C++ "templates" and NOT Rust'})
    assert notes.titles("C++") == ["Languages"]
    assert notes.titles('"templates') == ["Languages"]
    assert notes.titles("NOT") == ["Languages"]


def test_search_within_a_tag(notes: Notes) -> None:
    notes("notes_create", {"title": "Work plan", "body": "launch", "tags": ["work"]})
    notes("notes_create", {"title": "Party plan", "body": "launch", "tags": ["work-party"]})
    assert notes.titles("launch", tag="#Work") == ["Work plan"]
    assert sorted(notes.titles("launch")) == ["Party plan", "Work plan"]


def test_a_broad_search_puts_title_and_tag_matches_first_then_the_newest(
    notes: Notes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "RANK_BUDGET", 3)
    for n in range(5):
        notes("notes_create", {"title": f"Body {n}", "body": "common word"})
    notes("notes_create", {"title": "Common title", "body": "other"})
    notes("notes_create", {"title": "Body 5", "body": "common again"})
    notes("notes_create", {"title": "Tagged", "body": "x", "tags": ["common"]})

    found = notes("notes_search", {"query": "common", "limit": 4}).data
    titles = [hit["title"] for hit in found["results"]]
    assert titles == ["Tagged", "Common title", "Body 5", "Body 4"]
    assert "add words to narrow" in found["note"]


def test_tags_are_counted_and_listed_newest_first(notes: Notes) -> None:
    notes("notes_create", {"title": "One", "tags": ["work", "ideas"]})
    notes("notes_create", {"title": "Two", "tags": ["work"]})
    notes("notes_create", {"title": "Three", "tags": ["home"]})
    notes("notes_append", {"note": "One", "text": "changed last"})

    assert notes("notes_tags", {}).data["tags"] == [
        {"tag": "work", "notes": 2},
        {"tag": "home", "notes": 1},
        {"tag": "ideas", "notes": 1},
    ]
    listed = notes("notes_list", {"tag": "Work"}).data
    assert [n["title"] for n in listed["notes"]] == ["One", "Two"]
    assert listed["total"] == 2
    everything = notes("notes_list", {"limit": 2}).data
    assert ([n["title"] for n in everything["notes"]], everything["total"]) == (["One", "Three"], 3)


def test_trashed_notes_listed_by_tag(notes: Notes) -> None:
    notes("notes_create", {"title": "Old", "tags": ["work"]})
    notes("notes_create", {"title": "Other", "tags": ["home"]})
    notes("notes_delete", {"note": "Old"})
    notes("notes_delete", {"note": "Other"})
    trash = notes("notes_list", {"tag": "work", "in_trash": True}).data
    assert ([n["title"] for n in trash["notes"]], trash["total"]) == (["Old"], 1)


# ---------------------------------------------------------------------------------------------
# Arguments and the offered tools
# ---------------------------------------------------------------------------------------------


def test_bad_arguments_give_one_message_per_field(notes: Notes) -> None:
    before = notes.state()
    with pytest.raises(InvalidArgumentsError) as caught:
        notes("notes_create", '{"title": "", "tags": "work", "colour": "red"}')
    fields = dict(caught.value.problems)
    assert set(fields) == {"title", "tags", "colour"}
    assert "at least 1 character" in fields["title"]
    assert "valid list" in fields["tags"]
    assert fields["colour"] == "not a parameter of this tool"

    with pytest.raises(InvalidArgumentsError) as caught:
        notes("notes_search", '{"query": "x", "limit": 500}')
    assert dict(caught.value.problems).keys() == {"limit"}

    with pytest.raises(InvalidArgumentsError, match="not valid JSON"):
        notes("notes_append", '{"note": "x", "text": ')
    with pytest.raises(InvalidArgumentsError, match=r"tags\.0: Value error, '#' is not a usable"):
        notes("notes_create", {"title": "T", "tags": ["#"]})
    with pytest.raises(InvalidArgumentsError, match=r"tag: Value error, '##' is not a usable"):
        notes("notes_search", {"query": "x", "tag": "##"})
    assert notes.state() == before


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"note": "N", "body": "x", "find": "y"}, r"either body .* or find and replace"),
        ({"note": "N", "replace": "x"}, "replace needs find"),
        ({"note": "N"}, "nothing to change"),
    ],
)
def test_edit_arguments_must_say_one_kind_of_edit(
    notes: Notes, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidArgumentsError, match=message):
        notes("notes_edit", arguments)


def test_undo_helpers_are_hidden_and_changes_need_approval(
    registry: Registry, context: ToolContext
) -> None:
    offered = {t.name for t in registry.tools()}
    assert offered == {
        "notes_create",
        "notes_read",
        "notes_append",
        "notes_edit",
        "notes_rename",
        "notes_delete",
        "notes_restore",
        "notes_list",
        "notes_tags",
        "notes_search",
    }
    hidden = {t.name for t in registry.tools(include_hidden=True)} - offered
    assert hidden == {"notes_restore_version", "notes_purge"}
    with pytest.raises(Exception, match="needs your approval"):
        registry.run("notes_create", {"title": "x"}, context)


def test_notes_and_their_index_are_encrypted_on_disk(notes: Notes, store: Store) -> None:
    notes("notes_create", {"title": "Passwords", "body": "zanzibarquokka " * 50})
    assert notes.titles("zanzibarquokka") == ["Passwords"]
    store.close()
    for path in store.path.parent.iterdir():
        assert b"zanzibarquokka" not in path.read_bytes(), path.name
        assert b"Passwords" not in path.read_bytes(), path.name


def test_times_are_kept_and_shown_in_the_users_zone(notes: Notes) -> None:
    created = notes("notes_create", {"title": "When"}).data
    assert datetime.fromisoformat(created["updated"]).utcoffset() == timedelta(hours=1)


def test_the_full_text_index_matches_the_notes_after_every_kind_of_change(
    notes: Notes, store: Store
) -> None:
    """FTS5 cannot tell when a trigger unindexes a note with the wrong words; its integrity check
    against the notes can, once no note is in the trash (trashed notes are left out on purpose)."""
    notes("notes_create", {"title": "Alpha", "body": "one two", "tags": ["a"]})
    created = notes("notes_create", {"title": "Beta", "body": "three"})
    undo = [
        notes("notes_append", {"note": "Alpha", "text": "four"}),
        notes("notes_edit", {"note": "Alpha", "find": "two", "replace": "five", "tags": ["b"]}),
        notes("notes_rename", {"note": "Alpha", "new_title": "Gamma"}),
        notes("notes_delete", {"note": "Beta"}),
        notes("notes_restore", {"note": "Beta"}),
        notes("notes_edit", {"note": "Beta", "body": "six seven"}),
    ]
    for result in reversed(undo):
        notes.undo(result)
    notes.undo(created)
    with store.transaction() as session:
        session.execute(
            text("INSERT INTO notes_fts (notes_fts, rank) VALUES ('integrity-check', 1)")
        )
    assert notes.titles("one") == ["Alpha"]
    assert notes.titles("five") == notes.titles("three") == []
