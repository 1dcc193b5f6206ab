"""The settings dialog: model, threads, hotkey, tray, start at login, folders, tool policies.

It edits the same :class:`app.settings.Settings` the command line uses (validated by its
pydantic model) plus the desktop's :class:`app.ui.ui_settings.UiSettings`. Saving goes through
an ``apply`` callback owned by the app, which re-registers the hotkey: when the new combination
is taken, the dialog stays open and says so.
"""

from __future__ import annotations

from collections.abc import Callable

from pydantic import ValidationError
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from app.settings import Settings
from app.ui import theme
from app.ui.mcp_servers import McpServersEdit
from app.ui.ui_settings import UiSettings

POLICIES = ["default", "always", "ask", "never"]
Apply = Callable[[Settings, UiSettings], str | None]


class SettingsDialog(QDialog):
    """Edit and save the settings; ``apply`` returns a problem sentence or None when saved."""

    def __init__(
        self,
        settings: Settings,
        ui: UiSettings,
        tools: list[str],
        apply: Apply,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.settings = settings
        self.ui = ui
        self.apply = apply
        self.model = QComboBox()
        self.model.setEditable(True)
        self.model.addItems(["bundled"])
        self.model.setCurrentText(settings.model)
        self.model.setAccessibleName("Model")
        self.model.setToolTip(Settings.model_fields["model"].description or "")
        browse = QPushButton("&Browse…")
        browse.setAccessibleName("Choose a model file")
        browse.clicked.connect(self._browse_model)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model, 1)
        model_row.addWidget(browse)
        self.threads = QSpinBox()
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText("automatic")
        self.threads.setValue(settings.threads or 0)
        self.threads.setAccessibleName("Decoding threads")
        self.hotkey = QKeySequenceEdit(QKeySequence(ui.hotkey))
        self.hotkey.setAccessibleName("Quick command shortcut")
        self.hotkey.setMaximumSequenceLength(1)
        self.close_to_tray = QCheckBox("Keep running in the tray when the window is closed")
        self.close_to_tray.setChecked(ui.close_to_tray)
        self.start_at_login = QCheckBox("Start when I log in")
        self.start_at_login.setChecked(settings.start_at_login)
        self.start_at_login.setToolTip(Settings.model_fields["start_at_login"].description or "")
        self.folders = QListWidget()
        self.folders.setAccessibleName("Granted folders")
        self.folders.addItems(settings.granted_folders)
        add_folder = QPushButton("A&dd folder…")
        add_folder.clicked.connect(self._add_folder)
        remove_folder = QPushButton("&Remove folder")
        remove_folder.clicked.connect(self._remove_folder)
        folder_buttons = QHBoxLayout()
        folder_buttons.addWidget(add_folder)
        folder_buttons.addWidget(remove_folder)
        self.policies = QTableWidget(len(tools), 2)
        self.policies.setHorizontalHeaderLabels(["Tool", "Policy"])
        self.policies.setAccessibleName("Per-tool policies")
        self._policy_boxes: dict[str, QComboBox] = {}
        for row, name in enumerate(tools):
            label = QLabel(name)
            self.policies.setCellWidget(row, 0, label)
            box = QComboBox()
            box.addItems(POLICIES)
            box.setCurrentText(settings.tool_policies.get(name, "default"))
            box.setAccessibleName(f"Policy for {name}")
            self.policies.setCellWidget(row, 1, box)
            self._policy_boxes[name] = box
        self.policies.resizeColumnsToContents()
        self.mcp_servers = McpServersEdit(settings.mcp_servers)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {theme.colour('problem')}")
        self.problem.setAccessibleName("Problems")
        form = QFormLayout()
        form.addRow("&Model", model_row)
        form.addRow("&Threads", self.threads)
        form.addRow("&Quick command shortcut", self.hotkey)
        form.addRow("", self.close_to_tray)
        form.addRow("", self.start_at_login)
        form.addRow("Granted &folders", self.folders)
        form.addRow("", folder_buttons)
        form.addRow("Tool &policies", self.policies)
        form.addRow("MCP ser&vers", self.mcp_servers)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(560, 620)

    def _browse_model(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Model file", "", "GGUF models (*.gguf)")
        if path:
            self.model.setCurrentText(path)

    def _add_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Grant a folder")
        if path and not self.folders.findItems(path, Qt.MatchFlag.MatchExactly):
            self.folders.addItem(path)

    def _remove_folder(self) -> None:
        for item in self.folders.selectedItems():
            self.folders.takeItem(self.folders.row(item))

    def chosen(self) -> tuple[Settings, UiSettings]:
        """The settings as the dialog shows them.

        Raises:
            ValidationError: a value is out of bounds (the message names it).
        """
        policies = {n: b.currentText() for n, b in self._policy_boxes.items()}
        settings = self.settings.model_copy(
            update={
                "model": self.model.currentText().strip() or "bundled",
                "threads": self.threads.value() or None,
                "start_at_login": self.start_at_login.isChecked(),
                "granted_folders": [
                    self.folders.item(i).text() for i in range(self.folders.count())
                ],
                "tool_policies": {n: p for n, p in policies.items() if p != "default"},
                "mcp_servers": self.mcp_servers.servers(),
            }
        )
        settings = Settings.model_validate(settings.model_dump())
        hotkey = self.hotkey.keySequence().toString(QKeySequence.SequenceFormat.PortableText)
        ui = UiSettings(hotkey=hotkey, close_to_tray=self.close_to_tray.isChecked())
        return settings, ui

    def save(self) -> None:
        """Validate, hand to the app, and close only if it took them."""
        try:
            settings, ui = self.chosen()
        except ValidationError as exc:
            self.problem.setText("; ".join(str(e["msg"]) for e in exc.errors()))
            return
        problem = self.apply(settings, ui)
        if problem:
            self.problem.setText(problem)
            return
        self.accept()
