"""Start the desktop app: ``cellwright gui [RECIPE]`` or ``python -m gui.app``."""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None, recipe: str | None = None) -> int:
    """Open the main window (and ``recipe`` when given); returns the app's exit code."""
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from gui.launcher import ICON
    from gui.main_window import MainWindow
    from gui.theme import apply_theme

    app = QApplication.instance() or QApplication(list(argv if argv is not None else sys.argv))
    app.setApplicationName("Cellwright")
    app.setOrganizationName("Cellwright")
    app.setDesktopFileName("cellwright")  # matches the launcher, so the desktop groups the window under it
    app.setWindowIcon(QIcon(str(ICON)))
    apply_theme(app)
    window = MainWindow()
    window.show()
    if recipe:
        window.open_recipe(str(Path(recipe).resolve()))
    return app.exec()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv, sys.argv[1] if len(sys.argv) > 1 else None))
