"""The words tools' descriptions give as examples, so a call does not copy them unasked.

A tool author writes "The city and state, e.g. San Francisco, CA"; measured on the bundled
0.5B model, asked about Tel Aviv, Moscow or Boston it wrote "Tel Aviv, CA", "Moscow, CA",
"Boston, CA": the example's "CA" beat the region it knows ("Israel", "Russia", "MA") by 1-4
logits, while for San Francisco itself "CA" led by 7. The decoder therefore takes a few
logits from a word of an example that nobody in the conversation wrote
(``GenerateOptions.unsaid_examples``): a real "San Francisco, CA" survives it, a copy does not.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

import snowballstemmer

from app.call_values import with_arguments
from backends.generation import ToolCall
from backends.schema import ToolSpec

# What introduces an example in a description ("e.g.", "such as", "for example").
_MARKER = re.compile(
    r"\b(?:e\.\s?g\.?|eg\.|for example|for instance|such as|example:|examples:|ex:)\s*[:,]?",
    re.IGNORECASE,
)
_FRAGMENT_CHARS = 120  # an example is a short phrase right after its marker
_WORD = re.compile(r"\w{2,}", re.UNICODE)
_NOT_EXAMPLES_TEXT = "and or etc the of in on at to for is are as with by from format like eg"
_NOT_EXAMPLES = frozenset(_NOT_EXAMPLES_TEXT.split())
_STEMMER = snowballstemmer.stemmer("english")


def _fragment(text: str) -> str:
    """``text`` up to the end of its first sentence or clause, not stopping inside quotes
    ("e.g. 'Washington D.C.' or 'Paris'" is one example list)."""
    quote = ""
    for index, char in enumerate(text[:_FRAGMENT_CHARS]):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"`" and not text[index - 1 : index].isalnum():  # not "user's"
            quote = char
        elif char in ";()\n" or (char == "." and text[index + 1 : index + 2] in ("", " ")):
            return text[:index]
    return text[:_FRAGMENT_CHARS]


def example_words(description: str) -> set[str]:
    """The words of the examples in one description ("e.g. San Francisco, CA": San,
    Francisco, CA). Words with digits are left out: a date or time example
    ("2023-04-12T14:00:00Z") shares its digits with every other date; so are the keys of a
    syntax the example shows (``track:`` and ``artist:``), which every value should copy."""
    words: set[str] = set()
    for marker in _MARKER.finditer(description):
        fragment = _fragment(description[marker.end() :])
        for match in _WORD.finditer(fragment):
            word = match.group(0)
            if fragment[match.end() : match.end() + 1] in (":", "="):
                continue  # a key of the value's syntax ("track:Doxy artist:Miles Davis")
            if word.isalpha() and word.casefold() not in _NOT_EXAMPLES:
                words.add(word)
    return words


def _spoken(said: str) -> set[str]:
    """The words of ``said``, casefolded, and their stems."""
    spoken = {w.casefold() for w in _WORD.findall(said)}
    return spoken | set(_STEMMER.stemWords(sorted(spoken)))


def _is_said(word: str, spoken: set[str]) -> bool:
    """Whether ``word`` is among the ``spoken`` words in some form ("sculpture" of
    "sculptures")."""
    folded = word.casefold()
    return folded in spoken or _STEMMER.stemWord(folded) in spoken


def said_examples(description: str, said: str) -> list[str]:
    """The example words of one description that ``said`` contains in some form
    ("sculptures" says "sculpture"), as the description writes them."""
    spoken = _spoken(said)
    return [word for word in sorted(example_words(description)) if _is_said(word, spoken)]


# What the model writes when it copies the schema instead of a value: ``type: "string"``.
_TYPE_NAMES = frozenset({"string", "str", "integer", "int", "number", "float", "boolean"})


def with_said_example(call: ToolCall, tool: ToolSpec, said: str) -> ToolCall:
    """``call`` with a value that names the parameter's JSON type replaced by the one
    example of its description that the user said.

    "Search for famous contemporary sculptures in New York", offered ``type`` described
    "Type of the artwork. E.g., painting, sculpture, installation.": the bundled model wrote
    ``type: "string"``, the schema's word for the parameter, not a value. Where a text
    value is such a type name and the user said exactly one of the description's examples
    ("sculptures"), that example is the value. (An example the user did not say is never
    written in: over BFCL's AST answers that turned 7 right values wrong for 1 mended.)"""
    properties = tool.parameters.get("properties") or {}
    changed = {}
    for name, value in call.arguments.items():
        schema = properties.get(name)
        if not isinstance(value, str) or value.casefold() not in _TYPE_NAMES:
            continue
        if not isinstance(schema, dict) or schema.get("type") != "string":
            continue
        examples = said_examples(str(schema.get("description", "")), said)
        if len(examples) == 1:
            changed[name] = examples[0]
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})


def _descriptions(tool: ToolSpec) -> Iterator[str]:
    """The tool's description and those of its arguments, nested ones included, with any
    ``examples`` a schema lists."""
    yield tool.description

    def walk(properties: object) -> Iterator[str]:
        if not isinstance(properties, dict):
            return
        for schema in properties.values():
            if not isinstance(schema, dict):
                continue
            yield str(schema.get("description", ""))
            examples = schema.get("examples")
            if isinstance(examples, list) and examples:
                yield "e.g. " + ", ".join(f"'{e}'" for e in examples if isinstance(e, str))
            for holder in (schema, schema.get("items")):
                if isinstance(holder, dict):
                    yield from walk(holder.get("properties"))

    yield from walk(tool.parameters.get("properties"))


def unsaid_examples(tools: Iterable[ToolSpec], said: str) -> tuple[str, ...]:
    """The example words of ``tools`` that ``said`` (the conversation) does not contain in
    any case or form ("sculptures" says "sculpture")."""
    spoken = _spoken(said)
    found: dict[str, None] = {}
    for tool in tools:
        for text in _descriptions(tool):
            for word in sorted(example_words(text)):
                if not _is_said(word, spoken):
                    found.setdefault(word, None)
    return tuple(found)


_PREFIX = 3  # the shortest start of an example word that counts as copying it


def example_starts(words: Iterable[str], said: str) -> tuple[str, ...]:
    """The starts a token may write of the example ``words`` (casefolded): each word, and its
    starts of three letters or more that begin no word of ``said``.

    A tokenizer splits a word its own way ("Marriage" may come as "Mar" + "riage"), so the
    decoder looks at a new word's first token; a start the user's own words share ("Ber" of
    an example "Berkeley" when the user said "Berlin") is theirs to write.
    """
    spoken = {w.casefold() for w in _WORD.findall(said)}
    spoken_starts = {w[:end] for w in spoken for end in range(_PREFIX, len(w) + 1)}
    starts: dict[str, None] = {}
    for word in words:
        folded = word.casefold()
        starts.setdefault(folded, None)
        for end in range(_PREFIX, len(folded)):
            if folded[:end] not in spoken_starts:
                starts.setdefault(folded[:end], None)
    return tuple(starts)
