"""The new-recipe wizard: name -> data folder (checked by the data doctor as the user types) -> template.

Every path through it ends in a valid recipe: the data section comes from what the doctor found in the
folder (or from the built-in demo data when the field is left empty), and the model section is the chosen
template with the starter's parameters only when the starter was written for that template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWizard,
    QWizardPage,
)

from builder.tasks import all_tasks, get_task
from gui import recipe_io

EXAMPLES_DIR = Path(__file__).resolve().parents[2] / "recipes" / "examples"
#: One plain sentence per template (the wizard and the palette show it; the docstring is for developers).
TEMPLATE_SENTENCES = {
    "unet": "U-Net: the standard network for microscopy; learns well from a few dozen images, from scratch.",
    "fpn": "Feature pyramid: starts from a network pretrained on photos (needs the backbone weights); good for "
           "objects of very different sizes and for larger data sets.",
    "classifier": "Classifier: looks at a whole image and names its class.",
    "restoration": "Restoration (CARE): turns a noisy or low-quality image into a clean one.",
}
DOCTOR_DELAY_MS = 400


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


def template_sentence(name: str) -> str:
    """The plain one-sentence explanation of a template (its docstring's first line when none is written)."""
    if name in TEMPLATE_SENTENCES:
        return TEMPLATE_SENTENCES[name]
    from gui.graph_editor.catalog import load_templates

    info = load_templates().get(name)
    return info.summary if info else ""


def templates_for(task: str) -> list[str]:
    """Templates that make models for ``task``, the task's default first."""
    from gui.graph_editor.catalog import load_templates

    names = [n for n, t in load_templates().items() if not t.tasks or task in t.tasks]
    default = get_task(task).default_template
    if default not in names:
        names.insert(0, default)
    return [default] + [n for n in names if n != default]


def demo_data_section(task: str) -> dict[str, Any] | None:
    """The ``data:`` section of a shipped example that uses built-in demo data for ``task`` (None: there is none)."""
    for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
        try:
            example = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            continue
        data = example.get("data") if isinstance(example, dict) else None
        if example.get("task") == task and isinstance(data, dict) and data.get("layout") == "demo":
            return dict(data)
    return None


class DataFolderPage(QWizardPage):
    """Folder field; the doctor runs on every change (typed or chosen) and Next waits for usable data."""

    def __init__(self, task: str, parent=None) -> None:
        super().__init__(parent)
        self.task = task
        self.demo = demo_data_section(task)
        self.report = None
        self.setTitle("Where are the images?")
        self.setSubTitle("Choose the folder that holds your images (and masks)."
                         + (f" Leave it empty to use the built-in demo data ('{self.demo.get('demo')}'), which is "
                            "made on first use." if self.demo else ""))
        self.folder = QLineEdit()
        self.folder.setPlaceholderText("Folder with your images" + (" (empty: demo data)" if self.demo else ""))
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        self.findings = QLabel("")
        self.findings.setObjectName("doctorFindings")
        self.findings.setWordWrap(True)
        self.findings.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.findings.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.anyway = QCheckBox("Continue anyway: I will fix the data before training")
        self.anyway.setVisible(False)
        self.anyway.toggled.connect(lambda _on: self.completeChanged.emit())
        self.timer = QTimer(self, singleShot=True, interval=DOCTOR_DELAY_MS)
        self.timer.timeout.connect(self.run_doctor)
        self.folder.textChanged.connect(self._changed)
        self.folder.editingFinished.connect(self.run_doctor)
        row = QHBoxLayout()
        row.addWidget(self.folder)
        row.addWidget(browse)
        column = QVBoxLayout(self)
        column.addLayout(row)
        column.addWidget(self.findings, 1)
        column.addWidget(self.anyway)
        self._changed("")

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the data folder")
        if path:
            self.folder.setText(path)
            self.run_doctor()

    def _changed(self, text: str) -> None:
        self.report = None
        self.anyway.setChecked(False)
        self.anyway.setVisible(False)
        if not text.strip():
            self.timer.stop()
            self.findings.setText(f"✓ The built-in demo data ('{self.demo.get('demo')}') will be used."
                                  if self.demo else "Choose the folder that holds your images.")
        else:
            self.findings.setText("Checking the folder…")
            self.timer.start()
        self.completeChanged.emit()

    def run_doctor(self) -> None:
        """Check the folder now for the wizard's task and show the findings."""
        self.timer.stop()
        text = self.folder.text().strip()
        if not text:
            return
        from builder.data.folder_check import check_folder_for_task

        try:
            self.report = check_folder_for_task(Path(text), self.task)
            message = self.report.text
        except Exception as error:  # a broken file must not close the wizard
            self.report = None
            message = f"✗ The folder could not be checked: {error}"
        self.findings.setText(message)
        self.anyway.setVisible(not self.usable)
        self.completeChanged.emit()

    @property
    def usable(self) -> bool:
        """True when the data can be trained on (or the demo data is used)."""
        if not self.folder.text().strip():
            return self.demo is not None
        return self.report is not None and self.report.usable

    def isComplete(self) -> bool:
        return self.usable or self.anyway.isChecked()

    def data_section(self, starter_data: dict[str, Any]) -> dict[str, Any]:
        """The recipe's ``data:`` section for what the user chose."""
        text = self.folder.text().strip()
        if not text:
            return dict(self.demo) if self.demo else dict(starter_data)
        if self.report is None:
            self.run_doctor()
        if self.report is not None and self.report.data:
            keep = {k: v for k, v in starter_data.items() if k not in ("layout", "root", "images", "masks",
                                                                        "targets", "split")}
            split = self.report.data.get("split") or starter_data.get("split")
            return {**self.report.data, **keep, **({"split": split} if split else {})}
        return {**starter_data, "root": text}


class NewRecipeWizard(QWizard):
    """Task and name -> data folder (with the data doctor's findings) -> model template -> done."""

    def __init__(self, task: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New recipe")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.task = task
        first = QWizardPage()
        card = get_task(task).card if task in all_tasks() else (task, "")
        first.setTitle(card[0])
        first.setSubTitle(card[1])
        self.name = QLineEdit(f"my-{task.replace('_', '-')}")
        QFormLayout(first).addRow("Experiment name", self.name)
        self.data_page = DataFolderPage(task)
        self.folder = self.data_page.folder
        self.findings = self.data_page.findings
        third = QWizardPage()
        third.setTitle("Model")
        third.setSubTitle("A template builds a proven network; you can change every block later in the editor.")
        self.template = QComboBox()
        self.template.addItems(templates_for(task))
        self.template_help = QLabel("")
        self.template_help.setObjectName("hint")
        self.template_help.setWordWrap(True)
        self.template.currentTextChanged.connect(lambda name: self.template_help.setText(template_sentence(name)))
        self.template_help.setText(template_sentence(self.template.currentText()))
        for index in range(self.template.count()):
            self.template.setItemData(index, template_sentence(self.template.itemText(index)),
                                      Qt.ItemDataRole.ToolTipRole)
        form = QFormLayout(third)
        form.addRow("Template", self.template)
        form.addRow("", self.template_help)
        for page in (first, self.data_page, third):
            self.addPage(page)

    def run_doctor(self, folder: Path) -> None:
        """Check ``folder`` now (same as typing it)."""
        self.folder.setText(str(folder))
        self.data_page.run_doctor()

    def recipe(self) -> dict[str, Any]:
        """The new recipe as a mapping (valid for every task, template and data choice)."""
        data = starter(self.task, self.name.text().strip() or "my-experiment")
        starter_data = data.get("data") if isinstance(data.get("data"), dict) else {}
        data["data"] = self.data_page.data_section(starter_data)
        model = data.get("model") if isinstance(data.get("model"), dict) else {}
        if "graph" not in model:
            chosen = self.template.currentText()
            if model.get("template") != chosen:
                model = {"template": chosen}  # the starter's params belong to its own template
            data["model"] = model
        return data
