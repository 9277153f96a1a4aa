"""The main window: a sidebar of pages (start, editor, data, training, results), menus and shortcuts."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QSize, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QStyle,
    QWidget,
)

from builder.errors import CellwrightError
from builder.tasks import DEFAULT_TASK
from gui import recipe_io
from gui.document import RecipeDocument
from gui.pages.data import DataPage
from gui.pages.editor import EditorPage
from gui.pages.results import ResultsPage
from gui.pages.start import NewRecipeWizard, StartPage, starter
from gui.pages.training import TrainingPage

PAGES = ("Start", "Editor", "Data", "Training", "Results")
_ICONS = (QStyle.StandardPixmap.SP_DirHomeIcon, QStyle.StandardPixmap.SP_FileDialogDetailedView,
          QStyle.StandardPixmap.SP_DirOpenIcon, QStyle.StandardPixmap.SP_MediaPlay,
          QStyle.StandardPixmap.SP_DialogApplyButton)
AUTOSAVE_MS = 30_000


def settings() -> QSettings:
    """App settings (recent files); ``CELLWRIGHT_SETTINGS_FILE`` points them at an ini file (tests)."""
    path = os.environ.get("CELLWRIGHT_SETTINGS_FILE")
    if path:
        return QSettings(path, QSettings.Format.IniFormat)
    return QSettings("Cellwright", "Cellwright")


class MainWindow(QMainWindow):
    """One open recipe, shown on five pages."""

    def __init__(self, doc: RecipeDocument | None = None) -> None:
        super().__init__()
        self.doc = doc or RecipeDocument()
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(150)
        self.sidebar.setIconSize(QSize(18, 18))
        self.stack = QStackedWidget()
        self.start_page = StartPage(self.recent_files())
        self.editor = EditorPage(self.doc)
        self.data_page = DataPage(self.doc)
        self.training = TrainingPage(self.doc, save_first=self.save)
        self.results = ResultsPage(self.doc)
        for index, (name, page) in enumerate(zip(PAGES, (self.start_page, self.editor, self.data_page, self.training,
                                                         self.results), strict=True)):
            item = QListWidgetItem(self.style().standardIcon(_ICONS[index]), name)
            item.setToolTip(f"{name} (Ctrl+{index + 1})")
            self.sidebar.addItem(item)
            self.stack.addWidget(page)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._menus()
        self.start_page.new_requested.connect(self.new_recipe)
        self.start_page.open_requested.connect(lambda path: self.open_recipe(path or None))
        self.training.job_ended.connect(self.results.refresh)  # finished, failed or stopped: the list follows
        self.start_page.demo_requested.connect(lambda: self.try_demo())
        self._demo_recipe: Path | None = None
        self.training.run_finished.connect(self._demo_finished)
        self.doc.dirty_changed.connect(lambda _d: self._update_title())
        self.doc.path_changed.connect(lambda _p: self._update_title())
        self.status_line = QLabel("")
        self.status_line.setObjectName("statusLine")
        self.statusBar().addWidget(self.status_line, 1)
        self.doc.problems_changed.connect(self._show_problem_count)
        self.editor.scene.graph_problems_changed.connect(lambda _line: self._show_problem_count())
        self.autosave_timer = QTimer(self, interval=AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.doc.autosave)
        self.autosave_timer.start()
        self.unsaved_answer = self._ask_unsaved
        self.running_answer = self._ask_running
        self.sidebar.setCurrentRow(0)
        self.resize(1400, 880)
        self._update_title()
        self._show_problem_count(self.doc.all_problems())

    # ----------------------------------------------------------------- menus and shortcuts
    def _menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&New recipe…", lambda: self.new_recipe(DEFAULT_TASK), QKeySequence.StandardKey.New)
        self._action(file_menu, "&Open…", lambda: self.open_recipe(None), QKeySequence.StandardKey.Open)
        self._action(file_menu, "&Save", self.save, QKeySequence.StandardKey.Save)
        self._action(file_menu, "Save &as…", self.save_as, QKeySequence("Ctrl+Shift+S"))
        file_menu.addSeparator()
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)
        edit = bar.addMenu("&Edit")
        undo = self.doc.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence.StandardKey.Undo)
        redo = self.doc.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Y")])
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        for action in self.editor.actions_by_name.values():
            edit.addAction(action)
        view = bar.addMenu("&View")
        for index, name in enumerate(PAGES):
            self._action(view, name, lambda _=False, i=index: self.show_page(i), QKeySequence(f"Ctrl+{index + 1}"))
        run = bar.addMenu("&Run")
        self._action(run, "&Start training", lambda: self.training.start(), QKeySequence("F5"))
        self._action(run, "S&top training", self.training.stop, QKeySequence("Shift+F5"))
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "Keyboard shortcuts", self._shortcuts_help, QKeySequence.StandardKey.HelpContents)

    def _action(self, menu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def show_page(self, index: int) -> None:
        self.sidebar.setCurrentRow(index)

    def _shortcuts_help(self) -> None:
        QMessageBox.information(self, "Keyboard shortcuts", (
            "Ctrl+N new · Ctrl+O open · Ctrl+S save · Ctrl+Z / Ctrl+Shift+Z undo / redo\n"
            "Ctrl+1…5 pages · F5 start training · Shift+F5 stop\n"
            "Canvas: Ctrl+C / Ctrl+V copy / paste · Delete remove · Ctrl+L auto-layout · Ctrl+0 fit · "
            "Ctrl+E expand template · Ctrl+F find block · wheel zoom · middle button or Space+drag pan"))

    # ----------------------------------------------------------------- files
    def recent_files(self) -> list[str]:
        value = settings().value("recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [item for item in items if Path(item).exists()][:10]

    def _remember(self, path: Path) -> None:
        items = [str(path)] + [item for item in self.recent_files() if item != str(path)]
        settings().setValue("recent", items[:10])
        self.start_page.recent.clear()
        self.start_page.recent.addItems(items[:10])

    def new_recipe(self, task: str, ask: bool = True) -> None:
        if not self.maybe_save():
            return
        data = starter(task, f"my-{task.replace('_', '-')}")
        if ask and self.isVisible():
            wizard = NewRecipeWizard(task, self)
            if not wizard.exec():
                return
            data = wizard.recipe()
        self.doc.reset(data)
        self.show_page(1)

    def try_demo(self, tiny: bool = False) -> bool:
        """Open the demo recipe (the nuclei example on demo data, written to ~/.cellwright/demo-runs) and train it;
        when it finishes the results page shows its report. ``tiny``: the seconds-long variant of ``cellwright demo
        --tiny``."""
        from builder.workflow.demo_run import demo_runs_dir, write_demo_recipe

        path = write_demo_recipe(demo_runs_dir(), tiny=tiny)
        if not self.open_recipe(str(path)):
            return False
        self._demo_recipe = path
        self.show_page(PAGES.index("Training"))
        return self.training.start()

    def _demo_finished(self, run_dir: str) -> None:
        """When the demo run ends, show its results and report."""
        if self._demo_recipe is None or self.doc.path != self._demo_recipe:
            return
        self._demo_recipe = None
        self.show_page(PAGES.index("Results"))
        runs = self.results.runs
        for row in range(runs.count()):
            if runs.item(row).text() == Path(run_dir).name:
                runs.setCurrentRow(row)

    def open_recipe(self, path: str | None) -> bool:
        if not self.maybe_save():
            return False
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Open recipe", "", "Recipes (*.yaml *.yml)")
            if not path:
                return False
        try:
            self.doc.load(path)
        except (OSError, CellwrightError) as error:
            QMessageBox.warning(self, "Cannot open the recipe", error.format() if isinstance(error, CellwrightError)
                                else f"{path}: {error}")
            return False
        self._offer_autosave(Path(path))
        self._remember(Path(path))
        self.show_page(1)
        return True

    def _offer_autosave(self, path: Path) -> None:
        side = recipe_io.autosave_path(path)
        if not side.exists() or side.stat().st_mtime <= path.stat().st_mtime:
            return
        if self.isVisible() and QMessageBox.question(
            self, "Unsaved work found", f"There are unsaved changes to {path.name} from an earlier session. "
            "Restore them?") == QMessageBox.StandardButton.Yes:
            self.doc.set_text(side.read_text(encoding="utf-8"))

    def save(self) -> bool:
        if self.doc.path is None:
            return self.save_as()
        try:
            self.doc.save()
        except OSError as error:
            QMessageBox.warning(self, "Cannot save", f"{self.doc.path}: {error}")
            return False
        self.statusBar().showMessage(f"Saved {self.doc.path}", 4000)
        self._remember(self.doc.path)
        return True

    def save_as(self) -> bool:
        name = f"{self.doc.data.get('name', 'recipe')}.yaml"
        path, _ = QFileDialog.getSaveFileName(self, "Save recipe", name, "Recipes (*.yaml)")
        if not path:
            return False
        self.doc.save(path)
        self._remember(Path(path))
        return True

    # ----------------------------------------------------------------- closing
    def _ask_unsaved(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.doc.display_name} before closing?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )

    def maybe_save(self) -> bool:
        """``True`` when it is fine to drop the current recipe (saved, discarded or unchanged)."""
        if not self.doc.dirty:
            return True
        answer = self.unsaved_answer()
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        if answer == QMessageBox.StandardButton.Discard:
            side = recipe_io.autosave_path(self.doc.path)
            if side.exists():
                side.unlink()
            return True
        return False

    def _ask_running(self) -> QMessageBox.StandardButton:
        box = QMessageBox(QMessageBox.Icon.Question, "Training is running",
                          "A training is still running in the background. If you quit, it goes on and its "
                          "results are saved; open this recipe again to follow it.\n\nQuit anyway?",
                          QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Abort
                          | QMessageBox.StandardButton.Cancel, self)
        box.button(QMessageBox.StandardButton.Yes).setText("Quit, keep training")
        box.button(QMessageBox.StandardButton.Abort).setText("Stop training and quit")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        return QMessageBox.StandardButton(box.exec())

    def closeEvent(self, event) -> None:
        if self.training.running():
            answer = self.running_answer()
            if answer == QMessageBox.StandardButton.Cancel:
                event.ignore()
                return
            if answer == QMessageBox.StandardButton.Abort:
                from gui import workers

                workers.stop_process(self.training.pid)
        if not self.maybe_save():
            event.ignore()
            return
        if self.training.running():
            self.training.log.appendPlainText("The window closed; training goes on in the background.")
        self.results.predict.worker.stop()  # the prediction worker (and its loaded model) ends with the window
        event.accept()

    # ----------------------------------------------------------------- status
    def _update_title(self) -> None:
        mark = "•" if self.doc.dirty else ""
        self.setWindowTitle(f"{mark}{self.doc.display_name} — Cellwright")

    def _show_problem_count(self, problems: list | None = None) -> None:
        """The permanent status line: the recipe's errors, else the graph's problems, else "valid"."""
        problems = self.doc.all_problems() if problems is None else problems
        errors = sum(1 for p in problems if p.severity == "error")
        graph_line = self.editor.scene.problem_summary if self.doc.graph is not None else ""
        if errors:
            text = f"{errors} problem(s) in the recipe; see the YAML panel in the editor."
        elif graph_line:
            text = f"The model graph has problems (red blocks on the canvas): {graph_line}"
        else:
            text = "Recipe is valid."
        self.status_line.setText(text)
        self.status_line.setToolTip(text)
        self.status_line.setProperty("problem", bool(errors or graph_line))
        self.status_line.setStyleSheet("color: #d62828;" if errors or graph_line else "")

