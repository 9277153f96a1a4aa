"""Child process of the crash test: start the real app, paint strokes with mouse events, stop mid-stroke.

Prints ``SAVED <number> <sha256 of the labels>`` after each autosave and ``MID-STROKE`` once a stroke is under
way; the test kills this process with SIGKILL then. Usage: ``python annotate_crash_child.py RECIPE``.
"""

from __future__ import annotations

import hashlib
import sys

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from gui.app import main
from gui.main_window import MainWindow


def at(viewer, col: float, row: float) -> QPoint:
    point = viewer.image_to_widget(QPointF(col + 0.5, row + 0.5))
    return QPoint(round(point.x()), round(point.y()))


def drive() -> None:
    window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
    window.show_page(2)
    page = window.data_page
    page.annotate.every_strokes, page.annotate.every_seconds = 2, 0
    page.annotate.toggle.setChecked(True)
    session, viewer = page.annotate.session, page.viewer
    viewer.setFocus()
    saves = 0
    for stroke in range(5):  # autosaves after strokes 2 and 4; stroke 5 stays unsaved
        QTest.keyClick(viewer, Qt.Key.Key_N)
        row = 3 + 6 * stroke
        QTest.mousePress(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 3, row))
        for col in range(4, 20, 2):
            QTest.mouseMove(viewer, at(viewer, col, row))
        QTest.mouseRelease(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 20, row))
        QApplication.processEvents()
        if session.saves != saves:
            saves = session.saves
            digest = hashlib.sha256(np.ascontiguousarray(session.labels, np.int32).tobytes()).hexdigest()
            print(f"SAVED {saves} {digest}", flush=True)
    QTest.keyClick(viewer, Qt.Key.Key_N)
    QTest.mousePress(viewer, Qt.MouseButton.LeftButton, pos=at(viewer, 25, 5))
    for row in range(6, 30, 3):
        QTest.mouseMove(viewer, at(viewer, 25, row))
    print("MID-STROKE", flush=True)


if __name__ == "__main__":
    app = QApplication(sys.argv)
    QTimer.singleShot(0, drive)
    sys.exit(main(sys.argv, sys.argv[1]))
