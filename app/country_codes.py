"""Countries written as the ISO 3166-1 alpha-2 codes a parameter asks for ("GB", not "UK").

Asked for the weather "for London in the UK" by a tool whose ``country`` is "ISO 3166-1
alpha-2 country codes", the bundled model wrote ``"UK"``, which is no such code (the United
Kingdom's is ``GB``). Where a parameter's description asks for a country code (ISO 3166,
alpha-2, "country code", "two-letter"), a country the model named is written as its code:
the English name from the Unicode CLDR data in Babel, or a common short name ("UK", "USA",
"England").
"""

from __future__ import annotations

import functools
import re

from babel import Locale

from app.call_values import typed_arguments, with_arguments
from backends.generation import ToolCall
from backends.schema import ToolSpec

_ASKS_FOR_CODE = re.compile(
    r"ISO[\s-]*3166|alpha[\s-]*2|country[\s_-]*code|two[\s-]*letter|2[\s-]*letter", re.IGNORECASE
)
_SHORT_NAMES = {
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
}


@functools.cache
def country_codes() -> dict[str, str]:
    """Alpha-2 country codes by the casefolded names the user may write."""
    names = {
        name.casefold(): code
        for code, name in Locale("en").territories.items()
        if len(code) == 2 and code.isalpha()
    }
    return {**names, **_SHORT_NAMES}


def with_country_codes(call: ToolCall, tool: ToolSpec) -> ToolCall:
    """``call`` with each country a code-taking parameter holds written as its code."""
    changed = {}
    for name, value, schema in typed_arguments(call, tool, "string"):
        description = str(schema.get("description", ""))
        if "enum" in schema or not _ASKS_FOR_CODE.search(description):
            continue
        if "country" not in f"{name} {description}".casefold():
            continue
        code = country_codes().get(value.strip().casefold())
        if code is not None and code != value:
            changed[name] = code
    if not changed:
        return call
    return with_arguments(call, tool, {**call.arguments, **changed})
