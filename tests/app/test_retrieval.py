"""Tool retrieval: the right product tool among 150, in any language, on a real BM25 index.

The 150 tools are the product's own (from the real connector registry) and made-up tools of
other services that share their verbs and nouns (``delete_photo``, ``list_playlist``,
``create_invoice``...), so a request has to match the right tool, not merely any tool.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.evaluation.assistant_cases import load_cases
from app.policy.retrieval import EXAMPLES, index_for, retrieve
from backends.schema import ToolSpec, parse_tools
from connectors.registry import load_registry

K = 5

_THINGS = (
    ("photo", "a photo in the gallery"),
    ("playlist", "a music playlist"),
    ("invoice", "an invoice for a customer"),
    ("contact", "a contact in the address book"),
    ("email", "an e-mail message in the mailbox"),
    ("task", "a task on the team's board"),
    ("recipe", "a cooking recipe"),
    ("flight", "a flight booking"),
    ("hotel", "a hotel reservation"),
    ("ticket", "a support ticket"),
    ("order", "a shop order"),
    ("expense", "an expense report"),
    ("bookmark", "a browser bookmark"),
    ("repository", "a code repository"),
    ("alarm", "an alarm clock setting"),
    ("podcast", "a podcast episode"),
    ("device", "a smart-home device"),
    ("payment", "a bank payment"),
    ("video", "a video in the library"),
    ("document", "a shared online document"),
    ("parcel", "a parcel delivery"),
)
_VERBS = (
    ("create", "Create {what}."),
    ("delete", "Delete {what} for good."),
    ("list", "List every {thing}, newest first."),
    ("search", "Search for {what} by words in it."),
    ("update", "Change the details of {what}."),
    ("read", "Show {what} in full."),
)


def other_tools(count: int) -> list[ToolSpec]:
    """``count`` tools of services the product does not have, with the product's verbs."""
    tools = [
        {
            "name": f"{verb}_{thing}",
            "description": pattern.format(what=what, thing=thing),
            "parameters": {
                "type": "object",
                "properties": {
                    f"{thing}_id": {"type": "string", "description": f"Which {thing}"},
                    "text": {"type": "string", "description": f"Words of the {thing}"},
                },
            },
        }
        for thing, what in _THINGS
        for verb, pattern in _VERBS
    ]
    return parse_tools(tools[:count])


@pytest.fixture(scope="module")
def tools() -> list[ToolSpec]:
    """150 tools, the product's last (as when MCP servers' tools come first), so that the
    first k tools are never the answer by chance."""
    product = parse_tools(load_registry().definitions())
    everything = other_tools(150 - len(product)) + product
    assert len(everything) == 150
    return everything


def names(tools: list[ToolSpec]) -> list[str]:
    return [tool.name for tool in tools]


@pytest.mark.parametrize(
    ("request_text", "wanted"),
    [
        ("Was steht am Donnerstag in meinem Kalender an?", "calendar_list"),
        ("Mostra o meu calendário de amanhã", "calendar_list"),
        ("Desmarca a reunião de amanhã", "calendar_cancel"),
        ("Search my mailbox for the e-mail from the landlord", "search_email"),
    ],
)
def test_a_request_finds_its_tool_among_150_in_german_portuguese_and_english(
    tools: list[ToolSpec], request_text: str, wanted: str
) -> None:
    picked = retrieve(request_text, tools, K)
    assert wanted in names(picked)
    assert len(picked) == K


@pytest.mark.parametrize(
    ("request_text", "wanted"),
    [
        ("Déplace contrat.pdf dans le dossier Banque", "files_move"),
        ("Lade Sophie zum Grillen am Sonntag ein", "calendar_update"),
        ("Wirf die Notiz Einkauf in den Papierkorb", "notes_delete"),
        ("Qual é o número do cacifo do ginásio?", "notes_read"),
        ("What's the PIN of the garage remote?", "notes_read"),
    ],
)
def test_the_routes_five_candidates_hold_the_right_product_tool_in_any_language(
    request_text: str, wanted: str
) -> None:
    """The route chooses among the five tools retrieval picks from the product's 24
    (``app.policy.decision.CANDIDATES``): a tool missing there cannot be chosen at all. Everyday
    words with no letters in common with the tools' English ("Papierkorb", "einladen", "déplace")
    and a question about a fact kept in a note, which names no note, reach the right tool
    through the example requests."""
    product = parse_tools(load_registry().definitions())
    assert wanted in names(retrieve(request_text, product, K))


def test_a_follow_up_finds_the_next_tool_of_the_same_connector(tools: list[ToolSpec]) -> None:
    """After free slots were listed, "take the second slot" names no calendar word: the
    calendar's other tools rank higher because the conversation used one of them."""
    picked = names(retrieve("Nimm den zweiten Slot", tools, K, keep={"calendar_free_time"}))
    assert "calendar_create" in picked


def test_the_picked_tools_keep_their_order_and_all_are_offered_when_few(
    tools: list[ToolSpec],
) -> None:
    picked = names(retrieve("Mostra o meu calendário de amanhã", tools, K))
    assert picked == [name for name in names(tools) if name in picked]
    assert retrieve("anything", tools[:3], K) == tools[:3]


def test_tools_the_conversation_used_stay_offered(tools: list[ToolSpec]) -> None:
    """A follow-up may name nothing of the tool it continues with: the tool already used
    stays among those offered, and the best of the rest fill the other places."""
    request = "Put it in my calendar for Monday at 9"
    alone = names(retrieve(request, tools, K))
    assert "files_find" not in alone
    picked = names(retrieve(request, tools, K, keep={"files_find"}))
    assert len(picked) == K
    assert "files_find" in picked
    assert set(picked) - {"files_find"} == set(names(retrieve(request, tools, K - 1)))


def test_the_index_is_built_once_per_tool_list(tools: list[ToolSpec]) -> None:
    first = index_for(tools)
    assert index_for(list(tools)) is first
    changed = [*tools[:-1], ToolSpec(tools[-1].name, "Something else entirely.")]
    assert index_for(changed) is not first


def test_a_request_with_no_words_still_gets_k_tools(tools: list[ToolSpec]) -> None:
    assert len(retrieve("?!", tools, K)) == K
    assert len(retrieve("", [ToolSpec("x", ""), ToolSpec("y", "")], 1)) == 1


def test_no_example_request_is_a_request_of_the_product_cases() -> None:
    """The examples are measured by the product cases (bench/retrieval.py): one copied from a
    case would score itself."""
    cases, _ = load_cases(Path(__file__).resolve().parents[1] / "assistant_cases")
    said = {" ".join(m.lower().split()) for case in cases for m in case.messages}
    examples = {" ".join(text.lower().split()) for texts in EXAMPLES.values() for text in texts}
    assert len(examples) > 100
    assert not examples & said
