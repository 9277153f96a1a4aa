"""'Import weights file…': the app's way to do ``cellwright weights import FILE`` (offline pretrained backbones)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QPushButton, QWidget

#: Text of a fix that asks for a weights file to be imported (the engine's offline-weights error).
IMPORT_HINT = "weights import"


def needs_import(fix_or_message: str) -> bool:
    """True when an error's fix asks the user to import a weights file."""
    return IMPORT_HINT in fix_or_message


def import_weights_file(path: str | Path, timeout_s: float = 600.0) -> str:
    """Import ``path`` into the weights cache with the ``cellwright weights import`` worker (the GUI never
    imports Keras); returns a plain sentence: what was imported, or what is wrong and the fix."""
    import subprocess

    from gui.workers import cellwright_argv

    try:
        done = subprocess.run(cellwright_argv("weights", "import", str(path)), capture_output=True, text=True,
                              timeout=timeout_s, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"The weights file was not imported: {error}"
    output = [line.strip() for line in (done.stdout + "\n" + done.stderr).splitlines() if line.strip()]
    if done.returncode == 0:
        return "Weights imported. Start the training again. " + " ".join(output[-2:])
    problem = [line.removeprefix("error: ").replace("fix: ", "Fix: ") for line in output
               if line.startswith(("error:", "fix:"))] or output[-2:]
    return "The weights file was not imported. " + " ".join(problem)


class ImportWeightsButton(QPushButton):
    """Asks for a weights file (.h5) and imports it; ``on_done(sentence)`` gets the outcome."""

    def __init__(self, on_done, parent: QWidget | None = None) -> None:
        super().__init__("Import weights file…", parent)
        self.setToolTip("Copy a downloaded pretrained-weights file (.h5) into Cellwright's cache, the same as "
                        "'cellwright weights import FILE'")
        self.on_done = on_done
        self.clicked.connect(self.choose)

    def choose(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Pretrained weights file", "", "Keras weights (*.h5)")
        if path:
            self.on_done(import_weights_file(path))
