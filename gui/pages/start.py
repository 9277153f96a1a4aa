"""The start page (new from a task, open, recent, examples) and the new-project wizard."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from builder.tasks import all_tasks
from gui.pages.wizard import NewRecipeWizard, starter  # noqa: F401 - re-exported


def task_cards() -> dict[str, tuple[str, str]]:
    """Wizard card (title, one line) of every registered task, in display order."""
    return {name: task.card for name, task in all_tasks().items()}


EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "recipes" / "examples"


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
