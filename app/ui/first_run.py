"""First run without dead ends: a passphrase when there is no keyring, the model unpack shown.

On a desktop without a Secret Service (many tiling window managers, a fresh VM) the store's key
cannot live in a keyring, and the store would refuse to open with an error that asks for an
environment variable. Instead :class:`PassphraseDialog` explains what the passphrase protects,
asks for a new one twice (with a strength hint), or once to open an existing store, and hands it
to the store through the same path a script uses: ``CALLMEMAYBE_PASSPHRASE`` in this process's
environment (:data:`connectors.store.keys.PASSPHRASE_ENV`), read when the store opens.

:class:`ModelProgressDialog` shows the first-run unpack of the bundled model (hundreds of MB) so
the user sees that something is happening and how long it will take.
"""

from __future__ import annotations

import os
from typing import Literal

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressDialog,
    QVBoxLayout,
    QWidget,
)

from app.ui import theme

Mode = Literal["create", "open"]
MIN_LENGTH = 8

EXPLAIN_CREATE = (
    "Your calendar, notes, conversations and the changes you approve are kept in an encrypted "
    "database on this computer. This desktop has no keyring (Secret Service) to hold its key, "
    "so the key is made from a passphrase you choose now.<br><br>"
    "You will type it when the app starts. <b>Nobody can recover it</b>: if it is lost, so is "
    "what the assistant stored (your files in granted folders are not affected)."
)
EXPLAIN_OPEN = (
    "Your calendar, notes and conversations are in an encrypted database protected by a "
    "passphrase (this desktop has no keyring to hold its key). Type it to open them."
)
STRENGTH_WORDS = ("very weak", "weak", "fair", "good", "strong")


def strength(passphrase: str) -> tuple[int, str]:
    """A 0-4 score and a hint for ``passphrase`` (zxcvbn: dictionary words, dates, patterns).

    Returns:
        The score and one sentence for the user.
    """
    if not passphrase:
        return 0, f"Use at least {MIN_LENGTH} characters; a few unrelated words are easy to type."
    from zxcvbn import zxcvbn

    result = zxcvbn(passphrase[:100])  # zxcvbn's time grows with length; 100 is plenty
    score = int(result["score"])
    words = f"Strength: {STRENGTH_WORDS[score]}."
    if len(passphrase) < MIN_LENGTH:
        return min(score, 1), f"{words} Use at least {MIN_LENGTH} characters."
    feedback = result.get("feedback") or {}
    advice = feedback.get("warning") or " ".join(feedback.get("suggestions") or [])
    return score, f"{words} {advice}".strip()


class PassphraseDialog(QDialog):
    """Ask for the store's passphrase: twice for a new store, once to open one.

    Signals:
        chosen(str): the user confirmed a passphrase (the dialog is accepted then).
    """

    chosen = Signal(str)

    def __init__(self, mode: Mode, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode = mode
        self.setWindowTitle(
            "Choose a passphrase" if mode == "create" else "Open your encrypted store"
        )
        self.setAccessibleName(self.windowTitle())
        self.setModal(True)
        explain = QLabel(EXPLAIN_CREATE if mode == "create" else EXPLAIN_OPEN)
        explain.setWordWrap(True)
        explain.setAccessibleName("What the passphrase protects")
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        self.first.setAccessibleName("Passphrase")
        self.second = QLineEdit()
        self.second.setEchoMode(QLineEdit.EchoMode.Password)
        self.second.setAccessibleName("Passphrase again")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setAccessibleName("Passphrase strength")
        self.problem = QLabel(problem)
        self.problem.setWordWrap(True)
        self.problem.setAccessibleName("Problem")
        self.problem.setStyleSheet(f"color: {theme.colour('problem')}")
        self.problem.setVisible(bool(problem))
        form = QFormLayout()
        form.addRow("&Passphrase:", self.first)
        if mode == "create":
            form.addRow("&Again:", self.second)
            form.addRow("", self.hint)
        else:
            self.second.hide()
            self.hint.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Create the store" if mode == "create" else "Open")
        ok.setAccessibleName(
            "Create the encrypted store with this passphrase"
            if mode == "create"
            else "Open the store with this passphrase"
        )
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName("Not now: the store stays locked")
        self.buttons.accepted.connect(self.confirm)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.first.textChanged.connect(self._update_hint)
        self.second.textChanged.connect(lambda _t: self.problem.hide())
        self._update_hint("")
        self.resize(460, 0)
        self.first.setFocus()

    def _update_hint(self, text: str) -> None:
        if self.mode != "create":
            return
        score, hint = strength(text)
        self.hint.setText(hint)
        self.hint.setStyleSheet(f"color: {theme.colour('problem')}" if score < 2 else "")

    def confirm(self) -> None:
        """Accept when the passphrase is usable (and typed the same twice for a new store)."""
        text = self.first.text()
        if self.mode == "create":
            if len(text) < MIN_LENGTH:
                return self._refuse(f"The passphrase needs at least {MIN_LENGTH} characters.")
            if text != self.second.text():
                return self._refuse("The two passphrases differ; type the same one twice.")
        elif not text:
            return self._refuse("Type the passphrase to open your store.")
        self.chosen.emit(text)
        self.accept()
        return None

    def _refuse(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()


def use_passphrase(passphrase: str) -> None:
    """Hand the passphrase to the store the way scripts do: this process's environment.

    The store reads :data:`connectors.store.keys.PASSPHRASE_ENV` when it opens and when it
    creates its key; nothing is written to disk, and child processes this app starts (none
    today) would inherit it like any environment variable.
    """
    from connectors.store.keys import PASSPHRASE_ENV

    os.environ[PASSPHRASE_ENV] = passphrase


class ModelProgressDialog(QProgressDialog):
    """The first-run unpack (or download) of the model, in bytes, with the time it takes.

    Not modal: the window stays usable, and a message sent meanwhile waits for the model.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Preparing the model for its first use…", "Hide", 0, 1000, parent)
        self.setWindowTitle("Preparing the model")
        self.setAccessibleName("Preparing the model")
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.setMinimumDuration(0)
        self.setAutoClose(False)
        self.setAutoReset(False)
        self.setMinimumWidth(420)

    def report(self, text: str, permille: int) -> None:
        """Show progress (``permille`` of 1000) and what is happening."""
        self.setLabelText(text)
        self.setValue(max(0, min(1000, permille)))
