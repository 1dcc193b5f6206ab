"""Tool retrieval: the few tools a request most likely needs, picked before decoding.

A 0.5B model with a 4k-token prompt cannot read 150 tool definitions (100-250 tokens each), and
it picks worse among many. So before decoding the tools are ranked against the request and only
the ``k`` best are offered; the grammar then covers those alone.

The ranking reads no word lists of any language. A BM25 index (``bm25s``) over each tool's
name, description, parameter names, parameter descriptions and enum values takes character
n-grams inside words as its terms, so a request in any language meets the inflections and the
cognates of the tools' words ("calendário", "Kalender" and "calendar"; "notas" and "notes").
(Whole stemmed words as a second index added nothing on the product's requests and lost a
little on BFCL live_multiple.)

Words that share no letters across languages ("Termin", "ficheiro") are bridged by a tool's
example requests, when it has them: the product's own tools carry short requests in five
languages (:mod:`app.policy.exemplars` and :mod:`app.policy.retrieval_examples`); each
example is a document of a second index, and a tool's score is its text's BM25 score plus its
best-matching example's.

Tools the conversation already used are always kept: a follow-up ("move it to archive") may
name nothing of the tool it needs; and the other tools of their connectors rank a little higher
(:data:`FOLLOW_UP_BOOST`), since a follow-up mostly acts on the thing the previous call found.
The index is built once per tool list and cached, so a request costs a tokenization and two
sparse look-ups (about a millisecond for 150 tools).

What each part is worth (bench/retrieval.py, recall@5 of the product's ``dev`` split among 150
tools, then of the BFCL requests on that registry): 0.883 and 0.927 with 4-5 examples a tool;
0.942 and 0.912 with 9-20 a tool, every tool in all five languages; 0.958 and 0.920 with the
request's n-grams counted once (:func:`query_terms`); 0.967 with the follow-up boost (one of the
eleven follow-ups; none lost); 0.983 and 0.920 with questions about a fact kept in a note. On
the ``test`` split, not tuned on: 0.870 before, 0.951 after.

Measured (bench/retrieval.py, product ``dev`` split among 150 tools, against an earlier
version of this ranking that scored 65% recall@5) and left out:

- the bundled model's own embeddings (a second llama.cpp context, mean pooled;
  ``--embeddings``): 41% alone, 60% fused with BM25, and 0.7 s a request on two busy cores,
  where the budget is 30 ms;
- its static token embeddings (rows of ``token_embd``, no decoding): two requests of 120 more,
  not worth a second reader of the model file;
- the previous exchange's words added to a follow-up's request: no change at half weight on
  the 27 follow-ups of both splits, one lost at full weight;
- reciprocal-rank fusion of the two indexes instead of adding their scores: only the product's
  tools have examples, so they outranked every other tool (BFCL requests 0.59 at rank constant
  10, none at 60); a tool's two or three best examples instead of its best (dev 0.82-0.96);
  other BM25 ``k1``/``b``, or 2-5-grams for the examples: dev and BFCL traded a request or two.
"""

from __future__ import annotations

import functools
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import bm25s
import numpy as np

from app.policy.exemplars import EXEMPLARS, NO_TOOL
from app.policy.retrieval_examples import RETRIEVAL_EXAMPLES
from backends.schema import ToolSpec

FOLLOW_UP_BOOST = 0.5  # share added to the scores of the conversation's connectors' tools
NAME_REPEAT = 2  # a tool's name says most about it: its words count twice
NGRAMS = (3, 4, 5)  # character n-gram lengths, inside words padded with ^ and $
_SCHEMA_DEPTH = 3  # nested properties read this deep (items, objects in objects)

_WORD = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _examples_by_tool(pairs: Iterable[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    grouped: dict[str, list[str]] = {}
    for text, tool in pairs:
        if tool != NO_TOOL:
            grouped.setdefault(tool, []).append(text)
    return {tool: tuple(texts) for tool, texts in grouped.items()}


EXAMPLES: Mapping[str, tuple[str, ...]] = _examples_by_tool(EXEMPLARS + RETRIEVAL_EXAMPLES)
"""Example requests of the product's tools, by tool name: the decision's exemplars and
retrieval's own (:mod:`app.policy.retrieval_examples`)."""


def words(text: str) -> list[str]:
    """The words of ``text``, lower case, accents dropped, identifiers split
    (``files_find`` and ``getCurrentTime`` are two and three words)."""
    text = _CAMEL.sub(" ", text)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return _WORD.findall(text)


def ngram_tokens(text: str) -> list[str]:
    """The BM25 terms: character n-grams of each word of two letters or more, padded so a
    word's start and end are terms of their own."""
    grams: list[str] = []
    for word in words(text):
        if len(word) < 2:
            continue
        padded = f"^{word}$"
        for n in NGRAMS:
            grams += [padded[i : i + n] for i in range(len(padded) - n + 1)]
    return grams


def connector_of(tool: ToolSpec) -> str:
    """The connector a tool belongs to: its name up to the first underscore, or for a tool
    from an MCP server (``server.tool``) the server. (As ``app.tool_selection.group_of``,
    which the policy cannot import: that module imports the policy.)"""
    if "." in tool.name:
        return tool.name.split(".", 1)[0]
    return tool.name.split("_", 1)[0]


def query_terms(text: str) -> list[str]:
    """A request's n-grams, each once: a word the request repeats (a BFCL prompt that names
    its subject five times) or pieces two of its words share ("notiz" in "Besprechungsnotiz"
    and "Notizen") would otherwise count each time and outweigh the rest of the request.
    (With the earlier examples: BFCL requests among the 150 registry tools 0.927 -> 0.942
    recall@5, the product's ``dev`` split unchanged at 0.883.)"""
    return list(dict.fromkeys(ngram_tokens(text)))


def _schema_text(schema: Any, depth: int = 0) -> list[str]:
    """Parameter names, descriptions and enum values of a JSON Schema, nested ones too."""
    if not isinstance(schema, Mapping) or depth > _SCHEMA_DEPTH:
        return []
    parts: list[str] = []
    if isinstance(schema.get("description"), str) and depth:
        parts.append(schema["description"])
    enum = schema.get("enum")
    if isinstance(enum, list):
        parts += [str(value) for value in enum if isinstance(value, str | int | float)]
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        for name, sub in properties.items():
            parts.append(str(name))
            parts += _schema_text(sub, depth + 1)
    parts += _schema_text(schema.get("items"), depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        for sub in schema.get(key) or ():
            parts += _schema_text(sub, depth + 1)
    return parts


def tool_text(tool: ToolSpec) -> str:
    """What a tool is indexed by: its name (twice), description and parameters."""
    parts = [tool.name] * NAME_REPEAT + [tool.description]
    parts += _schema_text(tool.parameters)
    return "\n".join(parts)


@dataclass(frozen=True)
class _View:
    """One BM25 index over the tools, or over their example requests (``owners`` then says
    which tool each example belongs to; a tool scores its best example)."""

    index: bm25s.BM25
    owners: np.ndarray | None = None

    def scores(self, terms: list[str], size: int) -> np.ndarray:
        ids = self.index.get_tokens_ids(terms)
        if not ids:
            return np.zeros(size)
        found = self.index.get_scores_from_ids(ids).astype(np.float64)
        if self.owners is None:
            return found
        best = np.zeros(size)
        np.maximum.at(best, self.owners, found)
        return best


@dataclass(frozen=True)
class ToolIndex:
    """The BM25 indexes of one tool list, in the list's order."""

    size: int
    views: tuple[_View, ...]

    def scores(self, text: str) -> np.ndarray:
        """Each tool's score for ``text``: its text's BM25 score plus its best example's.

        The raw scores are added, not each divided by its best: divided, the best example of
        a request no example fits (a BFCL request among the product's tools) still counted in
        full, and product tools crowded out the right one (registry BFCL requests 0.93 -> 0.89
        recall@5, with the product's unchanged)."""
        terms = query_terms(text)
        total = np.zeros(self.size)
        for view in self.views:
            total += view.scores(terms, self.size)
        return total


def _bm25(documents: list[list[str]]) -> bm25s.BM25:
    index = bm25s.BM25()
    # bm25s divides by the mean document length: tools with no words at all would make it 0.
    index.index([doc or ["\x00"] for doc in documents], show_progress=False)
    return index


def build_index(
    tools: Sequence[ToolSpec], examples: Mapping[str, Sequence[str]] = EXAMPLES
) -> ToolIndex:
    """The index of ``tools``: n-grams of each tool's text, and of each example request of
    the tools that have some."""
    views = [_View(_bm25([ngram_tokens(tool_text(tool)) for tool in tools]))]
    owners = [i for i, tool in enumerate(tools) for _ in examples.get(tool.name, ())]
    said = [text for tool in tools for text in examples.get(tool.name, ())]
    if said:
        views.append(_View(_bm25([ngram_tokens(text) for text in said]), np.asarray(owners)))
    return ToolIndex(len(tools), tuple(views))


_INDEXES: dict[tuple[tuple[str, str], ...], ToolIndex] = {}
_MAX_INDEXES = 64  # an evaluation offers a new list per BFCL entry; keep memory bounded
_INDEXES_LOCK = threading.Lock()


def index_for(tools: Sequence[ToolSpec]) -> ToolIndex:
    """The index of ``tools``, built on first use and cached by the tools' names and
    descriptions (a registry that changes, e.g. an MCP server that comes or goes, gets a new
    one)."""
    key = tuple((tool.name, tool.description) for tool in tools)
    with _INDEXES_LOCK:  # the UI runs turns in worker threads
        found = _INDEXES.get(key)
        if found is None:
            found = build_index(tools)
            if len(_INDEXES) >= _MAX_INDEXES:
                _INDEXES.pop(next(iter(_INDEXES)))
            _INDEXES[key] = found
    return found


def scores(request: str, tools: Sequence[ToolSpec]) -> np.ndarray:
    """Each tool's score for ``request`` (higher is better; 0 matches nothing)."""
    return index_for(tools).scores(request)


def rank(request: str, tools: Sequence[ToolSpec]) -> list[int]:
    """Indexes of ``tools``, best match first (ties: the earlier tool)."""
    found = scores(request, tools)
    return [int(i) for i in np.argsort(-found, kind="stable")]


def retrieve(
    request: str,
    tools: Sequence[ToolSpec],
    k: int,
    *,
    keep: Collection[str] = (),
) -> list[ToolSpec]:
    """The ``k`` tools ``request`` most likely needs, in their original order.

    Args:
        request: the user's message.
        tools: every tool on offer.
        k: how many to offer (the prompt budget decides); all of them when there are no more.
        keep: names of tools the conversation already used: always offered, on top of ``k``
            if they must be; the other tools of their connectors (``notes_``, an MCP
            server's ``server.``) rank :data:`FOLLOW_UP_BOOST` higher.
    """
    if k >= len(tools):
        return list(tools)
    chosen = {i for i, tool in enumerate(tools) if tool.name in keep}
    found = scores(request, tools)
    if chosen:
        # A follow-up mostly goes on with the same kind of thing ("append the budget line to
        # it" after a notes search): the kept tools' connectors rank a little higher.
        families = {connector_of(tools[i]) for i in chosen}
        boost = [1 + FOLLOW_UP_BOOST if connector_of(tool) in families else 1.0 for tool in tools]
        found = found * np.asarray(boost)
    for i in np.argsort(-found, kind="stable"):
        if len(chosen) >= max(k, 1):
            break
        chosen.add(int(i))
    return [tools[i] for i in sorted(chosen)]


_EXAMPLE_INDEXES: dict[tuple[str, ...], tuple[bm25s.BM25, tuple[tuple[str, str], ...]]] = {}


def nearest_examples(
    request: str,
    tools: Sequence[ToolSpec],
    k: int,
    *,
    among: Collection[str] | None = None,
    per_choice: int = 1,
) -> list[tuple[str, str]]:
    """Example requests (the exemplars and retrieval examples, with their tools) near
    ``request`` by the same character n-gram BM25: with ``among`` (the tools the route may
    choose, and ``none``), the ``per_choice`` nearest examples of each of them, so the model
    sees every choice; else the ``k`` nearest. Closest last, so it sits next to the request."""
    names = tuple(sorted(tool.name for tool in tools))
    with _INDEXES_LOCK:
        found = _EXAMPLE_INDEXES.get(names)
        if found is None:
            pool = tuple(
                dict.fromkeys(
                    (text, name)
                    for text, name in (*EXEMPLARS, *RETRIEVAL_EXAMPLES)
                    if name in names or name == NO_TOOL
                )
            )
            found = (_bm25([ngram_tokens(text) for text, _ in pool]), pool)
            if len(_EXAMPLE_INDEXES) >= _MAX_INDEXES:
                _EXAMPLE_INDEXES.pop(next(iter(_EXAMPLE_INDEXES)))
            _EXAMPLE_INDEXES[names] = found
    index, pool = found
    if not pool or k <= 0:
        return []
    ids = index.get_tokens_ids(ngram_tokens(request))
    if not ids:
        return []
    scored = index.get_scores_from_ids(ids)
    order = [int(i) for i in np.argsort(-scored, kind="stable") if scored[i] > 0]
    if among is None:
        best = order[:k]
    else:
        best, seen = [], Counter[str]()
        for i in order:
            name = pool[i][1]
            if name in among and seen[name] < per_choice:
                seen[name] += 1
                best.append(i)
    return [pool[i] for i in reversed(best)]


CLOSE_SHARE = 0.5  # a value is close when it scores at least this share of the best one
_PATH_HEAD = re.compile(r"^.*[\\/]")  # the folders of a path, up to its last part


def closest_values(request: str, values: Sequence[str]) -> list[str]:
    """The values (the titles of the user's notes or events) whose character n-grams the
    request shares most, by the same BM25: "o almoço com a Marta" is close to "Lunch with
    Marta", "la lista de la compra" to "Shopping list", "le club de lecture" to "Book club".
    Every value when none shares anything."""
    return list(_closest(request, tuple(values)))


@functools.lru_cache(maxsize=64)
def _closest(request: str, values: tuple[str, ...]) -> tuple[str, ...]:
    """:func:`closest_values`, once per request and list: a connector's tools share one list
    of titles (seven notes tools), which the grammar narrows for each of them."""
    texts = [v for v in values if v.strip()]
    if len(texts) < 2:
        return values
    # A path is named by its last part: its folders say where it is, and a request that
    # names a folder as where to copy to ("para a pasta archive") names no file in it.
    named = [_PATH_HEAD.sub("", text) or text for text in texts]
    said = {gram for gram in ngram_tokens(request) if len(gram) == max(NGRAMS)}
    if not any(said & set(ngram_tokens(text)) for text in named):
        # No title shares a five-letter piece with the request ("cancel that lunch", whose
        # event the previous answer named): a few shared letters are not evidence.
        return values
    index = _bm25([ngram_tokens(text) for text in named])
    ids = index.get_tokens_ids(ngram_tokens(request))
    if not ids:
        return values
    scored = index.get_scores_from_ids(ids)
    best = float(scored.max())
    if best <= 0:
        return values
    return tuple(
        text for text, score in zip(texts, scored, strict=True) if score >= CLOSE_SHARE * best
    )
