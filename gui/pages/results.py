"""The results page: finished runs, their headline score and metrics, the report, prediction and export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from builder.run_folder import RunFolder, files, list_runs
from gui import workers
from gui.document import RecipeDocument
from gui.pages.export_dialog import ExportDialog
from gui.pages.lineage_view import LineagePane
from gui.pages.predict_panel import PredictPanel
from gui.worker_messages import failure_text


def find_runs(project: Path) -> list[Path]:
    """Run folders under ``project/runs`` (newest first)."""
    found = [run.path for run in list_runs(project / "runs")]
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


def read_scores(run: Path) -> tuple[str, list[tuple[str, str]]]:
    """Headline text (``"AP@0.5 = 0.812 on 12 test images"``) and metric rows of a run's test scores."""
    metrics, _note = RunFolder(run).read_json_or_note(files.METRICS)
    if not isinstance(metrics, dict):
        return "", []
    headline = metrics.get("headline") or {}
    text = ""
    if isinstance(headline.get("value"), (int, float)):
        text = f"{headline.get('name', 'score')} = {headline['value']:.3f}"
        if metrics.get("n_images"):
            text += f" on {metrics['n_images']} {metrics.get('split', 'test')} image(s)"
    rows = flat_metrics(metrics["metrics"]) if isinstance(metrics.get("metrics"), dict) else flat_metrics(metrics)
    per_class = metrics.get("per_class")
    if isinstance(per_class, dict):
        rows += flat_metrics(per_class)
    return text, rows


def headline_scores(run: Path) -> tuple[list[str], list[list[str]], str] | None:
    """The report's headline table of ``run`` (metric, model, baselines, what it means), or None."""
    try:
        from builder.report.results import headline_table
        from builder.report.run_data import load_run

        return headline_table(load_run(run, max_samples=0))
    except Exception:  # a run without scores or with an older layout: the raw list is shown instead
        return None


class ResultsPage(QWidget):
    """Runs of the open recipe's project: scores, report, prediction on new images, export."""

    def __init__(self, doc: RecipeDocument, parent=None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.runs = QListWidget()
        self.headline = QLabel("")
        self.headline.setObjectName("headline")
        self.summary = QLabel("Train a model to see its results here.")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Score", "Value"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setColumnWidth(0, 260)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().sectionResized.connect(lambda *_: self.table.resizeRowsToContents())
        self.report_button = QPushButton("Open report in browser")
        self.report_button.setToolTip("Open the run's report.html in your web browser (figures, methods text)")
        self.write_report_button = QPushButton("Write report")
        self.write_report_button.setToolTip("Run 'cellwright report' for this run")
        self.export_button = QPushButton("Export…")
        self.export_button.setObjectName("primary")
        self.folder_button = QPushButton("Show run folder")
        refresh = QPushButton("Refresh")
        for button in (self.report_button, self.write_report_button, self.export_button, self.folder_button):
            button.setEnabled(False)
        actions = QHBoxLayout()
        for button in (self.export_button, self.report_button, self.write_report_button, self.folder_button,
                       refresh):
            actions.addWidget(button)
        actions.addStretch(1)
        scores = QWidget()
        column = QVBoxLayout(scores)
        column.addWidget(self.headline)
        column.addWidget(self.summary)
        column.addWidget(self.table, 1)
        self.all_scores = QCheckBox("Show every score (technical names)")
        self.all_scores.toggled.connect(lambda _on: self.show_run(self.runs.currentItem().text()
                                                                 if self.runs.currentItem() else ""))
        column.addWidget(self.all_scores)
        self.report_view = QTextBrowser()
        self.report_view.setOpenExternalLinks(True)
        self.report_view.setPlaceholderText("This run has no report yet: 'Write report' makes one.")
        self.predict = PredictPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(scores, "Scores")
        self.tabs.addTab(self.report_view, "Report")
        self.tabs.addTab(self.predict, "Predict new images")
        self.lineage = LineagePane()
        self.tabs.addTab(self.lineage, "Lineage")
        right = QWidget()
        right_column = QVBoxLayout(right)
        right_column.setContentsMargins(0, 0, 0, 0)
        right_column.addLayout(actions)
        right_column.addWidget(self.tabs, 1)
        split = QSplitter()
        split.addWidget(self.runs)
        split.addWidget(right)
        split.setSizes([280, 920])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        title = QLabel("Results")
        title.setObjectName("pageTitle")
        layout.addWidget(title)
        layout.addWidget(split, 1)
        self.report_worker = workers.WorkerProcess(self)
        self.report_worker.finished.connect(self._report_written)
        self.predict.worker.finished.connect(lambda _code: self.refresh())
        self.runs.currentTextChanged.connect(self.show_run)
        refresh.clicked.connect(lambda: self.refresh())
        self.report_button.clicked.connect(lambda: self._open(RunFolder(self.current_run()).report_path("html")))
        self.write_report_button.clicked.connect(self.write_report)
        self.folder_button.clicked.connect(lambda: self._open(self.current_run()))
        self.export_button.clicked.connect(self.export)
        doc.path_changed.connect(lambda _p: self.refresh())

    def project(self) -> Path | None:
        return self.doc.path.parent if self.doc.path else None

    def refresh(self, select: str = "") -> None:
        """Read the run list again; keeps the selected run (or selects run folder ``select``, else the newest).

        Called when a job of the app ends (training with its evaluation, prediction, report) and when the page
        is shown, so the list is never stale and needs no Refresh click.
        """
        wanted = Path(select).name if select else (self.runs.currentItem().text() if self.runs.currentItem() else "")
        self.runs.blockSignals(True)
        self.runs.clear()
        project = self.project()
        for run in find_runs(project) if project else []:
            self.runs.addItem(run.name)
        names = [self.runs.item(row).text() for row in range(self.runs.count())]
        self.runs.setCurrentRow(names.index(wanted) if wanted in names else 0 if names else -1)
        self.runs.blockSignals(False)
        if names:
            self.show_run(self.runs.currentItem().text())
        else:
            self.predict.set_run(None)

    def showEvent(self, event) -> None:
        """Coming to the page shows the runs as they are now (also runs started from the command line)."""
        super().showEvent(event)
        if not self.report_worker.running() and not self.predict.worker.running():
            self.refresh()

    def current_run(self) -> Path:
        return (self.project() or Path.cwd()) / "runs" / self.runs.currentItem().text()

    def show_run(self, name: str) -> None:
        if not name:
            return
        run = self.current_run()
        headline, rows = read_scores(run)
        table = None if self.all_scores.isChecked() or not rows else headline_scores(run)
        header, cells = (table[0], table[1]) if table else (["Score", "Value"], [list(r) for r in rows])
        self.table.clear()
        self.table.setColumnCount(len(header))
        self.table.setHorizontalHeaderLabels([h[:1].upper() + h[1:] for h in header])
        self.table.setRowCount(len(cells))
        for r, values in enumerate(cells):
            for c, text in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(str(text)))
        self._fit_columns()
        self.table.setToolTip(table[2] if table else "")
        self.headline.setText(headline)
        self.headline.setVisible(bool(headline))
        has_model = RunFolder(run).best_checkpoint.exists()
        self.summary.setText(f"{run.name}: test scores" if rows else
                             f"{run.name}: not evaluated yet (training still running or stopped).")
        self.show_report(run)
        self.write_report_button.setEnabled(has_model and not self.report_worker.running())
        self.export_button.setEnabled(has_model)
        self.folder_button.setEnabled(True)
        self.predict.set_run(run if has_model else None)
        self.tabs.setTabVisible(self.tabs.indexOf(self.lineage), self.lineage.set_run(run))

    def _fit_columns(self) -> None:
        """Number columns as wide as their text; the last one ("What it means") takes the rest and wraps, so the
        table never needs a sideways scroll."""
        header = self.table.horizontalHeader()
        last = self.table.columnCount() - 1
        for column in range(last):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(last, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(True)
        self.table.resizeRowsToContents()

    def show_report(self, run: Path) -> bool:
        """Show the HTML report of ``run`` in the Report tab; ``False`` when the run has none."""
        report = RunFolder(run).report_path("html")
        self.report_button.setEnabled(report.exists())
        if not report.exists():
            self.report_view.clear()
            return False
        self.report_view.setSearchPaths([str(run)])
        self.report_view.setSource(QUrl.fromLocalFile(str(report)))
        return True

    def write_report(self) -> bool:
        if self.report_worker.running() or not self.runs.currentItem():
            return False
        self.write_report_button.setEnabled(False)
        self.report_view.setPlainText("Writing the report…")
        self.report_worker.start(workers.cellwright_argv("report", str(self.current_run()), "--json"),
                                 cwd=self.current_run())
        return True

    def _report_written(self, code: int) -> None:
        self.write_report_button.setEnabled(True)
        run = self.current_run()
        if code == 0 and self.show_report(run):
            self.tabs.setCurrentWidget(self.report_view)
            return
        result = self.report_worker.json_result()
        errors = list(self.report_worker.errors)
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            errors.append(result["error"])
        log = None if errors else self.report_worker.save_log(run / "report-error.log")
        self.report_view.setPlainText(failure_text(code, errors, log))

    def export(self) -> ExportDialog:
        dialog = ExportDialog(self.current_run(), self)
        dialog.show()
        return dialog

    @staticmethod
    def _open(path: Path) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
