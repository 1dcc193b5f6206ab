"""The Qt desktop front end: the only package that imports Qt.

Widgets render what :class:`app.ui.bridge.AssistantBridge` emits and hand the user's decisions
back to it; the bridge runs :meth:`app.assistant.Assistant.turn` in a worker thread and talks to
:mod:`app.decisions` for approvals. Nothing here decides what a tool call means.
"""
