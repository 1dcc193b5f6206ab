"""Regenerate the screenshots in this folder: every state at every size, light and dark.

Each is what ``callmemaybe screenshot OUT.png --state S --size WxH --theme T`` draws: the app
over a sample store with a fixed clock (so the dates never change), rendered offscreen; nothing
touches the user's data. Run from the repository root:

    python docs/screenshots/make.py [--only STATE]

Writes ``STATE-WxH-THEME.png`` and prints each path.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["CALLMEMAYBE_HOME"] = tempfile.mkdtemp(prefix="callmemaybe-shots-")

SIZES = ((800, 600), (1280, 800), (1920, 1080))
THEMES = ("light", "dark")


def main() -> int:
    from app.ui.app import SHOT_STATES, screenshot

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=SHOT_STATES, help="one state only")
    args = parser.parse_args()
    for state in [args.only] if args.only else SHOT_STATES:
        for width, height in SIZES:
            for theme in THEMES:
                out = HERE / f"{state}-{width}x{height}-{theme}.png"
                print(screenshot(out, (width, height), theme=theme, state=state))
    return 0


if __name__ == "__main__":
    sys.exit(main())
