"""The results page: finished runs, their scores, the report, and the export dialog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import workers
from gui.document import RecipeDocument

EXPORT_FORMATS = (
    ("bundle", "Cellwright bundle (model + recipe + report; opens in Cellwright)"),
    ("bioimageio", "BioImage Model Zoo package (deepImageJ, ilastik, QuPath…)"),
    ("onnx", "ONNX (runs in many tools without TensorFlow)"),
    ("savedmodel", "TensorFlow SavedModel"),
)


def find_runs(project: Path) -> list[Path]:
    """Run folders under ``project/runs`` (newest first)."""
    runs = project / "runs"
    if not runs.is_dir():
        return []
    found = [p for p in runs.iterdir()
             if p.is_dir() and ((p / "recipe.yaml").exists() or (p / "events.jsonl").exists())]
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def flat_metrics(metrics: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``[("instances.f1@0.5", "0.91"), ...]`` from nested ``metrics.json`` content."""
    rows: list[tuple[str, str]] = []
    if isinstance(metrics, dict):
        for key, value in metrics.items():
            rows += flat_metrics(value, f"{prefix}{key}.")
    elif isinstance(metrics, float):
        rows.append((prefix.rstrip("."), f"{metrics:.4g}"))
    elif isinstance(metrics, (int, str, bool)):
        rows.append((prefix.rstrip("."), str(metrics)))
    return rows


class ExportDialog(QDialog):
    """Pick formats; runs ``cellwright export RUN --format F --events`` and shows its progress."""

    def __init__(self, run_dir: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {run_dir.name}")
        self.run_dir = run_dir
        self.boxes = {key: QCheckBox(text) for key, text in EXPORT_FORMATS}
        self.boxes["bundle"].setChecked(True)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setPlaceholderText("Progress of the export appears here.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        self.worker = workers.WorkerProcess(self)
        self.worker.event.connect(self._on_event)
        self.worker.line.connect(self.log.appendPlainText)
        self.worker.finished.connect(self._finished)
        self.exit_code: int | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Formats to write into the run's exports/ folder:"))
        for box in self.boxes.values():
            layout.addWidget(box)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.buttons)
        self.resize(560, 420)

    def formats(self) -> list[str]:
        return [key for key, box in self.boxes.items() if box.isChecked()]

    def command(self) -> list[str]:
        args = ["export", str(self.run_dir), "--events"]
        for name in self.formats():
            args += ["--format", name]
        return workers.cellwright_argv(*args)

    def start(self) -> None:
        if not self.formats():
            self.log.appendPlainText("Choose at least one format.")
            return
        self.export_button.setEnabled(False)
        self.exit_code = None
        self.log.appendPlainText("Exporting " + ", ".join(self.formats()) + "…")
        self.worker.start(self.command(), cwd=self.run_dir)

    def _on_event(self, event: dict[str, Any]) -> None:
        name = event.get("event")
        if name == "artifact":
            self.log.appendPlainText(f"✓ wrote {event.get('path', '')}")
        elif name == "error":
            self.log.appendPlainText(f"✕ {event.get('where', '')}: {event.get('what', '')}"
                                     + (f"\n  fix: {event['fix']}" if event.get("fix") else ""))
        elif name in ("log", "warning", "done"):
            self.log.appendPlainText(str(event.get("message") or name))

    def _finished(self, code: int) -> None:
        self.exit_code = code
        self.export_button.setEnabled(True)
        self.log.appendPlainText("Export finished." if code == 0 else f"Export stopped (exit code {code}).")


class ResultsPage(QWidget):
    """Runs of the open recipe's project, their scores and actions."""

    def __init__(self, doc: RecipeDocument, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.runs = QListWidget()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Score", "Value"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 260)
        self.table.verticalHeader().setVisible(False)
        self.summary = QLabel("Train a model to see its results here.")
        self.summary.setWordWrap(True)
        self.report_button = QPushButton("Open report")
        self.report_button.setToolTip("Open the run's report in your web browser")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("primary")
        self.folder_button = QPushButton("Show run folder")
        refresh = QPushButton("Refresh")
        for button in (self.report_button, self.export_button, self.folder_button):
            button.setEnabled(False)
        actions = QHBoxLayout()
        for button in (self.report_button, self.export_button, self.folder_button, refresh):
            actions.addWidget(button)
        actions.addStretch(1)
        right = QWidget()
        column = QVBoxLayout(right)
        column.addWidget(self.summary)
        column.addLayout(actions)
        column.addWidget(self.table, 1)
        split = QSplitter()
        split.addWidget(self.runs)
        split.addWidget(right)
        split.setSizes([300, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title = QLabel("Results")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        layout.addWidget(split, 1)
        self.runs.currentTextChanged.connect(self.show_run)
        refresh.clicked.connect(self.refresh)
        self.report_button.clicked.connect(lambda: self._open(self.current_run() / "report.html"))
        self.folder_button.clicked.connect(lambda: self._open(self.current_run()))
        self.export_button.clicked.connect(self.export)
        doc.path_changed.connect(lambda _p: self.refresh())

    def project(self) -> Path | None:
        return self.doc.path.parent if self.doc.path else None

    def refresh(self) -> None:
        self.runs.clear()
        project = self.project()
        for run in find_runs(project) if project else []:
            self.runs.addItem(run.name)
        if self.runs.count():
            self.runs.setCurrentRow(0)

    def current_run(self) -> Path:
        return (self.project() or Path.cwd()) / "runs" / self.runs.currentItem().text()

    def show_run(self, name: str) -> None:
        if not name:
            return
        run = self.current_run()
        self.table.setRowCount(0)
        try:
            rows = flat_metrics(json.loads((run / "metrics.json").read_text(encoding="utf-8")))
        except (OSError, ValueError):
            rows = []
        for key, value in rows:
            row = self.table.rowCount()
            self.table.insertRow(row)
            self.table.setItem(row, 0, QTableWidgetItem(key))
            self.table.setItem(row, 1, QTableWidgetItem(value))
        has_report = (run / "report.html").exists()
        self.summary.setText(f"{run.name}: {len(rows)} scores" + ("" if has_report else " · no report yet")
                             if rows else f"{run.name}: not evaluated yet (training still running or stopped).")
        self.report_button.setEnabled(has_report)
        self.export_button.setEnabled(True)
        self.folder_button.setEnabled(True)

    def export(self) -> ExportDialog:
        dialog = ExportDialog(self.current_run(), self)
        dialog.show()
        return dialog

    @staticmethod
    def _open(path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
