"""The Train page of the inspector shows train.init_from and the pretrain: section (both come from the schema)."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QLabel


def test_the_train_page_offers_init_from_and_a_pretrain_group(editor, doc, qtbot):
    editor.show()
    qtbot.waitExposed(editor)
    editor.inspector.show_section("train")
    form = editor.inspector.widget()
    labels = " ".join(label.text() for label in form.findChildren(QLabel))
    assert "Init From" in labels
    group = next(g for g in form.findChildren(QGroupBox) if g.title().lower().startswith("pretrain"))
    assert group.isCheckable() and not group.isChecked() and "pretrain" not in doc.data
    group.setChecked(True)  # switching it on writes the section, with the required images folder to fill in
    assert isinstance(doc.data.get("pretrain"), dict)
