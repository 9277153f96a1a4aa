"""The offline pretrained-weights error offers 'Import weights file…' in the app (no command line needed)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from builder.backbones.catalog import BACKBONES
from builder.backbones.weights import _fix_text


def test_offline_weights_error_offers_the_import_and_reports_a_bad_file_plainly(qtbot, tmp_path, monkeypatch):
    from gui.document import RecipeDocument
    from gui.pages.training import TrainingPage

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    info = next(iter(BACKBONES.values()))
    page = TrainingPage(RecipeDocument())
    qtbot.addWidget(page)
    page.show()
    assert not page.import_weights.isVisible()
    page.on_event({"event": "error", "where": "model.params.backbone",
                   "what": f"The pretrained weights of {info.name} are not on this computer and cannot be "
                           "downloaded (no internet).", "fix": _fix_text(info)})
    assert page.import_weights.isVisible()
    broken = tmp_path / info.weights_file
    broken.write_bytes(b"not an HDF5 file")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(broken), ""))
    qtbot.mouseClick(page.import_weights, Qt.MouseButton.LeftButton)
    text = page.message.text()
    assert text.startswith("The weights file was not imported.") and "Fix:" in text
    assert "Traceback" not in text
    assert not list((tmp_path / "keras").rglob(info.weights_file))
