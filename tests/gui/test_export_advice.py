"""A failed BioImage Model Zoo export tells the user what they can do in the app."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt

from builder.errors import ExportError


def test_failed_bioimageio_export_says_to_untick_it_and_keeps_the_log(qtbot, tmp_path):
    from gui.pages.export_dialog import ExportDialog, user_advice

    dialog = ExportDialog(tmp_path)
    qtbot.addWidget(dialog)
    dialog.show()
    for key in ("bioimageio", "onnx"):
        box = dialog.boxes[key]
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(6, box.height() // 2))
    error = ExportError("bioimageio export: test_input", "Applying the declared preprocessing (percentile) to the "
                        "test input changes the model output by up to 0.916.",
                        "Pass the test input exactly as normalised in training.")
    event = {"event": "error", "where": error.where, "what": error.what, "fix": error.fix}
    log = tmp_path / "exports" / "export-error.log"
    text = user_advice([event], dialog.formats(), log)
    assert "Untick 'BioImage Model Zoo package'" in text
    assert "Cellwright bundle" in text and "ONNX" in text
    assert str(log) in text
    assert "Untick" not in user_advice([{"event": "error", "where": "run", "what": "x"}], dialog.formats(), None)
