"""How often a request says an event repeats, in the calendar reader's languages.

The bundled 0.5B model left out the repetition of "Trag unseren Hochzeitstag am 12. Mai ein,
jedes Jahr", "mets-le chaque année" and "todas as quartas às 19h" (the grammar did not offer
``repeat``: the argument scoping reads English words), and wrote "monthly" for "every year"
and "daily" for a one-off call. Like the dates (:mod:`connectors.calendar.said_dates`), the
repetition is read from the request, and the grammar offers the values read there alone: none
when the request says no repetition, so the model cannot invent one.

A repetition is a unit of time after a word for "every" ("jedes Jahr", "tous les jours",
"todos los meses"), a weekday after one ("every Monday", "jeden Montag") or in a plural or
adverbial form ("Tuesdays", "dienstags", "les mardis"), or an adverb ("weekly", "jährlich",
"mensuel"). The units' words are dateparser's (its language data for each reader language) and
the weekday names Babel's; the words for "every" and the adverbs are the short lists below,
one line per language, since neither library has them.
"""

from __future__ import annotations

import functools
import re

from connectors.calendar.dates import LANGUAGES, day_names, plural_day

EVERY: dict[str, tuple[str, ...]] = {
    "en": ("every", "each"),
    "fr": ("chaque", "tous", "toutes"),
    "de": ("jede", "jeden", "jedes", "jeder", "alle"),
    "es": ("cada", "todos", "todas"),
    "it": ("ogni", "tutti", "tutte"),
    "nl": ("elke", "iedere", "ieder", "alle"),
    "pt": ("cada", "todos", "todas"),
}
"""The words for "every" (and "all the", as "tous les jours" says it)."""

ADVERBS: dict[str, tuple[str, ...]] = {
    "daily": (
        "daily",
        "täglich",
        "quotidien",
        "quotidienne",
        "quotidiennement",
        "diario",
        "diaria",
        "diariamente",
        "quotidiano",
        "quotidiana",
        "giornaliero",
        "dagelijks",
        "diário",
        "diária",
    ),
    "weekly": (
        "weekly",
        "wöchentlich",
        "hebdomadaire",
        "semanal",
        "semanalmente",
        "settimanale",
        "wekelijks",
    ),
    "monthly": (
        "monthly",
        "monatlich",
        "mensuel",
        "mensuelle",
        "mensuellement",
        "mensual",
        "mensualmente",
        "mensile",
        "maandelijks",
        "mensal",
        "mensalmente",
    ),
    "yearly": (
        "yearly",
        "annually",
        "annual",
        "jährlich",
        "annuel",
        "annuelle",
        "annuellement",
        "anual",
        "anualmente",
        "annuale",
        "annualmente",
        "jaarlijks",
    ),
    "weekdays": ("weekdays", "werktags", "werktäglich"),
}
"""Adverbs that say a repetition by themselves, by the value they give."""

_UNITS = ("day", "week", "month", "year")
_FREQUENCY = {"day": "daily", "week": "weekly", "month": "monthly", "year": "yearly"}
_GAP = 2  # words allowed between "every" and its unit: "tous les jours", "todas as quartas"
_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)?|\d+")


@functools.cache
def _unit_words() -> dict[str, str]:
    """Each unit word of dateparser's language data (three letters or more) -> its unit."""
    from dateparser.languages import default_loader

    found: dict[str, str] = {}
    for language in LANGUAGES:
        info = default_loader.get_locale(language).info
        for unit in _UNITS:
            for word in info.get(unit) or ():
                if len(word) >= 3:
                    found.setdefault(word.casefold(), unit)
    return found


@functools.cache
def _every_words() -> frozenset[str]:
    return frozenset(word for words in EVERY.values() for word in words)


@functools.cache
def _adverbs() -> dict[str, str]:
    return {word: value for value, words in ADVERBS.items() for word in words}


def _weekday(word: str) -> bool:
    """Whether ``word`` is a weekday name, or one in a plural or adverbial form."""
    return word in day_names() or plural_day(word) is not None


def repeats(text: str) -> list[str]:
    """The repetitions ``text`` says, as ``calendar_create``'s ``repeat`` values, in order."""
    words = [match.group(0).casefold() for match in _WORD.finditer(text)]
    found: list[str] = []

    def add(value: str) -> None:
        if value not in found:
            found.append(value)

    units, every, adverbs = _unit_words(), _every_words(), _adverbs()
    for i, word in enumerate(words):
        if word in adverbs:
            add(adverbs[word])
        elif word in every:
            for after in words[i + 1 : i + 2 + _GAP]:
                if after in units:
                    add(_FREQUENCY[units[after]])
                    break
                if _weekday(after):
                    add("weekly")
                    break
        elif plural_day(word) is not None:
            add("weekly")  # "Tuesdays", "dienstags", "sábados"
    return found
