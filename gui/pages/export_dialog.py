"""Export dialog: runs the real ``cellwright export RUN --format F ... --json`` in a worker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from builder.export_registry import all_formats
from builder.run_folder import RunFolder
from gui import workers
from gui.worker_messages import failure_text


def export_formats() -> list[tuple[str, str]]:
    """``(name, label)`` of every registered export format, in display order."""
    return [(name, fmt.label) for name, fmt in all_formats().items()]


def failed_format(errors: list[dict[str, Any]]) -> str | None:
    """The export format an error is about (its ``where`` starts with the format's key), if any."""
    for error in reversed(errors):
        where = str(error.get("where") or "").lower()
        for key, _text in export_formats():
            if where.startswith(key):
                return key
    return None


def user_advice(errors: list[dict[str, Any]], chosen: list[str], log: Path | None) -> str:
    """What the user can do in the app after a failed export (the engine's fix may be for developers)."""
    key = failed_format(errors)
    names = dict(export_formats())
    lines = ["What you can do now: the trained model in this run is fine."]
    if key is not None:
        others = [names[k].split(" (")[0] for k in chosen if k != key]
        lines.append(f"Untick '{names[key].split(' (')[0]}' and click Export to write the other formats"
                     + (f" ({', '.join(others)})." if others else "."))
        lines.append("The failed check is inside Cellwright's exporter, not in your data; please report it and "
                     "attach the log file" + (f" {log}." if log else "."))
    return "\n".join(lines)


class ExportDialog(QDialog):
    """Pick formats, export into the run's exports folder, list what was written and how it was checked."""

    def __init__(self, run_dir: Path, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Export {run_dir.name}")
        self.run_dir = Path(run_dir)
        self.run = RunFolder(self.run_dir)
        self.boxes = {key: QCheckBox(text) for key, text in export_formats()}
        next(iter(self.boxes.values())).setChecked(True)
        self.log = QPlainTextEdit(readOnly=True)
        self.log.setPlaceholderText("Progress of the export appears here.")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.folder_button = self.buttons.addButton("Show folder", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.start)
        self.folder_button.clicked.connect(self._show_folder)
        self.buttons.rejected.connect(self.reject)
        self.worker = workers.WorkerProcess(self)
        self.worker.line.connect(self.log.appendPlainText)
        self.worker.finished.connect(self._finished)
        self.exit_code: int | None = None
        self.results: list[dict[str, Any]] = []
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Formats to write into {self.run_dir.name}/{self.run.exports_dir.name}/ "
                                "(each export is re-run and compared with the trained model):"))
        for box in self.boxes.values():
            layout.addWidget(box)
        layout.addWidget(self.log, 1)
        layout.addWidget(self.buttons)
        self.resize(620, 440)

    def formats(self) -> list[str]:
        return [key for key, box in self.boxes.items() if box.isChecked()]

    def out_dir(self) -> Path:
        return self.run.exports_dir

    def command(self) -> list[str]:
        args = ["export", str(self.run_dir), "--out", str(self.out_dir()), "--json"]
        for name in self.formats():
            args += ["--format", name]
        return workers.cellwright_argv(*args)

    def start(self) -> bool:
        if not self.formats():
            self.log.appendPlainText("Choose at least one format.")
            return False
        if self.worker.running():
            return False
        self.export_button.setEnabled(False)
        self.exit_code, self.results = None, []
        self.log.appendPlainText("Exporting " + ", ".join(self.formats()) + "… (this takes a few seconds per format)")
        self.worker.start(self.command(), cwd=self.run_dir)
        return True

    def _finished(self, code: int) -> None:
        self.exit_code = code
        self.export_button.setEnabled(True)
        result = self.worker.json_result()
        if code == 0 and isinstance(result, list):
            self.results = [r for r in result if isinstance(r, dict)]
            for item in self.results:
                self.log.appendPlainText(f"✓ {item.get('format')}: {item.get('path')}")
                for check in item.get("checks") or []:
                    diff = check.get("max_abs_diff")
                    if isinstance(diff, (int, float)):
                        self.log.appendPlainText(f"    checked {check.get('format')}: largest difference {diff:.2g} "
                                                 f"(allowed {check.get('tolerance')})")
            self.log.appendPlainText("Export finished.")
            return
        errors = list(self.worker.errors)
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            errors.append(result["error"])
        log = self.worker.save_log(self.out_dir() / "export-error.log")
        self.log.appendPlainText("✕ " + failure_text(code, errors, None if errors else log))
        self.log.appendPlainText(user_advice(errors, self.formats(), log))

    def _show_folder(self) -> None:
        folder = self.out_dir() if self.out_dir().exists() else self.run_dir
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))
