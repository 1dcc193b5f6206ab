"""The desktop app on a real X display, for tests/ui/test_xdotool.py to drive with xdotool.

Run as ``python -m tests.ui.drive_app`` with ``DISPLAY`` set and ``CALLMEMAYBE_HOME`` pointing
at a temporary folder. Everything is the real app (window, bridge, store, tools, approvals)
except the model, whose words come from a script: one tool call creating a note. It prints a
line at each step the test waits for (``ready``, ``turn done``, ``decided ID STATE``) and, when
the user quits (Ctrl+Q), the stored actions as one JSON line.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["QT_QPA_PLATFORM"] = "xcb"
os.environ.setdefault("CALLMEMAYBE_PASSPHRASE", "xdotool test passphrase")  # no keyring here

NOTE = {"name": "notes_create", "arguments": {"title": "Shopping", "body": "- milk\n- eggs"}}


def main() -> int:
    from app.settings import Settings
    from app.toolbox import open_toolbox
    from app.ui.app import DesktopApp, application
    from app.ui.bridge import Core
    from app.ui.ui_settings import UiSettings
    from tests.scripted_backend import ScriptedBackend

    app = application()
    settings = Settings()
    toolbox = open_toolbox(settings)
    core = Core(
        toolbox.registry,
        toolbox.context,
        settings,
        lambda _progress: ScriptedBackend([json.dumps(NOTE)]),
        toolbox.close,
    )
    desktop = DesktopApp(core, UiSettings(close_to_tray=False), use_tray=False, use_hotkey=False)

    def say(text: str) -> None:
        print(text, flush=True)

    desktop.bridge.modelReady.connect(lambda: say("ready"))
    desktop.bridge.turnDone.connect(lambda _event: say("turn done"))
    desktop.window.chat.view.decided.connect(lambda i, state: say(f"decided {i} {state}"))
    desktop.start()
    code = app.exec()
    actions = desktop.bridge.actions.history(10)
    say(json.dumps([{"id": a.id, "state": a.state.value, "args": a.arguments} for a in actions]))
    return code


if __name__ == "__main__":
    sys.exit(main())
