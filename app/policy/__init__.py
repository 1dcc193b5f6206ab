"""The assistant's decision between a call and an answer, and the passes that mend calls.

Every pass is listed, in order, in :mod:`app.policy.pipeline`; each can be switched off by name
(the ``policy_without`` setting, ``--without`` on ``eval`` and ``eval-assistant``) so what it is
worth can be measured. The policy reads requests and tool schemas only: it never imports the
connectors, Qt or the command line (import-linter holds that, see pyproject.toml).
"""
