"""What the bundle's executable runs: the same entry point as the ``callmemaybe`` console script.

Kept outside the ``app`` package so PyInstaller analyses it as a plain script.
"""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # a frozen app that ever spawns a process needs this first
    sys.exit(main())
