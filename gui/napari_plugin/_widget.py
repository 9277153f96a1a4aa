"""napari dock widget: run a Cellwright bundle, bioimage.io package or run folder on an image layer.

The image is written to a TIFF and ``cellwright predict MODEL IMAGE --out DIR --events --json`` runs in a worker
process (:class:`gui.workers.WorkerProcess`); its events drive the progress bar, and the TIFFs and tables it
writes come back as Labels / Image layers and a table. Cancel kills the process. Errors are shown as a message.
"""

from __future__ import annotations

import csv
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.napari_plugin._layers import prediction_layers
from gui.worker_messages import failure_text
from gui.workers import WorkerProcess, cellwright_argv


def results_folder() -> Path:
    """A new folder for one prediction's input copy, outputs and log (kept, so users can find the files)."""
    base = Path(tempfile.gettempdir()) / "cellwright-napari"
    base.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=base))


class PredictWidget(QWidget):
    """Pick a model and an image layer, press Run; new layers appear when the worker is done."""

    def __init__(self, napari_viewer: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.viewer = napari_viewer
        self.worker = WorkerProcess(self)
        self.worker.event.connect(self._on_event)
        self.worker.finished.connect(self._on_finished)
        self.folder: Path | None = None
        self.source_name = ""
        self.cancelled = False
        self.added: list[str] = []

        self.model_edit = QLineEdit(placeholderText="Bundle .zip, bioimage.io package or run folder")
        bundle_button = QPushButton("Bundle…", clicked=self._browse_file)
        folder_button = QPushButton("Run folder…", clicked=self._browse_folder)
        self.layer_box = QComboBox()
        self.channels_edit = QLineEdit(placeholderText="all (or e.g. green, or 0, 2)")
        self.run_button = QPushButton("Run", clicked=self.start)
        self.cancel_button = QPushButton("Cancel", clicked=self.cancel, enabled=False)
        self.progress = QProgressBar(textVisible=True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.message = QLabel(wordWrap=True)
        self.table = QTableWidget(0, 0)
        self.table.hide()

        model_row = QHBoxLayout()
        for widget in (self.model_edit, bundle_button, folder_button):
            model_row.addWidget(widget)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Model"))
        layout.addLayout(model_row)
        layout.addWidget(QLabel("Image layer"))
        layout.addWidget(self.layer_box)
        layout.addWidget(QLabel("Channels to use"))
        layout.addWidget(self.channels_edit)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.table)
        layout.addStretch(1)

        self.viewer.layers.events.inserted.connect(self._refresh_layers)
        self.viewer.layers.events.removed.connect(self._refresh_layers)
        self._refresh_layers()

    # -- layer choice ---------------------------------------------------------------------------------------
    def image_layers(self) -> list[Any]:
        from napari.layers import Image

        return [layer for layer in self.viewer.layers if isinstance(layer, Image)]

    def _refresh_layers(self, *_: Any) -> None:
        current = self.layer_box.currentText()
        active = self.viewer.layers.selection.active
        names = [layer.name for layer in self.image_layers()]
        self.layer_box.blockSignals(True)
        self.layer_box.clear()
        self.layer_box.addItems(names)
        wanted = current if current in names else (active.name if active is not None and active.name in names
                                                   else (names[-1] if names else ""))
        self.layer_box.setCurrentText(wanted)
        self.layer_box.blockSignals(False)

    # -- model choice ---------------------------------------------------------------------------------------
    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a Cellwright bundle", "", "Model bundles (*.zip)")
        if path:
            self.model_edit.setText(path)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose a run folder or unpacked package")
        if path:
            self.model_edit.setText(path)

    # -- running --------------------------------------------------------------------------------------------
    def running(self) -> bool:
        return self.worker.running()

    def start(self) -> bool:
        """Start predicting the chosen layer; returns ``False`` (with a message) when something is missing."""
        if self.running():
            return False
        model = self.model_edit.text().strip()
        if not model or not Path(model).exists():
            self._say(f"Model: not found (received: {model or 'nothing'}). Choose a bundle .zip or a run folder.")
            return False
        layer = next((lay for lay in self.image_layers() if lay.name == self.layer_box.currentText()), None)
        if layer is None:
            self._say("Image layer: there is no image layer to predict. Open an image first.")
            return False
        import tifffile

        self.folder = results_folder()
        self.source_name = layer.name
        image_path = self.folder / f"{_safe_name(layer.name)}.tif"
        tifffile.imwrite(image_path, np.asarray(layer.data))
        self.cancelled = False
        self.added = []
        self.table.hide()
        self.progress.setRange(0, 0)  # busy until the worker says how many images
        self._say("Starting Cellwright (loading the model can take a minute)…")
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        channels = [f"--channel={c.strip()}" for c in self.channels_edit.text().split(",") if c.strip()]
        self.worker.start(cellwright_argv("predict", model, str(image_path), "--out", str(self.folder / "out"),
                                          *channels, "--probabilities", "--events", "--json"))
        return True

    def cancel(self) -> None:
        """Stop the worker process (terminated, then killed when it does not stop)."""
        if self.running():
            self.cancelled = True
            self.worker.stop()

    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "start":
            self.progress.setRange(0, max(1, int(event.get("total") or 1)))
            self.progress.setValue(0)
            self._say(f"Predicting {self.source_name}…")
        elif kind == "batch":
            self.progress.setValue(int(event.get("step") or 0))

    def _on_finished(self, code: int) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        log = self.worker.save_log(self.folder / "predict.log") if self.folder else None
        result = self.worker.json_result()
        if self.cancelled:
            self.progress.setValue(0)
            self._say("Cancelled.")
            return
        skipped = result.get("skipped") if isinstance(result, dict) else None
        if skipped:
            self.progress.setValue(0)
            self._say("\n".join(self._skipped_text(entry) for entry in skipped))
            return
        if code != 0 or not isinstance(result, dict) or "files" not in result:
            errors = list(self.worker.errors)
            if isinstance(result, dict) and isinstance(result.get("error"), dict):
                errors.append(result["error"])
            self.progress.setValue(0)
            self._say(failure_text(code, errors, log))
            return
        self.progress.setValue(1)
        self._add_results(result["files"])

    def _skipped_text(self, entry: dict[str, Any]) -> str:
        """Why the worker skipped the image, with the fix in this panel's words."""
        fix = str(entry.get("fix") or "").replace("with --channel", "in 'Channels to use'").replace(
            "add --channel", "type in 'Channels to use'").replace("--channel ", "")
        return f"{self.source_name} {entry.get('what', 'could not be predicted.')}" + (f"\nFix: {fix}" if fix else "")

    def _add_results(self, files: list[str]) -> None:
        for data, meta, kind in prediction_layers(files, self.source_name):
            added = getattr(self.viewer, f"add_{kind}")(data, **meta)
            self.added += [lay.name for lay in (added if isinstance(added, list) else [added])]
        tables = [Path(f) for f in files if f.lower().endswith(".csv")]
        if tables:
            self.show_table(tables[-1])
        self._say(f"Added {', '.join(self.added) or 'nothing'}. Files saved in {self.folder / 'out'}")

    def show_table(self, path: Path) -> None:
        """Show a CSV the worker wrote (objects or class predictions) in the table under the buttons."""
        with path.open(newline="", encoding="utf-8") as stream:
            rows = list(csv.reader(stream))
        if not rows:
            return
        header, body = rows[0], rows[1:]
        self.table.setColumnCount(len(header))
        self.table.setRowCount(len(body))
        self.table.setHorizontalHeaderLabels(header)
        for r, row in enumerate(body):
            for c, value in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(value))
        self.table.show()

    def _say(self, text: str) -> None:
        self.message.setText(text)

    def closeEvent(self, event: Any) -> None:
        self.cancel()
        super().closeEvent(event)


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "image"
