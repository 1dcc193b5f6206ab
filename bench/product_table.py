"""The product evaluation's table, per language and category, from ``eval-assistant`` reports.

    callmemaybe eval-assistant tests/assistant_cases --split dev --report dev.json
    callmemaybe eval-assistant tests/assistant_cases --split test --report test.json
    python bench/product_table.py dev.json test.json

prints, for each report, a Markdown table (rows: categories, columns: languages, each cell
"right/cases"), its totals and its headline line, as docs/EVALUATION.md shows them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from app.evaluation.assistant_cases import CATEGORIES, LANGUAGES


def table(cases: list[dict]) -> list[str]:
    """Markdown rows: one per category, then the total per language."""
    head = ["category", *LANGUAGES, "all"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]

    def cell(items: list[dict]) -> str:
        if not items:
            return "-"
        right = sum(c["passed"] for c in items)
        return f"{right}/{len(items)}"

    for category in [*CATEGORIES, None]:
        row = [c for c in cases if category is None or c["category"] == category]
        cells = [cell([c for c in row if c["lang"] == lang]) for lang in LANGUAGES]
        label = "**all**" if category is None else category
        lines.append("| " + " | ".join([label, *cells, cell(row)]) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reports", nargs="+", type=Path, help="eval-assistant --report files")
    args = parser.parse_args()
    for path in args.reports:
        document = json.loads(path.read_text(encoding="utf-8"))
        print(f"### {document['meta'].get('split', path.stem)} split ({path.name})\n")
        print("\n".join(table(document["cases"])))
        print(f"\n`{document['summary'][-1]}`\n")


if __name__ == "__main__":
    main()
