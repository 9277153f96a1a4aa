"""The inspector's forms as a user meets them: the wheel, unset fields, group titles."""

from __future__ import annotations

import copy
import re

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QComboBox, QGroupBox, QLineEdit, QSpinBox

from gui.inspector import STAGES


def _wheel(widget, steps: int = -1) -> None:
    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(QPoint(int(centre.x()), int(centre.y())))), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_wheel_over_the_form_changes_nothing_unless_the_field_has_focus(editor, doc, qtbot):
    editor.show()
    qtbot.waitExposed(editor)
    editor.inspector.show_section("model")
    qtbot.wait(20)
    before = copy.deepcopy(doc.data)
    boxes = [w for w in [*editor.inspector.widget().findChildren(QComboBox),
                                  *editor.inspector.widget().findChildren(QSpinBox)] if w.isEnabled()]
    assert boxes
    shown = [(w.currentText() if isinstance(w, QComboBox) else w.value()) for w in boxes]
    for widget in boxes:
        _wheel(widget)
    assert [(w.currentText() if isinstance(w, QComboBox) else w.value()) for w in boxes] == shown
    assert doc.data == before
    target = next(w for w in boxes if w.isVisible() and w.count() > 1 and w.currentIndex() > 0
                  if isinstance(w, QComboBox))
    editor.activateWindow()
    qtbot.waitUntil(editor.isActiveWindow)
    target.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.waitUntil(target.hasFocus)
    _wheel(target, 1)
    assert target.currentText() != shown[boxes.index(target)]  # a focused field still takes the wheel


def test_unset_backbone_shows_as_unset_and_focus_changes_write_nothing(editor, doc, qtbot):
    editor.show()
    qtbot.waitExposed(editor)
    editor.inspector.show_section("model")
    qtbot.wait(20)
    assert "backbone" not in (doc.data["model"].get("params") or {})
    group = next(g for g in editor.inspector.widget().findChildren(QGroupBox) if g.title().startswith("Backbone"))
    assert group.isCheckable() and not group.isChecked()
    assert "(not set)" in group.title()
    assert "mobilenet" not in " ".join(w.currentText() for w in group.findChildren(QComboBox))
    before = copy.deepcopy(doc.data)
    form = editor.inspector.widget()
    for line in form.findChildren(QLineEdit):
        if not line.isEnabled() or not line.isVisible():
            continue
        qtbot.mouseClick(line, Qt.MouseButton.LeftButton)
        qtbot.keyClick(line, Qt.Key.Key_Tab)
    assert doc.data == before
    qtbot.mouseClick(group, Qt.MouseButton.LeftButton, pos=QPoint(10, 8))  # the title's check box
    assert group.isChecked()
    assert doc.data["model"]["params"]["backbone"] == {}
    group.setChecked(False)
    assert "backbone" not in (doc.data["model"].get("params") or {})


def test_group_titles_are_labels_not_class_names(editor):
    for key, _title in STAGES:
        editor.inspector.show_section(key)
        titles = [g.title() for g in editor.inspector.widget().findChildren(QGroupBox)]
        assert not [t for t in titles if re.search(r"[a-z][A-Z]|Params$", t)], (key, titles)
        assert len(titles) == len(set(titles)), (key, titles)
