"""An edit form generated from a tool's JSON Schema (the same schema the model is held to).

One widget per property: text fields, spin boxes with the schema's bounds, check boxes, combo
boxes for enums, a comma-separated line for lists of strings, and JSON text for anything more
complex. The form only collects values: validation is the core's (``Actions.edit`` runs the
tool's own argument model), and its ``(field, message)`` problems are shown beside the fields.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from app.ui import theme

LONG_TEXT = {"body", "text", "content", "description", "replace", "find", "notes"}
INT_LIMIT = 2**31 - 1


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Follow ``$ref`` and unwrap ``anyOf [X, null]``; returns the schema and whether null is ok."""
    nullable = False
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        nullable = len(options) < len(schema["anyOf"])
        if len(options) == 1:
            merged = {k: v for k, v in schema.items() if k != "anyOf"}
            schema = {**options[0], **merged}
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = root.get("$defs", {}).get(ref.rsplit("/", 1)[1], {})
        schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema, nullable


class _Field:
    """One property: its widget and how to read and write a JSON value through it."""

    def __init__(self, name: str, schema: dict[str, Any], root: dict[str, Any]) -> None:
        self.name = name
        self.schema, self.nullable = _resolve(schema, root)
        kind = self.schema.get("type")
        self.kind = kind if isinstance(kind, str) else "json"
        if "enum" in self.schema:
            self.kind = "enum"
        elif self.kind == "array" and self.schema.get("items", {}).get("type") == "string":
            self.kind = "strings"
        elif self.kind not in ("string", "integer", "number", "boolean"):
            self.kind = "json"
        self.widget = self._make()
        description = str(self.schema.get("description", ""))
        self.widget.setAccessibleName(name.replace("_", " "))
        self.widget.setAccessibleDescription(description)
        self.widget.setToolTip(description)

    def _make(self) -> QWidget:
        s = self.schema
        if self.kind == "enum":
            box = QComboBox()
            box.addItems([str(v) for v in s["enum"]])
            return box
        if self.kind == "boolean":
            return QCheckBox()
        if self.kind == "integer":
            spin = QSpinBox()
            spin.setRange(
                int(max(s.get("minimum", -INT_LIMIT), -INT_LIMIT)),
                int(min(s.get("maximum", INT_LIMIT), INT_LIMIT)),
            )
            return spin
        if self.kind == "number":
            double = QDoubleSpinBox()
            double.setDecimals(4)
            double.setRange(float(s.get("minimum", -1e12)), float(s.get("maximum", 1e12)))
            return double
        if self.kind == "string" and self.name in LONG_TEXT:
            text = QPlainTextEdit()
            text.setTabChangesFocus(True)  # keyboard users can leave the field with Tab
            text.setFixedHeight(90)
            return text
        line = QLineEdit()
        if self.kind == "string" and "maxLength" in s:
            line.setMaxLength(int(s["maxLength"]))
        if self.kind == "strings":
            line.setPlaceholderText("comma-separated")
        elif self.kind == "json":
            line.setPlaceholderText("JSON")
        return line

    def set(self, value: Any) -> None:
        w = self.widget
        if value is None:
            return
        if isinstance(w, QComboBox):
            w.setCurrentText(str(value))
        elif isinstance(w, QCheckBox):
            w.setChecked(bool(value))
        elif isinstance(w, QSpinBox | QDoubleSpinBox):
            w.setValue(value)
        elif isinstance(w, QPlainTextEdit):
            w.setPlainText(str(value))
        elif isinstance(w, QLineEdit):
            if self.kind == "strings" and isinstance(value, list):
                w.setText(", ".join(str(v) for v in value))
            elif self.kind == "json":
                w.setText(json.dumps(value, ensure_ascii=False))
            else:
                w.setText(str(value))

    def get(self) -> Any:
        w = self.widget
        if isinstance(w, QComboBox):
            raw = w.currentText()
            for option in self.schema["enum"]:
                if str(option) == raw:
                    return option
            return raw
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QSpinBox | QDoubleSpinBox):
            return w.value()
        if isinstance(w, QPlainTextEdit):
            return w.toPlainText()
        text = w.text() if isinstance(w, QLineEdit) else ""
        if self.kind == "strings":
            return [part.strip() for part in text.split(",") if part.strip()]
        if self.kind == "json":
            try:
                return json.loads(text) if text.strip() else None
            except json.JSONDecodeError:
                return text  # the core's validation reports it against this field
        return text


class SchemaForm(QWidget):
    """A form for one tool's arguments, pre-filled with the current ones."""

    def __init__(
        self, schema: dict[str, Any], values: dict[str, Any], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.schema = schema
        self.initial = dict(values)
        self.required = set(schema.get("required", []))
        self.fields: dict[str, _Field] = {}
        self._errors: dict[str, QLabel] = {}
        layout = QFormLayout(self)
        for name, prop in schema.get("properties", {}).items():
            item = _Field(name, prop, schema)
            item.set(values.get(name, item.schema.get("default")))
            self.fields[name] = item
            label = name.replace("_", " ") + (" *" if name in self.required else "")
            layout.addRow(label, item.widget)
            error = QLabel()
            error.setStyleSheet(f"color: {theme.colour('problem')}")
            error.setWordWrap(True)
            error.hide()
            layout.addRow("", error)
            self._errors[name] = error
        self._defaults = {name: f.get() for name, f in self.fields.items()}
        self._defaults.update({k: v for k, v in self.initial.items() if k in self.fields})

    def values(self) -> dict[str, Any]:
        """The arguments: required fields, fields given before, and fields the user changed.

        Untouched optional fields stay out, so the tool's own defaults still apply.
        """
        out: dict[str, Any] = {}
        for name, item in self.fields.items():
            value = item.get()
            keep = name in self.required or name in self.initial
            changed = value != self._defaults.get(name)
            if keep or changed:
                if value is None and not item.nullable and name not in self.required:
                    continue
                out[name] = value
        return out

    def show_problems(self, problems: list[tuple[str, str]]) -> list[str]:
        """Show the core's ``(field, message)`` problems; returns those with no field here."""
        for label in self._errors.values():
            label.hide()
        unplaced = []
        for field_name, message in problems:
            label = self._errors.get(field_name.split(".")[0])
            if label is None:
                unplaced.append(f"{field_name or 'arguments'}: {message}")
                continue
            label.setText(message)
            label.show()
        return unplaced
