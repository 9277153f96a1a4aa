"""The installed Qt binding must not leak or drop references: a long session of painting would abort the app."""

from __future__ import annotations

import sys


def test_qt_calls_that_return_nothing_keep_the_reference_count_of_none():
    from PySide6.QtCore import QPointF

    point = QPointF(1.0, 2.0)
    before = sys.getrefcount(None)
    for _ in range(200):
        point.setX(1.0)
    lost = before - sys.getrefcount(None)
    # PySide6-Essentials 6.12.0 loses exactly one per call (200 here) and the process later dies in none_dealloc.
    assert abs(lost) < 20, f"{lost} references to None lost in 200 Qt calls: reinstall with a fixed PySide6 version"
