"""Forms generated from a JSON Schema (pydantic models with Cellwright's ``x-cellwright`` UI metadata).

Commonly used fields come first; the rest sit under a collapsible "Advanced" part. Nested sections
become titled groups. Each edit calls ``on_change(keys, value)`` with the key path inside the form.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from builder.recipe.fields import UI_KEY

OnChange = Callable[[tuple[str, ...], Any], None]
_MISSING = object()


def resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """Follow ``$ref`` (and one-element ``allOf``) to the real sub-schema."""
    while True:
        if "$ref" in schema:
            name = schema["$ref"].split("/")[-1]
            schema = {**root.get("$defs", {}).get(name, {}), **{k: v for k, v in schema.items() if k != "$ref"}}
        elif "allOf" in schema and len(schema["allOf"]) == 1:
            schema = {**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}}
        else:
            return schema


def split_nullable(schema: dict[str, Any], root: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``(inner schema, nullable)`` for ``anyOf: [X, null]``; unchanged otherwise."""
    options = schema.get("anyOf")
    if options and any(o.get("type") == "null" for o in options):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            inner = resolve(rest[0], root)
            return {**{k: v for k, v in schema.items() if k != "anyOf"}, **inner}, True
    return resolve(schema, root), False


def label_for(name: str, schema: dict[str, Any]) -> str:
    ui = schema.get(UI_KEY, {})
    return str(ui.get("display_name") or schema.get("title") or name.replace("_", " ").capitalize())


def group_label(name: str, raw: dict[str, Any]) -> str:
    """Title of a nested section: the field's label, never the Python class name of its ``$defs`` entry."""
    ui = raw.get(UI_KEY, {})
    title = raw.get("title") if "$ref" not in raw else None
    return str(ui.get("display_name") or title or name.replace("_", " ").capitalize())


class WheelGuard(QObject):
    """Lets the mouse wheel scroll the form instead of changing a combo box or spin box that has no focus."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            event.ignore()
            return True
        return False


_WHEEL_GUARD: WheelGuard | None = None


def guard_wheel(widget: QWidget) -> None:
    """Make ``widget`` ignore the wheel unless it has keyboard focus (click or Tab gives it focus)."""
    global _WHEEL_GUARD
    if _WHEEL_GUARD is None:
        _WHEEL_GUARD = WheelGuard()
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    widget.installEventFilter(_WHEEL_GUARD)


def is_section(schema: dict[str, Any]) -> bool:
    return schema.get("type") == "object" and bool(schema.get("properties"))


class SchemaForm(QWidget):
    """A form for one object schema; ``values`` are the keys set in the recipe (others show defaults)."""

    def __init__(self, schema: dict[str, Any], values: dict[str, Any] | None, on_change: OnChange,
                 root: dict[str, Any] | None = None, prefix: tuple[str, ...] = (), parent=None,
                 skip: tuple[str, ...] = ()) -> None:
        super().__init__(parent)
        self.root = root or schema
        self.on_change = on_change
        self.prefix = prefix
        self.editors: dict[str, QWidget] = {}
        schema = resolve(schema, self.root)
        values = values if isinstance(values, dict) else {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        common, advanced, groups = QFormLayout(), QFormLayout(), []
        for form in (common, advanced):
            form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name, raw in schema.get("properties", {}).items():
            if name in skip:
                continue
            prop, _nullable = split_nullable(raw, self.root)
            if is_section(prop):
                groups.append((name, prop, raw))
                continue
            editor = self._editor(name, raw, values.get(name, _MISSING))
            label = QLabel(label_for(name, prop))
            label.setToolTip(prop.get("description", raw.get("description", "")))
            if name not in values:
                label.setProperty("unset", True)
                label.setStyleSheet("color: #8a8f98; font-style: italic;")
                label.setToolTip(label.toolTip() + "\nNot set in the recipe: the default is used.")
            target = common if prop.get(UI_KEY, raw.get(UI_KEY, {})).get("commonly_used") else advanced
            target.addRow(label, editor)
        layout.addLayout(common)
        for name, prop, raw in groups:
            box = QGroupBox(group_label(name, raw))
            box.setToolTip(raw.get("description", prop.get("description", "")))
            inner = QVBoxLayout(box)
            sub = SchemaForm(prop, values.get(name), on_change, self.root, (*prefix, name))
            if split_nullable(raw, self.root)[1]:
                self._optional_group(box, sub, (*prefix, name), isinstance(values.get(name), dict))
            self.editors.update({f"{name}.{key}": widget for key, widget in sub.editors.items()})
            inner.addWidget(sub)
            layout.addWidget(box)
        if advanced.rowCount():
            toggle = QToolButton(text="Advanced", checkable=True)
            toggle.setObjectName("advancedToggle")
            toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            toggle.setArrowType(Qt.ArrowType.RightArrow)
            holder = QWidget()
            holder.setLayout(advanced)
            holder.setVisible(False)

            def flip(on: bool, holder: QWidget = holder, toggle: QToolButton = toggle) -> None:
                holder.setVisible(on)
                toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

            toggle.toggled.connect(flip)
            layout.addWidget(toggle)
            layout.addWidget(holder)
            self.advanced_toggle = toggle
        layout.addStretch(1)

    def _optional_group(self, box: QGroupBox, sub: SchemaForm, keys: tuple[str, ...], is_set: bool) -> None:
        """A section that may be left out (e.g. no backbone): a check box in the title turns it on and off."""
        box.setCheckable(True)
        box.setChecked(is_set)
        sub.setEnabled(is_set)
        box.setTitle(box.title() + ("" if is_set else " (not set)"))
        base = box.title().removesuffix(" (not set)")

        def flip(on: bool) -> None:
            sub.setEnabled(on)
            box.setTitle(base + ("" if on else " (not set)"))
            self.on_change(keys, {} if on else None)

        box.toggled.connect(flip)

    # ----------------------------------------------------------------- one editor per field
    def _editor(self, name: str, raw: dict[str, Any], value: Any) -> QWidget:
        prop, nullable = split_nullable(raw, self.root)
        ui = {**raw.get(UI_KEY, {}), **prop.get(UI_KEY, {})}
        default = raw.get("default", prop.get("default"))
        current = default if value is _MISSING else value
        keys = (*self.prefix, name)
        tip = raw.get("description", prop.get("description", ""))
        kind = prop.get("type")
        choices = prop.get("enum") or ([prop["const"]] if "const" in prop else None)
        item_choices = (prop.get("items") or {}).get("enum") if kind == "array" else None
        if item_choices:
            widget = self._checklist(keys, item_choices, current if isinstance(current, list) else [])
        elif kind == "boolean" and not nullable:
            widget: QWidget = QCheckBox()
            widget.setChecked(bool(current))
            widget.toggled.connect(lambda on: self.on_change(keys, bool(on)))
        elif choices is not None:
            widget = QComboBox()
            guard_wheel(widget)
            items = ([""] if nullable else []) + [str(c) for c in choices]
            widget.addItems(items)
            widget.setCurrentText("" if current is None else str(current))
            lookup = {str(c): c for c in choices}
            widget.currentTextChanged.connect(lambda text: self.on_change(keys, lookup.get(text)))
        elif kind == "integer" and not nullable and "suggested_values" not in ui:
            widget = QSpinBox()
            guard_wheel(widget)
            low = prop.get("minimum", prop.get("exclusiveMinimum", -(2**31) + 1) + ("exclusiveMinimum" in prop))
            high = prop.get("maximum", prop.get("exclusiveMaximum", 2**31 - 1) - ("exclusiveMaximum" in prop))
            widget.setRange(int(low), int(high))
            widget.setValue(int(current or 0))
            if ui.get("unit"):
                widget.setSuffix(f" {ui['unit']}")
            widget.valueChanged.connect(lambda number: self.on_change(keys, int(number)))
        elif "suggested_values" in ui:
            widget = QComboBox()
            guard_wheel(widget)
            widget.setEditable(True)
            widget.addItems([_text(v) for v in ui["suggested_values"]])
            widget.setCurrentText("" if value is _MISSING else _text(current))
            if value is _MISSING:
                widget.lineEdit().setPlaceholderText(f"{_text(default)} (default)" if default is not None
                                                     else "(not set)")
            widget.shown_text = widget.currentText()  # type: ignore[attr-defined]
            widget.lineEdit().editingFinished.connect(
                lambda w=widget: self._commit_if_changed(w, keys, w.currentText(), prop, nullable)
            )
            widget.activated.connect(
                lambda _i, w=widget: self._commit_if_changed(w, keys, w.currentText(), prop, nullable)
            )
        else:
            widget = self._line_editor(keys, None if value is _MISSING else current, prop, nullable, ui,
                                       default if value is _MISSING else _MISSING)
        widget.setToolTip(tip + (f"  [{ui['unit']}]" if ui.get("unit") else ""))
        self.editors[name] = widget
        return widget

    def _checklist(self, keys: tuple[str, ...], choices: list[Any], current: list[Any]) -> QWidget:
        """A list of fixed choices (e.g. export formats): one check box per choice, kept in schema order."""
        holder = QWidget()
        grid = QGridLayout(holder)  # two columns: stays narrow in the inspector
        grid.setContentsMargins(0, 0, 0, 0)
        boxes = []
        for index, choice in enumerate(choices):
            box = QCheckBox(str(choice))
            box.setChecked(choice in current)
            boxes.append((choice, box))
            grid.addWidget(box, index // 2, index % 2)
        for _choice, box in boxes:
            box.toggled.connect(lambda _on: self.on_change(keys, [c for c, b in boxes if b.isChecked()]))
        holder.boxes = dict(boxes)  # type: ignore[attr-defined]
        return holder

    def _line_editor(self, keys: tuple[str, ...], current: Any, prop: dict[str, Any], nullable: bool,
                     ui: dict[str, Any], default: Any = _MISSING) -> QWidget:
        line = QLineEdit(_text(current))
        if default is not _MISSING and default is not None:
            line.setPlaceholderText(f"{_text(default)} (default)")
        elif nullable or default is not _MISSING:
            line.setPlaceholderText("(not set)")
        line.shown_text = line.text()  # type: ignore[attr-defined]
        line.editingFinished.connect(lambda: self._commit_if_changed(line, keys, line.text(), prop, nullable))
        if ui.get("widget") not in ("folder", "path"):
            return line
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(line)
        browse = QPushButton("…")
        browse.setFixedWidth(28)
        browse.setToolTip("Choose on disk")

        def choose() -> None:
            if ui.get("widget") == "folder":
                path = QFileDialog.getExistingDirectory(self, "Choose a folder")
            else:
                path = QFileDialog.getOpenFileName(self, "Choose a file")[0]
            if path:
                line.setText(path)
                self._commit_text(line, keys, path, prop, nullable)

        browse.clicked.connect(choose)
        row.addWidget(browse)
        holder.line = line  # type: ignore[attr-defined]
        return holder

    def _commit_if_changed(self, widget: QWidget, keys: tuple[str, ...], text: str, prop: dict[str, Any],
                           nullable: bool) -> None:
        """Commit typed text only when it differs from what the field showed (focus changes write nothing)."""
        if text.strip() == getattr(widget, "shown_text", None):
            return
        widget.shown_text = text.strip()  # type: ignore[attr-defined]
        self._commit_text(widget, keys, text, prop, nullable)

    def _commit_text(self, widget: QWidget, keys: tuple[str, ...], text: str, prop: dict[str, Any],
                     nullable: bool) -> None:
        text = text.strip()
        if text == "" and nullable:
            widget.setStyleSheet("")
            self.on_change(keys, None)
            return
        kind = prop.get("type")
        try:
            if kind == "string":
                value: Any = text
            else:
                value = yaml.safe_load(text) if text else None
                if kind == "number" and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                if kind in ("number", "integer") and not isinstance(value, (int, float)):
                    raise ValueError(f"Expected a number. Received: {text}")
        except (ValueError, yaml.YAMLError) as error:
            widget.setStyleSheet("border: 1px solid #d62828;")
            widget.setToolTip(str(error))
            return
        widget.setStyleSheet("")
        self.on_change(keys, value)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return yaml.safe_dump(value, default_flow_style=True, sort_keys=False).strip()
    return str(value)
