"""A flag the user switched on by asking for what it does: "using current exchange rate".

Asked to "convert 200 euros to US dollars using current exchange rate", the bundled model
leaves out ``live_conversion``, described "If true, use the latest exchange rate for
conversion, else use the last known rate. Default false": the tool then converts at the
last known rate, which the user did not want. The user wrote the flag's own action, its
verb ("using" for "use") followed within a few words by the thing it acts on ("exchange
rate"), so the flag is on. Only for a left-out boolean whose description opens its "If
true" clause with a verb: a looser reading (any two words of the clause said) turned 24 of
BFCL's right answers wrong. Over BFCL's AST answers (2026-12-04) this changes none.
"""

from __future__ import annotations

import re

from app.call_values import left_out, with_arguments
from app.request_words import WORD, same_stem
from backends.generation import ToolCall
from backends.schema import ToolSpec

# "If true, use the latest exchange rate for conversion": the verb and what it acts on.
_IF_TRUE = re.compile(r"\b(?:if (?:set to )?true,?|set to true to)\s+([a-z]+)\s+([^.;,]+)", re.I)
# Where the thing acted on ends: "... exchange rate for conversion".
_OBJECT_END = re.compile(r"\s+(?:for|to|in|instead|else|when|and|or|of|from|with)\b.*", re.I)
_VERB_ENDINGS = ("s", "es", "d", "ed", "ing")
_REACH = 4  # words after the verb where the thing acted on may stand


def with_said_flags(call: ToolCall, tool: ToolSpec, request: str) -> ToolCall:
    """``call`` with each left-out flag on whose "If true" action the user wrote ("using
    current exchange rate" for "If true, use the latest exchange rate")."""
    words = WORD.findall(request.lower())
    switched: dict[str, object] = {}
    for name, schema in left_out(call, tool, "boolean"):
        clause = _IF_TRUE.search(str(schema.get("description", "")))
        if clause is None:
            continue
        verb = clause.group(1).lower()
        acted_on = WORD.findall(_OBJECT_END.sub("", clause.group(2)).lower())
        if acted_on and _says_action(words, verb, acted_on[-1]):
            switched[name] = True
    return with_arguments(call, tool, {**call.arguments, **switched}) if switched else call


def _says_action(words: list[str], verb: str, thing: str) -> bool:
    """Whether ``words`` hold a form of ``verb`` ("using" of "use") followed within
    :data:`_REACH` words by ``thing``."""
    root = verb.removesuffix("e")
    return any(
        (word == verb or (word.startswith(root) and word[len(root) :] in _VERB_ENDINGS))
        and any(same_stem(later, thing) for later in words[place + 1 : place + 1 + _REACH])
        for place, word in enumerate(words)
    )
