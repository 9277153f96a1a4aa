"""The start page (new from a task, open, recent, examples) and the new-project wizard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from builder.tasks import all_tasks
from gui import recipe_io


def task_cards() -> dict[str, tuple[str, str]]:
    """Wizard card (title, one line) of every registered task, in display order."""
    return {name: task.card for name, task in all_tasks().items()}


EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "recipes" / "examples"


def starter(task: str, name: str) -> dict[str, Any]:
    """The commented starter recipe of ``cellwright new`` as a mapping (falls back to a minimal one)."""
    try:
        from builder.recipe.starter import starter_recipe

        data, _problems = recipe_io.parse_text(starter_recipe(task, name=name), "new recipe")
        if data:
            return data
    except Exception:
        pass
    return recipe_io.new_recipe(task, name)


class StartPage(QWidget):
    """What a user sees first: start a new recipe from a task, or open one."""

    new_requested = Signal(str)  # task
    open_requested = Signal(str)  # path ("" = ask)
    demo_requested = Signal()  # "Try it on demo data"

    def __init__(self, recent: list[str], parent=None) -> None:
        super().__init__(parent)
        title = QLabel("Cellwright")
        title.setObjectName("heroTitle")
        subtitle = QLabel("Build, train and share deep-learning models for cell images, without writing code.")
        subtitle.setObjectName("hint")
        grid = QGridLayout()
        grid.setSpacing(12)
        for index, (task, (heading, text)) in enumerate(task_cards().items()):
            button = QPushButton(f"{heading}\n{text}")
            button.setObjectName("taskCard")
            button.setMinimumHeight(74)
            button.setToolTip(f"New recipe for the task '{task}'")
            button.clicked.connect(lambda _=False, task=task: self.new_requested.emit(task))
            grid.addWidget(button, index // 2, index % 2)
        open_button = QPushButton("Open a recipe…")
        open_button.setToolTip("Open a recipe file (Ctrl+O)")
        open_button.clicked.connect(lambda: self.open_requested.emit(""))
        self.demo_button = QPushButton("Try it on demo data")
        self.demo_button.setToolTip("Train the nuclei example on built-in demo images (a few minutes) and show "
                                    "its report; nothing of yours is needed")
        self.demo_button.clicked.connect(self.demo_requested.emit)
        self.recent = QListWidget()
        self.recent.addItems(recent)
        self.recent.itemActivated.connect(lambda item: self.open_requested.emit(item.text()))
        self.examples = QListWidget()
        for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
            self.examples.addItem(path.name)
        self.examples.itemActivated.connect(lambda item: self.open_requested.emit(str(EXAMPLES_DIR / item.text())))
        lists = QHBoxLayout()
        for heading, widget in (("Recent recipes", self.recent), ("Examples (run on built-in demo data)",
                                                                  self.examples)):
            box = QVBoxLayout()
            label = QLabel(heading)
            label.setObjectName("panelTitle")
            box.addWidget(label)
            box.addWidget(widget)
            lists.addLayout(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 32, 48, 32)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        new_label = QLabel("Start a new recipe: what should the model do?")
        new_label.setObjectName("panelTitle")
        layout.addWidget(new_label)
        layout.addLayout(grid)
        row = QHBoxLayout()
        row.addWidget(open_button)
        row.addWidget(self.demo_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addLayout(lists, 1)


class NewRecipeWizard(QWizard):
    """Task and name -> data folder (with the data doctor's findings) -> model template -> done."""

    def __init__(self, task: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New recipe")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.task = task
        first = QWizardPage()
        card = task_cards().get(task, (task, ""))
        first.setTitle(card[0])
        first.setSubTitle(card[1])
        self.name = QLineEdit(f"my-{task.replace('_', '-')}")
        form = QFormLayout(first)
        form.addRow("Experiment name", self.name)
        second = QWizardPage()
        second.setTitle("Where are the images?")
        second.setSubTitle("Choose the folder that holds your images (and masks). Leave it empty to use demo data.")
        self.folder = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.findings = QLabel("")
        self.findings.setWordWrap(True)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(browse)
        column = QVBoxLayout(second)
        column.addLayout(row)
        column.addWidget(self.findings, 1)
        third = QWizardPage()
        third.setTitle("Model")
        third.setSubTitle("A template builds a proven network; you can change every block later in the editor.")
        self.template = QComboBox()
        from gui.graph_editor.catalog import load_templates

        names = [n for n, t in load_templates().items() if not t.tasks or task in t.tasks]
        self.template.addItems(names or ["unet"])
        QFormLayout(third).addRow("Template", self.template)
        for page in (first, second, third):
            self.addPage(page)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the data folder")
        if path:
            self.folder.setText(path)
            self.run_doctor(Path(path))

    def run_doctor(self, folder: Path) -> None:
        """Show what the data doctor finds in ``folder`` (layout guess, problems)."""
        try:
            from builder.data.doctor import check_folder

            problems = check_folder(folder)
        except Exception as error:
            self.findings.setText(f"The folder could not be checked: {error}")
            return
        lines = [("✓ " if p.severity == "info" else "⚠ ") + p.format() for p in problems]
        self.findings.setText("\n".join(lines) or "✓ No problems found.")

    def recipe(self) -> dict[str, Any]:
        data = starter(self.task, self.name.text().strip() or "my-experiment")
        folder = self.folder.text().strip()
        if folder:
            data.setdefault("data", {})
            if isinstance(data["data"], dict):
                data["data"]["root"] = folder
        model = data.get("model") if isinstance(data.get("model"), dict) else {}
        if "graph" not in model:
            model["template"] = self.template.currentText()
            data["model"] = model
        return data
