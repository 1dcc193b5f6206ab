"""Currencies written as the ISO 4217 codes a currency parameter takes ("EUR", not "euros").

The bundled model copies the user's words into a currency argument ("Convert 200 euros to
US dollars": ``from_currency: "euros"``, ``to_currency: "us_dollars"``). Exchange-rate
services take codes, and over BFCL's AST answers (2026-12-04) every one of the 50 answers
for a parameter named as a currency accepts the code, 17 only the code. So a currency
parameter's value that names a currency is written as its code: the name in English, one
or many ("US Dollar", "US dollars"), the last word of a name no other currency shares
("yen", "euro"), the everyday "dollar" and "pound" (US dollar, British pound), a symbol, or
the code in lower case. Names come from the Unicode CLDR data in Babel.
"""

from __future__ import annotations

import functools
import re

from babel import Locale
from babel.numbers import get_currency_name

from app.call_values import typed_arguments, with_arguments
from backends.generation import ToolCall
from backends.schema import ToolSpec

_CURRENCY_NAME = re.compile(r"currenc", re.IGNORECASE)
_EVERYDAY = {"dollar": "USD", "dollars": "USD", "pound": "GBP", "pounds": "GBP", "$": "USD"}
_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "₩": "KRW"}


@functools.cache
def currency_codes() -> dict[str, str]:
    """Currency codes by the casefolded ways to write them."""
    english = Locale("en")
    codes: dict[str, str] = {}
    last_words: dict[str, set[str]] = {}
    for code, name in english.currencies.items():
        for form in (name, get_currency_name(code, count=2, locale="en"), code):
            codes.setdefault(form.casefold(), code)
            last_words.setdefault(form.split()[-1].casefold(), set()).add(code)
    for word, held in last_words.items():
        if len(held) == 1:
            codes.setdefault(word, held.pop())
    return {**codes, **_EVERYDAY, **_SYMBOLS}


def code_of(value: str) -> str | None:
    """The code of the currency ``value`` names ("US dollars", "us_dollars", "€"), if any."""
    text = re.sub(r"[\s_]+", " ", value).strip().casefold()
    return currency_codes().get(text)


def with_currency_codes(call: ToolCall, tool: ToolSpec) -> ToolCall:
    """``call`` with each currency parameter's currency name written as its code."""
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "string"):
        if not _CURRENCY_NAME.search(name) or "enum" in schema:
            continue
        code = code_of(value)
        if code is not None and code != value:
            changed[name] = code
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})


# Words and codes that name a currency in a request, beside the currencies' full names
# ("Japanese Yen", "US dollars"): not "pound" (of flour) nor codes that are English words
# ("ALL", "TRY").
_CURRENCY_WORDS = "euro euros dollar dollars yen yuan rupee rupees peso pesos franc francs"
_MAJOR_CODES = "USD EUR GBP JPY CNY INR AUD CAD CHF MXN KRW BRL RUB SGD HKD NZD SEK NOK ZAR"


@functools.cache
def _currency_words() -> re.Pattern[str]:
    """The ways a request names a currency (see ``_CURRENCY_WORDS``)."""
    names = [f for f in currency_codes() if " " in f and re.fullmatch(r"[a-z .']+", f)]
    words = sorted([*names, *_CURRENCY_WORDS.split()], key=len, reverse=True)
    named = "|".join(re.escape(w) for w in words)
    return re.compile(rf"(?<!\w)(?:(?i:{named})|{'|'.join(_MAJOR_CODES.split())})(?!\w)")


def names_a_currency(text: str) -> bool:
    """Whether ``text`` names a currency in words or by a major code ("Japanese Yen", "USD")."""
    return _currency_words().search(text) is not None
